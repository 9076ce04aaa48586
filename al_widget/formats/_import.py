"""What every importer shares: its error, listing image files, reading label files safely,
fitting boxes to their image, building the Dataset."""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import annotations as ann
from ._names import listed

if TYPE_CHECKING:
    from ..dataset import Dataset

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif"}
)
"""File name endings read as images (lower case), those of torchvision's ImageFolder."""


EDGE_TOLERANCE = 1.0
"""Pixels a box may pass its image's edge by (float round-off, edge boxes from other tools);
such a box is clipped to the image, a box further out is refused."""

LABEL_FILE_LIMIT = 16 * 2**20
"""Bytes a per-image label file (YOLO txt, VOC XML, classes.txt) may hold."""


class FormatError(ValueError):
    """Labels that cannot be read; the message names the file and the entry."""


def check_label_file(path: str | os.PathLike[str], what: str, limit: int | None) -> int:
    """The size of a label file, refused unless it is a regular file (after symbolic links)
    of at most `limit` bytes: a link to a device or a fifo would be read without end."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {os.fspath(path)} not found") from None
    if not stat.S_ISREG(info.st_mode):
        raise FormatError(f"{what} {os.fspath(path)} is not a regular file")
    if limit is not None and info.st_size > limit:
        raise FormatError(
            f"{what} {os.fspath(path)} holds {info.st_size} bytes, more than the {limit} a "
            "label file may hold"
        )
    return info.st_size


def read_label_bytes(
    path: str | os.PathLike[str], what: str, limit: int = LABEL_FILE_LIMIT
) -> bytes:
    """The bytes of a small label file: a regular file of at most `limit` bytes."""
    check_label_file(path, what, limit)
    with open(path, "rb") as file:
        data = file.read(limit + 1)  # the file may have grown since it was checked
    if len(data) > limit:
        raise FormatError(f"{what} {os.fspath(path)} holds more than {limit} bytes")
    return data


def read_label_text(path: str | os.PathLike[str], what: str, limit: int = LABEL_FILE_LIMIT) -> str:
    """The text of a small label file: a regular file of at most `limit` bytes, UTF-8 (a
    byte-order mark, as Windows tools write, is dropped); refused otherwise, naming it."""
    return decode_text(read_label_bytes(path, what, limit), f"{what} {os.fspath(path)}")


def decode_text(data: bytes, where: str) -> str:
    """`data` as UTF-8 text (a leading byte-order mark dropped), or an error naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FormatError(f"{where} line {line} is not UTF-8 text ({error.reason})") from None


def inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether `path` lies inside the folder `root`, following symbolic links of both."""
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([real, real_root]) == real_root


def check_inside(
    path: str | os.PathLike[str], root: str | os.PathLike[str], what: str, allowed: bool
) -> None:
    """Refuse a file outside `root` (a link out of it, ``..``) unless `allowed`; its contents
    are never read for the message."""
    if not allowed and not inside(path, root):
        raise FormatError(
            f"{what} {os.fspath(path)} lies outside {os.fspath(root)}; pass "
            "allow_outside_root=True to read files outside it"
        )


class EdgeClips:
    """Boxes (or polygons) of one import fitted to their images: those up to
    ``EDGE_TOLERANCE`` px outside are clipped (and counted, for one warning at the end), those
    further out refused."""

    def __init__(self, source: str, shapes: str = "box(es)") -> None:
        self.source = source
        self.shapes = shapes
        self.count = 0
        self.first = ""

    def fit(self, box: Sequence[float], size: tuple[int, int], where: str) -> list[float]:
        """`box` (x0, y0, x1, y1) clipped to the (height, width) image."""
        height, width = size
        x0, y0, x1, y1 = (float(v) for v in box)
        if _beyond((x0, y0), (x1, y1), size):
            raise FormatError(
                f"{where}: box {[x0, y0, x1, y1]} lies more than {EDGE_TOLERANCE:g} px outside "
                f"the {width}x{height} image (width x height)"
            )
        clipped = [max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height))]
        if clipped != [x0, y0, x1, y1]:
            self._clipped(where)
        return clipped

    def fit_points(self, points: np.ndarray, size: tuple[int, int], where: str) -> np.ndarray:
        """A polygon's `points` (n, 2: x, y) clipped to the (height, width) image; returned as
        they are when one is not finite or lies further out, for the polygon's own check to
        refuse, naming that point."""
        height, width = size
        if not points.size or not np.isfinite(points).all():
            return points
        if _beyond(points.min(axis=0), points.max(axis=0), size):
            return points
        clipped = np.clip(points, 0.0, (float(width), float(height)))
        if not np.array_equal(clipped, points):
            self._clipped(where)
        return clipped

    def _clipped(self, where: str) -> None:
        self.count += 1
        self.first = self.first or where

    def warn(self) -> None:
        """One warning for the clipped boxes, if any."""
        if self.count:
            warnings.warn(
                f"{self.source}: {self.count} {self.shapes} passed their image's edge by up to "
                f"{EDGE_TOLERANCE:g} px and were clipped to it (the first: {self.first})",
                stacklevel=3,
            )


def _beyond(low: Sequence[float], high: Sequence[float], size: tuple[int, int]) -> bool:
    """Whether the extent from `low` (x, y) to `high` passes the (height, width) image's
    edge by more than ``EDGE_TOLERANCE`` px."""
    height, width = size
    tol = EDGE_TOLERANCE
    return bool(low[0] < -tol or low[1] < -tol or high[0] > width + tol or high[1] > height + tol)


def is_image(path: str | os.PathLike[str]) -> bool:
    """Whether the file name ends like an image."""
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS


MACOS_ZIP_FOLDER = "__MACOSX"
"""The folder macOS's Finder adds to a zip it makes: resource forks (``._a.jpg``), never images."""


