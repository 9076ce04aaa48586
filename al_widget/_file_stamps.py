"""A file's stamp: what says, without reading it, that a file may have changed since it was
read; one checker for the embedding cache and for the panel's submits. The panel keeps with it
a digest of the bytes it decoded the pixels it showed from (``PixelStamp``), which says whether a
file whose stamp changed still holds them (``same_bytes``)."""

from __future__ import annotations

import hashlib
import os
from typing import NamedTuple

Stamp = tuple[int, int, int, int]
"""A file's inode, size, mtime and ctime (ns), from one ``os.stat``."""

GONE: Stamp = (-1, -1, -1, -1)
"""The stamp of a file that cannot be stat'ed (moved, deleted)."""


def file_stamp(path: str | os.PathLike[str] | None) -> Stamp | None:
    """The stamp of the file at `path` (``GONE`` when it cannot be stat'ed); None for no file.

    A file rewritten, replaced or touched gets another stamp (its ctime changes even when its
    mtime is set back with ``os.utime``, and a rewrite in place keeps its inode and size),
    without reading it: one stat, a few microseconds. The same stamp says the file holds what
    it held; another says only that it may not (a ``chmod`` or a hard link changes the ctime).

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


class PixelStamp(NamedTuple):
    """An image file's stamp taken just before its pixels were read to be shown, and the
    digest of the bytes they were decoded from (``bytes_digest``)."""

    file: Stamp
    digest: bytes


def bytes_digest(data: bytes) -> bytes:
    """A digest of an image file's bytes (BLAKE2b, 16 bytes): hashing a file is a few percent
    of decoding it, where hashing its decoded pixels is a fifth to a half.

    Parameters
    ----------
    data : bytes
        The file's bytes, as read to be decoded.
    """
    return hashlib.blake2b(data, digest_size=16).digest()


def file_digest(path: str | os.PathLike[str]) -> bytes | None:
    """The digest of the file at `path` now (``bytes_digest``); None when it cannot be read.

    Parameters
    ----------
    path : path
        The file.
    """
    try:
        with open(path, "rb") as file:
            return bytes_digest(file.read())
    except OSError:
        return None


def still_holds(then: PixelStamp, path: str | os.PathLike[str]) -> bool:
    """Whether the file at `path` still holds the bytes read when it was stamped `then`: its
    stamp unchanged (one stat), else the same digest (a file only touched; read, not decoded).
    A file that cannot be read holds nothing.

    Parameters
    ----------
    then : PixelStamp
        The file's stamp when its pixels were read.
    path : path
        The file.
    """
    return not changed_since(then.file, file_stamp(path)) or file_digest(path) == then.digest


def same_bytes(then: PixelStamp | None, now: PixelStamp | None) -> bool:
    """Whether two reads of an image file, stamped `then` and `now`, decoded the same bytes
    (the same stamp, or the same digest): its file left as it was, or only touched (a
    ``chmod``, ``os.utime``, a hard link, the same bytes written again), so the same pixels.
    A file written again with other bytes counts as other pixels, even where they decode
    alike (another encoder's PNG). Not known on either side (None: an image in memory) is the
    same.

    Parameters
    ----------
    then, now : PixelStamp or None
        The reads' stamps.
    """
    return then is None or now is None or then.file == now.file or then.digest == now.digest
