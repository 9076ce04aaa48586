"""What every exporter shares: the labeled items to write, and where their images go."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from .. import annotations as ann
from ._atomic import PathLike, copy_file, save_png

if TYPE_CHECKING:
    from ..dataset import Dataset


@dataclass(frozen=True)
class Exported:
    """What an export wrote.

    Parameters
    ----------
    path : Path
        The file or folder written.
    images_root : Path
        The folder the exported image file names are relative to.
    n_images : int
        How many images the export lists.
    n_annotations : int
        How many annotations it holds (boxes, masks per class, labels).
    """

    path: Path
    images_root: Path
    n_images: int
    n_annotations: int

    def __str__(self) -> str:
        return f"wrote {self.path}: {self.n_images} images, {self.n_annotations} annotations"


@dataclass(frozen=True)
class Items:
    """The images to export, in dataset order, with their annotations (None: unlabeled)."""

    indices: np.ndarray
    annotations: tuple[ann.Annotation | None, ...]


def items(dataset: Dataset, include_unlabeled: bool = False) -> Items:
    """A consistent copy of the labeled images (and, if asked, the unlabeled ones) to export."""
    snapshot = dataset.snapshot()
    if not include_unlabeled:
        return Items(snapshot.indices, snapshot.annotations)
    labeled = dict(zip(snapshot.indices.tolist(), snapshot.annotations, strict=True))
    indices = np.arange(len(dataset))
    return Items(indices, tuple(labeled.get(int(i)) for i in indices))


def check_task(dataset: Dataset, tasks: tuple[str, ...], export: str) -> None:
    """Refuse an export that cannot hold the dataset's kind of annotation."""
    if dataset.task not in tasks:
        raise ValueError(
            f"{export} holds {' or '.join(tasks)} annotations; this dataset's task is "
            f"{dataset.task!r}"
        )


def image_source(dataset: Dataset) -> Any:
    """The dataset's image source: ``rgb(i)`` and ``size(i)`` without the dataset's lock, and it
    pickles (DataLoader workers get it)."""
    return dataset._source


def source_file(dataset: Dataset, i: int) -> str | None:
    """The file image `i` is read from, or None for an in-memory image."""
    items = getattr(image_source(dataset), "items", None)
    item = None if items is None else items[i]
    return os.fspath(item) if isinstance(item, (str, os.PathLike)) else None


def image_names(
    dataset: Dataset, indices: np.ndarray, root: PathLike | None = None
) -> tuple[Path | None, dict[int, str]]:
    """Where the images of an export are found: (their root folder, index -> relative name).

    When every image is a file, the root is `root` (or the files' common folder) and the names
    are their paths below it (POSIX separators). Otherwise the root is None, every image is to
    be written as a PNG, and the names are ``000042.png`` (the dataset index).
    """
    files = {int(i): source_file(dataset, int(i)) for i in indices}
    if not files or any(f is None for f in files.values()):
        return None, {i: f"{i:06d}.png" for i in files}
    absolute = {i: os.path.abspath(f) for i, f in files.items() if f is not None}
    if root is None:
        base = Path(os.path.commonpath([os.path.dirname(f) for f in absolute.values()]))
    else:
        base = Path(os.path.abspath(root))
    names = {}
    for i, file in absolute.items():
        relative = os.path.relpath(file, base)
        if relative.startswith(os.pardir + os.sep) or relative == os.pardir:
            raise ValueError(f"image {i} ({file}) is not inside root {base}")
        names[i] = PurePath(relative).as_posix()
    return base, names


def write_image(
    dataset: Dataset, i: int, target: Path, overwrite: bool, link: bool = False
) -> None:
    """Put image `i` at `target`: its file copied (or linked), or its pixels as a PNG (not fsynced)."""
    file = source_file(dataset, i)
    if file is not None and Path(file).suffix.lower() == target.suffix.lower():
        copy_file(file, target, overwrite, link=link, sync=False)
    else:
        save_png(target, Image.fromarray(dataset.image(i)), overwrite, sync=False)
