"""Exclusive ``flock``s held by open descriptors (a journal file, an embedding cache folder): taken
without waiting on another holder, the holder named in words, and let go by a forked child.

A flock belongs to the open file, which a process forked while it is held shares: each kind of
holder keeps its open descriptors in a ``Holders``, whose fork hook closes the child's copies at
once (never unlocking: that would unlock the parent's too). A child forked a moment ago may still
hold such a copy when the lock is asked for; it is waited for, up to ``FORKED_COPY_WAIT`` seconds.
Where ``fcntl`` is missing (Windows) no lock is taken.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from typing import Protocol

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FORKED_COPY_WAIT = 1.0  # seconds a lock held by a just-forked child's copy is waited for


class Holder(Protocol):
    """An object holding a flock through its open descriptor ``_fd`` (None once closed)."""

    _fd: int | None

    def _close_in_child(self) -> None:
        """In a forked child: close the inherited descriptor, leaving the parent's lock alone."""


class Holders:
    """The holders of one kind open in this process (journals, cache folders).

    Parameters
    ----------
    thing : str
        What they hold, as words name it ("journal", "cache").
    """

    def __init__(self, thing: str) -> None:
        self.thing = thing
        self._open: weakref.WeakSet[Holder] = weakref.WeakSet()
        if hasattr(os, "register_at_fork"):  # POSIX
            os.register_at_fork(after_in_child=self._close_in_child)

    def add(self, holder: Holder) -> None:
        """Count `holder`, which holds its lock now."""
        self._open.add(holder)

    def discard(self, holder: Holder) -> None:
        """Forget `holder`, closed."""
        self._open.discard(holder)

    def take(self, fd: int) -> bool:
        """Take the exclusive lock on what `fd` is open on; False if another holder has it.

        A lock held by a copy of a descriptor of this process (a child forked a moment ago), or
        one gone by the time /proc/locks is read, is tried again for up to ``FORKED_COPY_WAIT``
        seconds; a lock another process or another holder of this one has is refused at once.
        """
        if fcntl is None:  # pragma: no cover - Windows
            return True
        deadline = time.monotonic() + FORKED_COPY_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                owner = lock_owner(fd)
                if owner is not None and not self._held_by_a_copy(fd, owner):
                    return False
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.005)

    def holder(self, fd: int, *, unknown: str, here: str) -> str:
        """Who holds the lock on what `fd` is open on, in words: "process 4321", a process
        forked from this one, `here` (a holder of this process) or `unknown` (no /proc/locks).

        Parameters
        ----------
        fd : int
            A descriptor open on what is locked.
        unknown, here : str
            The words for a holder the platform does not name, and for one of this process.
        """
        pid = lock_owner(fd)
        if pid is None:
            return unknown
        if pid != os.getpid():
            return f"process {pid}"
        if self._held_by_a_copy(fd, pid):
            # Listed under the pid that took it, but no holder of this process has it: a copy of
            # the descriptor does, e.g. in a child forked past the fork hook (a fork from C code).
            return (
                f"a process forked from this one while the {self.thing} was open (or another "
                "copy of its file descriptor)"
            )
        return here

    def _held_by_a_copy(self, fd: int, owner: int) -> bool:
        """Whether the lock listed under `owner` was taken in this process but no holder open
        here has it."""
        return owner == os.getpid() and not self._here(os.fstat(fd))

    def _here(self, stat: os.stat_result) -> bool:
        """Whether a holder open in this process is open on what `stat` describes."""
        for holder in list(self._open):
            fd = holder._fd
            with contextlib.suppress(OSError):
                if fd is not None and os.path.samestat(os.fstat(fd), stat):
                    return True
        return False

    def _close_in_child(self) -> None:
        for holder in list(self._open):
            holder._close_in_child()
        self._open.clear()


def close_copy(holder: Holder) -> None:
    """In a forked child: close `holder`'s inherited descriptor, leaving the parent's lock
    alone (never ``LOCK_UN``: that would unlock the parent's open file too; closing a copy of
    the descriptor does not unlock it).

    Parameters
    ----------
    holder : Holder
        The holder whose ``_fd`` the child inherited.
    """
    fd, holder._fd = holder._fd, None
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def lock_owner(fd: int) -> int | None:
    """The process id /proc/locks lists for the flock on what `fd` is open on (Linux), or None."""
    try:
        inode = os.fstat(fd).st_ino
        with open("/proc/locks", encoding="ascii") as locks:
            for line in locks:
                fields = line.split()
                # e.g. "1: FLOCK  ADVISORY  WRITE 4321 08:01:123456 0 EOF"
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].endswith(f":{inode}"):
                    return int(fields[4])
    except (OSError, ValueError):
        pass
    return None
