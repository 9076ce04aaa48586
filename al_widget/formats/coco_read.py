"""COCO JSON read back: boxes for detection, masks for segmentation, one mask per object for
instances, with the file's ids and crowd regions kept (``coco.CocoOrigin``) for ``write_coco``."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import annotations as ann
from .._images import ImageError, read_size
from .._numbers import is_int, is_number
from ._atomic import PathLike
from ._classes import check_classes
from ._coco_categories import read_categories
from ._coco_crowds import CrowdNotes, check_crowd
from ._coco_masks import decode, is_crowd, read_instances, segmentation_of
from ._import import EdgeClips, FormatError, build, check_label_file
from ._names import listed
from .coco import EXPORTED_BY, CocoOrigin

if TYPE_CHECKING:
    from ..dataset import Dataset

__all__ = ["read_coco"]


def read_coco(
    annotations_json: PathLike,
    images_root: PathLike,
    *,
    task: str = "detect",
    classes: Sequence[str] | None = None,
    background: str | None = None,
    crowd: str = "ignore",
    allow_outside_root: bool = False,
) -> Dataset:
    """A Dataset from a COCO JSON file: its images in order, their boxes or masks.

    Images without annotations are the unlabeled pool, unless the file marks an image
    ``"labeled": true`` (labeled, with no objects); one marked ``"labeled": false`` is in the
    pool whatever it holds. For "detect", crowd annotations (``iscrowd: 1``) are no boxes, as
    in torchvision's detection references; for "segment", every object's polygons or RLE are
    painted into the image's class map, whatever the annotations' order: a pixel objects of two
    classes claim is not labeled (``Mask.IGNORE``, with one warning naming the images), and so
    is a pixel only crowd regions cover (left out of training and mean IoU, as COCO evaluation
    ignores crowds) -- a crowd region never erases an object's pixels; an image left with no
    pixel labeled stays unlabeled, with a warning; for "instances", each annotation's polygons
    or RLE (compressed or not) is one object, crowds left out as for "detect", and an object
    given twice is refused. The file's image ids, categories and crowd annotations are kept in
    ``dataset.coco_origin`` (a ``CocoOrigin``), so that ``write_coco`` writes them back with
    their images (an unlabeled image's only with ``include_unlabeled=True``).

    For "detect" and "instances", an image whose annotations are all crowd regions is left
    unlabeled (as detectron2 leaves such images out of training), unless the file marks it
    ``"labeled": true``: nothing in it says it has no objects; such images are named in a
    warning. Where every annotation of the file that carries a mask is a crowd region, as
    CVAT's "COCO 1.0" export (Datumaro's COCO writer) writes every mask (``iscrowd: 1``, an
    uncompressed RLE), the crowd regions are counted in one warning, which says how to read
    them as objects (`crowd`); crowd regions beside ordinary objects, as in COCO's own files,
    are read so without it. A segmentation ``write_coco`` wrote (its ``info`` says so) holds as
    crowd regions the pixels it wrote as not labeled: it is read without a warning.

    A category whose supercategory is "none", that no annotation uses and that all the others
    name as their ``supercategory``, as Roboflow's COCO export lists the project (``{"id": 0, "name":
    "pets", "supercategory": "none"}``), is no class: it is left out (with a warning), unless
    `classes` are the classes with it.

    Parameters
    ----------
    annotations_json : path
        The COCO file.
    images_root : path
        The folder the images' ``file_name`` entries are relative to.
    task : {"detect", "segment", "instances"}, default "detect"
        Boxes from ``bbox``, class maps from ``segmentation``, or ``Instances``: one object
        per ``segmentation``.
    classes : sequence of str, optional
        The classes expected (for "segment", background first); the file's categories must be
        the same, in category id order.
    background : str, optional
        For "segment": the name of class 0 (default: the name of a category of id 0, the
        background, where the file lists one; else the name ``write_coco`` stores as
        ``info["background"]``; else "background").
    crowd : {"ignore", "objects"}, default "ignore"
        How to read crowd regions (``iscrowd: 1``): as COCO means them, regions to ignore
        (see above); or as objects, each a box (from its ``bbox``), an object or painted
        pixels of its class like any other annotation, as CVAT and Datumaro mean the masks
        they write so (then none is kept in ``coco_origin``: ``write_coco`` writes them as the
        objects they now are).
    allow_outside_root : bool, default False
        Accept a ``file_name`` that leads out of `images_root` (``../x.png``, an absolute path
        elsewhere); by default such an entry is refused.

    Every image listed must exist. An annotated image's ``width`` and ``height``, when given,
    must be its file's (after its EXIF orientation, as other tools show it), checked from the
    file's header before any mask is decoded. A box up to 1 px past the image's edge (float
    round-off) is clipped to it, with one warning for the lot; one further out is refused.
    ``iscrowd`` is 0 or 1, also read as written by other tools: ``true``/``false`` or a string
    (``"0"``, ``"1"``, ``"false"``, ``"true"``); any other value is refused. A polygon's
    checks and its tolerance at the image's edge are ``_coco_masks.decode``'s.
    """
    if task not in ("detect", "segment", "instances"):
        raise ValueError(f"task must be 'detect', 'segment' or 'instances' for COCO, got {task!r}")
    check_crowd(crowd)
    source = os.fspath(annotations_json)
    root = os.fspath(images_root)
    document = _load(source)
    images = _images(source, document)
    paths = [_image_path(source, entry, root, allow_outside_root) for entry in images]
    ids = {entry["id"]: k for k, entry in enumerate(images)}
    annotations = _list(source, document, "annotations")
    used = [r.get("category_id") for r in annotations if isinstance(r, dict)]
    found_classes = read_categories(
        source,
        _list(source, document, "categories"),
        {u for u in used if is_int(u)},
        task,
        background,
        classes,
        document.get("info"),
    )
    category_ids = found_classes.ids
    try:
        names = check_classes(found_classes.names, classes, f"COCO file {source}")
    except FormatError as error:
        if (
            task == "segment"
            and classes is not None
            and list(classes)[1:] == found_classes.names[1:]
        ):
            raise FormatError(
                f"{error}; class 0 (the background) is no COCO category: pass "
                f"background={classes[0]!r} to name it"
            ) from None
        raise
    found: dict[int, list[tuple[int, dict[str, Any]]]] = {k: [] for k in range(len(images))}
    only_crowds = True  # every annotation carrying a mask is a crowd region, as CVAT writes masks
    attributed = False  # an annotation carries Datumaro's "attributes" (CVAT's export does)
    for number, record in enumerate(annotations):
        where = _where(source, number, record)
        if not isinstance(record, dict):
            raise FormatError(f"{where}: must be a JSON object, got {record!r}")
        if not _is_id(record.get("image_id")) or record["image_id"] not in ids:
            raise FormatError(
                f"{where}: image_id {record.get('image_id')!r:.80} is not in 'images'"
            )
        if not _is_id(record.get("category_id")) or record["category_id"] not in category_ids:
            raise FormatError(
                f"{where}: category_id {record.get('category_id')!r:.80} is not in 'categories' "
                f"(ids {sorted(category_ids)})"
            )
        # read as the number it means (it may be written "1", true, ...), kept so when written
        # back; 0 for a crowd region read as an object
        crowded = is_crowd(record, where)
        only_crowds = only_crowds and (crowded or not record.get("segmentation"))
        attributed = attributed or isinstance(record.get("attributes"), dict)
        record = {**record, "iscrowd": int(crowded and crowd == "ignore")}
        found[ids[record["image_id"]]].append((number, record))
    labels: dict[int, tuple[ann.Annotation, str]] = {}
    clips = EdgeClips(f"COCO file {source}")
    overlaps = _Overlaps(source)
    # a segmentation of al_widget's holds as crowd regions the pixels it wrote as not labeled
    notes = CrowdNotes(source, task, task == "segment" and _description(document) == EXPORTED_BY)
    crowds: dict[int, tuple[dict[str, Any], ...]] = {}
    for k, entry in enumerate(images):
        records = found[k]
        regions = tuple(record for _, record in records if record["iscrowd"])
        if regions:
            crowds[k] = regions
        marked = entry.get("labeled")
        if marked is False or (not records and marked is not True):
            continue
        if regions:
            notes.add(str(entry["file_name"]), len(regions))
        if task != "segment" and len(regions) == len(records) and marked is not True:
            notes.left_unlabeled(str(entry["file_name"]))  # no box or object to say "none"
            continue
        image = f"COCO file {source}, image {entry['id']!r} ({entry['file_name']})"
        size = _size(source, entry, paths[k])
        if task == "detect":
            labels[k] = (_boxes(source, entry, records, category_ids, names, size, clips), image)
        elif task == "instances":
            named = [
                (f"{_where(source, n, r)} of image {entry['file_name']}", r) for n, r in records
            ]
            labels[k] = (read_instances(named, category_ids, names, size), image)
        else:
            mask, claimed = _mask(source, entry, records, category_ids, size)
            overlaps.add(str(entry["file_name"]), claimed, mask is not None)
            if mask is not None:
                labels[k] = (mask, image)
    dataset = build(paths, names, task, labels)
    clips.warn()
    overlaps.warn()
    notes.warn("only_crowds" if only_crowds else "attributed" if attributed else None)
    # for "segment", the entries of classes 1, 2, ...: class 0's name is written in info
    image_ids = tuple(entry["id"] for entry in images)
    dataset.coco_origin = CocoOrigin(image_ids, found_classes.entries, crowds)
    return dataset


def _description(document: dict[str, Any]) -> Any:
    """The ``description`` of the file's ``info``, if any."""
    info = document.get("info")
    return info.get("description") if isinstance(info, dict) else None


