"""Whether an open journal's file is still at its path, and what became of it when not: replaced
by another file (as an editor or a sync tool saves, renaming a copy over it), moved or renamed,
deleted, or its folder removed. What is written to such a file is found by nobody who looks at
the path, and its lock keeps no second writer off the file that is there now."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass

ON_FROM_GONE = (
    "The dataset still holds every label it took: ds.rejournal(new_path) writes them to a new "
    "journal and goes on writing there"
)
"""How to go on labeling once the journal's file is no longer at its path."""


@dataclass(frozen=True)
class Gone:
    """What became of a journal's file that is no longer at its path.

    Parameters
    ----------
    words : str
        What happened, in words, naming the path.
    errno : int
        ``ENOENT`` when no file is at the path now, ``ESTALE`` when another one is.
    """

    words: str
    errno: int


def gone_since(path: str, fd: int, opened: os.stat_result) -> Gone | None:
    """What became of the file `fd` is open on, when it is no longer at `path` (another file is
    there, or none); None while it is.

    A path that cannot be looked at (a folder made unreadable) is no sign the file went: None.

    Parameters
    ----------
    path : str
        The journal's absolute path.
    fd : int
        The journal's open descriptor.
    opened : os.stat_result
        Its ``fstat``, taken at any time: only the device and inode are compared.
    """
    try:
        now: os.stat_result | None = os.stat(path, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        now = None
    except OSError:
        return None
    if now is not None and os.path.samestat(now, opened):
        return None
    what = _what_happened(missing=now is None, named=os.fstat(fd).st_nlink > 0)
    return Gone(f"the journal {path} {what}", errno.ENOENT if now is None else errno.ESTALE)


def _what_happened(*, missing: bool, named: bool) -> str:
    """What became of a journal's file no longer at its path, in words: `missing`, no file is
    there now (else another one is); `named`, the file still has a name (else it was deleted:
    nobody will find what is written to it)."""
    if not named and missing:
        return "was deleted since it was opened (or its folder removed)"
    if not named:
        return (
            "was replaced by another file since it was opened (as an editor or a sync tool "
            "saves: a copy renamed over it; that file is left as it is)"
        )
    restore = "Dataset.restore(its new path, images) continues it once this dataset is closed"
    if missing:
        return f"was moved or renamed since it was opened (or its folder was; {restore})"
    return f"was moved away since it was opened, and another file put at its path ({restore})"
