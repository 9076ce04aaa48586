"""RGB class maps coloured by a ``labelmap.txt``, as CVAT's "Segmentation mask" export writes
them: Datumaro's VOC exporter paints each class's pixels in its label's colour
(``VocConverter.save_segm``, ``paint_mask``) and lists ``name:r,g,b:parts:actions`` per label
in ``labelmap.txt`` (``VocLabelMap.dump_to_file``), beside ``SegmentationClass/``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._import import FormatError, read_label_text

LABELMAP = "labelmap.txt"

BACKGROUND = "background"
"""The name Datumaro takes for the background label when no label is coloured black."""


class Labelmap:
    """The labels of a ``labelmap.txt`` by colour, and the class each reads as.

    Parameters
    ----------
    path : Path
        The ``labelmap.txt``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_colour: dict[tuple[int, int, int], list[str]] = {}
        names = []
        text = read_label_text(path, "mask label map")
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(":")
            where = f"mask label map {path} line {number}"
            if len(fields) != 4:
                raise FormatError(
                    f"{where}: expected name:r,g,b:parts:actions (4 fields split by ':'), "
                    f"got {line!r:.80}"
                )
            name = fields[0]
            if name in names:
                raise FormatError(f"{where}: the label {name!r} is listed twice")
            names.append(name)
            if fields[1]:
                self.by_colour.setdefault(_colour(fields[1], where), []).append(name)
        # Datumaro's VocLabelMap.find_background_label: the first label coloured black, else
        # the one named "background"
        black = self.by_colour.get((0, 0, 0), [])
        self.background = black[0] if black else BACKGROUND if BACKGROUND in names else None

    def class_map(self, rgb: np.ndarray, classes: list[str], where: str) -> np.ndarray:
        """The class map of the RGB mask `rgb` (H, W, 3): each pixel the id in `classes` of
        its colour's label, by name; the background label, when `classes` has no class of its
        name, is class 0 (the background). A colour no label has, or two labels share, or
        whose label is no class, is refused naming `where` and the colour."""
        keys = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8)
        keys |= rgb[..., 2]
        colours, inverse = np.unique(keys, return_inverse=True)
        ids = np.empty(len(colours), np.uint8)
        for k, key in enumerate(colours.tolist()):
            colour = (key >> 16, (key >> 8) & 255, key & 255)
            ids[k] = self._class_id(colour, classes, f"{where}: colour {colour}")
        return ids[inverse.reshape(keys.shape)]

    def _class_id(self, colour: tuple[int, int, int], classes: list[str], where: str) -> int:
        names = self.by_colour.get(colour, [])
        if not names:
            raise FormatError(f"{where} is no label's colour in {self.path}")
        if len(names) > 1:
            raise FormatError(f"{where} is the colour of {' and '.join(names)} in {self.path}")
        if names[0] in classes:
            return classes.index(names[0])
        if names[0] == self.background:
            return 0
        raise FormatError(
            f"{where} is the colour of {names[0]!r} in {self.path}, which is not one of the "
            f"dataset's classes {classes}"
        )


def find_labelmap(folder: Path) -> Path | None:
    """The ``labelmap.txt`` of a mask folder: in it, or else beside it (CVAT's export puts
    ``SegmentationClass/`` beside ``labelmap.txt``); None when neither is there."""
    for path in (folder / LABELMAP, folder.parent / LABELMAP):
        if path.is_file():
            return path
    return None


def _colour(text: str, where: str) -> tuple[int, int, int]:
    """An ``r,g,b`` colour of a label map line; refused naming `where` unless three numbers
    in 0..255."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and int(p) <= 255 for p in parts):
        raise FormatError(f"{where}: a colour is r,g,b, three numbers 0..255, got {text!r:.40}")
    r, g, b = (int(p) for p in parts)
    return r, g, b
