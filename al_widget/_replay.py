"""A journal's entries replayed into the Dataset being restored, each checked as a new label
is, but for the label of an image that cannot be read: it comes back at the size the journal
gives, so that one missing file does not keep every other label from coming back. The label of
an image whose size or EXIF orientation changed since it was drawn is left out, with a warning,
for the same reason, and the image is left unlabeled: the label before it was replaced by it
(an undo's entry puts back a label the labeler had replaced), so it is not what the labeler
last gave either."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import annotations as ann
from ._images import ImageError
from ._numbers import is_int
from ._orientation import turned_since

if TYPE_CHECKING:
    from .dataset import Dataset

log = logging.getLogger("al_widget")

# The largest image whose label is restored without reading it: PIL's own limit before it calls
# a file a decompression bomb.
UNREAD_PIXELS = 2 * 89_478_485


def replay(dataset: Dataset, where: str, entry: dict[str, Any], *, last: bool = True) -> None:
    """Apply one journal entry (``where``: its file and line, for errors) to `dataset`.

    Parameters
    ----------
    dataset : Dataset
        The dataset being restored.
    where : str
        The entry's journal and line, e.g. ``"journal j.jsonl line 3"``.
    entry : dict
        The entry as parsed: ``{"op": "annotate" | "remove", "i": ..., "annotation": ...}``.
    last : bool, default True
        Whether it is its image's last entry. Each entry holds the whole of its image's label,
        so an earlier one that is left out loses nothing a later one does not set: only the
        last one's leaving out is told (a warning).
    """
    op, i = entry.get("op"), entry.get("i")
    if op not in ("annotate", "remove"):
        raise ValueError(f"{where}: unknown op {op!r}; expected 'annotate' or 'remove'")
    if not is_int(i) or not 0 <= i < len(dataset):
        raise ValueError(f"{where}: index must be an int in [0, {len(dataset)}), got {i!r}")
    if op == "remove":
        dataset.remove(i)
        return
    data = entry.get("annotation")
    if not isinstance(data, dict):
        raise ValueError(f"{where}: 'annotation' must be a JSON object, got {data!r}")
    try:
        drawn_in = _orientation(entry)
        size: tuple[int, int] | None = None
        declared: tuple[int, int] | None = None  # the journal's size of an image not read
        if data.get("type") in ("boxes", "mask", "instances"):
            try:
                size, turn = dataset.image_frame(i)
            except ImageError as error:
                size = declared = _size_unread(i, data, error)
                unread = error
            else:
                if _size_changed(where, i, data, size, last) or _turn_changed(
                    where, dataset, i, drawn_in, turn, last
                ):
                    # The labeler's latest word on the image no longer fits it; the label it
                    # replaced (an undone one, say) is not what the labeler last gave either
                    dataset.remove(i)
                    return
        annotation = ann.from_json(data, image_size=size)
        if _no_label(where, i, annotation, last):
            return
        if declared is None:  # it keeps the orientation journaled with it, for an undo
            dataset.annotate(i, annotation, orientation=drawn_in)
            return
        dataset.annotate_unread(i, annotation, declared, orientation=drawn_in)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{where}: {error}") from None
    log.warning(
        "%s: image %d cannot be read (%s); its label was restored as the journal holds it, "
        "unchecked against the image",
        where,
        i,
        unread,
    )


def _size_unread(i: int, data: dict[str, Any], error: ImageError) -> tuple[int, int]:
    """The size the journal gives image `i`'s label, when the image cannot be read (moved,
    deleted, corrupt). Only a size an image may have is taken on trust."""
    size = ann.declared_size(data)
    if size is None or size[0] * size[1] > UNREAD_PIXELS:
        raise ValueError(
            f"image {i} cannot be read ({error}), and without it the size its label gives "
            f"({size}) cannot be taken: at most {UNREAD_PIXELS:,} pixels"
        )
    return size


def _size_changed(
    where: str, i: int, data: dict[str, Any], size: tuple[int, int], last: bool
) -> bool:
    """Whether image `i` now has another `size` than the one its journaled label was drawn on
    (the file was replaced, or a photo manager rewrote its EXIF orientation): the label no
    longer fits its pixels, so it is left out of a restore (the image unlabeled), with a
    warning when it is the image's `last` entry. A change that keeps the size (a square photo
    turned) is seen by ``_turn_changed``."""
    declared = ann.declared_size(data)
    if declared is None or declared == size:
        return False
    if last:
        log.warning(
            "%s: image %d was %dx%d (width x height) when labeled, now %dx%d: the file changed "
            "since? Its label no longer fits the image, so this entry was left out, and the image "
            "left unlabeled (a label before it was replaced by it), to be labeled again",
            where,
            i,
            declared[1],
            declared[0],
            size[1],
            size[0],
        )
    return True


def _orientation(entry: dict[str, Any]) -> int | None:
    """The EXIF orientation a journal entry records its label was drawn in, checked whatever
    the label and whether or not its image can be read; None when it records none (an entry
    of an earlier version, of a class label or of an image given in memory)."""
    if "orientation" not in entry:
        return None
    recorded = entry["orientation"]
    if type(recorded) is not int or not 1 <= recorded <= 8:
        raise ValueError(
            f"'orientation' must be an EXIF orientation, an int in 1..8, got {recorded!r:.40}"
        )
    return recorded


def _turn_changed(
    where: str, dataset: Dataset, i: int, recorded: int | None, turn: int | None, last: bool
) -> bool:
    """Whether image `i`'s file is now turned upright by another EXIF orientation (`turn`)
    than the one its journaled label was drawn in (`recorded`): a photo app turning a photo
    rewrites it, and a square photo (or one turned half way round) keeps its size, so
    ``_size_changed`` cannot see it. The label would lie on turned pixels, so it is left out,
    with a warning when it is the image's `last` entry. An entry that records no orientation
    is not checked."""
    if not turned_since(recorded, turn):
        return False
    if last:
        log.warning(
            "%s: image %d (%s) was shown turned by EXIF orientation %d when labeled, now by %d: "
            "the file changed since? (A photo app turning a photo rewrites its orientation.) Its "
            "label no longer fits the pixels shown, so this entry was left out, and the image left "
            "unlabeled (a label before it was replaced by it), to be labeled again",
            where,
            i,
            dataset.source_file(i),
            recorded,
            turn,
        )
    return True


def _no_label(where: str, i: int, annotation: ann.Annotation, last: bool) -> bool:
    """Whether a journaled `annotation` of image `i` is no label (a mask that labels no pixel,
    which earlier versions stored): it is left out of a restore, with a warning when it is the
    image's `last` entry."""
    try:
        ann.check_is_label(annotation)
    except ValueError:
        if last:
            log.warning(
                "%s: image %d's mask labels no pixel (every one is Mask.IGNORE), so it is no label: "
                "this entry was left out (the image keeps the label it had before it, if any)",
                where,
                i,
            )
        return True
    return False
