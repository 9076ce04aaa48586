"""COCO segmentations, in and out: polygons, uncompressed or compressed RLE, per object."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from faster_coco_eval.core import mask as coco_mask

from .. import annotations as ann
from .._numbers import is_int, is_number
from .._polygon_input import polygon_points
from ._import import FormatError
from ._polygons import segmentation, uncompressed_rle


def segmentation_of(record: dict[str, Any], where: str, task: str) -> Any:
    """The ``segmentation`` of an annotation `record` of a `task` ("segment", "instances")
    import, refused naming `where` when it is missing or empty: ``[]`` beside a ``bbox`` is a
    box with no mask, as Label Studio writes its rectangles, which only "detect" reads (a mask
    is never made up from a box)."""
    segmentation = record.get("segmentation")
    if segmentation is None:
        raise FormatError(f"{where} has no 'segmentation', which task=\"{task}\" needs")
    if not segmentation:
        box = (
            ": a box with no mask, as Label Studio writes its rectangles; the file's boxes "
            'read with task="detect"'
            if record.get("bbox")
            else ""
        )
        raise FormatError(
            f"{where} has an empty 'segmentation' ({segmentation!r}), which task=\"{task}\" "
            f"cannot read{box}"
        )
    return segmentation


def decode(segmentation: Any, size: tuple[int, int], where: str) -> np.ndarray:
    """The (H, W) bool mask of a COCO segmentation (polygons, an uncompressed or a compressed
    RLE), refused naming `where` when it is not of the image's `size` (H, W) or is no
    segmentation.

    Each polygon is a flat ``[x0, y0, x1, y1, ...]`` list of at least 3 finite points, checked
    before it is drawn (a 4-number polygon is refused, never read as a box). A point may lie up
    to the image's own width (x) or height (y) beyond its edge, as tools' polygons often
    overshoot it a little; its pixels outside the image are dropped. One further out is
    refused: drawing it would take memory in proportion to its distance.
    """
    height, width = size
    if not segmentation:
        raise FormatError(f"{where} has no 'segmentation'")
    rle = _rle(segmentation, height, width, where)
    try:
        pixels = coco_mask.decode(rle)
    except Exception as error:
        raise FormatError(f"{where}: its segmentation could not be decoded: {error}") from None
    if pixels.shape[:2] != (height, width):
        raise FormatError(
            f"{where}: its mask is {pixels.shape[0]}x{pixels.shape[1]} but the image is "
            f"{height}x{width} (height x width)"
        )
    return pixels.astype(bool)


def _rle(segmentation: Any, height: int, width: int, where: str) -> dict[str, Any]:
    """One compressed RLE from checked polygons, an uncompressed RLE or a compressed one (or a
    list of RLEs, as pycocotools' ``frPyObjects`` reads them)."""
    if isinstance(segmentation, dict):
        return _one_rle(segmentation, height, width, where)
    if not isinstance(segmentation, list):
        raise FormatError(
            f"{where}: 'segmentation' must be a list of polygons or an RLE object, got "
            f"{segmentation!r:.80}"
        )
    if all(isinstance(part, dict) for part in segmentation):
        return _merge([_one_rle(part, height, width, where) for part in segmentation], where)
    polygons = _polygons(segmentation, height, width, where)
    # frPoly, not frPyObjects: the latter reads a first polygon of 4 numbers as a box
    return _merge(coco_mask._mask.frPoly(polygons, height, width), where)


def _merge(rles: list[dict[str, Any]], where: str) -> dict[str, Any]:
    try:
        return coco_mask.merge(rles)
    except Exception as error:
        raise FormatError(f"{where}: its segmentation could not be decoded: {error}") from None


def _one_rle(rle: dict[str, Any], height: int, width: int, where: str) -> dict[str, Any]:
    """A compressed RLE from an RLE object, its ``size`` and ``counts`` checked."""
    declared = rle.get("size")
    if not (isinstance(declared, list) and len(declared) == 2 and all(map(is_int, declared))):
        raise FormatError(
            f"{where}: its RLE 'size' must be [height, width] as ints, got {declared!r:.80}"
        )
    if declared != [height, width]:
        raise FormatError(
            f"{where}: its RLE 'size' {declared!r:.80} is not the image's [{height}, {width}] "
            "(height, width)"
        )
    counts = rle.get("counts")
    if isinstance(counts, str):
        if not counts.isascii():
            raise FormatError(
                f"{where}: its compressed RLE 'counts' must be ASCII, got {counts!r:.80}"
            )
        return {"size": declared, "counts": counts.encode("ascii")}
    if not isinstance(counts, list):
        raise FormatError(
            f"{where}: its RLE 'counts' must be a string (compressed) or a list of ints "
            f"(uncompressed), got {counts!r:.80}"
        )
    for k, count in enumerate(counts):
        if not is_int(count) or count < 0:
            raise FormatError(
                f"{where}: its RLE 'counts' must be ints >= 0, got {count!r:.80} at position {k}"
            )
    if sum(counts) != height * width:
        raise FormatError(
            f"{where}: its RLE 'counts' add up to {sum(counts)} pixels but the image has "
            f"{height * width} ({height}x{width})"
        )
    rles: list[dict[str, Any]] = coco_mask._mask.frUncompressedRLE(
        [{"size": declared, "counts": counts}]
    )
    return rles[0]


def _polygons(segmentation: list[Any], height: int, width: int, where: str) -> list[list[float]]:
    """The checked polygons of a segmentation, as flat lists (see ``decode``)."""
    if all(map(is_number, segmentation)):
        raise FormatError(
            f"{where}: its polygon is one list of numbers; COCO writes a list of polygons, "
            "[[x0, y0, x1, y1, ...], ...]"
        )
    if all(_is_pair(part) for part in segmentation):
        raise FormatError(f"{where}: its polygon is written as {_PAIRS}")
    polygons = []
    for j, polygon in enumerate(segmentation):
        at = f"{where}, polygon {j}"
        if isinstance(polygon, list) and polygon and all(_is_pair(v) for v in polygon):
            raise FormatError(f"{at} is written as {_PAIRS}")
        if not isinstance(polygon, list) or not all(map(is_number, polygon)):
            raise FormatError(
                f"{at} must be a flat list of numbers [x0, y0, x1, y1, ...], got {polygon!r:.80}"
            )
        try:
            flat = polygon_points(polygon, at)
        except ValueError as error:
            raise FormatError(str(error)) from None
        xs, ys = flat[0::2], flat[1::2]
        far = (xs < -width) | (xs > 2 * width) | (ys < -height) | (ys > 2 * height)
        if far.any():
            k = int(np.flatnonzero(far)[0])
            raise FormatError(
                f"{at}: point ({xs[k]:g}, {ys[k]:g}) lies too far outside the {width}x{height} "
                "image (width x height): a point may lie at most the image's width (x) or height "
                "(y) beyond its edge"
            )
        polygons.append(flat.tolist())
    return polygons


_PAIRS = "[x, y] pairs; COCO writes each polygon as one flat list [x0, y0, x1, y1, ...]"


def _is_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(map(is_number, value))


def is_crowd(record: dict[str, Any], where: str) -> bool:
    """Whether an annotation is a crowd region: its ``iscrowd`` 1, ``true`` or ``"1"`` /
    ``"true"`` (0, ``false``, ``"0"`` / ``"false"``, null or none given: not a crowd);
    anything else is refused naming `where`."""
    value = record.get("iscrowd")
    if value is None or isinstance(value, bool):
        return bool(value)
    if is_int(value) and value in (0, 1):
        return value == 1
    if isinstance(value, str) and value.strip().lower() in _CROWD_WORDS:
        return _CROWD_WORDS[value.strip().lower()]
    raise FormatError(f"{where}: 'iscrowd' must be 0 or 1 (or true or false), got {value!r:.80}")


_CROWD_WORDS = {"0": False, "1": True, "false": False, "true": True}


def mask_record(
    image_id: Any, category_id: int, pixels: np.ndarray, *, crowd: bool = False
) -> dict[str, Any]:
    """An annotation of one mask, with its area and bbox: ``iscrowd: 0`` as polygons where they
    draw it exactly, else an uncompressed RLE (see ``_polygons``); with `crowd`, ``iscrowd: 1``
    as an uncompressed RLE (as the COCO API writes crowds, and pycocotools' ``frPyObjects``
    reads them)."""
    rle = coco_mask.encode(np.asfortranarray(pixels, dtype=np.uint8))
    return {
        "image_id": image_id,
        "category_id": category_id,
        "segmentation": uncompressed_rle(pixels) if crowd else segmentation(pixels),
        "area": float(coco_mask.area(rle)),
        "bbox": [float(v) for v in coco_mask.toBbox(rle)],
        "iscrowd": int(crowd),
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
        pixels = decode(segmentation_of(entry, where, "instances"), size, where)
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
