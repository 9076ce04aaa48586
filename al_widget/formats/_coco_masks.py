"""COCO segmentations, in and out: polygons, uncompressed or compressed RLE, per object."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from faster_coco_eval.core import mask as coco_mask

from .. import annotations as ann
from ._import import FormatError
from ._polygons import segmentation


def decode(segmentation: Any, size: tuple[int, int], where: str) -> np.ndarray:
    """The (H, W) bool mask of a COCO segmentation (polygons, an uncompressed or a compressed
    RLE), refused naming `where` when it is not of the image's `size` (H, W) or is no
    segmentation."""
    height, width = size
    if not segmentation:
        raise FormatError(f"{where} has no 'segmentation'")
    declared = segmentation.get("size") if isinstance(segmentation, dict) else [height, width]
    if declared != [height, width]:
        raise FormatError(
            f"{where}: its RLE 'size' {declared!r:.80} is not the image's [{height}, {width}] "
            "(height, width)"
        )
    try:
        pixels = coco_mask.decode(_rle(segmentation, height, width))
    except Exception as error:
        raise FormatError(f"{where}: its segmentation could not be decoded: {error}") from None
    if pixels.shape[:2] != (height, width):
        raise FormatError(
            f"{where}: its mask is {pixels.shape[0]}x{pixels.shape[1]} but the image is "
            f"{height}x{width} (height x width)"
        )
    return pixels.astype(bool)


def _rle(segmentation: Any, height: int, width: int) -> dict[str, Any]:
    """One compressed RLE from polygons, an uncompressed RLE or a compressed one."""
    if isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), str):
        return {"size": segmentation["size"], "counts": segmentation["counts"].encode("ascii")}
    rles = coco_mask.frPyObjects(segmentation, height, width)
    return coco_mask.merge(rles) if isinstance(rles, list) else rles


def mask_record(image_id: Any, category_id: int, pixels: np.ndarray) -> dict[str, Any]:
    """An ``iscrowd: 0`` annotation of one mask: polygons where they draw it exactly, else an
    uncompressed RLE (see ``_polygons``), with its area and bbox."""
    rle = coco_mask.encode(np.asfortranarray(pixels, dtype=np.uint8))
    return {
        "image_id": image_id,
        "category_id": category_id,
        "segmentation": segmentation(pixels),
        "area": float(coco_mask.area(rle)),
        "bbox": [float(v) for v in coco_mask.toBbox(rle)],
        "iscrowd": 0,
    }


def instance_records(
    image_id: Any, objects: ann.Instances, classes: Sequence[str], category_of: dict[int, int]
) -> list[dict[str, Any]]:
    """One ``iscrowd: 0`` annotation per object, in the objects' order."""
    return [
        mask_record(image_id, category_of[class_id], objects.mask(k))
        for k, class_id in enumerate(objects.class_ids(classes).tolist())
    ]


def read_instances(
    records: Sequence[tuple[str, dict[str, Any]]],
    category_ids: dict[int, int],
    names: Sequence[str],
    size: tuple[int, int],
) -> ann.Instances:
    """The objects of one image from its annotations (``(where, record)``), crowds left out:
    like torchvision's references, a crowd region is no object to learn."""
    masks, labels = [], []
    seen: dict[bytes, str] = {}
    for where, entry in records:
        if entry.get("iscrowd", 0):
            continue
        pixels = decode(entry.get("segmentation"), size, where)
        if not pixels.any():
            raise FormatError(f"{where}: its segmentation covers no pixel of the image")
        key = np.packbits(pixels).tobytes()
        if key in seen:
            raise FormatError(f"{where}: the same mask as {seen[key]}: one object given twice")
        seen[key] = where
        masks.append(pixels)
        labels.append(names[category_ids[entry["category_id"]]])
    if not masks:
        return ann.Instances.empty((size[1], size[0]))
    return ann.Instances(masks, labels)
