"""Pascal VOC XML: ``Annotations/<name>.xml`` per labeled image, images under ``JPEGImages/``
(read back by ``voc_read``)."""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .. import annotations as ann
from ._atomic import ExportWarning, PathLike
from ._classes import check_line_names, check_xml_names, check_xml_text
from ._export import (
    Exported,
    bytes_writer,
    check_task,
    image_names,
    image_writer,
    images_in_place,
    items,
    protected,
    text_writer,
    warn_renamed,
)
from ._names import export_names
from ._replace import Writer, replace_folder

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["write_voc"]

IMAGES, ANNOTATIONS, LIST = "JPEGImages", "Annotations", "ImageSets/Main/default.txt"
CLASS_LISTS = ("classes.txt", "labelmap.txt")
"""Class lists read beside ``Annotations/``: one name per line, or CVAT's ``name:colour::``."""

CORNERS = {
    "pixels": "the VOC devkit's 1-based whole pixels",
    "coordinates": "0-based continuous coordinates, as CVAT, LabelImg and Label Studio write them",
}
"""The conventions a ``<bndbox>``'s corners are read and written in, by name.

"pixels": corners number whole pixels from 1, as the VOC devkit (and detectron2) read them:
a box (x0, y0, x1, y1) in pixel edges is ``xmin = x0 + 1, ymin = y0 + 1, xmax = x1,
ymax = y1``. "coordinates": corners are the box's pixel edges as they are (``xmin = x0`` ...),
as CVAT reads and writes VOC through Datumaro; LabelImg and Label Studio write them so too,
truncated to whole numbers (LabelImg's ``LabelFile.convert_points_to_bnd_box`` also raises
``xmin`` and ``ymin`` to at least 1).
"""


def check_corners(corners: object) -> None:
    """Refuse a corner convention that is not one of ``CORNERS``, naming it."""
    if not isinstance(corners, str) or corners not in CORNERS:
        known = ", ".join(f"{name!r} ({meaning})" for name, meaning in CORNERS.items())
        raise ValueError(f"corners must be one of {known}; got {corners!r}")


def write_voc(
    dataset: Dataset,
    folder: PathLike,
    *,
    corners: str = "pixels",
    link: bool = False,
    overwrite: bool = False,
) -> Exported:
    """Write the labeled images and their boxes in the Pascal VOC layout.

    ``folder/JPEGImages/<name>`` (the image files copied, or PNG files for in-memory images),
    ``folder/Annotations/<name>.xml``, ``folder/ImageSets/Main/default.txt`` and
    ``folder/classes.txt`` (the class names by id, which ``read_voc`` reads). By default corners
    follow VOC's 1-based pixel numbering: a box (x0, y0, x1, y1) in pixel edges is written as
    ``xmin = x0 + 1, ymin = y0 + 1, xmax = x1, ymax = y1``, edges rounded to whole pixels (VOC
    numbers pixels) and at least one pixel wide; one warning says how many boxes that moved,
    and by how much at most. With ``corners="coordinates"`` they are the box's edges as they
    are, unrounded (``xmin = x0`` ...), as CVAT reads them. Boxes marked ``difficult`` keep
    ``<difficult>1</difficult>``. Every object also gets ``<pose>Unspecified</pose>`` and
    ``<truncated>0</truncated>``: the dataset holds neither, but the VOC evaluation code
    (py-faster-rcnn's ``voc_eval.parse_rec``, which detectron2's ``PascalVOCDetectionEvaluator``
    and YOLOX copy) reads ``int(obj.find("truncated").text)`` and stops on an object without
    it; "Unspecified" is VOC's own word for an unknown pose, VOC has none for truncation. Images sharing a name stem are exported under unique names,
    as by ``write_yolo``. Class names and file names that XML cannot hold (control
    characters, U+FFFE) are refused before anything is written.

    Parameters
    ----------
    dataset : Dataset
        A "detect" dataset.
    folder : path
        The folder to write into (created if needed).
    corners : {"pixels", "coordinates"}, default "pixels"
        How ``<bndbox>`` numbers the corners (see ``CORNERS``): "pixels", the VOC devkit's
        1-based whole pixels (for torchvision's ``VOCDetection`` users, detectron2, the VOC
        evaluation); "coordinates", 0-based continuous, written without rounding (for CVAT, which
        reads VOC through Datumaro). Any other value is refused before anything is written.
    link : bool, default False
        Hard-link image files instead of copying them, where the file system allows.
    overwrite : bool, default False
        Replace an earlier export into `folder` as a whole (the files it wrote, listed in its
        ``.al_widget-export.json``); otherwise an existing file stops the export before
        anything is written. Nothing else in `folder` is replaced or deleted, nor any of the
        dataset's own images: exported into their own folder, they are kept in place, and one
        whose EXIF orientation turns it, which must be written upright, stops the export
        before anything is written (``_export.refuse_turned_in_place``).
    """
    check_corners(corners)
    check_task(dataset, ("detect",), "Pascal VOC")
    check_line_names(dataset.classes, "Pascal VOC")
    check_xml_names(dataset.classes, "Pascal VOC")
    root = Path(folder)
    chosen = items(dataset)
    _, found = image_names(dataset, chosen.indices)
    names, renamed = export_names(found)
    images = {i: f"{IMAGES}/{name}" for i, name in names.items()}
    originals = {i: f"{IMAGES}/{name}" for i, name in found.items()}
    files: dict[str, Writer] = {}
    n_boxes = 0
    shifts: list[float] = []
    for i, boxes in zip(chosen.indices.tolist(), chosen.annotations, strict=True):
        assert isinstance(boxes, ann.Boxes)
        check_xml_text(names[i], f"the file name of image {i}, {names[i]!r}", "Pascal VOC")
        files[images[i]] = image_writer(dataset, i, PurePosixPath(names[i]).suffix, link)
        tree = _xml(names[i], dataset.image_size(i), boxes, dataset.classes, corners)
        xml = f"{ANNOTATIONS}/{PurePosixPath(names[i]).with_suffix('.xml')}"
        files[xml] = bytes_writer(ET.tostring(tree, encoding="utf-8", xml_declaration=True))
        n_boxes += len(boxes)
        if corners == "pixels":
            shifts += _shifts(boxes, dataset.image_size(i))
    stems = "".join(f"{PurePosixPath(name).with_suffix('')}\n" for name in names.values())
    files[LIST] = text_writer(stems)
    files[CLASS_LISTS[0]] = text_writer("".join(f"{name}\n" for name in dataset.classes))
    replace_folder(
        root,
        files,
        kind="Pascal VOC",
        overwrite=overwrite,
        protected=protected(dataset),
        in_place=images_in_place(dataset, root, images, originals),
    )
    warn_renamed(renamed, "Pascal VOC export")
    _warn_moved(shifts)
    return Exported(root, root / IMAGES, len(names), n_boxes, renamed)