def _where(source: str, number: int, record: Any) -> str:
    ident = f" (id {record.get('id')!r})" if isinstance(record, dict) and "id" in record else ""
    return f"COCO file {source}: annotation {number}{ident}"


def _load(source: str) -> dict[str, Any]:
    check_label_file(source, "COCO file", None)
    try:
        with open(source, encoding="utf-8") as file:
            document = json.load(file)
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
        if not _is_id(entry["id"]):
            raise FormatError(f"{where}: 'id' must be an int or a string, got {entry['id']!r:.80}")
        where = f"{where} (id {entry['id']!r})"
        if not isinstance(entry["file_name"], str) or not entry["file_name"]:
            raise FormatError(
                f"{where}: 'file_name' must be a non-empty string, got {entry['file_name']!r:.80}"
            )
        for key in ("width", "height"):
            value = entry.get(key)
            if value is not None and (not is_int(value) or value <= 0):
                raise FormatError(f"{where}: {key!r} must be an int > 0, got {value!r:.80}")
        if entry["id"] in seen:
            raise FormatError(f"{where}: id {entry['id']!r} is used by an earlier image")
        seen.add(entry["id"])
    return images


def _is_id(value: Any) -> bool:
    """Whether `value` can be a COCO id: an int or a string (not a list, dict, bool or float)."""
    return is_int(value) or isinstance(value, str)


