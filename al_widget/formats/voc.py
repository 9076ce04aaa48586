"""Pascal VOC XML: ``Annotations/<name>.xml`` per labeled image, images under ``JPEGImages/``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np

from .. import annotations as ann
from ._atomic import PathLike
from ._classes import check_classes
from ._export import (
    Exported,
    bytes_writer,
    check_task,
    image_names,
    image_writer,
    images_in_place,
    items,
    source_paths,
    text_writer,
    unique_stems,
    warn_renamed,
)
from ._import import FormatError, build, check_folder, list_images
from ._replace import Writer, replace_folder

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["read_voc", "write_voc"]

IMAGES, ANNOTATIONS, LIST = "JPEGImages", "Annotations", "ImageSets/Main/default.txt"


def write_voc(
    dataset: Dataset, folder: PathLike, *, link: bool = False, overwrite: bool = False
) -> Exported:
    """Write the labeled images and their boxes in the Pascal VOC layout.

    ``folder/JPEGImages/<name>`` (the image files copied, or PNG files for in-memory images),
    ``folder/Annotations/<name>.xml`` and ``folder/ImageSets/Main/default.txt``. Corners follow
    VOC's 1-based pixel numbering: a box (x0, y0, x1, y1) in pixel edges is written as
    ``xmin = x0 + 1, ymin = y0 + 1, xmax = x1, ymax = y1``. Images sharing a name stem are
    exported under unique names, as by ``write_yolo``.

    Parameters
    ----------
    dataset : Dataset
        A "detect" dataset.
    folder : path
        The folder to write into (created if needed).
    link : bool, default False
        Hard-link image files instead of copying them, where the file system allows.
    overwrite : bool, default False
        Replace an earlier export into `folder` as a whole (the files it wrote, listed in its
        ``.al_widget-export.json``); otherwise an existing file stops the export before
        anything is written. Nothing else in `folder` is replaced or deleted, nor any of the
        dataset's own images.
    """
    check_task(dataset, ("detect",), "Pascal VOC")
    root = Path(folder)
    chosen = items(dataset)
    _, found = image_names(dataset, chosen.indices)
    names, renamed = unique_stems(found)
    images = {i: f"{IMAGES}/{name}" for i, name in names.items()}
    originals = {i: f"{IMAGES}/{name}" for i, name in found.items()}
    files: dict[str, Writer] = {}
    n_boxes = 0
    for i, boxes in zip(chosen.indices.tolist(), chosen.annotations, strict=True):
        assert isinstance(boxes, ann.Boxes)
        files[images[i]] = image_writer(dataset, i, PurePosixPath(names[i]).suffix, link)
        tree = _xml(names[i], dataset.image_size(i), boxes, dataset.classes)
        xml = f"{ANNOTATIONS}/{PurePosixPath(names[i]).with_suffix('.xml')}"
        files[xml] = bytes_writer(ET.tostring(tree, encoding="utf-8", xml_declaration=True))
        n_boxes += len(boxes)
    stems = "".join(f"{PurePosixPath(name).with_suffix('')}\n" for name in names.values())
    files[LIST] = text_writer(stems)
    replace_folder(
        root,
        files,
        kind="Pascal VOC",
        overwrite=overwrite,
        sources=lambda: source_paths(dataset),
        in_place=images_in_place(dataset, root, images, originals),
    )
    warn_renamed(renamed, "Pascal VOC export")
    return Exported(root, root / IMAGES, len(names), n_boxes, renamed)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.10g}"


def _xml(name: str, size: tuple[int, int], boxes: ann.Boxes, classes: Sequence[str]) -> ET.Element:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = IMAGES
    ET.SubElement(root, "filename").text = name
    shape = ET.SubElement(root, "size")
    for tag, value in (("width", size[1]), ("height", size[0]), ("depth", 3)):
        ET.SubElement(shape, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for (x0, y0, x1, y1), c in zip(
        boxes.xyxy.tolist(), boxes.class_ids(classes).tolist(), strict=True
    ):
        item = ET.SubElement(root, "object")
        ET.SubElement(item, "name").text = classes[c]
        ET.SubElement(item, "pose").text = "Unspecified"
        ET.SubElement(item, "truncated").text = "0"
        ET.SubElement(item, "difficult").text = "0"
        corners = ET.SubElement(item, "bndbox")
        for tag, value in (("xmin", x0 + 1), ("ymin", y0 + 1), ("xmax", x1), ("ymax", y1)):
            ET.SubElement(corners, tag).text = _number(value)
    ET.indent(root)
    return root


def read_voc(folder: PathLike, *, classes: Sequence[str] | None = None) -> Dataset:
    """A "detect" Dataset from the Pascal VOC layout ``JPEGImages/`` and ``Annotations/``.

    An image with an XML file is labeled, one without is in the unlabeled pool. Images are
    sorted by their path below ``JPEGImages/``.

    Parameters
    ----------
    folder : path
        The folder holding ``JPEGImages/`` and ``Annotations/``.
    classes : sequence of str, optional
        The classes; every object must name one. Default: the object names found, sorted.
    """
    root = check_folder(folder, "Pascal VOC folder")
    image_folder = check_folder(root / IMAGES, "Pascal VOC images folder")
    files = [Path(f) for f in list_images(image_folder)]
    by_name = {file.relative_to(image_folder).as_posix(): k for k, file in enumerate(files)}
    parsed = []
    for xml in sorted((root / ANNOTATIONS).rglob("*.xml")):
        name, objects = _parse(xml)
        if name not in by_name:
            raise FormatError(f"Pascal VOC file {xml}: its image {name!r} is not in {image_folder}")
        parsed.append((xml, by_name[name], objects))
    found = sorted({obj[0] for *_, objects in parsed for obj in objects})
    if classes is None:
        names = found
    else:
        names = list(classes)
        unknown = [n for n in found if n not in names]
        if unknown:
            check_classes(found, names, f"Pascal VOC folder {root}")
    labels: dict[int, tuple[ann.Annotation, str]] = {}
    for xml, k, objects in parsed:
        xyxy = np.array([box for _, box in objects], dtype=np.float64).reshape(-1, 4)
        boxes = ann.Boxes(xyxy, [n for n, _ in objects])
        labels[k] = (boxes, f"Pascal VOC file {xml}")
    if not names:
        raise FormatError(f"Pascal VOC folder {root} names no classes: pass classes=[...]")
    return build(files, names, "detect", labels)


def _parse(xml: Path) -> tuple[str, list[tuple[str, list[float]]]]:
    try:
        root = ET.parse(xml).getroot()
    except ET.ParseError as error:
        raise FormatError(f"Pascal VOC file {xml} is not valid XML: {error}") from None
    name = root.findtext("filename")
    if not name:
        raise FormatError(f"Pascal VOC file {xml} has no <filename>")
    width, height = root.findtext("size/width"), root.findtext("size/height")
    size = (int(height), int(width)) if width and height else None
    objects = []
    for number, item in enumerate(root.iter("object")):
        where = f"Pascal VOC file {xml}, object {number}"
        label = (item.findtext("name") or "").strip()
        if not label:
            raise FormatError(f"{where} has no <name> (its class)")
        try:
            x0, y0, x1, y1 = (
                float(item.findtext(f"bndbox/{tag}") or "")
                for tag in ("xmin", "ymin", "xmax", "ymax")
            )
        except ValueError:
            raise FormatError(
                f"{where} ({label}): <bndbox> needs numbers xmin, ymin, xmax, ymax"
            ) from None
        box = [x0 - 1, y0 - 1, x1, y1]
        try:  # each box checked alone, so that an error names its object
            ann.Boxes([box], [label], canvas_size=size)
        except ValueError as error:
            raise FormatError(f"{where} ({label}): {error}") from None
        objects.append((label, box))
    return name, objects
