"""The append-only JSON-lines journal behind a Dataset: one writer at a time, no torn commits.

One writer: the writer holds an exclusive ``flock`` on the journal file for as long as it is open
(POSIX: Linux, macOS). A second writer, in this process or another, is refused with an error that
names the holder (its process id, from /proc/locks on Linux). Where ``fcntl`` is missing (Windows),
no lock is taken and one writer at a time is up to the user.

A process forked while a journal is open (a DataLoader worker, a multiprocessing pool) closes its
copy of the descriptor at once: a flock belongs to the open file, which parent and child share, so
a child keeping the copy would keep the lock after the parent's ``close()``. The child cannot
write the journal.

A journal whose file is no longer at its path (replaced by another file, as an editor or a sync
tool saves by renaming a copy over it; moved; deleted, or its folder removed) refuses every later
entry with ``JournalError``: an entry written there would go to a file nobody finds at the path,
and the lock on it would not keep a second writer off the file that is there now.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._flock import Holders, close_copy
from ._journal_place import ON_FROM_GONE, gone_since

log = logging.getLogger("al_widget")

SYNC_POLICIES = ("always", "round", "never")
HEADER_START = b'{"journal":"al_widget"'
"""How every header line starts (``Dataset._header`` puts the ``journal`` key first)."""
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_write_fd = os.write  # one name to patch in tests that simulate a full disk


class JournalError(OSError):
    """The journal could not be written; the change it would have recorded was not made."""


class JournalLocked(RuntimeError):
    """Another Dataset is writing this journal."""


def check_sync(journal_sync: str) -> None:
    """Refuse a journal_sync that is not one of SYNC_POLICIES."""
    if journal_sync not in SYNC_POLICIES:
        raise ValueError(
            f"journal_sync must be one of {', '.join(SYNC_POLICIES)}, got {journal_sync!r}"
        )


def _open(path: str, flags: int) -> int:
    """os.open of a journal that refuses a symbolic link, a missing file (unless `flags` create
    it) and anything but a regular file, saying so; a FIFO or a device is refused without
    waiting on it (opened non-blocking: no effect on a regular file)."""
    try:
        fd = os.open(path, flags | _NOFOLLOW | _NONBLOCK, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise JournalError(
                error.errno, f"journal {path} is a symbolic link; give the file's real path"
            ) from None
        if error.errno == errno.ENOENT and not flags & os.O_CREAT:
            raise FileNotFoundError(error.errno, f"no journal at {path}") from None
        if error.errno == errno.EISDIR:
            raise ValueError(_not_a_file(path, "a directory")) from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ValueError(_not_a_file(path, _file_kind(mode)))
    return fd


def _not_a_file(path: str, kind: str) -> str:
    return f"journal {path} is {kind}, not a regular file; give the path of a journal file"


def _file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((words for test, words in kinds if test(mode)), "a special file")


class Journal:
    """An open, locked journal file that entries are appended to, one line each.

    Thread safety: the owning Dataset calls it under the Dataset's lock; ``_lock`` also guards
    ``_fd`` so that ``close`` from another thread never races an append. In a forked child the
    fork hook (one thread there) closes ``_fd``, sets ``_forked`` and replaces ``_lock``.

    Parameters
    ----------
    path : str
        The journal's path.
    sync : {"round", "always", "never"}
        When to fsync: when ``sync_round`` is called and on close, after every entry, or never
        (written to the OS only: survives a killed process, not a power cut).
    create : bool, default True
        Create the file when there is none; False refuses a missing file
        (``FileNotFoundError``: "no journal at <path>"), creating nothing.
    """

    def __init__(self, path: str, sync: str = "round", *, create: bool = True) -> None:
        check_sync(sync)
        self.path, self.sync_policy = path, sync
        self._where = os.path.abspath(path)  # where its file must still be (a chdir keeps it)
        self._lock = threading.Lock()
        fd = _open(path, os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0))
        try:
            if not _HOLDERS.take(fd):
                holder = _HOLDERS.holder(
                    fd, unknown="another process or Dataset", here="this process"
                )
                raise JournalLocked(
                    f"journal {path} is being written by {holder}: one writer at a time. "
                    "Close the other Dataset (ds.close()) first, or read it without writing "
                    "with Dataset.restore(path, images, read_only=True)"
                )
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd
        self._forked = False  # True in a forked child, whose copy of the descriptor is closed
        _HOLDERS.add(self)

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._fd is None

    def at(self, path: str) -> bool:
        """Whether this journal's file is the one at `path` now (open, and neither replaced,
        moved nor deleted since, ``gone_since``).

        Parameters
        ----------
        path : str
            A path, absolute or not.
        """
        with self._lock:
            if self._fd is None or os.path.abspath(path) != self._where:
                return False
            return gone_since(self._where, self._fd, os.fstat(self._fd)) is None

    def size(self) -> int:
        """The journal's length in bytes."""
        with self._lock:
            return os.fstat(self._require()).st_size

    def read(self, limit: int | None = None) -> bytes:
        """The whole journal, or its first `limit` bytes."""
        with self._lock:
            size = os.fstat(self._require()).st_size
            return os.pread(self._require(), size if limit is None else min(size, limit), 0)

    def truncate(self, length: int) -> None:
        """Cut the journal to `length` bytes (drops a torn last line in place)."""
        with self._lock:
            os.ftruncate(self._require(), length)
            os.fsync(self._require())

    def append(self, entry: dict[str, Any]) -> None:
        """Write `entry` as one line; on failure the journal is left as it was and JournalError raised."""
        self.extend([entry])

    def extend(self, entries: list[dict[str, Any]]) -> None:
        """Write `entries`, one line each, all or none: on failure the journal is left as it was
        and JournalError raised, also when its file is no longer at its path (``gone_since``).

        Parameters
        ----------
        entries : list of dict
            The entries, in order.
        """
        lines = (json.dumps(entry, separators=(",", ":")) + "\n" for entry in entries)
        data = "".join(lines).encode("utf-8")
        with self._lock:
            fd = self._require()
            opened = os.fstat(fd)
            try:
                view = memoryview(data)
                while view:
                    view = view[_write_fd(fd, view) :]
                if self.sync_policy == "always":
                    os.fsync(fd)
                # Looked at once written: a file replaced or moved while it was written is
                # caught too; what went to it is cut back below
                gone = gone_since(self._where, fd, opened)
                if gone is not None:
                    raise JournalError(gone.errno, f"{gone.words}: {NOT_MADE}. {ON_FROM_GONE}")
            except OSError as error:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, opened.st_size)
                if isinstance(error, JournalError):
                    raise
                reason = error.strerror or str(error)
                raise JournalError(
                    error.errno or errno.EIO,
                    f"could not write the journal {self.path} ({reason}); the change was not made",
                ) from error

    def sync_round(self) -> None:
        """fsync now when the policy is 'round' (a round is starting)."""
        with self._lock:
            if self.sync_policy == "round" and self._fd is not None:
                os.fsync(self._fd)

    def close(self) -> None:
        """Release the lock and close the file; safe to call twice."""
        with self._lock:
            if self._fd is not None:
                if self.sync_policy != "never":
                    with contextlib.suppress(OSError):
                        os.fsync(self._fd)
                os.close(self._fd)  # closing the last descriptor releases the flock
                self._fd = None
            _HOLDERS.discard(self)

    def __del__(self) -> None:
        # Like a file object: a journal nobody holds any more releases its lock.
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)

    def _require(self) -> int:
        if self._fd is None:
            if self._forked:
                raise JournalError(
                    errno.EBADF,
                    f"the journal {self.path} is written by the process that opened it; this "
                    "process was forked from it and cannot write it",
                )
            raise JournalError(errno.EBADF, f"the journal {self.path} is closed")
        return self._fd

    def _close_in_child(self) -> None:
        """In a forked child: close the inherited descriptor, leaving the parent's lock alone."""
        # Never LOCK_UN here: that would unlock the parent's open file too. Closing a copy of
        # the descriptor does not unlock; the lock goes when the parent closes the last copy.
        # A new lock: a thread of the parent may have held the old one when it forked.
        self._lock = threading.Lock()
        self._forked = True
        close_copy(self)


