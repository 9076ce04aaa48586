"""An embedding cache's folder: refused when it is no folder (a file, a broken symlink), and
locked while a cache uses it.

One open cache per folder, in this process or another (a second loop on a folder would rebuild
or write files the first has memory-mapped): the lock is a ``flock`` (``_flock.Holders``), and a
second opener gets `CacheLocked` naming the holder. Where ``fcntl`` is missing (Windows), no lock
is taken.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable
from pathlib import Path

from ._flock import Holders, close_copy

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class CacheLocked(RuntimeError):
    """Another open embedding cache (another loop, here or in another process) uses this folder."""


def check_cache_dir(path: Path, called: str = "cache_dir") -> Path:
    """`path`, refused when it, or the nearest part of it that exists, is not a folder: a file,
    or a broken symlink (one to nothing, which a folder cannot be made at).

    Parameters
    ----------
    path : Path
        The ``cache_dir`` given, or a key's folder in it.
    called : str, default "cache_dir"
        What the error calls `path`.
    """
    existing = next((p for p in (path, *path.parents) if os.path.lexists(p)), None)
    if existing is None or existing.is_dir():
        return path
    if existing.is_symlink() and not existing.exists():
        what = f"a broken symlink (to {os.readlink(existing)})"
    else:
        what = "a file"
    where = f"is {what}" if existing == path else f"lies under {existing}, which is {what}"
    raise NotADirectoryError(
        f"{called} {path} {where}: the embedding cache needs a folder (made if missing)"
    )


def check_key(key: object, learner: object = None) -> str:
    """`key`, refused unless it is one plain folder name: a str, not "", "." or "..", without
    "/", "\\" or a NUL. The cache keeps a key's files in ``cache_dir/<key>/``, so any other
    key would put them in `cache_dir` itself, its parent or anywhere (an absolute path), over
    files of the user's.

    Parameters
    ----------
    key : object
        What the learner's ``embedding_key()`` returned.
    learner : object, optional
        The learner, named by its class in the error.
    """
    who = "the learner" if learner is None else type(learner).__name__
    if not isinstance(key, str):
        raise TypeError(f"embedding_key() of {who} must return a str, got {type(key).__name__}")
    if key in ("", ".", "..") or any(c in key for c in "/\\\0"):
        raise ValueError(
            f"embedding_key() of {who} returned {key!r}, which is not one plain folder name: the "
            "embedding cache keeps a key's embeddings in cache_dir/<key>/, so a key may not be "
            "'', '.' or '..' nor hold '/', '\\' or a NUL (a hash of what it identifies is one)"
        )
    return key


def check_cache_files(folder: Path, names: Iterable[str]) -> None:
    """Refuse a cache `folder` where one of `names` is there but no file of its own: a folder,
    a symbolic link (to a file elsewhere, which writing the cache would overwrite), ...; or a
    `folder` that is itself a symbolic link (the ``cache_dir`` given may be one). The cache
    neither reads such a file nor writes through it nor deletes it to write its own.

    Parameters
    ----------
    folder : Path
        A key's folder.
    names : iterable of str
        The files the cache keeps there.
    """
    if folder.is_symlink():
        raise FileExistsError(
            f"embedding cache folder {folder} is a symbolic link (to {os.readlink(folder)}): "
            "the cache writes only in folders it makes; it is left as it is: remove it, or "
            "give the loop another cache_dir"
        )
    for name in names:
        path = folder / name
        if path.is_symlink():
            kind = f"a symbolic link (to {os.readlink(path)})"
        elif os.path.lexists(path) and not path.is_file():
            kind = "a folder" if path.is_dir() else "not a regular file"
        else:
            continue
        raise (IsADirectoryError if kind == "a folder" else FileExistsError)(
            f"embedding cache {folder}: {name} is {kind}, where the cache keeps its file; "
            "it is left as it is: move it away, or give the loop another cache_dir"
        )


def cache_error(folder: Path, error: OSError, problem: str, then: str = "") -> OSError:
    """An OSError of `error`'s kind (its errno) naming the cache `folder`, `problem` and `error`.

    Parameters
    ----------
    folder : Path
        The cache key's folder.
    error : OSError
        What the file system said.
    problem : str
        What could not be done to the folder: "cannot be opened", ...
    then : str, optional
        What follows from it, or what to do.
    """
    said = error.strerror or str(error)
    if error.filename and str(error.filename) != str(folder):
        said = f"{said}: {error.filename}"
    return OSError(error.errno, f"embedding cache {folder} {problem} ({said}){then and '; '}{then}")


def is_read_only(error: OSError) -> bool:
    """Whether `error` says a file or folder may not be written (a read-only file system, or
    no permission), as opposed to a passing failure.

    Parameters
    ----------
    error : OSError
        What the file system said.
    """
    return error.errno in (errno.EROFS, errno.EACCES, errno.EPERM)


class FolderLock:
    """An exclusive ``flock`` on a folder, held until `release` (or until garbage collected).

    Parameters
    ----------
    folder : Path
        The cache key's folder; `CacheLocked` when another open cache holds it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd: int | None = None
        if fcntl is None:  # pragma: no cover - Windows: no lock
            return
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            if not _HOLDERS.take(fd):
                holder = _HOLDERS.holder(fd, unknown="another loop", here=_HERE)
                rerun = (
                    " (a loop made by a cell run before goes on until it is closed or the "
                    "kernel restarts)"
                    if holder == _HERE
                    else ""
                )
                raise CacheLocked(
                    f"embedding cache {folder} is in use by {holder}: one open loop per "
                    f"cache folder. Close the other loop (loop.close()) first{rerun}, or give "
                    "this loop another cache_dir"
                )
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        _HOLDERS.add(self)

    def release(self) -> None:
        """Close the folder, which releases the lock; safe to call twice."""
        fd, self._fd = self._fd, None
        _HOLDERS.discard(self)
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        # A cache nobody holds any more (a loop never closed) lets its folder go.
        fd = getattr(self, "_fd", None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _close_in_child(self) -> None:
        close_copy(self)  # a forked child's copy of the descriptor


_HERE = "another loop in this process"
_HOLDERS = Holders("cache")  # the cache folders locked in this process
