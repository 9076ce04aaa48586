"""A file's stamp: what says, without reading it, that a file was rewritten, replaced or touched
since it was read; one checker for the embedding cache and for the panel's submits."""

from __future__ import annotations

import os

Stamp = tuple[int, int, int, int]
"""A file's inode, size, mtime and ctime (ns), from one ``os.stat``."""

GONE: Stamp = (-1, -1, -1, -1)
"""The stamp of a file that cannot be stat'ed (moved, deleted)."""


def file_stamp(path: str | os.PathLike[str] | None) -> Stamp | None:
    """The stamp of the file at `path` (``GONE`` when it cannot be stat'ed); None for no file.

    A file rewritten, replaced or touched gets another stamp (its ctime changes even when its
    mtime is set back with ``os.utime``), without reading it: one stat, a few microseconds.

    Parameters
    ----------
    path : path or None
        The file; None for an image given in memory, which has none.
    """
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return GONE
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def changed_since(then: Stamp | None, now: Stamp | None) -> bool:
    """Whether a file stamped `then` when it was read has another stamp `now`: rewritten,
    replaced, touched or gone since. Not known on either side (None: an image in memory) is
    no change.

    Parameters
    ----------
    then, now : Stamp or None
        The file's stamps (``file_stamp``).
    """
    return then is not None and now is not None and then != now