_HOLDERS = Holders("journal")  # the journals open in this process
NOT_MADE = "the change was not made, nor will a later one be"


@dataclass(frozen=True)
class Parsed:
    """A journal's header, its complete entries with their line numbers, and its intact length."""

    header: dict[str, Any]
    entries: list[tuple[int, dict[str, Any]]]
    intact: int
    torn: bool


def read_file(path: str) -> bytes:
    """A journal's bytes, refusing to follow a symbolic link."""
    fd = _open(path, os.O_RDONLY)
    try:
        return os.pread(fd, os.fstat(fd).st_size, 0)
    finally:
        os.close(fd)


def parse(path: str, data: bytes) -> Parsed:
    """The header and entries of a journal's bytes; a torn last line (no newline) is left out.

    The header's task is only checked to be there: which tasks there are is the dataset's
    to say (``dataset.check_task``).

    Parameters
    ----------
    path : str
        The journal's path, for the errors.
    data : bytes
        Its bytes.
    """
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline, else a torn last line
    intact = len(data) - len(tail)
    if not lines:
        if holds_nothing(data):
            raise ValueError(f"{nothing_held(path, data)}; start it again with {RESTART}")
        raise ValueError(f"{path} is not an al_widget journal (it has no header line)")
    header = _json_object(path, 1, lines[0], what="header")
    for key in ("classes", "task", "n_images"):
        if key not in header:
            raise ValueError(f"{path} is not an al_widget journal (its header has no {key!r})")
    _check_header(path, header)
    entries = [(n, _json_object(path, n, line)) for n, line in _numbered(lines[1:])]
    return Parsed(header, entries, intact, torn=bool(tail))


