"""Pascal VOC XML: ``Annotations/<name>.xml`` per labeled image, images under ``JPEGImages/``."""

from __future__ import annotations

import math
import os
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import defusedxml
import defusedxml.ElementTree as SafeET
import numpy as np

from .. import annotations as ann
from .._images import ImageError, read_size
from ._atomic import PathLike
from ._classes import check_classes, check_line_names, check_xml_names, check_xml_text
from ._export import (
    Exported,
    bytes_writer,
    check_task,
    export_names,
    image_names,
    image_writer,
    images_in_place,
    items,
    protected,
    text_writer,
    warn_renamed,
)
from ._import import (
    EdgeClips,
    FormatError,
    build,
    check_folder,
    check_inside,
    list_images,
    read_label_bytes,
    read_label_text,
)
from ._replace import Writer, replace_folder

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["read_voc", "write_voc"]

IMAGES, ANNOTATIONS, LIST = "JPEGImages", "Annotations", "ImageSets/Main/default.txt"
CLASS_LISTS = ("classes.txt", "labelmap.txt")
"""Class lists read beside ``Annotations/``: one name per line, or CVAT's ``name:colour::``."""

CORNERS = {
    "pixels": "the VOC devkit's 1-based whole pixels",
    "coordinates": "CVAT's and Datumaro's 0-based continuous coordinates",
}
"""The conventions a ``<bndbox>``'s corners are read and written in, by name.

"pixels": corners number whole pixels from 1, as the VOC devkit (and detectron2) read them:
a box (x0, y0, x1, y1) in pixel edges is ``xmin = x0 + 1, ymin = y0 + 1, xmax = x1,
ymax = y1``. "coordinates": corners are the box's pixel edges as they are (``xmin = x0`` ...),
as CVAT reads and writes VOC through Datumaro.
"""


def _check_corners(corners: object) -> None:
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
    _check_corners(corners)
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
    """Say, as one warning, how many boxes VOC's whole pixels moved, and by how much at most."""
    moved = [shift for shift in shifts if shift > 1e-9]
    if moved:
        warnings.warn(
            f"Pascal VOC export: VOC numbers whole pixels, so {len(moved)} box(es) with corners "
            f"between pixel edges were moved onto them, by up to {max(moved):.3g} px "
            "(to_coco keeps sub-pixel corners)",
            UserWarning,
            stacklevel=3,
        )


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


