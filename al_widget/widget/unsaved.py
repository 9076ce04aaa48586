"""Work on an image that is not submitted: kept per image for the session, shown again later,
with the pixels it was drawn on (``Frame``): it is not shown on others (``drawn_elsewhere``)."""

from __future__ import annotations

import collections
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .._file_stamps import PixelStamp, same_bytes
from .._images import OrientedImage
from .._orientation import turned_since
from ..annotations import Annotation, Boxes, Label, Mask
from ..instances import Instances
from ._protocol import ObjectEdit
from .draftbar import draft_dicts
from .objects import objects_of


class Frame(NamedTuple):
    """The pixels work was drawn on: their (H, W), the EXIF orientation they were turned
    upright by, and their file's stamp when they were read with their digest (``OrientedImage``;
    None for an image given in memory, whose pixels cannot change, and a stamp not known)."""

    size: tuple[int, int]
    orientation: int | None
    stamp: PixelStamp | None = None

    @classmethod
    def of(cls, image: OrientedImage) -> Frame:
        """The frame of `image`, as read to be shown.

        Parameters
        ----------
        image : OrientedImage
            An image's pixels and the orientation they were read in.
        """
        h, w = image.pixels.shape[:2]
        return cls((int(h), int(w)), image.orientation, image.stamp)


def drawn_elsewhere(drawn_on: Frame, now: Frame) -> bool:
    """Whether work drawn on the pixels `drawn_on` would lie on other pixels once shown on the
    image read as `now`: another program replaced its photo by one of another size, or turned
    it (rewrote its EXIF orientation, ``turned_since``; a square photo keeps its size), or
    rewrote or replaced its file since by another picture of the same size and orientation
    (other pixels, ``same_bytes``). A file only touched (its mode or times set, hard linked,
    its bytes written again) holds the same pixels: the work lies on them.

    Parameters
    ----------
    drawn_on : Frame
        The pixels the work was drawn on.
    now : Frame
        The pixels the image would be shown with now.
    """
    return (
        drawn_on.size != now.size
        or turned_since(drawn_on.orientation, now.orientation)
        or not same_bytes(drawn_on.stamp, now.stamp)
    )


