"""Instances: objects of an image, each its own binary mask and class (instance segmentation).

Each object is stored as COCO's run-length string (see ``_rle``): a 4000x3000 photo with 30
objects takes kilobytes, not the 360 MB of its masks. Objects may overlap each other (a cat in
front of a cat: the hidden one's mask may include the pixels where it is hidden, or not, as the
labeler drew it); an object given twice (two objects with the same mask) is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _rle
from ._class_refs import ClassRef, check_class_ref, check_names, frozen, resolve_class
from ._numbers import is_int
from ._polygon_input import polygon_parts

if TYPE_CHECKING:
    from torchvision import tv_tensors

    from .annotations import Boxes


class SameMask(ValueError):
    """Objects `first` and `second` (positions, in the order given) have the same mask: one
    object given twice. A caller that shows the objects otherwise names them as it shows them.

    Parameters
    ----------
    first, second : int
        The objects' positions.
    """

    def __init__(self, first: int, second: int) -> None:
        self.first, self.second = first, second
        super().__init__(
            f"objects {first} and {second} have the same mask: one object given twice "
            "(objects may overlap, but not coincide)"
        )


class Instances:
    """Objects in image pixels, each a binary mask of the image's size and one class.

    Objects may overlap each other; the same mask given twice is refused (one object twice).

    Parameters
    ----------
    masks : array-like or sequence of array-like
        (N, H, W), or N masks (H, W) of one shape: True (or 1) inside the object. For no
        objects use ``Instances.empty(size)``, or pass a (0, H, W) array.
    classes : sequence of str or int
        One class name or id per object.
    """

    __slots__ = ("_runs", "boxes", "canvas_size", "classes")

    classes: tuple[ClassRef, ...]
    boxes: np.ndarray
    canvas_size: tuple[int, int]
    _runs: tuple[np.ndarray, ...]

    def __init__(self, masks: Any, classes: Sequence[ClassRef]) -> None:
        if isinstance(masks, np.ndarray) and masks.ndim == 3:
            if 0 in masks.shape[1:]:
                raise ValueError(f"masks must be (N, H, W) with H, W > 0, got shape {masks.shape}")
            items = list(masks)
            shape = masks.shape[1:]
        else:
            items = [np.asarray(m) for m in masks]  # each encoded alone: no (N, H, W) copy
            if not items:
                raise ValueError(
                    "masks is empty, so the image size is unknown: use Instances.empty(size) "
                    "or a (0, H, W) array for an image without objects"
                )
            shapes = {m.shape for m in items}
            if len(shapes) > 1:
                raise ValueError(
                    f"masks must all have one shape (H, W), got {', '.join(map(str, sorted(shapes)))}"
                )
            shape = items[0].shape
            if len(shape) != 2 or 0 in shape:
                raise ValueError(f"each mask must be 2-D (H, W) and not empty, got shape {shape}")
        runs = tuple(_rle.counts(_binary(m, k)) for k, m in enumerate(items))
        self._init(runs, classes, (int(shape[0]), int(shape[1])))

    def _init(
        self,
        runs: tuple[np.ndarray, ...],
        classes: Sequence[ClassRef],
        canvas_size: tuple[int, int],
    ) -> None:
        names = tuple(check_names(classes, "classes", allow_ids=True))
        if len(names) != len(runs):
            raise ValueError(
                f"classes must have one entry per object: {len(runs)} objects, "
                f"got {len(names)} classes"
            )
        for k, ref in enumerate(names):
            check_class_ref(ref, f"classes[{k}] (object {k})")
        seen: dict[bytes, int] = {}
        for k, r in enumerate(runs):
            if _rle.area(r) == 0:
                raise ValueError(f"object {k} has an empty mask: every object needs a pixel")
            key = r.tobytes()
            if key in seen:
                raise SameMask(seen[key], k)
            seen[key] = k
        boxes = np.array([_rle.box(r, canvas_size[0]) for r in runs]).reshape(len(runs), 4)
        object.__setattr__(self, "_runs", tuple(frozen(r) for r in runs))
        object.__setattr__(self, "classes", names)
        object.__setattr__(self, "canvas_size", canvas_size)
        object.__setattr__(self, "boxes", frozen(boxes))

    @classmethod
    def _of_runs(
        cls, runs: Sequence[np.ndarray], classes: Sequence[ClassRef], canvas_size: tuple[int, int]
    ) -> Instances:
        new = cls.__new__(cls)
        new._init(tuple(runs), classes, canvas_size)
        return new

    @classmethod
    def empty(cls, size: tuple[int, int]) -> Instances:
        """No objects, on an image of `size` (width, height) like PIL's ``Image.size``.

        Parameters
        ----------
        size : (width, height)
            The image's size in pixels.
        """
        width, height = _check_size(size)
        return cls._of_runs([], [], (height, width))

    @classmethod
    def from_polygons(
        cls, polygons: Sequence[Any], classes: Sequence[ClassRef], *, size: tuple[int, int]
    ) -> Instances:
        """Objects drawn from polygons as COCO draws them (vertices at pixel corners).

        Parameters
        ----------
        polygons : sequence
            Per object one polygon or a list of polygons (their union is the object). A
            polygon is a flat ``[x0, y0, x1, y1, ...]`` list or a (K, 2) array, K >= 3, in
            image pixels inside the image.
        classes : sequence of str or int
            One class name or id per object.
        size : (width, height)
            The image's size in pixels, like PIL's ``Image.size``.
        """
        from faster_coco_eval.core import mask as coco_mask

        width, height = _check_size(size)
        if isinstance(polygons, (str, bytes)) or not isinstance(polygons, (Sequence, np.ndarray)):
            raise ValueError(
                f"polygons must be a list with one entry per object, got {polygons!r:.60}"
            )
        runs = []
        for k, item in enumerate(polygons):
            parts = polygon_parts(item, k, width, height)
            rle = coco_mask.merge(coco_mask.frPyObjects(parts, height, width))
            runs.append(_rle.counts(coco_mask.decode(rle)))
        return cls._of_runs(runs, classes, (height, width))

    @classmethod
    def from_boxes(cls, boxes: Boxes, masks: Any) -> Instances:
        """Objects from boxes and one full-image mask per box, each inside its box.

        The classes are the boxes' labels; the boxes given are checked, not stored: the
        objects' boxes are always those of their masks.

        Parameters
        ----------
        boxes : Boxes
            One box per object.
        masks : array-like
            (N, H, W) or N masks (H, W), N = len(boxes); an object's pixels must lie in its box
            (its pixel columns floor(x0)..ceil(x1) - 1 and rows likewise).
        """
        if len(masks) != len(boxes):
            raise ValueError(
                f"masks must hold one mask per box: {len(boxes)} boxes, got {len(masks)}"
            )
        made = cls(masks, boxes.labels) if len(boxes) else None
        if made is None:
            shape = np.shape(masks)
            if len(shape) != 3:
                raise ValueError(f"masks must be (0, H, W) for no boxes, got shape {shape}")
            made = cls.empty((int(shape[2]), int(shape[1])))
        if boxes.canvas_size is not None and boxes.canvas_size != made.canvas_size:
            raise ValueError(
                f"masks are {made.canvas_size} (H, W) but the boxes' canvas is {boxes.canvas_size}"
            )
        inner = np.concatenate([np.floor(boxes.xyxy[:, :2]), np.ceil(boxes.xyxy[:, 2:])], axis=1)
        for k, (own, given) in enumerate(zip(made.boxes, inner, strict=True)):
            if own[0] < given[0] or own[1] < given[1] or own[2] > given[2] or own[3] > given[3]:
                raise ValueError(
                    f"object {k}: its mask spans {own.tolist()} (xyxy), outside its box "
                    f"{boxes.xyxy[k].tolist()}"
                )
        return made

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Instances is immutable; make a new one")

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy through the JSON form: setting slots one by one is refused above
        return (_from_json, (self.to_json(),))

    def __len__(self) -> int:
        return len(self.classes)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Instances)
            and self.classes == other.classes
            and self.canvas_size == other.canvas_size
            and len(self._runs) == len(other._runs)
            and all(np.array_equal(a, b) for a, b in zip(self._runs, other._runs, strict=True))
        )

    def __hash__(self) -> int:
        return hash((self.classes, self.canvas_size, tuple(r.tobytes() for r in self._runs)))

    def __repr__(self) -> str:
        return f"Instances({len(self)} objects, classes={list(self.classes)}, canvas_size={self.canvas_size})"

    @property
    def size(self) -> tuple[int, int]:
        """The image's (width, height), like PIL's ``Image.size``."""
        return (self.canvas_size[1], self.canvas_size[0])

    @property
    def masks(self) -> np.ndarray:
        """The objects' masks, (N, H, W) bool, decoded now (a new array each time)."""
        out = np.zeros((len(self), *self.canvas_size), dtype=bool)
        for k, r in enumerate(self._runs):
            out[k] = _rle.decode(r, self.canvas_size)
        return out

    @property
    def areas(self) -> np.ndarray:
        """Each object's pixel count, (N,) int64."""
        return np.array([_rle.area(r) for r in self._runs], dtype=np.int64)

    def mask(self, k: int) -> np.ndarray:
        """Object `k`'s mask (H, W) bool.

        Parameters
        ----------
        k : int
            The object's index.
        """
        return _rle.decode(self._runs[k], self.canvas_size)

    def subset(self, keep: Sequence[int] | np.ndarray) -> Instances:
        """The objects `keep` names, in that order, on the same image.

        Parameters
        ----------
        keep : sequence of int
            Object indices, each below ``len(self)`` and given once.
        """
        picked = [int(k) for k in np.asarray(keep, dtype=np.int64).reshape(-1)]
        for k in picked:
            if not 0 <= k < len(self):
                raise IndexError(f"object {k} is out of range for {len(self)} objects")
        return Instances._of_runs(
            [self._runs[k] for k in picked], [self.classes[k] for k in picked], self.canvas_size
        )

    def ious(self, other: Instances) -> np.ndarray:
        """(K, M) the exact mask IoU of each of these K objects with each of `other`'s M.

        Computed on the run lengths (COCO's ``maskUtils.iou``), never on decoded masks: every
        pixel counts, however small the object, and 30 objects against 30 on a 4000 x 3000
        image take about a millisecond.

        Parameters
        ----------
        other : Instances
            Objects on an image of the same size.
        """
        from faster_coco_eval.core import mask as coco_mask

        if tuple(self.canvas_size) != tuple(other.canvas_size):
            raise ValueError(
                f"objects on images of different sizes cannot be compared: "
                f"{tuple(self.canvas_size)} and {tuple(other.canvas_size)} (H, W)"
            )
        if not len(self) or not len(other):
            return np.zeros((len(self), len(other)))
        found = coco_mask.iou(self.to_rle(), other.to_rle(), [0] * len(other))
        return np.asarray(found, np.float64).reshape(len(self), len(other))

    def to_rle(self) -> list[dict[str, Any]]:
        """Each object as COCO's compressed RLE: ``{"size": [H, W], "counts": str}``."""
        return [{"size": list(self.canvas_size), "counts": _rle.to_string(r)} for r in self._runs]

    def bind(self, *, image_size: tuple[int, int], classes: Sequence[str]) -> Instances:
        """These objects checked against the image size (H, W) and classes, classes as names.

        Parameters
        ----------
        image_size : (int, int)
            The image's (height, width).
        classes : sequence of str
            The dataset's classes.
        """
        if self.canvas_size != tuple(image_size):
            raise ValueError(
                f"instance masks are {self.canvas_size} (H, W) but the image is {tuple(image_size)}"
            )
        names = []
        for k, ref in enumerate(self.classes):
            try:
                names.append(classes[resolve_class(ref, classes)])
            except ValueError as error:
                raise ValueError(f"object {k}: {error}") from None
        return Instances._of_runs(self._runs, names, self.canvas_size)

    def class_ids(self, classes: Sequence[str]) -> np.ndarray:
        """The class id of each object.

        Parameters
        ----------
        classes : sequence of str
            The classes the ids index.
        """
        return np.array([resolve_class(c, classes) for c in self.classes], dtype=np.int64)

    def to_tv(self) -> tv_tensors.Mask:
        """The masks as a torchvision Mask (N, H, W) uint8."""
        import torch
        from torchvision import tv_tensors

        return tv_tensors.Mask(torch.from_numpy(self.masks.astype(np.uint8)))

    def to_target(self, classes: Sequence[str], first_label: int = 1) -> dict[str, Any]:
        """A torchvision Mask R-CNN target: ``{"boxes", "labels", "masks"}``.

        ``boxes``: BoundingBoxes (N, 4) float32 XYXY, the masks' boxes; ``labels``: (N,)
        int64; ``masks``: Mask (N, H, W) uint8.

        Parameters
        ----------
        classes : sequence of str
            The dataset's classes, which give each object its class id.
        first_label : int, default 1
            The label of class 0: torchvision keeps label 0 for the background, so by default
            labels are class id + 1.
        """
        import torch
        from torchvision import tv_tensors

        return {
            "boxes": tv_tensors.BoundingBoxes(
                torch.tensor(self.boxes, dtype=torch.float32),
                format="XYXY",
                canvas_size=self.canvas_size,
            ),
            "labels": torch.as_tensor(self.class_ids(classes) + first_label, dtype=torch.int64),
            "masks": self.to_tv(),
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: each mask as a COCO RLE string."""
        return {
            "type": "instances",
            "canvas_size": list(self.canvas_size),
            "classes": list(self.classes),
            "counts": [_rle.to_string(r) for r in self._runs],
        }

    @classmethod
    def from_json(
        cls, data: dict[str, Any], *, image_size: tuple[int, int] | None = None
    ) -> Instances:
        """The objects a `to_json` dict describes; counts as COCO strings or lists of ints.

        Parameters
        ----------
        data : dict
            What ``to_json`` returned.
        image_size : (H, W), optional
            Checked against the declared size before any run is read.
        """
        size = data.get("canvas_size")
        if (
            not isinstance(size, list)
            or len(size) != 2
            or not all(is_int(v) and v > 0 for v in size)
        ):
            raise ValueError(f"instances canvas_size must be [H, W] of ints > 0, got {size!r:.60}")
        shape = (size[0], size[1])
        if image_size is not None and shape != tuple(image_size):
            raise ValueError(f"instances are {list(shape)} but the image is {list(image_size)}")
        counts = data.get("counts")
        if not isinstance(counts, list):
            raise ValueError(f"instances counts must be a list, got {type(counts).__name__}")
        runs = []
        for k, item in enumerate(counts):
            if isinstance(item, str):
                r = _rle.from_string(item)
            elif isinstance(item, list) and all(is_int(v) and abs(v) < 2**62 for v in item):
                r = np.asarray(item, dtype=np.int64).reshape(-1)
            else:
                raise ValueError(
                    f"object {k}: counts must be a string or a list of ints (run lengths)"
                )
            _rle.check(r, shape, f"object {k}")
            runs.append(_rle.canonical(r))
        return cls._of_runs(runs, data.get("classes", []), shape)


def _from_json(data: dict[str, Any]) -> Instances:
    return Instances.from_json(data)


def _binary(mask: np.ndarray, k: int) -> np.ndarray:
    """Object `k`'s mask as bool, refused unless it holds bools or 0 and 1."""
    if mask.dtype == bool:
        return mask
    if mask.dtype.kind not in "iuf" or not np.isin(mask, (0, 1)).all():
        raise ValueError(
            f"object {k}: its mask must hold bools or 0/1 values, got dtype {mask.dtype} "
            "with other values"
        )
    return mask.astype(bool)


def _check_size(size: Any) -> tuple[int, int]:
    if (
        isinstance(size, (str, bytes))
        or len(size) != 2
        or not all(is_int(v) and v > 0 for v in size)
    ):
        raise ValueError(f"size must be (width, height), two ints > 0, got {size!r}")
    return int(size[0]), int(size[1])
