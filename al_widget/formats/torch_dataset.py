"""The labeled images of a Dataset as a torch Dataset of (image, target) in torchvision's types."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.utils.data

from .. import annotations as ann

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["LabeledImages"]


class LabeledImages(torch.utils.data.Dataset[tuple[Any, Any]]):
    """The labeled images of a Dataset, as they were when this was made, for torch training.

    Item k is ``(image, target)``: the image a ``tv_tensors.Image`` (3, H, W) uint8, and the
    target as torchvision's references take it: for "classify" the class id (an int); for
    "detect" ``{"boxes": BoundingBoxes (XYXY, canvas_size), "labels", "image_id"}``; for
    "segment" ``{"masks": Mask (K, H, W), "labels", "class_map", "image_id"}``, one mask per
    class present but the background, and the (H, W) class map with 255 (``Mask.IGNORE``)
    where a pixel is not labeled, torchvision's segmentation convention
    (``nn.CrossEntropyLoss(ignore_index=255)``); no "boxes": a semantic-segmentation target,
    not the per-object one Mask R-CNN takes (it needs "boxes", one mask per object).
    ``image_id`` is the image's index in the Dataset. With `transforms`, item k is
    ``transforms(image, target)``, so ``torchvision.transforms.v2`` pipelines apply to the
    image, boxes and masks together.

    Parameters
    ----------
    dataset : Dataset
        The dataset; its labeled images at this moment are the items (labels added later are
        not).
    transforms : callable, optional
        Called as ``transforms(image, target)``; returns the pair to yield.
    first_label : int, default 1
        For "detect": the label of class 0. torchvision's detection models keep label 0 for
        the background, so labels are class id + 1 and such a model needs
        ``num_classes=len(classes) + 1``. For "segment" labels are the class ids themselves
        (class 0 is the background already).
    """

    def __init__(
        self,
        dataset: Dataset,
        transforms: Callable[[Any, Any], tuple[Any, Any]] | None = None,
        first_label: int = 1,
    ) -> None:
        snapshot = dataset.snapshot()
        self.classes = list(dataset.classes)
        # the images as a Chunk, not the Dataset (its lock does not pickle): a DataLoader
        # worker gets only these images' file paths (or pixels)
        self.images = dataset.chunk(snapshot.indices)
        self.indices = snapshot.indices
        self.annotations = snapshot.annotations
        self.transforms = transforms
        self.first_label = first_label

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> tuple[Any, Any]:
        from torchvision import tv_tensors

        if not -len(self) <= k < len(self):
            raise IndexError(f"item {k} is out of range for {len(self)} labeled images")
        i = int(self.indices[k])
        # a copy in (3, H, W) order: the cached pixels may be read-only, which torch warns of
        pixels = torch.from_numpy(np.array(self.images.rgb(k).transpose(2, 0, 1), order="C"))
        image = tv_tensors.Image(pixels)
        target = self._target(i, self.annotations[k])
        if self.transforms is not None:
            return self.transforms(image, target)
        return image, target

    def _target(self, i: int, annotation: ann.Annotation) -> Any:
        classes = self.classes
        if isinstance(annotation, ann.Label):
            return annotation.class_id(classes)
        if isinstance(annotation, (ann.Boxes, ann.Instances)):
            return {**annotation.to_target(classes, self.first_label), "image_id": i}
        return {**annotation.to_target(), "image_id": i}
