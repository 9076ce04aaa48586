"""Pascal VOC XML read back: ``Annotations/*.xml`` and the images under ``JPEGImages/``, as
al_widget, CVAT and LabelImg write them (or ``images/``, as Label Studio does), or each XML
file beside its image, as LabelImg saves them by default (``_voc_layouts``)."""

from __future__ import annotations

import math
import os
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import defusedxml
import defusedxml.ElementTree as SafeET
import numpy as np

from .. import annotations as ann
from .._images import ImageError, read_size
from ._atomic import PathLike
from ._classes import check_classes
from ._import import (
    EdgeClips,
    FormatError,
    build,
    check_folder,
    check_inside,
    read_label_bytes,
    read_label_text,
)
from ._voc_layouts import layout
from .voc import ANNOTATIONS, CLASS_LISTS, check_corners

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["read_voc"]


def read_voc(
    folder: PathLike,
    *,
    classes: Sequence[str] | None = None,
    corners: str = "pixels",
    allow_outside_root: bool = False,
) -> Dataset:
    """A "detect" Dataset from the Pascal VOC layout ``JPEGImages/`` and ``Annotations/``, as
    al_widget, CVAT and LabelImg write it, or Label Studio's: images in ``images/`` (read where
    there is no ``JPEGImages/``), ``<filename>`` without the extension.

    An image with an XML file is labeled, one without is in the unlabeled pool; two XML files
    naming one image are refused. The two folders' names and ``.xml`` may be in any letter
    case (``annotations/a.XML``); a folder where no annotation file is found is read as all
    unlabeled, with a warning. Images are sorted by their path below ``JPEGImages/``. A
    ``<filename>`` that names no image is matched to the one image whose name is that plus an
    extension (Label Studio's ``1a2b3c4d-photo`` for ``1a2b3c4d-photo.jpg``); two such images
    are refused, naming both.
    A folder with neither images folder is read as LabelImg saves one by default: every image
    below it (sorted by path), each with its XML file beside it (``a.jpg``, ``a.xml``), matched
    by path as LabelImg finds it, not by ``<filename>``; images sharing an XML file (``a.jpg``,
    ``a.png``) are refused, XML files beside no image are named in a warning, and a folder where
    no image has one is refused, saying where the files go.
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
        The folder holding ``JPEGImages/`` (or Label Studio's ``images/``) and
        ``Annotations/``, or LabelImg's folder of images with their XML files.
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
        "pixels", a CVAT box comes out 1 px larger at its left and top. Label Studio's corners
        are 0-based too (its percents times the size, truncated): read its files with
        "coordinates". So are LabelImg's (the box's corners on its canvas, whose pixel 0 spans
        0 to 1, truncated to whole numbers and ``xmin``, ``ymin`` raised to at least 1): read
        them with "coordinates" too; a box LabelImg drew from the image's left or top edge
        starts 1 px inside it, as LabelImg wrote it.
    allow_outside_root : bool, default False
        Read XML files that are links to files outside `folder`; by default they are refused
        unread.
    """
    check_corners(corners)
    root = check_folder(folder, "Pascal VOC folder")
    place = layout(root)
    files = place.files
    parsed: list[tuple[Path, int, list[_Object]]] = []
    clips = EdgeClips(f"Pascal VOC folder {root}")
    for xml in place.xml_files:
        check_inside(xml, root, "Pascal VOC file", allow_outside_root)
        tree = _parse(xml)
        k = place.image(xml, tree)
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
        given = {t: item.findtext(f"bndbox/{t}") for t in ("xmin", "ymin", "xmax", "ymax")}
        try:
            x0, y0, x1, y1 = (float(text or "") for text in given.values())
        except ValueError:
            shown = ", ".join(f"{t} {text!r:.20}" for t, text in given.items())
            raise FormatError(
                f"{where}: <bndbox> needs numbers xmin, ymin, xmax, ymax, got {shown}"
            ) from None
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
