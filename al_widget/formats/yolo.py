"""YOLO txt labels: ``images/``, ``labels/`` (one ``class cx cy w h`` line per box, normalised), classes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .. import annotations as ann
from ._atomic import PathLike
from ._classes import check_classes
from ._export import (
    Exported,
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

__all__ = ["read_yolo", "write_yolo"]

CLASSES_FILE = "classes.txt"
DIGITS = 6  # decimals kept of a box's pixel coordinates read back (undoes float round-off)


def write_yolo(
    dataset: Dataset, folder: PathLike, *, link: bool = False, overwrite: bool = False
) -> Exported:
    """Write the labeled images and their boxes in the YOLO layout.

    ``folder/images/<name>`` (the image files copied, or PNG files for in-memory images),
    ``folder/labels/<name>.txt`` (``class cx cy w h`` per box, normalised to 0..1; an empty
    file for an image labeled with no boxes), ``folder/classes.txt`` (one name per line) and
    ``folder/data.yaml`` (the same names, for Ultralytics). Unlabeled images are left out: a
    YOLO reader takes an image without labels as one with no objects. Images sharing a name
    stem (``a.jpg``, ``a.png``) would share a label file: the later ones are exported as
    ``a.png.png`` (see ``unique_stems``), with a warning and in ``Exported.renamed``.

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
        dataset's own images; see ``al_widget.formats._replace`` for how the new export is
        swapped in at once.
    """
    check_task(dataset, ("detect",), "YOLO")
    root = Path(folder)
    chosen = items(dataset)
    _, found = image_names(dataset, chosen.indices)
    names, renamed = unique_stems(found)
    images = {i: f"images/{name}" for i, name in names.items()}
    originals = {i: f"images/{name}" for i, name in found.items()}
    files: dict[str, Writer] = {}
    n_boxes = 0
    for i, boxes in zip(chosen.indices.tolist(), chosen.annotations, strict=True):
        assert isinstance(boxes, ann.Boxes)
        files[images[i]] = image_writer(dataset, i, PurePosixPath(names[i]).suffix, link)
        height, width = dataset.image_size(i)
        label = f"labels/{PurePosixPath(names[i]).with_suffix('.txt')}"
        files[label] = text_writer(_lines(boxes, dataset.classes, width, height))
        n_boxes += len(boxes)
    files[CLASSES_FILE] = text_writer("".join(f"{name}\n" for name in dataset.classes))
    names_yaml = "".join(f"  {k}: {json.dumps(name)}\n" for k, name in enumerate(dataset.classes))
    yaml = f"path: {json.dumps(str(root.absolute()))}\ntrain: images\nval: images\nnames:\n{names_yaml}"
    files["data.yaml"] = text_writer(yaml)
    replace_folder(
        root,
        files,
        kind="YOLO",
        overwrite=overwrite,
        sources=lambda: source_paths(dataset),
        in_place=images_in_place(dataset, root, images, originals),
    )
    warn_renamed(renamed, "YOLO export")
    return Exported(root, root / "images", len(names), n_boxes, renamed)


def _lines(boxes: ann.Boxes, classes: Sequence[str], width: int, height: int) -> str:
    lines = []
    for (x0, y0, x1, y1), c in zip(
        boxes.xyxy.tolist(), boxes.class_ids(classes).tolist(), strict=True
    ):
        cx, cy = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height
        w, h = (x1 - x0) / width, (y1 - y0) / height
        lines.append(f"{c} {cx:.10g} {cy:.10g} {w:.10g} {h:.10g}\n")
    return "".join(lines)


def read_yolo(folder: PathLike, *, classes: Sequence[str] | None = None) -> Dataset:
    """A "detect" Dataset from the YOLO layout ``images/``, ``labels/`` and ``classes.txt``.

    An image with a label file is labeled (an empty file: no boxes), one without is in the
    unlabeled pool. Images are sorted by their path below ``images/``.

    Parameters
    ----------
    folder : path
        The folder holding ``images/``, ``labels/`` and ``classes.txt``.
    classes : sequence of str, optional
        The classes expected; ``classes.txt`` must list the same, in order.
    """
    root = check_folder(folder, "YOLO folder")
    names = _read_classes(root / CLASSES_FILE)
    names = check_classes(names, classes, f"YOLO classes file {root / CLASSES_FILE}")
    image_folder = check_folder(root / "images", "YOLO images folder")
    files = [Path(f) for f in list_images(image_folder)]
    expected: dict[Path, int] = {}
    for k, file in enumerate(files):
        label = root / "labels" / file.relative_to(image_folder).with_suffix(".txt")
        if label in expected:
            raise FormatError(f"YOLO images {files[expected[label]]} and {file} share {label}")
        expected[label] = k
    if (root / "labels").is_dir():
        for label in sorted((root / "labels").rglob("*.txt")):
            if label not in expected:
                raise FormatError(f"YOLO label file {label} has no image under {image_folder}")
    labels: dict[int, tuple[ann.Annotation, str]] = {}
    for label, k in expected.items():
        if label.exists():
            labels[k] = (_read_boxes(label, files[k], names), f"YOLO label file {label}")
    return build(files, names, "detect", labels)


def _read_classes(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"YOLO classes file {path} not found (one class name per line)"
        ) from None
    names = [line.strip() for line in lines]
    while names and not names[-1]:
        names.pop()
    if not names or "" in names:
        raise FormatError(f"YOLO classes file {path} must list one non-empty class name per line")
    return names


def _read_boxes(label: Path, image: Path, classes: list[str]) -> ann.Boxes:
    try:
        with Image.open(image) as opened:
            width, height = opened.size
    except Exception as error:
        raise FormatError(f"YOLO image {image} could not be read: {error}") from None
    xyxy, ids = [], []
    for number, line in enumerate(label.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"YOLO label file {label} line {number}"
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 5:
            raise FormatError(
                f"{where}: {len(fields)} numbers, expected 5 (class cx cy w h), got {line!r}"
            )
        try:
            class_id = int(fields[0])
            cx, cy, w, h = (float(v) for v in fields[1:])
        except ValueError:
            raise FormatError(
                f"{where}: expected an int class and 4 numbers, got {line!r}"
            ) from None
        if not 0 <= class_id < len(classes):
            raise FormatError(
                f"{where}: class {class_id} is not in 0..{len(classes) - 1} ({len(classes)} classes)"
            )
        box = (
            np.round(
                [
                    (cx - w / 2) * width,
                    (cy - h / 2) * height,
                    (cx + w / 2) * width,
                    (cy + h / 2) * height,
                ],
                DIGITS,
            )
            + 0.0
        )  # + 0.0 turns -0.0 into 0.0
        try:  # each box checked alone, so that an error names its line
            ann.Boxes([box], [class_id], canvas_size=(height, width))
        except ValueError as error:
            raise FormatError(f"{where}: {error}") from None
        xyxy.append(box)
        ids.append(classes[class_id])
    return ann.Boxes(np.array(xyxy, dtype=np.float64).reshape(-1, 4), ids)