def _image_path(source: str, entry: dict[str, Any], root: str, allow_outside_root: bool) -> str:
    """The file of an image entry, refused when missing or (unless allowed) outside `root`."""
    where = f"COCO file {source}: image {entry['id']!r} ({entry['file_name']})"
    path = os.path.normpath(os.path.join(root, entry["file_name"]))
    base = os.path.normpath(os.path.abspath(root))
    if not allow_outside_root and os.path.commonpath([os.path.abspath(path), base]) != base:
        raise FormatError(
            f"{where}: the file lies outside the images root {root}; pass "
            "allow_outside_root=True to read files outside it"
        )
    if not os.path.isfile(path):
        raise FormatError(f"{where}: file {path} not found")
    return path


def _size(source: str, entry: dict[str, Any], path: str) -> tuple[int, int]:
    """The (height, width) of an image from its file's header (after its EXIF orientation),
    refused when the entry declares another size; nothing is decoded."""
    where = f"COCO file {source}: image {entry['id']!r} ({entry['file_name']})"
    try:
        size = read_size(path, where)
    except ImageError as error:
        raise FormatError(str(error)) from None
    declared = (entry.get("height"), entry.get("width"))
    if None not in declared and declared != size:
        raise FormatError(
            f"{where}: the entry declares {declared[0]}x{declared[1]} but the file is "
            f"{size[0]}x{size[1]} (height x width, after its EXIF orientation)"
        )
    return size


