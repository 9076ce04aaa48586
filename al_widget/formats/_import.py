"""What every importer shares: its error, listing image files, building the Dataset."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import annotations as ann

if TYPE_CHECKING:
    from ..dataset import Dataset

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif"}
)
"""File name endings read as images (lower case), those of torchvision's ImageFolder."""


class FormatError(ValueError):
    """Labels that cannot be read; the message names the file and the entry."""


def is_image(path: str | os.PathLike[str]) -> bool:
    """Whether the file name ends like an image."""
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def list_images(folder: str | os.PathLike[str]) -> list[str]:
    """The image files below `folder` (hidden ones left out), sorted by their path below it.

    Paths stay strings (no Path object per file): a folder of a million images lists in
    about the time of ``os.walk`` and a sort.
    """
    endings = tuple(IMAGE_EXTENSIONS)  # str.endswith: a third of is_image's time per file
    found: list[str] = []
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        prefix = os.path.join(directory, "")
        found += [prefix + f for f in files if f.lower().endswith(endings) and f[0] != "."]
    found.sort()  # every path starts with `folder`: the order of their paths below it
    return found


def check_folder(folder: str | os.PathLike[str], what: str) -> Path:
    """`folder` as a Path, refused unless it is an existing folder."""
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"{what} {path} is not a folder")
    return path


def build(
    paths: Sequence[str | os.PathLike[str]],
    classes: Sequence[str],
    task: str,
    labels: Mapping[int, tuple[ann.Annotation, str]],
) -> Dataset:
    """A Dataset over the image files `paths`, with `labels`: index -> (annotation, where it came from)."""
    from ..dataset import Dataset

    dataset = Dataset(list(paths), classes, task)
    for i in sorted(labels):
        annotation, where = labels[i]
        try:
            dataset.annotate(i, annotation)
        except ValueError as error:
            raise FormatError(f"{where}: {error}") from None
    return dataset