def read_voc(
    folder: PathLike,
    *,
    classes: Sequence[str] | None = None,
    corners: str = "pixels",
    allow_outside_root: bool = False,
) -> Dataset:
    """A "detect" Dataset from the Pascal VOC layout ``JPEGImages/`` and ``Annotations/``, as
    al_widget, CVAT and LabelImg write it.

    An image with an XML file is labeled, one without is in the unlabeled pool; two XML files
    naming one image are refused. The two folders' names and ``.xml`` may be in any letter
    case (``annotations/a.XML``); a folder where no annotation file is found is read as all
    unlabeled, with a warning. Images are sorted by their path below ``JPEGImages/``.
    ``<difficult>1</difficult>`` is kept as the box's ``difficult`` flag; ``<truncated>``,
    ``<occluded>``, ``<pose>`` and CVAT's ``<attributes>`` are not (the dataset holds no such
    flags). Sizes may be written
    as whole numbers or floats (``64.0``); a size other than the image file's (after its EXIF
    orientation) is refused, ``0`` taken as unknown. A box up to 1 px past the image's edge is
    clipped to it (one warning for the lot); one further out is refused. XML is parsed with
    defusedxml: a file declaring entities or a DTD is refused.

    Parameters
    ----------
    folder : path
        The folder holding ``JPEGImages/`` and ``Annotations/``.
    classes : sequence of str, optional
        The classes; every object must name one. Default: the class list beside
        ``Annotations/`` (``classes.txt``, or CVAT's ``labelmap.txt`` without its
        ``background``) when there is one, else the object names in the order the files
        (sorted by path) first give them.
    corners : {"pixels", "coordinates"}, default "pixels"
        How ``<bndbox>`` numbers the corners (see ``CORNERS``): "pixels", the VOC devkit's
        1-based whole pixels (VOC itself, al_widget's default export: ``xmin - 1``,
        ``ymin - 1`` in pixel edges); "coordinates", 0-based continuous, for files CVAT wrote
        (through Datumaro, which writes and reads its boxes' corners as they are). Read with
        "pixels", a CVAT box comes out 1 px larger at its left and top.
    allow_outside_root : bool, default False
        Read XML files that are links to files outside `folder`; by default they are refused
        unread.
    """
    _check_corners(corners)
    root = check_folder(folder, "Pascal VOC folder")
    image_folder = check_folder(_sub_folder(root, IMAGES), "Pascal VOC images folder")
    files = [Path(f) for f in list_images(image_folder)]
    by_name = {file.relative_to(image_folder).as_posix(): k for k, file in enumerate(files)}
    parsed: list[tuple[Path, int, list[_Object]]] = []
    named: dict[int, Path] = {}
    clips = EdgeClips(f"Pascal VOC folder {root}")
    for xml in _xml_files(root):
        check_inside(xml, root, "Pascal VOC file", allow_outside_root)
        tree = _parse(xml)
        name = tree.findtext("filename")
        if not name:
            raise FormatError(f"Pascal VOC file {xml} has no <filename>")
        if name not in by_name:
            raise FormatError(f"Pascal VOC file {xml}: its image {name!r} is not in {image_folder}")
        k = by_name[name]
        if k in named:
            raise FormatError(
                f"Pascal VOC files {named[k]} and {xml} both name the image {name!r}; keep one"
            )
        named[k] = xml
        size = _size(xml, tree, files[k])
        parsed.append((xml, k, _objects(xml, tree, size, clips, corners)))
    if not parsed:
        warnings.warn(
            f"Pascal VOC folder {root}: no annotation file found (looked for .xml files below "
            f"{ANNOTATIONS}/, both in any letter case): its {len(files)} image(s) are all "
            "unlabeled",
            UserWarning,
            stacklevel=2,
        )
    found = list(dict.fromkeys(obj.label for *_, objects in parsed for obj in objects))
    listed = _class_list(root, allow_outside_root)
    if classes is not None:
        names = list(classes)
    elif listed is not None:
        names = listed[0]
    else:
        names = found
    unknown = [n for n in found if n not in names]
    if unknown:
        where = f"Pascal VOC folder {root}" if listed is None or classes else f"{listed[1]}"
        check_classes(found, names, where)
    labels: dict[int, tuple[ann.Annotation, str]] = {}
    for xml, k, objects in parsed:
        xyxy = np.array([obj.box for obj in objects], dtype=np.float64).reshape(-1, 4)
        boxes = ann.Boxes(
            xyxy, [obj.label for obj in objects], difficult=[obj.difficult for obj in objects]
        )
        labels[k] = (boxes, f"Pascal VOC file {xml}")
    if not names:
        raise FormatError(f"Pascal VOC folder {root} names no classes: pass classes=[...]")
    dataset = build(files, names, "detect", labels)
    clips.warn()
    return dataset


def _sub_folder(root: Path, name: str) -> Path:
    """`root`'s folder `name`, found in any letter case (``annotations/``, as some tools and
    hand-made datasets have it); two such folders are refused. `root / name` when none is."""
    found = [p for p in root.iterdir() if p.name.casefold() == name.casefold() and p.is_dir()]
    if len(found) > 1:
        raise FormatError(
            f"Pascal VOC folder {root} has {len(found)} folders named {name} in other letter "
            f"cases ({', '.join(sorted(p.name for p in found))}); keep one"
        )
    return found[0] if found else root / name


def _xml_files(root: Path) -> list[Path]:
    """The annotation files below ``Annotations/`` (``.xml`` in any letter case), sorted."""
    folder = _sub_folder(root, ANNOTATIONS)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".xml" and not p.is_dir())


class _Object:
    """One ``<object>`` read: its class, box in pixel edges and difficult flag."""

    __slots__ = ("box", "difficult", "label")

    def __init__(self, label: str, box: list[float], difficult: bool) -> None:
        self.label, self.box, self.difficult = label, box, difficult