@dataclass(frozen=True)
class Work:
    """What the canvas and the class picker hold for one image.

    Parameters
    ----------
    boxes, drafts
        The boxes and the model's unaccepted boxes, as the canvas holds them
        (``{"xyxy": [...], "label": int}`` each; a draft with its ``"score"``, or None).
    mask
        The H*W uint8 class map as zlib-compressed bytes (a painted class map shrinks tens
        of times, so a session can leave many masks unsubmitted); empty when there is none.
    class_id
        The class chosen in the picker (classification's label, or the class new boxes and
        strokes take), or None.
    objects
        Instance mode's objects (``Canvas.objects``), drafts among them.
    mask_draft
        The mask is still the model's draft (``Canvas.mask_draft``): neither accepted nor
        painted over. An accepted draft is the labeler's work even where no pixel changed.
    shown
        The model's mask regions (zlib-compressed, with the mask's shape) or objects this image
        was opened with as drafts, or None; ``shown_draft`` gives them back for
        ``loop.commit(shown=...)`` once the work is submitted.
    opened_drafts
        The model's boxes the image was opened with (``Canvas.loaded_drafts`` then, each with
        its ``"score"``): those at the threshold were shown, whatever became of them since.
    difficult
        Per box of `boxes`: marked difficult (``Boxes.difficult``) in the label it was loaded
        from; the canvas does not show the mark, the label stored again keeps it.
    frame
        The pixels it was drawn on (``Frame``), or None when not known: boxes, a mask or
        objects fit only those (``fits``).
    """

    boxes: tuple[tuple[tuple[float, ...], int], ...] = ()
    drafts: tuple[tuple[tuple[float, ...], int, float | None], ...] = ()
    mask: bytes = b""
    class_id: int | None = None
    _painted: bool = field(default=False, compare=False)
    objects: tuple[ObjectEdit, ...] = ()
    mask_draft: bool = False
    shown: tuple[bytes, tuple[int, int]] | Instances | None = field(default=None, compare=False)
    opened_drafts: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    difficult: tuple[bool, ...] = field(default=(), compare=False)
    frame: Frame | None = field(default=None, compare=False)

    @classmethod
    def of(
        cls,
        boxes: Sequence[dict[str, Any]],
        drafts: Sequence[dict[str, Any]],
        mask: bytes,
        class_id: int | None,
        objects: Sequence[ObjectEdit] = (),
        mask_draft: bool = False,
        shown: Mask | Instances | None = None,
        opened_drafts: Sequence[dict[str, Any]] = (),
        difficult: Sequence[bool] = (),
        frame: Frame | None = None,
    ) -> Work:
        """Build from the canvas's traits and the picker's value.

        Parameters
        ----------
        boxes, drafts
            ``Canvas.boxes`` and ``Canvas.drafts``.
        mask
            ``Canvas.mask``.
        class_id
            The picker's value.
        objects
            ``Canvas.objects``.
        mask_draft
            ``Canvas.mask_draft``.
        shown
            The mask regions or objects the image was opened with as drafts.
        opened_drafts
            The model's boxes it was opened with (``Canvas.loaded_drafts`` then).
        difficult
            Per box of `boxes`: marked difficult (``difficult_flags``); () for none.
        frame
            The pixels the canvas showed (``Frame``), or None when not known.
        """
        painted = bool(mask) and bool(np.frombuffer(mask, np.uint8).any())
        packed = _packed(mask)
        frozen_drafts = tuple(
            (xyxy, label, d.get("score"))
            for (xyxy, label), d in zip(_freeze(drafts), drafts, strict=True)
        )
        kept: tuple[bytes, tuple[int, int]] | Instances | None
        if isinstance(shown, Mask):
            h, w = shown.class_map.shape
            kept = (_packed(shown.class_map.tobytes()), (h, w))
        else:
            kept = shown
        return cls(
            _freeze(boxes),
            frozen_drafts,
            packed,
            class_id,
            painted,
            tuple(objects),
            mask_draft,
            kept,
            tuple(opened_drafts),
            tuple(bool(f) for f in difficult),
            frame,
        )

    def shown_draft(self) -> Mask | Instances | None:
        """The drafts the image was opened with (``shown``), as the editor showed them."""
        if isinstance(self.shown, tuple):
            packed, (h, w) = self.shown
            return Mask(_unpacked(packed, h, w))
        return self.shown

    def box_dicts(self) -> list[dict[str, Any]]:
        """The boxes as ``Canvas.load`` takes them."""
        return _thaw(self.boxes)

    def draft_dicts(self) -> list[dict[str, Any]]:
        """The drafts as ``Canvas.load`` takes them."""
        return [
            {"xyxy": list(xyxy), "label": label} | ({} if score is None else {"score": score})
            for xyxy, label, score in self.drafts
        ]

    def mask_array(self, height: int, width: int) -> np.ndarray | None:
        """The class map as an (H, W) array, or None when there is none of that size (drawn
        on pixels of another size, even of as many pixels: a photo turned a quarter)."""
        if self.frame is not None and self.frame.size != (height, width):
            return None
        return _unpacked(self.mask, height, width)

    def fits(self, image: OrientedImage) -> bool:
        """Whether the work can be shown on `image` (an image's pixels as read now): it holds
        nothing drawn on pixels (at most the class chosen, which names the whole image), or it
        was drawn on pixels of the same size and orientation, from the file as it is
        (``drawn_elsewhere``), or on pixels not known (``frame`` None).

        Parameters
        ----------
        image : OrientedImage
            The image the work would be shown on.
        """
        on_pixels = (
            self.boxes or self.drafts or self.mask or self.objects or self.opened_drafts
        ) or self.shown is not None
        if not on_pixels or self.frame is None:
            return True
        return not drawn_elsewhere(self.frame, Frame.of(image))

    def summary(self) -> str:
        """What the work holds, in words: ``"2 unsaved boxes"``, ``"an unsaved mask"``; or ""."""
        parts = []
        if self.boxes:
            parts.append(_count(len(self.boxes), "unsaved box", "unsaved boxes"))
        if self.drafts:
            parts.append(_count(len(self.drafts), "model draft", "model drafts"))
        if self._painted:
            parts.append("the model's mask draft" if self.mask_draft else "an unsaved mask")
        drafted = sum(o.draft for o in self.objects)
        if len(self.objects) > drafted:
            parts.append(_count(len(self.objects) - drafted, "unsaved object", "unsaved objects"))
        if drafted:
            parts.append(_count(drafted, "model draft", "model drafts"))
        if not parts and self.class_id is not None:
            parts.append("the class chosen")
        return " and ".join(parts)