def _boxes(
    source: str,
    entry: dict[str, Any],
    records: list[tuple[int, dict[str, Any]]],
    category_ids: dict[int, int],
    names: list[str],
    size: tuple[int, int],
    clips: EdgeClips,
) -> ann.Boxes:
    xyxy, labels = [], []
    for number, record in records:
        if record.get("iscrowd", 0):
            continue
        where = _where(source, number, record)
        bbox = record.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(map(is_number, bbox)):
            raise FormatError(f"{where}: 'bbox' must be [x, y, width, height], got {bbox!r}")
        x, y, w, h = (float(v) for v in bbox)
        label = names[category_ids[record["category_id"]]]
        where = f"{where} of image {entry['file_name']}"
        box = clips.fit([x, y, x + w, y + h], size, where)
        try:  # each box checked alone, so that an error names its annotation
            ann.Boxes([box], [label], canvas_size=size)
        except ValueError as error:
            raise FormatError(f"{where}: {error}") from None
        xyxy.append(box)
        labels.append(label)
    return ann.Boxes(np.array(xyxy, dtype=np.float64).reshape(-1, 4), labels)


def _mask(
    source: str,
    entry: dict[str, Any],
    records: list[tuple[int, dict[str, Any]]],
    category_ids: dict[int, int],
    size: tuple[int, int],
) -> tuple[ann.Mask | None, int]:
    """The class map of one image, whatever the order of its annotations, and how many of its
    pixels two classes claim.

    Each object (``iscrowd: 0``) paints its class. A pixel two classes claim is not labeled
    (``IGNORE``; torchvision's segmentation reference so marks pixels two masks cover); one
    that only crowd regions cover is not labeled either (COCO evaluation ignores crowds), but a
    crowd region never erases an object's pixels. A region of class 0 (a category of id 0, the
    background) labels background the pixels no object claims. None when no pixel is left labeled (nothing
    to learn from: the image stays in the pool).
    """
    height, width = size
    class_map = np.zeros((height, width), dtype=np.uint8)  # 0: no object claims the pixel
    claimed_twice = np.zeros((height, width), dtype=bool)
    crowd = np.zeros((height, width), dtype=bool)
    background = np.zeros((height, width), dtype=bool)
    for number, record in records:
        where = f"{_where(source, number, record)} of image {entry['file_name']}"
        pixels = decode(segmentation_of(record, where, "segment"), (height, width), where)
        if record.get("iscrowd", 0):
            crowd |= pixels
            continue
        class_id = category_ids[record["category_id"]]
        if class_id == 0:  # a region of the background (category id 0): what objects leave
            background |= pixels
            continue
        claimed_twice |= pixels & (class_map != 0) & (class_map != class_id)
        class_map[pixels & (class_map == 0)] = class_id
    class_map[crowd & (class_map == 0) & ~background] = ann.IGNORE
    class_map[claimed_twice] = ann.IGNORE
    if (class_map == ann.IGNORE).all():
        return None, int(claimed_twice.sum())
    return ann.Mask(class_map), int(claimed_twice.sum())


class _Overlaps:
    """Images of one "segment" import whose objects of two classes overlap, or with no pixel
    left labeled, for one warning each at the end."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.claimed: list[str] = []
        self.pixels = 0
        self.empty: list[str] = []

    def add(self, name: str, pixels: int, labeled: bool) -> None:
        if pixels:
            self.claimed.append(name)
            self.pixels += pixels
        if not labeled:
            self.empty.append(name)

    def warn(self) -> None:
        if self.claimed:
            warnings.warn(
                f"COCO file {self.source}: objects of two classes overlap in "
                f"{len(self.claimed)} image(s) ({listed(self.claimed)}); their {self.pixels} "
                "shared pixel(s) are read as not labeled (Mask.IGNORE)",
                UserWarning,
                stacklevel=3,
            )
        if self.empty:
            warnings.warn(
                f"COCO file {self.source}: {len(self.empty)} image(s) have no pixel left "
                f"labeled (all in crowd regions or claimed by two classes: "
                f"{listed(self.empty)}); they are left unlabeled",
                UserWarning,
                stacklevel=3,
            )