def _parse(xml: Path) -> ET.Element:
    data = read_label_bytes(xml, "Pascal VOC file")
    try:
        return SafeET.fromstring(data)
    except ET.ParseError as error:
        raise FormatError(f"Pascal VOC file {xml} is not valid XML: {error}") from None
    except defusedxml.DefusedXmlException as error:
        raise FormatError(
            f"Pascal VOC file {xml} declares XML entities or a DTD, which a VOC file never "
            f"needs; refused ({type(error).__name__})"
        ) from None


def _size(xml: Path, tree: ET.Element, image: Path) -> tuple[int, int]:
    """The (height, width) of an image file from its header (after its EXIF orientation),
    refused when the XML's ``<size>`` says otherwise (0 or no size: unknown)."""
    try:
        size = read_size(image, f"Pascal VOC image {image}")
    except ImageError as error:
        raise FormatError(f"Pascal VOC file {xml}: {error}") from None
    declared = []
    for tag in ("height", "width"):
        text = (tree.findtext(f"size/{tag}") or "").strip()
        try:
            value = float(text) if text else 0.0
        except ValueError:
            value = math.nan
        if not (value.is_integer() and value >= 0):
            raise FormatError(
                f"Pascal VOC file {xml}: <{tag}> must be a whole number of pixels, got {text!r:.40}"
            )
        declared.append(int(value))
    if 0 not in declared and tuple(declared) != size:
        raise FormatError(
            f"Pascal VOC file {xml}: <size> says {declared[1]}x{declared[0]} but {image} is "
            f"{size[1]}x{size[0]} (width x height, after its EXIF orientation)"
        )
    return size


def _objects(
    xml: Path, tree: ET.Element, size: tuple[int, int], clips: EdgeClips, corners: str
) -> list[_Object]:
    """The objects of one file, their corners read in the convention `corners` names."""
    start = 1.0 if corners == "pixels" else 0.0  # the first pixel's number
    objects = []
    for number, item in enumerate(tree.iter("object")):
        where = f"Pascal VOC file {xml}, object {number}"
        label = (item.findtext("name") or "").strip()
        if not label:
            raise FormatError(f"{where} has no <name> (its class)")
        where = f"{where} ({label})"
        try:
            x0, y0, x1, y1 = (
                float(item.findtext(f"bndbox/{tag}") or "")
                for tag in ("xmin", "ymin", "xmax", "ymax")
            )
        except ValueError:
            raise FormatError(f"{where}: <bndbox> needs numbers xmin, ymin, xmax, ymax") from None
        flag = (item.findtext("difficult") or "0").strip().lower()
        if flag not in ("0", "1", "true", "false"):
            raise FormatError(f"{where}: <difficult> must be 0 or 1, got {flag!r:.40}")
        box = clips.fit([x0 - start, y0 - start, x1, y1], size, where)
        try:  # each box checked alone, so that an error names its object
            ann.Boxes([box], [label], canvas_size=size)
        except ValueError as error:
            raise FormatError(f"{where}: {error}") from None
        objects.append(_Object(label, box, flag in ("1", "true")))
    return objects


def _class_list(root: Path, allow_outside_root: bool) -> tuple[list[str], Path] | None:
    """The class names listed beside ``Annotations/`` and their file, if a list is there:
    ``classes.txt`` (one per line) or CVAT's ``labelmap.txt`` (``name:colour:parts:actions``
    lines, ``#`` comments; its ``background`` entry, CVAT's class 0 for masks, left out)."""
    for name in CLASS_LISTS:
        path = root / name
        if not os.path.lexists(path):
            continue
        check_inside(path, root, "Pascal VOC class list", allow_outside_root)
        lines = [
            line.strip() for line in read_label_text(path, "Pascal VOC class list").splitlines()
        ]
        lines = [line for line in lines if line and not line.startswith("#")]
        if name == "labelmap.txt":
            lines = [line.split(":", 1)[0] for line in lines]
            lines = [line for line in lines if line != "background"]
        if not lines or len(set(lines)) != len(lines):
            raise FormatError(f"Pascal VOC class list {path} must list distinct class names")
        return lines, path
    return None
