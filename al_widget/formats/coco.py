"""COCO JSON written: boxes for detection, masks for segmentation, one mask per object for
instances (``coco_read`` reads them back)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import annotations as ann
from ._atomic import ExportWarning, PathLike, write_text
from ._coco_masks import (
    decode,
    instance_records,
    mask_record,
)
from ._export import (
    Exported,
    check_task,
    image_names,
    image_writer,
    images_in_place,
    is_turned,
    items,
    protected,
    warn_difficult_lost,
)
from ._names import listed
from ._replace import check_replaceable, replace_folder

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["CocoOrigin", "write_coco"]

EXPORTED_BY = "exported by al_widget"
"""The ``info["description"]`` of the files ``write_coco`` writes."""

IMAGES_FOLDER = "images"
"""Where an export of in-memory images writes them, beside the JSON file."""


# -- out -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CocoOrigin:
    """What ``read_coco`` keeps of a COCO file beyond the labels, for ``write_coco`` to write back.

    Parameters
    ----------
    image_ids : tuple
        The file's id of each image, by dataset index.
    categories : tuple of dict
        The file's category entries, in class order (for "segment": of classes 1, 2, ...).
    crowds : mapping of int to tuple of dict
        Each image's crowd annotations (``iscrowd: 1``), as read: regions COCO evaluation
        ignores. They are no boxes (torchvision's references leave them out of training);
        in a "segment" class map, their pixels no object labels are not labeled. None when
        they were read as objects (``read_coco(..., crowd="objects")``).
    """

    image_ids: tuple[Any, ...]
    categories: tuple[dict[str, Any], ...]
    crowds: Mapping[int, tuple[dict[str, Any], ...]]


def write_coco(
    dataset: Dataset,
    path: PathLike,
    *,
    root: PathLike | None = None,
    include_unlabeled: bool = False,
    overwrite: bool = False,
) -> Exported:
    """Write the dataset's boxes, masks or objects as a COCO JSON file.

    Detection: one annotation per box, category id = class id + 1 (COCO's ids start at 1, and
    torchvision's detection models keep label 0 for the background), its ``segmentation`` the
    box's rectangle as one polygon ``[[x0, y0, x1, y0, x1, y1, x0, y1]]`` (the same numbers as
    ``bbox``): COCO gives every object a segmentation, and torchvision's detection references
    (``ConvertCocoPolysToMask``) read it; ``read_coco`` reads boxes from ``bbox``. Segmentation: one
    annotation per class present in an image, its pixels as polygons traced along the pixel
    edges where they draw the mask exactly (as COCO writes ``iscrowd: 0`` objects, and as
    torchvision's references read them), else as an uncompressed RLE; class 0, the
    background, is no category, so category id = class id, and its name is kept as
    ``info["background"]``, which ``read_coco`` reads back. Instances: one ``iscrowd: 0``
    annotation per object, in the objects' order, its mask as polygons where they draw it
    exactly, else as an uncompressed RLE, with its area and bbox; category id = class id + 1.
    Pixels not labeled (``Mask.IGNORE``) are written as one ``iscrowd: 1`` region (an
    uncompressed RLE of the first category), which ``read_coco`` reads back as not labeled and
    COCO evaluation ignores. Image id = dataset index.

    A dataset read by ``read_coco`` keeps the file's image ids, category ids and entries, and
    its crowd annotations (``iscrowd: 1``, written back as read, before the image's other
    annotations); annotation ids are numbered anew.

    Every image listed carries ``"labeled": true/false``: an image labeled with no objects (no
    boxes, or all background) is listed with no annotations and ``"labeled": true``, which
    ``read_coco`` reads back as labeled; pycocotools and torchvision ignore the field.

    Parameters
    ----------
    dataset : Dataset
        A "detect", "segment" or "instances" dataset.
    path : path
        The JSON file to write.
    root : path, optional
        For images read from files: the folder ``file_name`` is relative to (default: the
        files' common folder). In-memory images are written as PNG files under ``images/``
        beside the JSON file, and ``file_name`` is relative to the JSON's folder. So are all
        the images, with a warning naming them, when a file's EXIF orientation turns it: COCO
        readers (torchvision's ``CocoDetection``, pycocotools users) open the file as stored,
        while its size and annotations are upright, so it is written upright (see
        ``_export.write_upright``) and the other files copied beside it, under their paths
        below the images' common folder.
    include_unlabeled : bool, default False
        Also list the unlabeled images (``"labeled": false``), with the crowd regions read for
        them. Leave it off for training: a COCO reader takes an image without annotations as
        one with no objects. Without it, the unlabeled images holding crowd regions read from
        a COCO file (an image holding nothing else is read unlabeled) are named in an
        ``ExportWarning``: their crowd regions are left out with them.
    overwrite : bool, default False
        Replace the JSON file, and an earlier export's images (those its
        ``images/.al_widget-export.json`` lists; the folder is replaced as a whole, see
        ``al_widget.formats._replace``); otherwise an existing file stops the export before
        anything is written. Nothing else in ``images/`` is replaced or deleted, and neither
        the JSON file nor an exported image may be one of the dataset's own images. The JSON
        file is written first and renamed into place as soon as ``images/`` is replaced: an
        export that fails before (a full disk) leaves the earlier one whole, its JSON and its
        images, and one stopped after (an interrupt) leaves the new JSON with the new images.
    """
    check_task(dataset, ("detect", "segment", "instances"), "COCO")
    target = Path(path)
    chosen = items(dataset, include_unlabeled)
    base, names = image_names(dataset, chosen.indices, root)
    guard = protected(dataset)
    check_replaceable(target, overwrite, guard, "path")
    images: dict[int, str] = {}
    turned = [] if base is None else _turned(dataset, names)
    if base is None or turned:
        base = target.parent.absolute()
        images = names
        names = {i: f"{IMAGES_FOLDER}/{name}" for i, name in names.items()}
    document = _document(dataset, chosen.indices, chosen.annotations, names)
    place_images: Callable[[Callable[[], None]], object] | None = None
    if images:
        folder = base / IMAGES_FOLDER
        writers = {
            name: image_writer(dataset, i, PurePosixPath(name).suffix) for i, name in images.items()
        }
        in_place = images_in_place(dataset, folder, images)

        def place_images(place_json: Callable[[], None]) -> None:
            replace_folder(
                folder,
                writers,
                kind="COCO images",
                overwrite=overwrite,
                protected=guard,
                in_place=in_place,
                placed=place_json,
            )

    write_text(target, json.dumps(document), overwrite, before=place_images)
    warn_difficult_lost(chosen.annotations, "COCO export")
    _warn_crowds_left_out(dataset, chosen.indices)
    if turned:
        note = (
            f"{len(turned)} image(s) have an EXIF orientation that turns them "
            f"({listed(turned)}); every image was written under {base / IMAGES_FOLDER}, those "
            f"upright, and file_name is relative to {base}: read the export with that folder "
            "as the images' root"
        )
        warnings.warn(ExportWarning(note, "COCO export"), stacklevel=2)
    return Exported(target, base, len(document["images"]), len(document["annotations"]))


def _warn_crowds_left_out(dataset: Dataset, written: np.ndarray) -> None:
    """Say, as an `ExportWarning`, which images holding crowd regions read from a COCO file
    were left out, with those regions, for being unlabeled (an image holding nothing but crowd
    regions is read unlabeled)."""
    origin: CocoOrigin | None = getattr(dataset, "coco_origin", None)
    kept = set(written.tolist())
    left = [] if origin is None else [i for i in sorted(origin.crowds) if i not in kept]
    if left:
        files = [dataset.source_file(i) or f"image {i}" for i in left]
        note = (
            f"{len(left)} unlabeled image(s) hold crowd regions (iscrowd: 1) read from a COCO "
            f"file ({listed(files)}): they were left out with their crowd regions, as unlabeled "
            "images are; pass include_unlabeled=True to to_coco to write them back"
        )
        warnings.warn(ExportWarning(note, "COCO export"), stacklevel=3)


def _turned(dataset: Dataset, names: dict[int, str]) -> list[str]:
    """The names of the image files whose EXIF orientation turns them (see ``is_turned``)."""
    return [
        name
        for i, name in names.items()
        if (file := dataset.source_file(i)) is not None and is_turned(file)
    ]


def _document(
    dataset: Dataset,
    indices: np.ndarray,
    annotations: Sequence[ann.Annotation | None],
    names: dict[int, str],
) -> dict[str, Any]:
    origin: CocoOrigin | None = getattr(dataset, "coco_origin", None)
    offset = 0 if dataset.task == "segment" else 1
    categories: list[dict[str, Any]]
    if origin is None:
        categories = [
            {"id": c + offset, "name": name, "supercategory": ""}
            for c, name in enumerate(dataset.classes)
            if c + offset > 0
        ]
    else:
        categories = [dict(entry) for entry in origin.categories]
    # class id -> category id (segment: class 0, the background, has none)
    category_of: dict[int, int] = {
        c + 1 - offset: entry["id"] for c, entry in enumerate(categories)
    }
    images, records = [], []
    for i, annotation in zip(indices.tolist(), annotations, strict=True):
        height, width = dataset.image_size(i)
        image_id = i if origin is None else origin.image_ids[i]
        images.append(
            {
                "id": image_id,
                "file_name": names[i],
                "width": width,
                "height": height,
                "labeled": annotation is not None,
            }
        )
        crowds = [] if origin is None else [dict(r) for r in origin.crowds.get(i, ())]
        for record in crowds:
            record.pop("id", None)
            record["image_id"] = image_id
        records += crowds
        if isinstance(annotation, ann.Boxes):
            records += _box_records(image_id, annotation, dataset.classes, category_of)
        elif isinstance(annotation, ann.Mask):
            covered = _crowd_pixels(crowds, (height, width), names[i])
            records += _mask_records(image_id, annotation, category_of, covered)
        elif isinstance(annotation, ann.Instances):
            records += instance_records(image_id, annotation, dataset.classes, category_of)
    for number, record in enumerate(records, start=1):
        record["id"] = number
    info: dict[str, Any] = {"description": EXPORTED_BY}
    if dataset.task == "segment":  # class 0, the background, is no category: its name is kept here
        info["background"] = dataset.classes[0]
    return {
        "info": info,
        "images": images,
        "annotations": records,
        "categories": categories,
    }


def _box_records(
    image_id: Any, boxes: ann.Boxes, classes: Sequence[str], category_of: dict[int, int]
) -> list[dict[str, Any]]:
    records = []
    for box, class_id in zip(boxes.xyxy.tolist(), boxes.class_ids(classes).tolist(), strict=True):
        x0, y0, x1, y1 = box
        records.append(
            {
                "image_id": image_id,
                "category_id": category_of[class_id],
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "segmentation": [[x0, y0, x1, y0, x1, y1, x0, y1]],  # the box as its polygon
                "area": (x1 - x0) * (y1 - y0),
                "iscrowd": 0,
            }
        )
    return records


def _mask_records(
    image_id: Any, mask: ann.Mask, category_of: dict[int, int], covered: np.ndarray
) -> list[dict[str, Any]]:
    """One ``iscrowd: 0`` annotation per class present, and the pixels not labeled
    (``IGNORE``) that no crowd region of the file read (`covered`) holds as one ``iscrowd: 1``
    region of the first category: ``read_coco`` reads a crowd's pixels that no object labels
    as not labeled, so every pixel comes back as it was. (COCO has no void without a category;
    a crowd's category only tells COCO evaluation which detections to ignore there.)"""
    class_map = mask.class_map
    records = []
    for class_id in np.unique(class_map).tolist():
        if class_id in (0, ann.IGNORE):  # the background, and pixels not labeled: no category
            continue
        records.append(mask_record(image_id, category_of[class_id], class_map == class_id))
    void = (class_map == ann.IGNORE) & ~covered
    if void.any() and category_of:
        records.append(mask_record(image_id, category_of[min(category_of)], void, crowd=True))
    return records


def _crowd_pixels(crowds: list[dict[str, Any]], size: tuple[int, int], name: str) -> np.ndarray:
    """The pixels the crowd regions of an image (as ``read_coco`` kept them) cover."""
    covered = np.zeros(size, dtype=bool)
    for record in crowds:
        covered |= decode(record["segmentation"], size, f"crowd region of image {name}")
    return covered
