"""COCO JSON: boxes for detection, run-length masks for segmentation, in and out."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from faster_coco_eval.core import mask as coco_mask

from .. import annotations as ann
from ._atomic import PathLike, check_free, write_text
from ._classes import check_classes
from ._export import Exported, check_task, image_names, items, write_image
from ._import import FormatError, build

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["read_coco", "write_coco"]

IMAGES_FOLDER = "images"
"""Where an export of in-memory images writes them, beside the JSON file."""


# -- out -----------------------------------------------------------------------------------------


def write_coco(
    dataset: Dataset,
    path: PathLike,
    *,
    root: PathLike | None = None,
    include_unlabeled: bool = False,
    overwrite: bool = False,
) -> Exported:
    """Write the dataset's boxes or masks as a COCO JSON file.

    Detection: one annotation per box, category id = class id + 1 (COCO's ids start at 1, and
    torchvision's detection models keep label 0 for the background). Segmentation: one
    annotation per class present in an image, its pixels as a compressed RLE; class 0, the
    background, is no category, so category id = class id. Pixels not labeled
    (``Mask.IGNORE``) are in no annotation: they come back as background.

    Parameters
    ----------
    dataset : Dataset
        A "detect" or "segment" dataset.
    path : path
        The JSON file to write.
    root : path, optional
        For images read from files: the folder ``file_name`` is relative to (default: the
        files' common folder). In-memory images are written as PNG files under ``images/``
        beside the JSON file, and ``file_name`` is relative to the JSON's folder.
    include_unlabeled : bool, default False
        Also list the unlabeled images, each image marked ``"labeled": true/false``. Leave it
        off for training: a COCO reader takes an image without annotations as one with no
        objects.
    overwrite : bool, default False
        Replace existing files; otherwise an existing file stops the export before anything is
        written.
    """
    check_task(dataset, ("detect", "segment"), "COCO")
    target = Path(path)
    chosen = items(dataset, include_unlabeled)
    base, names = image_names(dataset, chosen.indices, root)
    if base is None:
        base = target.parent.absolute()
        names = {i: f"{IMAGES_FOLDER}/{name}" for i, name in names.items()}
        to_write = {i: base / name for i, name in names.items()}
    else:
        to_write = {}
    check_free([target, *to_write.values()], overwrite)
    document = _document(dataset, chosen.indices, chosen.annotations, names, include_unlabeled)
    for i, image_path in to_write.items():
        write_image(dataset, i, image_path, overwrite)
    write_text(target, json.dumps(document), overwrite)
    return Exported(target, base, len(document["images"]), len(document["annotations"]))


def _document(
    dataset: Dataset,
    indices: np.ndarray,
    annotations: Sequence[ann.Annotation | None],
    names: dict[int, str],
    mark_labeled: bool,
) -> dict[str, Any]:
    offset = 1 if dataset.task == "detect" else 0
    categories = [
        {"id": c + offset, "name": name, "supercategory": ""}
        for c, name in enumerate(dataset.classes)
        if c + offset > 0
    ]
    images, records = [], []
    for i, annotation in zip(indices.tolist(), annotations, strict=True):
        height, width = dataset.image_size(i)
        image: dict[str, Any] = {"id": i, "file_name": names[i], "width": width, "height": height}
        if mark_labeled:
            image["labeled"] = annotation is not None
        images.append(image)
        if isinstance(annotation, ann.Boxes):
            records += _box_records(i, annotation, dataset.classes)
        elif isinstance(annotation, ann.Mask):
            records += _mask_records(i, annotation)
    for number, record in enumerate(records, start=1):
        record["id"] = number
    return {
        "info": {"description": "exported by al_widget"},
        "images": images,
        "annotations": records,
        "categories": categories,
    }


def _box_records(i: int, boxes: ann.Boxes, classes: Sequence[str]) -> list[dict[str, Any]]:
    records = []
    for box, class_id in zip(boxes.xyxy.tolist(), boxes.class_ids(classes).tolist(), strict=True):
        x0, y0, x1, y1 = box
        records.append(
            {
                "image_id": i,
                "category_id": class_id + 1,
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "area": (x1 - x0) * (y1 - y0),
                "iscrowd": 0,
            }
        )
    return records


def _mask_records(i: int, mask: ann.Mask) -> list[dict[str, Any]]:
    records = []
    for class_id in np.unique(mask.class_map).tolist():
        if class_id in (0, ann.IGNORE):  # the background, and pixels not labeled: no category
            continue
        rle = coco_mask.encode(np.asfortranarray(mask.class_map == class_id, dtype=np.uint8))
        records.append(
            {
                "image_id": i,
                "category_id": class_id,
                "segmentation": {"size": rle["size"], "counts": rle["counts"].decode("ascii")},
                "area": float(coco_mask.area(rle)),
                "bbox": [float(v) for v in coco_mask.toBbox(rle)],
                "iscrowd": 0,
            }
        )
    return records


# -- in ------------------------------------------------------------------------------------------


def read_coco(
    annotations_json: PathLike,
    images_root: PathLike,
    *,
    task: str = "detect",
    classes: Sequence[str] | None = None,
    background: str = "background",
) -> Dataset:
    """A Dataset from a COCO JSON file: its images in order, their boxes or masks.

    Images without annotations are the unlabeled pool (unless the file marks an image
    ``"labeled": true``). For "detect", crowd annotations (``iscrowd: 1``) are left out, as
    torchvision's detection references do; for "segment", every annotation's polygons or RLE
    are painted into the image's class map in file order.

    Parameters
    ----------
    annotations_json : path
        The COCO file.
    images_root : path
        The folder the images' ``file_name`` entries are relative to.
    task : {"detect", "segment"}, default "detect"
        Boxes from ``bbox``, or class maps from ``segmentation``.
    classes : sequence of str, optional
        The classes expected (for "segment", background first); the file's categories must be
        the same, in category id order.
    background : str, default "background"
        For "segment": the name of class 0, which no category names.
    """
    if task not in ("detect", "segment"):
        raise ValueError(f"task must be 'detect' or 'segment' for COCO, got {task!r}")
    source = os.fspath(annotations_json)
    document = _load(source)
    images = _images(source, document)
    ids = {entry["id"]: k for k, entry in enumerate(images)}
    category_ids, names = _categories(source, document, task, background)
    names = check_classes(names, classes, f"COCO file {source}")
    found: dict[int, list[tuple[int, dict[str, Any]]]] = {k: [] for k in range(len(images))}
    for number, record in enumerate(_list(source, document, "annotations")):
        where = _where(source, number, record)
        if not isinstance(record, dict):
            raise FormatError(f"{where}: must be a JSON object, got {record!r}")
        if record.get("image_id") not in ids:
            raise FormatError(f"{where}: image_id {record.get('image_id')!r} is not in 'images'")
        if record.get("category_id") not in category_ids:
            raise FormatError(
                f"{where}: category_id {record.get('category_id')!r} is not in 'categories' "
                f"(ids {sorted(category_ids)})"
            )
        found[ids[record["image_id"]]].append((number, record))
    root = os.fspath(images_root)
    labels: dict[int, tuple[ann.Annotation, str]] = {}
    for k, entry in enumerate(images):
        records = found[k]
        if not records and entry.get("labeled") is not True:
            continue
        image = f"COCO file {source}, image {entry['id']!r} ({entry['file_name']})"
        if task == "detect":
            labels[k] = (_boxes(source, entry, records, category_ids, names), image)
        else:
            labels[k] = (_mask(source, entry, records, category_ids), image)
    return build([os.path.join(root, entry["file_name"]) for entry in images], names, task, labels)


def _where(source: str, number: int, record: Any) -> str:
    ident = f" (id {record.get('id')!r})" if isinstance(record, dict) and "id" in record else ""
    return f"COCO file {source}: annotation {number}{ident}"


def _load(source: str) -> dict[str, Any]:
    try:
        with open(source, encoding="utf-8") as file:
            document = json.load(file)
    except FileNotFoundError:
        raise FileNotFoundError(f"COCO file {source} not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FormatError(f"COCO file {source} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise FormatError(
            f"COCO file {source} must hold a JSON object, got {type(document).__name__}"
        )
    return document


def _list(source: str, document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if not isinstance(value, list):
        raise FormatError(f"COCO file {source} must have a list '{key}', got {value!r:.80}")
    return value


def _images(source: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    images = _list(source, document, "images")
    seen: set[Any] = set()
    for number, entry in enumerate(images):
        where = f"COCO file {source}: image {number}"
        if not isinstance(entry, dict) or "id" not in entry or "file_name" not in entry:
            raise FormatError(
                f"{where} must be an object with 'id' and 'file_name', got {entry!r:.80}"
            )
        if entry["id"] in seen:
            raise FormatError(f"{where}: id {entry['id']!r} is used by an earlier image")
        seen.add(entry["id"])
    return images


def _categories(
    source: str, document: dict[str, Any], task: str, background: str
) -> tuple[dict[int, int], list[str]]:
    """category id -> class id, and the class names."""
    entries = _list(source, document, "categories")
    for number, entry in enumerate(entries):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), int)
            or "name" not in entry
        ):
            raise FormatError(
                f"COCO file {source}: category {number} must have an int 'id' and a 'name', "
                f"got {entry!r:.80}"
            )
    entries = sorted(entries, key=lambda e: e["id"])
    names = [str(e["name"]) for e in entries]
    if len(set(names)) != len(names) or len({e["id"] for e in entries}) != len(entries):
        raise FormatError(f"COCO file {source}: category ids and names must be unique, got {names}")
    offset = 0
    if task == "segment":
        if background in names:
            raise FormatError(
                f"COCO file {source}: category {background!r} is also the background's name; "
                "pass another background='...'"
            )
        names, offset = [background, *names], 1
    return {e["id"]: k + offset for k, e in enumerate(entries)}, names


def _boxes(
    source: str,
    entry: dict[str, Any],
    records: list[tuple[int, dict[str, Any]]],
    category_ids: dict[int, int],
    names: list[str],
) -> ann.Boxes:
    xyxy, labels = [], []
    width, height = entry.get("width"), entry.get("height")
    size = (height, width) if isinstance(width, int) and isinstance(height, int) else None
    for number, record in records:
        if record.get("iscrowd", 0):
            continue
        where = _where(source, number, record)
        bbox = record.get("bbox")
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox)
        ):
            raise FormatError(f"{where}: 'bbox' must be [x, y, width, height], got {bbox!r}")
        x, y, w, h = (float(v) for v in bbox)
        box = [x, y, x + w, y + h]
        label = names[category_ids[record["category_id"]]]
        try:  # each box checked alone, so that an error names its annotation
            ann.Boxes([box], [label], canvas_size=size)
        except ValueError as error:
            raise FormatError(f"{where} of image {entry['file_name']}: {error}") from None
        xyxy.append(box)
        labels.append(label)
    return ann.Boxes(np.array(xyxy, dtype=np.float64).reshape(-1, 4), labels)


def _mask(
    source: str,
    entry: dict[str, Any],
    records: list[tuple[int, dict[str, Any]]],
    category_ids: dict[int, int],
) -> ann.Mask:
    height, width = entry.get("height"), entry.get("width")
    if not isinstance(height, int) or not isinstance(width, int):
        raise FormatError(
            f"COCO file {source}: image {entry['id']!r} ({entry['file_name']}) needs int "
            f"'height' and 'width' to decode its masks, got {height!r} x {width!r}"
        )
    class_map = np.zeros((height, width), dtype=np.uint8)
    for number, record in records:
        where = f"{_where(source, number, record)} of image {entry['file_name']}"
        segmentation = record.get("segmentation")
        if not segmentation:
            raise FormatError(f"{where} has no 'segmentation' for a 'segment' dataset")
        try:
            pixels = coco_mask.decode(_rle(segmentation, height, width))
        except Exception as error:
            raise FormatError(f"{where}: its segmentation could not be decoded: {error}") from None
        if pixels.shape[:2] != (height, width):
            raise FormatError(
                f"{where}: its mask is {pixels.shape[0]}x{pixels.shape[1]} but the image is "
                f"{height}x{width} (height x width)"
            )
        class_map[pixels.astype(bool)] = category_ids[record["category_id"]]
    return ann.Mask(class_map)


def _rle(segmentation: Any, height: int, width: int) -> dict[str, Any]:
    """One compressed RLE from polygons, an uncompressed RLE or a compressed one."""
    if isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), str):
        return {"size": segmentation["size"], "counts": segmentation["counts"].encode("ascii")}
    rles = coco_mask.frPyObjects(segmentation, height, width)
    return coco_mask.merge(rles) if isinstance(rles, list) else rles