def is_skipped_folder(name: str) -> bool:
    """Whether listings leave out a folder named `name`: a hidden one (``.git``,
    ``.ipynb_checkpoints``) or a macOS zip's ``__MACOSX``."""
    return name.startswith(".") or name == MACOS_ZIP_FOLDER


def list_images(
    folder: str | os.PathLike[str],
    follow_links: bool = False,
    on_alias: Callable[[str, str], None] | None = None,
) -> list[str]:
    """The image files below `folder`, sorted by their path below it.

    Hidden files and the folders ``is_skipped_folder`` names are left out; a macOS zip's
    ``__MACOSX`` folder with a warning naming it, and so are image files that are symbolic
    links to no file (their target gone): each would fail only when decoded.

    Paths stay strings (no Path object per file): a folder of a million images lists in
    about the time of ``os.walk`` and a sort; only files that are symbolic links are looked
    up. With `follow_links`, folders that are symbolic links are listed too (as torchvision's
    ImageFolder does), each real folder once, so that a link cycle ends.

    Parameters
    ----------
    folder : path
        The folder to list.
    follow_links : bool, default False
        List folders that are symbolic links too.
    on_alias : callable, optional
        With `follow_links`, called as ``on_alias(first, second)`` when a real folder is
        reached by a second path that is no link back to a folder above it (a cycle); its
        images are listed under `first` only. Called so too, once the folder is listed, when
        an image file is listed under a second path (a symbolic link to a file listed, or to
        the same file as another link): both stay listed.
    """
    endings = tuple(IMAGE_EXTENSIONS)  # str.endswith: a third of is_image's time per file
    found: list[str] = []
    linked: list[str] = []
    seen: dict[str, str] = {}
    zip_folders: list[str] = []
    to_visit = [os.fspath(folder)]
    while to_visit:
        directory = to_visit.pop()
        if follow_links:
            real = os.path.realpath(directory)
            if real in seen:
                if on_alias is not None and not _links_back(directory, real):
                    on_alias(seen[real], directory)
                continue
            seen[real] = directory
        subfolders, files, links = _entries(directory, follow_links)
        prefix = os.path.join(directory, "")
        if MACOS_ZIP_FOLDER in subfolders:
            zip_folders.append(prefix + MACOS_ZIP_FOLDER)
        # depth first, in listing order, as os.walk goes
        to_visit += [prefix + d for d in reversed(subfolders) if not is_skipped_folder(d)]
        found += [prefix + f for f in files if f.lower().endswith(endings) and f[0] != "."]
        linked += [prefix + f for f in links if f.lower().endswith(endings) and f[0] != "."]
    source = os.fspath(folder)
    if zip_folders:
        warnings.warn(
            f"{source}: left out {', '.join(sorted(zip_folders))}: the resource forks "
            "macOS's Finder adds to a zip (._ files), never images",
            UserWarning,
            stacklevel=4,
        )
    dangling = sorted(link for link in linked if not os.path.exists(link))
    if dangling:
        warnings.warn(
            f"{source}: left out {len(dangling)} image file(s) that are symbolic links to no "
            f"file: {listed(dangling, 5)}",
            UserWarning,
            stacklevel=4,
        )
        gone = set(dangling)
        linked = [link for link in linked if link not in gone]
    if follow_links and on_alias is not None:
        for first, second in _file_aliases(sorted(linked), seen, endings):
            on_alias(first, second)
    found += linked
    found.sort()  # every path starts with `folder`: the order of their paths below it
    return found


def _entries(directory: str, follow_links: bool) -> tuple[list[str], list[str], list[str]]:
    """The names of `directory`'s sub-folders (those that are symbolic links only with
    `follow_links`), of its other files, and of those files that are symbolic links; nothing
    when it cannot be read, as ``os.walk`` leaves such a folder out.

    The kinds come with the listing (no call to the OS per file) but for symbolic links, which
    are looked up to know whether they lead to a folder.
    """
    subfolders: list[str] = []
    files: list[str] = []
    links: list[str] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):  # most entries: one call, no lookup
                    files.append(entry.name)
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:  # as os.path.isdir: not a folder
                    is_dir = False
                if not entry.is_symlink():
                    (subfolders if is_dir else files).append(entry.name)
                elif not is_dir:
                    links.append(entry.name)
                elif follow_links:
                    subfolders.append(entry.name)
    except OSError:
        return [], [], []
    return subfolders, files, links


def _file_aliases(
    links: list[str], seen: dict[str, str], endings: tuple[str, ...]
) -> list[tuple[str, str]]:
    """(first, second) for each image file that `links` list under a second path: the real
    file's path when it is listed (in a folder of `seen`, real folder -> path listed) and each
    link to it, or the first of the links to one file and each other one."""
    by_real: dict[str, list[str]] = {}
    for link in links:
        by_real.setdefault(os.path.realpath(link), []).append(link)
    pairs = []
    for real, paths in by_real.items():
        directory, name = os.path.split(real)
        listed = seen.get(directory)
        if listed is not None and name.lower().endswith(endings) and name[0] != ".":
            paths = [os.path.join(listed, name), *paths]
        pairs += [(paths[0], other) for other in paths[1:]]
    return pairs


def _links_back(directory: str, real: str) -> bool:
    """Whether `directory`, whose real path is `real`, is a link to a folder above it."""
    above = os.path.realpath(os.path.dirname(directory))
    return above == real or above.startswith(os.path.join(real, ""))


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
