"""Label, Boxes, Mask and Instances: immutable annotation values, validated on construction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._class_refs import ClassRef, check_names, resolve_class
from ._class_refs import check_class_ref as _check_class_ref
from ._class_refs import frozen as _frozen
from ._numbers import is_int
from .instances import Instances

if TYPE_CHECKING:
    from torchvision import tv_tensors

IGNORE = 255
"""The class map value of pixels not labeled here (Pascal VOC's "void"): kept in a `Mask`,
left out of training and metrics, written back as 255. Never a class id, so a segmentation
has at most 255 classes (ids 0..254)."""


@dataclass(frozen=True)
class Label:
    """One class for the whole image.

    Parameters
    ----------
    cls : str or int
        A class name, or a class id into the dataset's classes.
    """

    cls: ClassRef

    def __post_init__(self) -> None:
        _check_class_ref(self.cls, "cls")

    def bind(self, *, image_size: tuple[int, int], classes: Sequence[str]) -> Label:
        """This label checked against the class list, with the class as a name.

        Parameters
        ----------
        image_size : tuple of int
            (H, W) of the image (unused: a label is the whole image's).
        classes : sequence of str
            The dataset's class names.
        """
        return Label(classes[resolve_class(self.cls, classes)])

    def class_id(self, classes: Sequence[str]) -> int:
        """The class id in `classes`.

        Parameters
        ----------
        classes : sequence of str
            The dataset's class names.
        """
        return resolve_class(self.cls, classes)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"type": "label", "cls": self.cls}


class Boxes:
    """Axis-aligned boxes in image pixels (x0, y0, x1, y1), one class per box.

    Parameters
    ----------
    xyxy : array-like
        (K, 4) corners in image pixels, x0 < x1 and y0 < y1.
    labels : sequence of str or int
        One class name or id per box.
    canvas_size : (height, width), optional
        The image's size; when given, every box must lie inside it.
    difficult : sequence of bool, optional
        Per box: an object Pascal VOC marks ``<difficult>1</difficult>`` (hard to recognise;
        VOC's evaluation leaves it out). Default: none is. Kept from a VOC import to a VOC
        export.
    """

    __slots__ = ("canvas_size", "difficult", "labels", "xyxy")

    xyxy: np.ndarray
    labels: tuple[ClassRef, ...]
    canvas_size: tuple[int, int] | None
    difficult: tuple[bool, ...]

    def __init__(
        self,
        xyxy: Any,
        labels: Sequence[ClassRef],
        *,
        canvas_size: tuple[int, int] | None = None,
        difficult: Sequence[bool] | None = None,
    ) -> None:
        boxes = np.asarray(xyxy, dtype=np.float64)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"xyxy must have shape (K, 4), got {boxes.shape}")
        labels = tuple(check_names(labels, "labels", allow_ids=True))
        for k, label in enumerate(labels):
            _check_class_ref(label, f"labels[{k}]")
        if len(labels) != len(boxes):
            raise ValueError(
                f"labels must have one entry per box: {len(boxes)} boxes, got {len(labels)} labels"
            )
        for k, box in enumerate(boxes):
            if not np.all(np.isfinite(box)):
                raise ValueError(f"box {k} {box.tolist()} has a non-finite coordinate")
            if box[2] <= box[0] or box[3] <= box[1]:
                raise ValueError(f"box {k} {box.tolist()} has zero area: need x0 < x1 and y0 < y1")
        if canvas_size is not None:
            height, width = (int(v) for v in canvas_size)
            for k, box in enumerate(boxes):
                if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
                    raise ValueError(
                        f"box {k} {box.tolist()} lies outside the {width}x{height} image (width x height)"
                    )
            canvas_size = (height, width)
        flags = [False] * len(boxes) if difficult is None else list(difficult)
        if len(flags) != len(boxes) or not all(isinstance(f, (bool, np.bool_)) for f in flags):
            raise ValueError(
                f"difficult must hold one bool per box: {len(boxes)} boxes, got {difficult!r:.80}"
            )
        object.__setattr__(self, "xyxy", _frozen(boxes))
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "canvas_size", canvas_size)
        object.__setattr__(self, "difficult", tuple(bool(f) for f in flags))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Boxes is immutable; make a new one")

    def __len__(self) -> int:
        return len(self.labels)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Boxes)
            and self.labels == other.labels
            and self.canvas_size == other.canvas_size
            and self.difficult == other.difficult
            and np.array_equal(self.xyxy, other.xyxy)
        )

    def __hash__(self) -> int:
        return hash((self.labels, self.canvas_size, self.difficult, self.xyxy.tobytes()))

    def __repr__(self) -> str:
        flags = f", difficult={list(self.difficult)}" if any(self.difficult) else ""
        return f"Boxes({self.xyxy.tolist()}, labels={list(self.labels)}, canvas_size={self.canvas_size}{flags})"

    def bind(self, *, image_size: tuple[int, int], classes: Sequence[str]) -> Boxes:
        """These boxes checked against the image size and classes, labels as names.

        Parameters
        ----------
        image_size : tuple of int
            (H, W) of the image the boxes are on.
        classes : sequence of str
            The dataset's class names.
        """
        if self.canvas_size is not None and self.canvas_size != tuple(image_size):
            raise ValueError(
                f"boxes were drawn on a {self.canvas_size} canvas but the image is "
                f"{tuple(image_size)} (H, W)"
            )
        names = [classes[resolve_class(label, classes)] for label in self.labels]
        return Boxes(self.xyxy, names, canvas_size=image_size, difficult=self.difficult)

    def class_ids(self, classes: Sequence[str]) -> np.ndarray:
        """The class id of each box.

        Parameters
        ----------
        classes : sequence of str
            The dataset's class names.
        """
        return np.array([resolve_class(label, classes) for label in self.labels], dtype=np.int64)

    def to_tv(self) -> tv_tensors.BoundingBoxes:
        """The boxes as torchvision BoundingBoxes (XYXY); needs a canvas size."""
        import torch
        from torchvision import tv_tensors

        if self.canvas_size is None:
            raise ValueError(
                "canvas_size is unknown: attach the boxes to a dataset or pass canvas_size=(H, W)"
            )
        return tv_tensors.BoundingBoxes(
            torch.tensor(self.xyxy, dtype=torch.float32),
            format="XYXY",
            canvas_size=self.canvas_size,
        )

    def to_target(self, classes: Sequence[str], first_label: int = 1) -> dict[str, Any]:
        """A torchvision detection target: ``{"boxes": BoundingBoxes, "labels": int64 tensor}``.

        Parameters
        ----------
        classes : sequence of str
            The dataset's classes, which give each box its class id.
        first_label : int, default 1
            The label of class 0: torchvision's detection models keep label 0 for the
            background, so by default labels are class id + 1 (COCO's category ids).
        """
        import torch

        labels = torch.as_tensor(self.class_ids(classes) + first_label, dtype=torch.int64)
        return {"boxes": self.to_tv(), "labels": labels}

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "type": "boxes",
            "xyxy": self.xyxy.tolist(),
            "labels": list(self.labels),
            "canvas_size": list(self.canvas_size) if self.canvas_size else None,
            **({"difficult": list(self.difficult)} if any(self.difficult) else {}),
        }


class Mask:
    """A per-pixel class map (H, W) of class ids; 0 is the background.

    A pixel holding ``Mask.IGNORE`` (255, Pascal VOC's "void") is not labeled: it is kept as
    it is, shown as "void / not labeled" in the panel, and left out of training and metrics.

    Parameters
    ----------
    class_map : array-like
        (H, W) integer values of the image's size: class ids (below the number of classes,
        checked by `bind`) or ``IGNORE``.
    """

    __slots__ = ("class_map",)

    IGNORE = IGNORE
    class_map: np.ndarray

    def __init__(self, class_map: Any) -> None:
        array = np.asarray(class_map)
        if array.ndim != 2 or 0 in array.shape:
            raise ValueError(f"class_map must be 2-D (H, W) and not empty, got shape {array.shape}")
        if array.dtype.kind not in "iub":
            raise ValueError(f"class_map must hold integer class ids, got dtype {array.dtype}")
        if array.size and (array.min() < 0 or array.max() > 255):
            raise ValueError(
                f"class_map values must be class ids in 0..255, got {array.min()}..{array.max()}"
            )
        object.__setattr__(self, "class_map", _frozen(array.astype(np.uint8, copy=True)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Mask is immutable; make a new one")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mask) and np.array_equal(self.class_map, other.class_map)

    def __hash__(self) -> int:
        return hash((self.class_map.shape, self.class_map.tobytes()))

    def __repr__(self) -> str:
        ids = np.unique(self.class_map).tolist()
        return f"Mask(shape={self.class_map.shape}, class_ids={ids})"

    @property
    def canvas_size(self) -> tuple[int, int]:
        """The (H, W) of the image the mask covers."""
        return (int(self.class_map.shape[0]), int(self.class_map.shape[1]))

    def bind(self, *, image_size: tuple[int, int], classes: Sequence[str]) -> Mask:
        """This mask checked against the image size and the number of classes.

        Parameters
        ----------
        image_size : tuple of int
            (H, W) of the image the mask is on.
        classes : sequence of str
            The dataset's class names.
        """
        if self.canvas_size != tuple(image_size):
            raise ValueError(
                f"mask has shape {self.canvas_size} but the image is {tuple(image_size)} (H, W)"
            )
        bad = unknown_class_value(self.class_map, len(classes))
        if bad is not None:
            raise ValueError(
                f"mask holds class id {bad} but there are only {len(classes)} classes "
                f"{list(classes)}; a pixel holds a class id or {IGNORE} (Mask.IGNORE, not labeled)"
            )
        return self

    def to_tv(self) -> tv_tensors.Mask:
        """The class map as a torchvision Mask (int64); pixels not labeled hold ``IGNORE`` (255)."""
        import torch
        from torchvision import tv_tensors

        return tv_tensors.Mask(torch.as_tensor(np.array(self.class_map), dtype=torch.int64))

    def to_target(self) -> dict[str, Any]:
        """A torchvision target: one binary mask per class present but the background (class 0),
        and the class map itself.

        ``{"masks": Mask (K, H, W) uint8, "labels": (K,) int64 class ids, "class_map": Mask
        (H, W) int64}``: the masks in class id order (label 0, the background, has no mask); the
        class map as torchvision's semantic segmentation references take it, pixels not labeled
        holding ``IGNORE`` (255), the ``ignore_index`` of their ``nn.CrossEntropyLoss``.
        ``IGNORE`` is in no binary mask. One mask per class, not per object, and no "boxes":
        torchvision's Mask R-CNN takes neither (it needs one mask and box per object).
        """
        import torch
        from torchvision import tv_tensors

        ids = np.unique(self.class_map)
        ids = ids[(ids > 0) & (ids != IGNORE)]
        masks = (self.class_map[None] == ids[:, None, None]).astype(np.uint8)
        return {
            "masks": tv_tensors.Mask(torch.from_numpy(masks)),
            "labels": torch.as_tensor(ids, dtype=torch.int64),
            "class_map": self.to_tv(),
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the class map as run-length pairs)."""
        flat = self.class_map.ravel()
        change = np.flatnonzero(np.diff(flat)) + 1
        starts = np.concatenate([[0], change])
        lengths = np.diff(np.concatenate([starts, [flat.size]]))
        return {
            "type": "mask",
            "shape": list(self.class_map.shape),
            "values": flat[starts].tolist(),
            "lengths": lengths.tolist(),
        }


Annotation = Label | Boxes | Mask | Instances


def unknown_class_value(values: np.ndarray, n_classes: int) -> int | None:
    """The largest value of `values` that is neither a class id below `n_classes` nor
    ``IGNORE``, or None when there is none (the one check of class map values).

    Parameters
    ----------
    values : numpy.ndarray
        Non-negative integer class map values.
    n_classes : int
        How many classes there are (at most 255: ``IGNORE`` is no class id).
    """
    if not values.size or int(values.max()) < n_classes:
        return None
    labeled = values[values != IGNORE]
    top = int(labeled.max()) if labeled.size else 0
    return top if top >= n_classes else None


def check_labels_a_pixel(mask: Mask) -> Mask:
    """`mask`, refused when none of its pixels is labeled (every one ``IGNORE``): such a mask
    says nothing about its image, so it is no label (the one check of it).

    Parameters
    ----------
    mask : Mask
        A mask to store as an image's label.
    """
    if not (mask.class_map != IGNORE).any():
        h, w = mask.canvas_size
        raise ValueError(
            f"a mask must label at least one pixel: every pixel of this {h}x{w} mask is "
            f"{IGNORE} (Mask.IGNORE, not labeled), which says nothing about the image; paint "
            "its classes (all background is class 0), or skip the image"
        )
    return mask


def check_is_label(annotation: Annotation) -> Annotation:
    """`annotation`, refused when it is no label of its image: a mask that labels no pixel
    (`check_labels_a_pixel`).

    Parameters
    ----------
    annotation : Label, Boxes, Mask or Instances
        An annotation to store as an image's label.
    """
    return check_labels_a_pixel(annotation) if isinstance(annotation, Mask) else annotation


def declared_size(data: dict[str, Any]) -> tuple[int, int] | None:
    """The (H, W) a ``to_json`` dict of boxes, a mask or instances says its image has; None when
    it says none (a label, or boxes never bound to an image) or not as two ints > 0.

    Parameters
    ----------
    data : dict
        What ``to_json`` returned.
    """
    size = data.get("shape") if data.get("type") == "mask" else data.get("canvas_size")
    if isinstance(size, list) and len(size) == 2 and all(is_int(v) and v > 0 for v in size):
        return int(size[0]), int(size[1])
    return None


def from_json(data: dict[str, Any], *, image_size: tuple[int, int] | None = None) -> Annotation:
    """The annotation a `to_json` dict describes.

    Parameters
    ----------
    data : dict
        What ``to_json`` returned.
    image_size : (H, W), optional
        For a mask or instances: the declared shape is checked against this before anything
        is allocated.
    """
    kind = data.get("type")
    if kind == "label":
        return Label(data["cls"])
    if kind == "boxes":
        size = data.get("canvas_size")
        return Boxes(
            data["xyxy"],
            data["labels"],
            canvas_size=tuple(size) if size else None,
            difficult=data.get("difficult"),
        )
    if kind == "mask":
        shape = tuple(data["shape"])
        if image_size is not None and shape != tuple(image_size):
            raise ValueError(f"mask has shape {list(shape)} but the image is {list(image_size)}")
        lengths = np.asarray(data["lengths"], dtype=np.int64)
        values = np.asarray(data["values"], dtype=np.int64)
        if len(shape) != 2 or lengths.shape != values.shape or (lengths < 0).any():
            raise ValueError("mask runs must be two equal lists of values and lengths >= 0")
        if int(lengths.sum()) != int(np.prod(shape)):
            raise ValueError(
                f"mask runs cover {int(lengths.sum())} pixels, its shape {list(shape)}"
            )
        return Mask(np.repeat(values, lengths).reshape(shape))
    if kind == "instances":
        return Instances.from_json(data, image_size=image_size)
    raise ValueError(
        f"unknown annotation type {kind!r}; expected 'label', 'boxes', 'mask' or 'instances'"
    )