def from_annotation(
    annotation: Annotation,
    classes: Sequence[str],
    shown: Annotation | None = None,
    drawn_in: int | None = None,
) -> Work:
    """The work that shows `annotation` again, to edit (an undone submit), on the pixels it
    was drawn on: those of its size and, when known, `drawn_in`.

    Parameters
    ----------
    annotation
        A Label, Boxes, Mask or Instances, as stored.
    classes
        The dataset's class names.
    shown
        The model's drafts the labeler was shown before that submit (``loop.undone_drafts``): a
        submit of the work counts what they saved again.
    drawn_in
        The EXIF orientation it was journaled with (``loop.undone_drawn_in``), or None.
    """
    if isinstance(annotation, Label):
        return Work(class_id=annotation.class_id(classes))
    if isinstance(annotation, Boxes):
        opened = draft_dicts(shown, None, classes) if isinstance(shown, Boxes) else []
        size = annotation.canvas_size  # a label stored has its image's
        return Work.of(
            draft_dicts(annotation, None, classes),
            [],
            b"",
            None,
            opened_drafts=opened,
            difficult=annotation.difficult,
            frame=None if size is None else Frame(size, drawn_in),
        )
    if isinstance(annotation, Mask):
        mask = np.ascontiguousarray(annotation.class_map, np.uint8)
        h, w = mask.shape
        return Work.of(
            [],
            [],
            mask.tobytes(),
            None,
            shown=shown if isinstance(shown, Mask) else None,
            frame=Frame((h, w), drawn_in),
        )
    if isinstance(annotation, Instances):
        return Work.of(
            [],
            [],
            b"",
            None,
            objects_of(annotation, classes),
            shown=shown if isinstance(shown, Instances) else None,
            frame=Frame(annotation.canvas_size, drawn_in),
        )
    raise TypeError(f"not an annotation: {annotation!r}")


def difficult_flags(
    boxes: Sequence[dict[str, Any]], marked: Sequence[dict[str, Any]]
) -> tuple[bool, ...]:
    """Per box of `boxes`: whether it is one of the boxes `marked` difficult, unchanged (the
    same ``"xyxy"`` and ``"label"``; a box moved or relabeled is a new box, not marked).

    Parameters
    ----------
    boxes
        ``Canvas.boxes`` now.
    marked
        The boxes marked difficult when the image was loaded, as ``Canvas.boxes`` held them.
    """
    left = collections.Counter(_freeze(marked))
    flags = []
    for box in _freeze(boxes):
        flags.append(left[box] > 0)
        left[box] -= 1
    return tuple(flags)


def _packed(class_map: bytes) -> bytes:
    """An H*W class map compressed (a painted or drafted one shrinks tens of times); b"" for
    none."""
    return zlib.compress(class_map, 1) if class_map else b""


def _unpacked(packed: bytes, height: int, width: int) -> np.ndarray | None:
    """The (H, W) class map `_packed` gave, or None when it holds none of that size."""
    class_map = zlib.decompress(packed) if packed else b""
    if len(class_map) != height * width:
        return None
    return np.frombuffer(class_map, np.uint8).reshape(height, width)


def _freeze(boxes: Sequence[dict[str, Any]]) -> tuple[tuple[tuple[float, ...], int], ...]:
    return tuple((tuple(float(v) for v in b["xyxy"]), int(b["label"])) for b in boxes)


def _thaw(boxes: tuple[tuple[tuple[float, ...], int], ...]) -> list[dict[str, Any]]:
    return [{"xyxy": list(xyxy), "label": label} for xyxy, label in boxes]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