def _check_header(path: str, header: dict[str, Any]) -> None:
    """Refuse a header whose n_images or classes is not of its kind, naming line 1."""
    where = f"journal {path} line 1: the header's"
    n_images, classes = header["n_images"], header["classes"]
    if type(n_images) is not int or n_images < 0:
        raise ValueError(
            f"{where} n_images must be a count of images (an int), got {n_images!r:.80}"
        )
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ValueError(
            f"{where} classes must be a list of class names (str), got {classes!r:.80}"
        )


RESTART = "Dataset(images, classes, journal=path), which writes a new header in its place"
"""The one way on from a journal that holds nothing: what both of Dataset's doors say or do."""


def holds_nothing(data: bytes) -> bool:
    """Whether a journal's bytes hold no complete line: empty, or a header line a kill cut short.

    Parameters
    ----------
    data : bytes
        The journal's bytes (or its first bytes: any newline means it holds a complete line).
    """
    return b"\n" not in data and (data.startswith(HEADER_START) or HEADER_START.startswith(data))


def nothing_held(path: str, data: bytes) -> str:
    """Why a journal for which `holds_nothing` is true holds no labels, in words."""
    if not data:
        return f"journal {path} is empty: it holds no labels"
    return (
        f"journal {path} holds no labels: its header line was cut short ({len(data)} bytes, "
        "no newline), as when the kernel is stopped while the journal is being created"
    )


def _numbered(lines: list[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(lines, start=2):
        if line.strip():
            yield number, line


def _json_object(path: str, number: int, line: bytes, what: str = "line") -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        raise ValueError(f"journal {path} line {number} is not valid JSON") from None
    if not isinstance(value, dict):
        raise ValueError(
            f"journal {path} line {number}: the {what} must be a JSON object, got {type(value).__name__}"
        )
    return value


def new_journal(path: str, sync: str, header: dict[str, Any]) -> Journal:
    """A new journal at `path` (which must be absent or empty), locked, with its header written.

    Parameters
    ----------
    path : str
        Where the journal is.
    sync : {"round", "always", "never"}
        Its fsync policy (``Journal``).
    header : dict
        Its first line.
    """
    journal = Journal(path, sync)
    try:
        if journal.size() > 0:
            # A header is one short line: a first MiB without a newline is no al_widget journal.
            start = journal.read(limit=1 << 20)
            if not start.startswith(HEADER_START) and not holds_nothing(start):
                raise ValueError(
                    f"{path} is a file that is no al_widget journal, left as it is: give a path "
                    "with no file, or an empty one"
                )
            if not start.startswith(HEADER_START):  # a few bytes that a file of yours may hold
                raise ValueError(
                    f"{path} holds only {start!r:.40}, the start of a journal's header cut short "
                    "or a file of yours; left as it is: delete it if it is no file of yours"
                )
            if not holds_nothing(start) or journal.size() > len(start):
                raise ValueError(
                    f"journal {path} already holds labels; continue it with Dataset.restore(path, images)"
                )
            log.warning("%s; starting it again", nothing_held(path, start))
            journal.truncate(0)
        journal.append(header)
    except BaseException:
        journal.close()
        raise
    return journal
