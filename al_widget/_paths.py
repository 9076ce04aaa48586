"""File paths held compactly: one bytes blob and an offsets array instead of a str object per path."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, overload

import numpy as np

_SEP = b"\0"  # cannot occur in a file path, so it can end each one in the blob
_ENCODING, _ERRORS = "utf-8", "surrogateescape"  # os.fsencode's, on POSIX


def to_paths(items: Iterable[Any]) -> list[str] | None:
    """`items` as a list of str paths when every one is a str or os.PathLike, else None."""
    try:
        found = list(map(os.fspath, items))
    except TypeError:
        return None
    if found and not all(type(p) is str for p in found):
        found = [os.fsdecode(p) for p in found]  # bytes paths, decoded as the OS does
    return found


def _pack(paths: list[str]) -> tuple[bytes, np.ndarray]:
    """The blob of `paths`, each ended by a NUL byte, and the position of each end."""
    sep = _SEP.decode()
    blob = sep.join([*paths, ""]).encode(_ENCODING, _ERRORS) if paths else b""
    ends = np.flatnonzero(np.frombuffer(blob, np.uint8) == 0)
    if len(ends) != len(paths):
        bad = next(i for i, p in enumerate(paths) if sep in p)
        raise ValueError(f"path {bad} ({paths[bad]!r}) contains a NUL character")
    return blob, ends.astype(np.int64, copy=False)


def path_table(items: Iterable[Any]) -> PathTable | None:
    """`items` as a PathTable when every one is a str or os.PathLike, else None."""
    if isinstance(items, PathTable):
        return items
    found = to_paths(items)
    return None if found is None else PathTable._from_parts(*_pack(found))


class PathTable(Sequence[str]):
    """A read-only sequence of file paths stored in one bytes blob: about (length + 9) bytes a path.

    A list of a million str paths costs ~90 bytes each and pickles a million objects; a
    PathTable is two buffers, so it builds in a vectorised pass and pickles as two.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        The file paths, in order.
    """

    __slots__ = ("_blob", "_ends")

    def __init__(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        found = to_paths(paths)
        if found is None:
            raise TypeError("paths must be a sequence of str or os.PathLike")
        self._blob, self._ends = _pack(found)

    @classmethod
    def _from_parts(cls, blob: bytes, ends: np.ndarray) -> PathTable:
        table = cls.__new__(cls)
        table._blob, table._ends = blob, ends
        return table

    def __reduce__(self) -> tuple[Any, ...]:
        return (PathTable._from_parts, (self._blob, self._ends))

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> PathTable: ...

    def __getitem__(self, i: int | slice) -> str | PathTable:
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"path index {i} is out of range for {n} paths")
        i = int(i) % n
        start = int(self._ends[i - 1]) + 1 if i else 0
        return self._blob[start : int(self._ends[i])].decode(_ENCODING, _ERRORS)

    def __repr__(self) -> str:
        return f"PathTable({len(self):,} paths, {self.nbytes:,} bytes)"

    @property
    def nbytes(self) -> int:
        """Bytes held: the blob and the offsets."""
        return len(self._blob) + self._ends.nbytes

    def relative(self) -> tuple[str, bytes]:
        """The folder all paths are in and the paths relative to it, as one blob.

        The folder is the longest one every path starts with ("" when there is none), ending in
        its separator; the blob holds each path with that folder cut off, ended by a NUL byte.
        Read from the blob alone: a scan per level of folder, no file touched.
        """
        if not len(self):
            return "", b""
        blob, first = self._blob, self._blob[: int(self._ends[0])]
        seps = {ord("/"), ord(os.sep)}
        for end in sorted((k + 1 for k, byte in enumerate(first) if byte in seps), reverse=True):
            folder = first[:end]
            # a NUL ends each path, so NUL + folder occurs exactly where a later path starts
            # with the folder
            if blob.count(_SEP + folder) == len(self) - 1:
                relative = blob[end:].replace(_SEP + folder, _SEP)
                return folder.decode(_ENCODING, _ERRORS), relative
        return "", blob

    def take(self, indices: np.ndarray) -> PathTable:
        """The paths at `indices`, in that order, as a new table."""
        picked = np.asarray(indices, dtype=np.int64)
        ends = self._ends[picked]
        starts = np.where(picked > 0, self._ends[picked - 1] + 1, 0)
        blob = self._blob
        joined = b"".join(
            [blob[s : e + 1] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
        )
        return PathTable._from_parts(joined, np.cumsum(ends - starts + 1) - 1)
