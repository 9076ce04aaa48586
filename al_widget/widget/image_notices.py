"""What the panel says about the image being labeled: a refusal to store over its label or
its edit, or on its photo turned since it was shown, unsaved work on it (or the label an undo
took back) dropped as its photo changed since, it labeled or skipped elsewhere, drafts dropped
from it. Pure functions, as in ``status``; an undo's words are in ``undo_notices``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._orientation import turned_since
from ..annotations import Annotation, Boxes, Label
from ..instances import Instances
from .status import count

if TYPE_CHECKING:
    from .unsaved import Frame


def annotation_words(annotation: Annotation) -> str:
    """An annotation in a few words: its class, or how many boxes or objects it holds.

    Parameters
    ----------
    annotation : Label, Boxes, Mask or Instances
        The annotation.
    """
    if isinstance(annotation, Label):
        return str(annotation.cls)
    if isinstance(annotation, Boxes):
        n = len(annotation)
        return f"{n:,} box" if n == 1 else f"{n:,} boxes"
    if isinstance(annotation, Instances):
        return count(len(annotation), "object")
    return "a mask"


def left_elsewhere(i: int, annotation: Annotation | None, skipped: bool, dropped: str = "") -> str:
    """The notice after the panel moved on from image `i`, which was labeled, skipped or left out
    since it was shown, outside the panel (a cell's ``loop.commit``, another panel), and the
    work the labeler had drawn on it in the panel was dropped, not stored.

    Parameters
    ----------
    i : int
        The image the panel showed.
    annotation : Label, Boxes, Mask, Instances or None
        Its annotation now (None: not labeled).
    skipped : bool
        Whether it was skipped.
    dropped : str, default ""
        The work drawn on it in the panel, dropped, in words (``Work.summary``); "" for none.
    """
    if annotation is not None:
        done = f"labeled outside this panel ({annotation_words(annotation)})"
    elif skipped:
        done = "skipped outside this panel"
    else:
        done = "left out of the queue outside this panel"
    lost = f"the work on it here ({dropped}) was not stored and is dropped; " if dropped else ""
    return (
        f"image {i} was {done}; {lost}moved on to the next image (Z here undoes the loop's last "
        "label or skip, whichever panel or cell made it)"
    )


def painted_elsewhere(
    what: str, i: int, current: int, annotation: Annotation | None, skipped: bool
) -> str:
    """The refusal of a key or click (a ``what``: "submit", "skip") made on image `i`, which
    the browser painted early, before the panel's answer to the key before: image `i` was
    labeled, skipped or left out outside the panel meanwhile (or could not be read), so the
    panel did not show it, and shows image `current`.

    Parameters
    ----------
    what : str
        What was not done: "submit" or "skip".
    i : int
        The image painted early.
    current : int
        The image the panel shows.
    annotation : Label, Boxes, Mask, Instances or None
        Image `i`'s annotation now (None: not labeled).
    skipped : bool
        Whether image `i` is skipped.
    """
    if annotation is not None:
        done = f"labeled outside this panel ({annotation_words(annotation)})"
    elif skipped:
        done = "skipped outside this panel"
    else:
        done = "left out of the queue (outside this panel, or as it could not be read)"
    not_done = "skipped" if what == "skip" else "submitted"
    return (
        f"not {not_done}: the {what} was made on image {i}, shown early, but image {i} was "
        f"{done} meanwhile, so the panel did not show it; it shows image {current}: press it "
        "again if you mean it for this one"
    )


def made_before_reload(what: str, i: int) -> str:
    """The refusal of a key or click (a ``what``: "submit", "skip") made on image `i` as it
    was shown before it was loaded again (an undo, a draft threshold, a refused edit): what it
    showed then may not be what it holds now.

    Parameters
    ----------
    what : str
        What was not done: "submit" or "skip".
    i : int
        The image shown.
    """
    done = "skipped" if what == "skip" else "submitted"
    return (
        f"not {done}: the {what} was made on image {i} as it was shown before it was loaded "
        "again (an undo, the draft threshold or a refused edit), and what it shows may have "
        "changed; press it again if you mean it"
    )


def class_changed(i: int | None, seen: str | None, now: str | None) -> str:
    """The refusal of a submit on image `i` made while the browser's picker highlighted class
    `seen`, another than the one chosen for it now (`now`; the model's newer prediction for an
    image shown early): the picker shows `now` again.

    Parameters
    ----------
    i : int or None
        The image shown.
    seen, now : str or None
        The classes, by name; None: none.
    """
    saw = f'"{seen}" was highlighted' if seen is not None else "no class was highlighted"
    held = f'"{now}"' if now is not None else "none"
    return (
        f"not submitted: {saw} on image {i} when the key was pressed, but the class chosen for "
        f"it is {held} (the model's newer prediction); the picker shows it now: press Enter "
        "again to submit it, or pick another class"
    )


def stale_edit(kind: str, made_on: str, shown: int | None) -> str:
    """What the labeler is told of an edit refused because the image it was made on had been
    loaded again (its drafts at a new threshold, an undo) or left before it arrived.

    Parameters
    ----------
    kind : str
        The edit's message kind (``"mask_accept"``, ``"instance"``, ``"boxes"``...).
    made_on : str
        The key (dataset index) of the image it was made on; "" when unknown.
    shown : int or None
        The image shown now.
    """
    if shown is None or made_on != str(shown):
        on = f"image {made_on}" if made_on else "an image no longer shown"
        return f"an edit of {on} arrived after the panel had left it, and was not kept"
    again = f"image {shown} was loaded again under it (its drafts at a new threshold, or an undo)"
    if kind == "mask_accept":
        return (
            f"A did nothing: the model's mask changed under the key, as {again}; accept the "
            "mask shown now with A, or paint"
        )
    what = "objects" if kind.startswith("instance") else "drawing"
    return (
        f"your last edit (an accept with A included) did nothing: the {what} changed under it, "
        f"as {again}; make it again on what is shown now"
    )


def already_labeled(what: str, i: int, annotation: Annotation) -> str:
    """The refusal of a ``what`` ("submitted", "skipped") on image `i`, opened again though
    labeled: what the labeler can do in the panel.

    Parameters
    ----------
    what : str
        What was not done: "submitted" or "skipped".
    i : int
        The image shown.
    annotation : Label, Boxes, Mask or Instances
        Its annotation.
    """
    return (
        f"not {what}: image {i} is already labeled ({annotation_words(annotation)}); to change "
        "its label, Z undoes the last submits one by one and brings each back to edit; click a "
        "thumbnail to go on labeling"
    )


def turned_since_shown(i: int, file: str | None, shown: int, now: int) -> str:
    """The refusal of a submit on image `i`, whose photo another program turned (rewrote its
    EXIF orientation) since the panel showed it: what was drawn lies on the pixels shown, which
    the file no longer shows there.

    Parameters
    ----------
    i : int
        The image shown.
    file : str or None
        Its file.
    shown : int
        The EXIF orientation its pixels were shown in.
    now : int
        The one its file has now.
    """
    name = f" ({file})" if file else ""
    return (
        f"not submitted: image {i}{name} was turned by another program since it was shown "
        f"(EXIF orientation {shown} → {now}): what was drawn would not lie on the pixels it was "
        "drawn on. Nothing was stored, and the edit stays on screen; S skips the image"
    )


def changed_since_shown(i: int, file: str | None) -> str:
    """The refusal of a submit on image `i`, whose file another program rewrote or replaced
    since the panel showed it, with other pixels (``same_bytes``): the file no longer holds
    the pixels the label was given on.

    Parameters
    ----------
    i : int
        The image shown.
    file : str or None
        Its file.
    """
    name = f" ({file})" if file else ""
    return (
        f"not submitted: image {i}{name} was rewritten or replaced by another program since it "
        "was shown (its file changed): the label would not be given on the pixels shown. "
        "Nothing was stored, and the edit stays on screen; S skips the image"
    )


def _changed(drawn_on: Frame, now: Frame) -> tuple[str, str]:
    """What another program did to an image's photo since work was drawn on its pixels
    `drawn_on`, now read as `now`, in words: ``("was turned by another program (EXIF
    orientation 1 → 6)", "the turned photo")``, or its replacement by a photo of another size
    with both sizes (width x height) and ``"the new photo"``, or its file rewritten or replaced
    by other pixels of the same size and ``"the new photo"``."""
    before, after = drawn_on.orientation, now.orientation
    if turned_since(before, after):
        turned = f"was turned by another program (EXIF orientation {before} → {after})"
        return turned, "the turned photo"
    (h, w), (now_h, now_w) = drawn_on.size, now.size
    if (h, w) == (now_h, now_w):  # other pixels of the same size: rewritten or replaced
        return "was rewritten or replaced by another program (its file changed)", "the new photo"
    changed = (
        f"was replaced by another program with a photo of another size ({w}x{h} → "
        f"{now_w}x{now_h}, width x height)"
    )
    return changed, "the new photo"


def unsaved_dropped(i: int, file: str | None, what: str, drawn_on: Frame, now: Frame) -> str:
    """The notice after the work left unsaved on image `i` was dropped as the image was shown:
    another program turned its photo (rewrote its EXIF orientation) or replaced it by one of
    another size since the work was drawn (``Work.fits``), so the work would not lie on the
    pixels it was drawn on. It was not shown, and nothing was stored.

    Parameters
    ----------
    i : int
        The image shown.
    file : str or None
        Its file.
    what : str
        What the work held, in words (``Work.summary``).
    drawn_on : Frame
        The pixels it was drawn on.
    now : Frame
        Those the image is shown with now.
    """
    name = f" ({file})" if file else ""
    changed, photo = _changed(drawn_on, now)
    held = f" ({what})" if what else ""
    return (
        f"image {i}{name} {changed} after its work was drawn on it{held}: that work was "
        f"dropped, not shown on {photo}; nothing was stored"
    )


def undone_label_dropped(
    i: int,
    file: str | None,
    undone: Annotation,
    drawn_on: Frame,
    now: Frame,
    labeled: Annotation | None,
) -> str:
    """The notice after an undo took back the label stored for image `i`, drawn on its photo
    before another program turned it (rewrote its EXIF orientation) or replaced it by one of
    another size: the label is not shown on the new pixels, to edit, as an undo shows it
    (``Work.fits``), and no redo is promised (it would lie on other pixels too). The image is
    unlabeled, to label again, or holds again the label it had before that submit.

    Parameters
    ----------
    i : int
        The image the undo brought back.
    file : str or None
        Its file.
    undone : Label, Boxes, Mask or Instances
        The label the undo took back.
    drawn_on : Frame
        The pixels it was drawn on.
    now : Frame
        Those the image is shown with now.
    labeled : Label, Boxes, Mask, Instances or None
        The image's annotation after the undo.
    """
    name = f" ({file})" if file else ""
    changed, photo = _changed(drawn_on, now)
    if labeled is None:
        left = "the image is unlabeled now, to label again"
    else:
        before = annotation_words(labeled)
        left = f"the image holds again its label from before that submit ({before})"
    return (
        f"undid the submit of image {i}{name}, whose photo {changed} after that label "
        f"({annotation_words(undone)}) was drawn on it: the label is not shown on {photo}, and "
        f"{left}"
    )


def undo_unreadable(action: str, error: str) -> str:
    """The refusal of an undo whose image cannot be read (its file gone): undone, it could not
    be shown to edit, so the submit or skip stays as it is.

    Parameters
    ----------
    action : str
        What the undo would take back: ``"commit"`` or ``"skip"`` (``loop.to_undo``).
    error : str
        Why the image cannot be read, naming it (``ImageError``).
    """
    if action == "commit":
        left, what = "its label stays stored", "submit"
    else:
        left, what = "it stays skipped", "skip"
    return (
        f"not undone: {error}, so it could not be shown to edit; {left}. Once the file is "
        f"back, Z undoes that {what}"
    )


def redo_refused_for_edit(i: int, labeled: Annotation | None) -> str:
    """The refusal of a redo that would store over an edit of image `i` made since its undo,
    and what stores the edit: Enter, once the image holds no label (``already_labeled``).

    Parameters
    ----------
    i : int
        The image the redo would make again.
    labeled : Label, Boxes, Mask, Instances or None
        Its annotation now: the label an undo of a commit that replaced it left stored, or None.
    """
    refused = f"nothing to redo: image {i} was edited since the undo; "
    if labeled is None:
        return refused + "Enter stores the edit"
    return refused + (
        f"it is still labeled ({annotation_words(labeled)}), so Enter does not store the edit "
        "yet: Z undoes the last submits one by one; once its label is undone, Enter stores the "
        "edit"
    )


def dropped_drafts(i: int, dropped: int) -> str:
    """The notice after image `i` was submitted with `dropped` drafts left undecided.

    Parameters
    ----------
    i : int
        The image submitted.
    dropped : int
        How many drafts shown were neither accepted nor rejected.
    """
    return (
        f"image {i} stored what was drawn and accepted; {count(dropped, 'undecided draft')} "
        "dropped (not stored)"
    )