def _shifts(boxes: ann.Boxes, size: tuple[int, int]) -> list[float]:
    """How far (px) the farthest corner edge of each box moves when written as VOC's whole
    pixels (see ``_pixels``)."""
    height, width = size
    shifts = []
    for x0, y0, x1, y1 in boxes.xyxy.tolist():
        (xmin, xmax), (ymin, ymax) = _pixels(x0, x1, width), _pixels(y0, y1, height)
        written = (xmin - 1, ymin - 1, xmax, ymax)
        shifts.append(max(abs(a - b) for a, b in zip((x0, y0, x1, y1), written, strict=True)))
    return shifts


def _warn_moved(shifts: list[float]) -> None:
    """Say, as one `ExportWarning`, how many boxes VOC's whole pixels moved, and by how much
    at most."""
    moved = [shift for shift in shifts if shift > 1e-9]
    if moved:
        note = (
            f"VOC numbers whole pixels, so {len(moved)} box(es) with corners between pixel "
            f"edges were moved onto them, by up to {max(moved):.3g} px (a COCO export keeps "
            "sub-pixel corners)"
        )
        warnings.warn(ExportWarning(note, "Pascal VOC export"), stacklevel=3)


def _pixels(start: float, end: float, size: int) -> tuple[int, int]:
    """VOC's 1-based (first, last) pixel of the span start..end in pixel edges: edges rounded
    half up, at least one pixel, inside 1..size."""
    first = min(max(math.floor(start + 0.5), 0), size - 1)
    last = min(max(math.floor(end + 0.5), first + 1), size)
    return first + 1, last


def _xml(
    name: str, size: tuple[int, int], boxes: ann.Boxes, classes: Sequence[str], corners: str
) -> ET.Element:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = IMAGES
    ET.SubElement(root, "filename").text = name
    shape = ET.SubElement(root, "size")
    for tag, value in (("width", size[1]), ("height", size[0]), ("depth", 3)):
        ET.SubElement(shape, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for (x0, y0, x1, y1), c, difficult in zip(
        boxes.xyxy.tolist(), boxes.class_ids(classes).tolist(), boxes.difficult, strict=True
    ):
        item = ET.SubElement(root, "object")
        ET.SubElement(item, "name").text = classes[c]
        ET.SubElement(item, "pose").text = "Unspecified"
        ET.SubElement(item, "truncated").text = "0"  # not known: VOC evaluation code needs the tag
        ET.SubElement(item, "difficult").text = "1" if difficult else "0"
        bndbox = ET.SubElement(item, "bndbox")
        for tag, corner in zip(
            ("xmin", "ymin", "xmax", "ymax"), _corners(x0, y0, x1, y1, size, corners), strict=True
        ):
            ET.SubElement(bndbox, tag).text = str(corner)
    ET.indent(root)
    return root


def _corners(
    x0: float, y0: float, x1: float, y1: float, size: tuple[int, int], corners: str
) -> tuple[float, float, float, float]:
    """A box's ``xmin, ymin, xmax, ymax`` in the convention `corners` names (see ``CORNERS``):
    as they are for "coordinates" (``str`` writes a float's shortest exact form), VOC's whole
    1-based pixels (ints) for "pixels"."""
    if corners == "coordinates":
        return x0, y0, x1, y1
    (xmin, xmax), (ymin, ymax) = _pixels(x0, x1, size[1]), _pixels(y0, y1, size[0])
    return xmin, ymin, xmax, ymax
