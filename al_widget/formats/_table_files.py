"""Which image a CSV row's file names: its path below the images' common folder, as ``write_csv``
writes it and as the journal matches images, so that a moved folder (or one on another machine)
still matches; the absolute paths of older CSVs are read too.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

from ._import import FormatError

if TYPE_CHECKING:
    from ..dataset import Dataset


def below(file: str, folder: str) -> str:
    """`file`'s path below `folder` (which it starts with), with "/" between its parts."""
    return to_posix(file[len(folder) :])


def to_posix(path: str) -> str:
    """`path` with "/" between its parts (a Windows path's separators turned)."""
    return path if os.sep == "/" else path.replace(os.sep, "/")


class RowFiles:
    """Checks that each CSV row's file is the image its index names.

    A row's file is its image's when it is the image's path below the images' common folder
    (``Dataset.files_folder``), the image's file itself (older CSVs held the path as the dataset
    held it), or an absolute path ending in the path below that folder: the images moved, from
    one folder that every such row must agree on (a row naming another folder would be another
    image's file), with a warning once the file is read.

    Parameters
    ----------
    source : str
        The CSV file, for messages.
    dataset : Dataset
        The dataset the rows belong to.
    """

    def __init__(self, source: str, dataset: Dataset) -> None:
        self.source = source
        self.dataset = dataset
        self.folder: str | None = None
        self.looked = False
        self.moved_from: str | None = None  # the folder older rows' absolute paths are below
        self.moved_rows = 0

    def check(self, where: str, file_name: str, i: int) -> None:
        """Refuse the row at `where` unless `file_name` is image `i`'s file."""
        expected = self.dataset.source_file(i)
        if expected is None:
            raise FormatError(
                f"{where}: file {file_name!r:.200} is not image {i} (an in-memory image)"
            )
        if file_name == expected or (os.path.isabs(file_name) and _same_path(file_name, expected)):
            return  # the path as the dataset holds it: an older CSV, the images where they were
        folder = self._folder()
        if folder is None:  # some images in memory: files are named as the dataset holds them
            raise FormatError(f"{where}: file {file_name!r:.200} is not image {i} ({expected})")
        name, given = below(expected, folder), to_posix(file_name)
        if given == name:
            return
        if os.path.isabs(file_name) and given.endswith("/" + name):
            self._moved(where, file_name, i, given[: -len(name)])
            return
        hint = (
            "; its parts are separated by '\\': write '/' between them, as to_csv does"
            if "\\" in file_name and file_name.replace("\\", "/").endswith(name)
            else ""
        )
        raise FormatError(
            f"{where}: file {file_name!r:.200} is not image {i} ({expected}, {name!r} below the "
            f"images' common folder {folder or '(none)'}){hint}"
        )

    def warn(self) -> None:
        """One warning when rows were matched as moved images."""
        if self.moved_from is not None:
            warnings.warn(
                f"CSV file {self.source}: the files of {self.moved_rows} row(s) are not where the "
                f"dataset's images are (they are below {self.moved_from}); they were matched by "
                f"their paths below it and below the images' common folder {self._folder()}",
                UserWarning,
                stacklevel=3,
            )

    def _folder(self) -> str | None:
        if not self.looked:
            self.folder, self.looked = self.dataset.files_folder(), True
        return self.folder

    def _moved(self, where: str, file_name: str, i: int, old: str) -> None:
        """Accept a row whose absolute path is image `i`'s path below `old`, the one folder every
        such row must be below."""
        if self.moved_from is None:
            self.moved_from = old
        elif old != self.moved_from:
            raise FormatError(
                f"{where}: file {file_name!r:.200} is not image {i}: it would be image {i} "
                f"moved from {old}, but earlier rows' images moved from {self.moved_from}"
            )
        self.moved_rows += 1


def _same_path(one: str, other: str) -> bool:
    """Whether two paths name one file by their text (absolute, normalised; no file touched)."""
    return os.path.normcase(os.path.abspath(one)) == os.path.normcase(os.path.abspath(other))
