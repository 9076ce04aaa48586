"""YOLO segmentation lines: ``class x1 y1 x2 y2 ...`` per object, normalised, as Ultralytics
writes and reads them (one polygon per object; parts and holes joined by bridges)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import annotations as ann
from ._import import EdgeClips, FormatError
from ._polygons import one_polygon

DIGITS = 6  # decimals kept of a vertex's pixel coordinates read back (undoes float round-off)


def class_id(text: str, classes: Sequence[str], where: str) -> int:
    """The class id a YOLO line starts with: a whole number, written as one or as a float
    (``1.0``, as ``numpy.savetxt`` and some converters write it; Ultralytics' label check reads
    every field as a float and casts the class to int); refused, naming `where`, when it is no
    whole number or no class."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value.is_integer():
        raise FormatError(f"{where}: the class must be a whole number, got {text!r:.40}")
    if not 0 <= value < len(classes):
        raise FormatError(
            f"{where}: class {int(value)} is not in 0..{len(classes) - 1} ({len(classes)} classes)"
        )
    return int(value)


def segment_lines(objects: ann.Instances, classes: Sequence[str], width: int, height: int) -> str:
    """One line per object: its class id and its outline as one polygon, normalised to 0..1."""
    lines = []
    for k, class_id in enumerate(objects.class_ids(classes).tolist()):
        polygon = np.asarray(one_polygon(objects.mask(k))).reshape(-1, 2) / (width, height)
        points = " ".join(f"{v:.10g}" for v in polygon.ravel().tolist())
        lines.append(f"{class_id} {points}\n")
    return "".join(lines)


def read_segments(
    text: str, label: Path, size: tuple[int, int], classes: Sequence[str], clips: EdgeClips
) -> ann.Instances:
    """The objects of one label file's lines (`size` is the image's (H, W)), refused naming
    the line that is not a polygon inside the image; a polygon up to ``EDGE_TOLERANCE`` px
    past the edge is clipped to it, as `clips` fits boxes (and counted there, for its warning)."""
    height, width = size
    polygons, labels, lines = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"YOLO label file {label} line {number}"
        fields = line.split()
        if not fields:
            continue
        if len(fields) == 5:
            raise FormatError(
                f"{where}: 5 numbers are a box (class cx cy w h); an 'instances' dataset "
                "needs one polygon per line: class x1 y1 x2 y2 x3 y3 ..."
            )
        if len(fields) < 7 or len(fields) % 2 == 0:
            raise FormatError(
                f"{where}: expected a class and x, y pairs of at least 3 points, "
                f"got {len(fields)} numbers"
            )
        try:
            values = np.array([float(v) for v in fields[1:]]).reshape(-1, 2)
        except ValueError:
            raise FormatError(f"{where}: expected a class and numbers, got {line!r:.80}") from None
        name = classes[class_id(fields[0], classes, where)]
        points = np.round(values * (width, height), DIGITS) + 0.0
        polygons.append(clips.fit_points(points, size, where))
        labels.append(name)
        lines.append(where)
    if not polygons:
        return ann.Instances.empty((width, height))
    masks: list[np.ndarray] = []
    seen: dict[str, str] = {}
    for polygon, name, where in zip(polygons, labels, lines, strict=True):
        try:  # each line drawn alone, so that an error names it
            one = ann.Instances.from_polygons([polygon], [name], size=(width, height))
        except ValueError as error:
            raise FormatError(f"{where}: {error}") from None
        key = one.to_rle()[0]["counts"]
        if key in seen:
            raise FormatError(f"{where}: the same mask as {seen[key]}: one object given twice")
        seen[key] = where
        masks.append(one.mask(0))
    return ann.Instances(masks, labels)
