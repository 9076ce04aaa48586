"""YOLO txt labels: ``images/``, ``labels/`` (one ``class cx cy w h`` line per box, or one
``class x1 y1 x2 y2 ...`` polygon per object, normalised), classes."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np

from .. import annotations as ann
from .._images import ImageError, read_size
from ._atomic import PathLike
from ._classes import check_classes, check_line_names
from ._export import (
    Exported,
    check_task,
    image_names,
    image_writer,
    images_in_place,
    items,
    protected,
    text_writer,
    warn_difficult_lost,
    warn_renamed,
)
from ._import import (
    EdgeClips,
    FormatError,
    build,
    check_folder,
    check_inside,
    list_images,
    read_label_text,
)
from ._names import export_names
from ._replace import Writer, replace_folder
from ._yaml import read_names
from ._yolo_segments import class_id, read_segments, segment_lines

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["read_yolo", "write_yolo"]

CLASSES_FILE = "classes.txt"
CLASS_LIST = "classes"  # an image of this stem would get CLASSES_FILE as its label file
IMAGES, LABELS = "images", "labels"  # the folder names Ultralytics swaps to find a label file
DIGITS = 6  # decimals kept of a box's pixel coordinates read back (undoes float round-off)


def write_yolo(
    dataset: Dataset, folder: PathLike, *, link: bool = False, overwrite: bool = False
) -> Exported:
    """Write the labeled images and their boxes (or objects) in the YOLO layout.

    ``folder/images/<name>`` (the image files copied, or PNG files for in-memory images),
    ``folder/labels/<name>.txt`` (``class cx cy w h`` per box, normalised to 0..1; for
    instances Ultralytics' segmentation lines, ``class x1 y1 x2 y2 ...`` per object: its
    outline along the pixel edges, normalised, parts and holes joined into one polygon by
    zero-width bridges, as Ultralytics joins them, so that an even-odd fill draws the mask
    back exactly; an empty file for an image labeled with no boxes or objects),
    ``folder/classes.txt`` (one name per line) and
    ``folder/data.yaml`` (the same names, for Ultralytics). Unlabeled images are left out: a
    YOLO reader takes an image without labels as one with no objects. Images sharing a name
    stem (``a.jpg``, ``a.png``) would share a label file: the later ones are exported as
    ``a.png.png`` (see ``unique_stems``), with a warning and in ``Exported.renamed``. So are,
    with a leading "_", the parts of an image's path that readers would misread (see
    ``export_names``): a hidden one; a folder named ``images``, exported as ``_images`` (the
    label of ``images/x/images/b.jpg`` is written as ``labels/x/images/b.txt``, but
    Ultralytics and ``read_yolo``, swapping the last ``images`` folder for ``labels``, would
    look for ``images/x/labels/b.txt``); an image named ``classes``, exported as
    ``_classes.jpg`` (the label file of ``classes.jpg``, ``labels/classes.txt``, is the class
    list to LabelImg and ``read_yolo``). YOLO has no ``difficult`` flag: boxes marked so are written as ordinary
    boxes, with a warning.

    Parameters
    ----------
    dataset : Dataset
        A "detect" or "instances" dataset.
    folder : path
        The folder to write into (created if needed).
    link : bool, default False
        Hard-link image files instead of copying them, where the file system allows.
    overwrite : bool, default False
        Replace an earlier export into `folder` as a whole (the files it wrote, listed in its
        ``.al_widget-export.json``); otherwise an existing file stops the export before
        anything is written. Nothing else in `folder` is replaced or deleted, nor any of the
        dataset's own images: exported into their own folder, they are kept in place, and one
        whose EXIF orientation turns it, which must be written upright, stops the export
        before anything is written (``_export.refuse_turned_in_place``); see
        ``al_widget.formats._replace`` for how the new export is swapped in at once.
    """
    check_task(dataset, ("detect", "instances"), "YOLO")
    check_line_names(dataset.classes, "YOLO")
    root = Path(folder)
    chosen = items(dataset)
    _, found = image_names(dataset, chosen.indices)
    names, renamed = export_names(found, folders=(IMAGES,), stems=(CLASS_LIST,))
    images = {i: f"images/{name}" for i, name in names.items()}
    originals = {i: f"images/{name}" for i, name in found.items()}
    files: dict[str, Writer] = {}
    n_boxes = 0
    for i, boxes in zip(chosen.indices.tolist(), chosen.annotations, strict=True):
        assert isinstance(boxes, (ann.Boxes, ann.Instances))
        files[images[i]] = image_writer(dataset, i, PurePosixPath(names[i]).suffix, link)
        height, width = dataset.image_size(i)
        label = f"labels/{PurePosixPath(names[i]).with_suffix('.txt')}"
        if isinstance(boxes, ann.Boxes):
            text = _lines(boxes, dataset.classes, width, height)
        else:
            text = segment_lines(boxes, dataset.classes, width, height)
        files[label] = text_writer(text)
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
        protected=protected(dataset),
        in_place=images_in_place(dataset, root, images, originals),
    )
    warn_renamed(renamed, "YOLO export")
    warn_difficult_lost(chosen.annotations, "YOLO export")
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


def read_yolo(
    folder: PathLike,
    *,
    task: str = "detect",
    classes: Sequence[str] | None = None,
    allow_outside_root: bool = False,
) -> Dataset:
    """A "detect" (or "instances") Dataset from a YOLO folder, as al_widget, Ultralytics,
    Roboflow or LabelImg write it.

    Images are every image file below a folder named ``images`` (``images/``, Ultralytics'
    ``images/train/``, Roboflow's ``train/images/``...), sorted by path; each one's label file is
    its path with the last ``images`` folder replaced by ``labels`` and the ending by ``.txt``,
    as Ultralytics finds it, or else beside it (``a.jpg``, ``a.txt``), where LabelImg saves it
    by default; a folder with no ``images`` folder is read as LabelImg's: every image below it,
    each with the label file beside it. An image with a label file is labeled (an empty file:
    no boxes), one without is in the unlabeled pool; a folder where no image has one is read
    with a warning. The class names come from ``data.yaml`` (or ``data.yml``: ``names`` as a
    list or an id mapping), ``classes.txt``, ``labels/classes.txt`` or ``images/classes.txt``
    (LabelImg writes it beside the label files); when more than one is there they must agree.
    Where none of these is, the folder's one YAML file, or of several the one named after the
    folder, as Ultralytics finds ``coco8.yaml``; one that cannot be read as Ultralytics' data
    file is named in the error (a YAML file beside ``classes.txt`` is never read).
    A box, or a polygon's point, up to 1 px past the image's edge is clipped to it (one warning
    for the lot); one further out is refused. A line's class may be written as a float (``1.0``),
    as Ultralytics reads it; one that is no whole number is refused, naming the line.

    Parameters
    ----------
    folder : path
        The YOLO folder.
    task : {"detect", "instances"}, default "detect"
        Boxes from ``class cx cy w h`` lines, or objects from Ultralytics' segmentation
        lines ``class x1 y1 x2 y2 ...`` (normalised polygons, drawn as COCO draws polygons;
        a box line is refused there, as a polygon line is in "detect", naming it: a box is never
        made up from a polygon).
    classes : sequence of str, optional
        The classes expected; the folder's class names must be the same, in order.
    allow_outside_root : bool, default False
        Read label files that are links to files outside `folder`; by default they are refused
        unread.
    """
    if task not in ("detect", "instances"):
        raise ValueError(f"task must be 'detect' or 'instances' for YOLO, got {task!r}")
    root = check_folder(folder, "YOLO folder")
    names, names_file = _read_names(root)
    names = check_classes(names, classes, f"YOLO classes file {names_file}")
    files, label_files = _walk(root)
    if not files:
        files = [Path(f) for f in list_images(root)]  # LabelImg: images anywhere, labels beside
        if not any(os.path.lexists(_beside(file)) for file in files):
            raise FormatError(
                f"YOLO folder {root} has no images below a folder named 'images' "
                "(images/, images/train/, train/images/ ...) and no image with a label file "
                "beside it (a.jpg and a.txt, as LabelImg saves them)"
            )
    expected = _label_files(root, files)
    for label in label_files:
        if label not in expected:
            raise FormatError(
                f"YOLO label file {root / label} has no image (looked for it below images/)"
            )
    labels: dict[int, tuple[ann.Annotation, str]] = {}
    clips = EdgeClips(f"YOLO folder {root}", "box(es)" if task == "detect" else "polygon(s)")
    for label, k in expected.items():
        path = root / label
        if os.path.lexists(path):
            check_inside(path, root, "YOLO label file", allow_outside_root)
            if task == "detect":
                found: ann.Annotation = _read_boxes(path, files[k], names, clips)
            else:
                text = read_label_text(path, "YOLO label file")
                found = read_segments(text, path, _image_size(files[k]), names, clips)
            labels[k] = (found, f"YOLO label file {path}")
    if not labels:
        warnings.warn(
            f"YOLO folder {root}: none of its {len(files)} image(s) has a label file (looked "
            f"where Ultralytics looks, {LABELS}/ for {IMAGES}/, and beside each image, as "
            "LabelImg saves them): they are all unlabeled",
            UserWarning,
            stacklevel=3,
        )
    dataset = build(files, names, task, labels)
    clips.warn()
    return dataset


def _label_files(root: Path, files: list[Path]) -> dict[Path, int]:
    """The label file of each image (relative to `root`) -> its index: where Ultralytics looks
    for it (the last ``images`` folder made ``labels``), or else beside the image, as LabelImg
    saves it (``a.jpg``, ``a.txt``); two label files for one image, or one for two, are refused."""
    expected: dict[Path, int] = {}
    for k, file in enumerate(files):
        relative = file.relative_to(root)
        label = _label_path(relative) if IMAGES in relative.parts[:-1] else None
        beside = _beside(relative)
        if os.path.lexists(root / beside):
            if label is not None and os.path.lexists(root / label):
                raise FormatError(
                    f"YOLO image {file} has two label files, {root / label} and {root / beside}: "
                    "keep one"
                )
            label = beside
        if label is None:
            continue
        if label in expected:
            raise FormatError(
                f"YOLO images {files[expected[label]]} and {file} share the label file {root / label}"
            )
        expected[label] = k
    return expected


def _beside(image: Path) -> Path:
    """The label file LabelImg saves beside an image by default: its path ending ``.txt``."""
    return image.with_suffix(".txt")


def _walk(root: Path) -> tuple[list[Path], list[Path]]:
    """The image files below an ``images`` folder (sorted), and the ``.txt`` files below a
    ``labels`` folder (relative to `root`) but the class lists; hidden ones left out."""
    images = [Path(f) for f in list_images(root) if IMAGES in Path(f).relative_to(root).parts[:-1]]
    labels = []
    for directory, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        below = Path(directory).relative_to(root)
        if LABELS not in below.parts:
            continue
        labels += [
            below / n
            for n in sorted(names)
            if n.endswith(".txt") and not n.startswith(".") and n != CLASSES_FILE
        ]
    return images, labels


def _label_path(image: Path) -> Path:
    """The label file of an image (relative paths): its last ``images`` folder made ``labels``."""
    parts = list(image.parts)
    last = len(parts) - 2 - parts[-2::-1].index(IMAGES)
    parts[last] = LABELS
    return Path(*parts).with_suffix(".txt")


def _read_names(root: Path) -> tuple[list[str], Path]:
    """The class names of a YOLO folder and the file they came from; every class list there
    must agree. A YAML file not named data.yaml is looked for only where there is neither
    data.yaml nor classes.txt, and one that cannot be read as Ultralytics' data file is then
    named in the error, never read."""
    found: list[tuple[list[str], Path]] = []
    lists = [
        p
        for p in (root / CLASSES_FILE, root / LABELS / CLASSES_FILE, root / IMAGES / CLASSES_FILE)
        if p.exists()
    ]
    yaml = next((p for p in (root / "data.yaml", root / "data.yml") if p.exists()), None)
    seen = ""
    if yaml is not None:
        names = read_names(read_label_text(yaml, "YOLO data file"), f"YOLO data file {yaml}")
        if names is not None:
            found.append((_check_names(names, yaml), yaml))
        seen = f"; {yaml.name} has no 'names'"
    elif not lists:
        guess, unread = _guessed_yaml(root)
        seen = (
            f"; of its YAML files, {', '.join(p.name for p in unread)}, none is data.yaml "
            f"or named after the folder ({root.name}.yaml), the one Ultralytics would read"
            if unread
            else ""
        )
        if guess is not None:
            try:
                text = read_label_text(guess, "YOLO data file")
                names = read_names(text, f"YOLO data file {guess}")
                if names is not None:
                    found.append((_check_names(names, guess), guess))
                seen = f"; {guess.name} has no 'names'"
            except (FormatError, OSError) as error:
                seen = f"; {guess.name}, not named data.yaml, is no Ultralytics data file: {error}"
    for listed in lists:
        found.append((_read_classes(listed), listed))
    if not found:
        raise FileNotFoundError(
            f"YOLO folder {root} names no classes: expected data.yaml with 'names', "
            f"{CLASSES_FILE} or {LABELS}/{CLASSES_FILE} (one class name per line){seen}"
        )
    names, first = found[0]
    for other, path in found[1:]:
        if other != names:
            raise FormatError(
                f"YOLO folder {root}: {first} names the classes {names} but {path} names {other}"
            )
    return names, first


def _guessed_yaml(root: Path) -> tuple[Path | None, list[Path]]:
    """The data file of a YOLO folder without data.yaml: the one YAML file there, of several
    the one named after the folder, as Ultralytics' ``find_dataset_yaml`` picks it
    (``coco8.yaml``); and the YAML files left unread when none is picked."""
    found = sorted(
        p
        for p in root.iterdir()
        if p.suffix in (".yaml", ".yml") and not p.name.startswith(".") and p.is_file()
    )
    named = [p for p in found if p.stem == root.name]
    if len(found) == 1 or len(named) == 1:
        return (found if len(found) == 1 else named)[0], []
    return None, found


def _check_names(names: list[str], path: Path) -> list[str]:
    if not names or "" in names or len(set(names)) != len(names):
        raise FormatError(
            f"YOLO data file {path}: names must be distinct and non-empty, got {names}"
        )
    return names


def _read_classes(path: Path) -> list[str]:
    lines = read_label_text(path, "YOLO classes file").splitlines()
    names = [line.strip() for line in lines]
    while names and not names[-1]:
        names.pop()
    if not names or "" in names:
        raise FormatError(f"YOLO classes file {path} must list one non-empty class name per line")
    return names


def _image_size(image: Path) -> tuple[int, int]:
    try:
        return read_size(image, f"YOLO image {image}")
    except ImageError as error:
        raise FormatError(str(error)) from None


def _read_boxes(label: Path, image: Path, classes: list[str], clips: EdgeClips) -> ann.Boxes:
    height, width = _image_size(image)
    xyxy, ids = [], []
    text = read_label_text(label, "YOLO label file")
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"YOLO label file {label} line {number}"
        fields = line.split()
        if not fields:
            continue
        if len(fields) >= 7 and len(fields) % 2 == 1:
            raise FormatError(
                f"{where}: {len(fields)} numbers are a polygon (class x1 y1 x2 y2 ..., an "
                "Ultralytics segmentation line, as Roboflow exports polygons), not a box: read "
                'the folder with task="instances", which keeps each polygon as an object (a '
                '"detect" dataset reads class cx cy w h boxes, and makes none up from a polygon)'
            )
        if len(fields) != 5:
            raise FormatError(
                f"{where}: {len(fields)} numbers, expected 5 (class cx cy w h), got {line!r:.80}"
            )
        try:
            cx, cy, w, h = (float(v) for v in fields[1:])
        except ValueError:
            raise FormatError(
                f"{where}: expected a class and 4 numbers, got {line!r:.80}"
            ) from None
        class_index = class_id(fields[0], classes, where)
        corners = np.round(
            [
                (cx - w / 2) * width,
                (cy - h / 2) * height,
                (cx + w / 2) * width,
                (cy + h / 2) * height,
            ],
            DIGITS,
        )
        box = clips.fit((corners + 0.0).tolist(), (height, width), where)  # + 0.0: no -0.0
        try:  # each box checked alone, so that an error names its line
            ann.Boxes([box], [class_index], canvas_size=(height, width))
        except ValueError as error:
            raise FormatError(f"{where}: {error}") from None
        xyxy.append(box)
        ids.append(classes[class_index])
    return ann.Boxes(np.array(xyxy, dtype=np.float64).reshape(-1, 4), ids)
