"""What a panel says of an undo: its own Z, whose label or skip it took back and what the image
holds after it, and an undo made outside it of a label or skip it made, or of one made over
it. Pure functions, as in ``image_notices``."""

from __future__ import annotations

from ..annotations import Annotation
from .image_notices import annotation_words

OUTSIDE = "made outside this panel (in another panel on the loop, or a cell)"
"""Whose label or skip a panel's undo took back when it was not the panel's own (the loop's undo
stack is shared)."""

UNDONE_BY = "another panel's Z, or a cell's loop.undo()"
"""Who undoes outside a panel."""


def undid_outside_label(what: str, i: int) -> str:
    """The notice after an undo, in a panel, of a ``what`` ("submit", "skip") of image `i` that
    another panel or a cell made, where the error line says the undo.

    Parameters
    ----------
    what : str
        "submit" or "skip".
    i : int
        The image brought back.
    """
    return f"the {what} of image {i} that Z took back was {OUTSIDE}"


def undid(
    what: str,
    i: int,
    restored: str,
    *,
    kept: bool = False,
    outside: bool = False,
    labeled: Annotation | None = None,
) -> str:
    """The notice after an undo of a ``what`` ("submit" or "skip") of image `i`.

    Parameters
    ----------
    what : str
        "submit" or "skip".
    i : int
        The image brought back.
    restored : str
        What came back with it, in words ("" for nothing).
    kept : bool, default False
        It came back with the edit made on it since an earlier undo, not with the label the
        undo took back; redo is refused then, as it would store that label over the edit.
    outside : bool, default False
        The submit or skip was not the panel's own (``OUTSIDE``).
    labeled : Label, Boxes, Mask, Instances or None, optional
        The image's label after the undo: the one the submit undone had replaced, stored
        again (None: it is unlabeled). Enter stores nothing over it.
    """
    back = f" ({restored})" if restored else ""
    undid = f"undid the {what} of image {i}" + (f", {OUTSIDE}" if outside else "")
    still = ""
    if labeled is not None:
        still = (
            f", but image {i} holds again its label from before that submit "
            f"({annotation_words(labeled)}), so Enter stores nothing until Z undoes that one too"
        )
    if not kept:
        return f"{undid}: it is back to edit{back}{still}; Shift+Z redoes"
    instead = " in place of the label undone" if what == "submit" else ""
    return (
        f"{undid}: it is back to edit with the edit made on it since an earlier undo, "
        f"kept{instead}{back}{still}"
    )


def image_now(annotation: Annotation | None, skipped: bool, broken: bool) -> str:
    """Where an image an undo brought back stands now, in words: back in the queue only when
    it is unlabeled, not skipped and can be read.

    Parameters
    ----------
    annotation : Label, Boxes, Mask, Instances or None
        Its label now.
    skipped, broken : bool
        Whether it is skipped, or left out as unreadable.
    """
    if annotation is not None:
        return f"the image holds its label from before ({annotation_words(annotation)})"
    if skipped:
        return "the image stays skipped"
    if broken:
        return "the image stays out of the queue, as it cannot be read"
    return "the image is back in the queue, to label again"


def undone_outside(what: str, i: int, now: str) -> str:
    """The notice in a panel whose ``what`` ("commit", "skip") of image `i` was undone outside
    it: another panel's Z, or a cell's ``loop.undo()``.

    Parameters
    ----------
    what : str
        "commit" or "skip", as the loop names it.
    i : int
        The image the undo brought back.
    now : str
        Where the image stands now (``image_now``).
    """
    made = "label" if what == "commit" else "skip"
    return f"your {made} of image {i} was undone outside this panel ({UNDONE_BY}): {now}"


def label_restored(i: int, annotation: Annotation) -> str:
    """The notice in a panel whose label of image `i`, replaced outside it since, is stored
    again: an undo outside it took back the label stored over it.

    Parameters
    ----------
    i : int
        The image.
    annotation : Label, Boxes, Mask or Instances
        The panel's label, stored again.
    """
    return (
        f"a label of image {i} stored over yours outside this panel was undone there "
        f"({UNDONE_BY}): your label ({annotation_words(annotation)}) is stored again"
    )


def skip_lifted(i: int, what: str) -> str:
    """The notice in a panel whose skip of image `i` no longer holds: a ``what`` ("commit",
    "skip") of it made outside the panel since was undone there, and the image is unlabeled
    and not skipped.

    Parameters
    ----------
    i : int
        The image.
    what : str
        What the undo took back: "commit" or "skip", as the loop names it.
    """
    made = "label" if what == "commit" else "skip"
    return (
        f"your skip of image {i} no longer holds: a {made} of it made outside this panel since "
        f"was undone there ({UNDONE_BY}); the image is back in the queue, to label again"
    )
