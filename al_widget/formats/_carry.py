"""What an export folder holds besides the export: carried into the new folder, looked at again
just before the swap, and what the user saved meanwhile put back after it.

``_replace`` writes an export beside its folder and swaps the two; everything else the folder
holds is hard-linked into the new one first (``carry``). A user may save into the folder while
that runs: ``carry`` looks at the folder again until a look finds nothing changed (a few looks
at most), and ``bring_back`` moves, by rename, what the swapped-out folder still holds that
none of those looks saw (a file saved, or saved over, between the last look and the swap) back
into the live folder. A changed file at a path the export itself writes is never replaced:
before the swap it stops the export; after it, it is kept where it is, and named. A folder
that cannot be read stops the export before anything is written (``survey``).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ._atomic import ExportRefused

LOOKS = 4
"""How many times ``carry`` looks at the folder at most: the first carries everything, each
later one what changed during the one before."""

NOREPLACE, EXCHANGE = 1, 2
"""The flags of ``renameat2``: fail where the target exists; swap the two paths."""


@dataclass
class Seen:
    """What an export folder held, as the export saw it (paths below the folder, POSIX).

    Parameters
    ----------
    dropped : dict
        Each file the export replaces (the earlier export's, its manifest) -> its inode and
        modification time: the swapped-out folder's goes only while it is still that very
        file, as written (a hard link made to it elsewhere, as an export with ``link=True``
        makes, changes its change time, not these).
    carried : dict
        Each entry hard-linked (a symbolic link: made anew) into the new folder -> the inode
        of the entry in the folder, and of the one in the new folder.
    folders : set of str
        The folders made in the new folder for the folder's own.
    """

    dropped: dict[str, tuple[int, int]] = field(default_factory=dict)
    carried: dict[str, tuple[int, int]] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)

    def unchanged(self, rel: str, status: os.stat_result) -> bool:
        """Whether `status` is the entry at `rel` as the export saw it (dropped or carried)."""
        if rel in self.dropped:
            return self.dropped[rel] == (status.st_ino, status.st_mtime_ns)
        return rel in self.carried and self.carried[rel][0] == status.st_ino


def entries(folder: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every entry below `folder`, by its path below it, each folder before what it holds.

    A folder that cannot be read stops the export, named: an export never swaps away what
    it cannot see. A folder gone meanwhile holds nothing.
    """
    stack = [""]
    while stack:
        rel = stack.pop()
        path = folder / rel if rel else folder
        try:
            with os.scandir(path) as listing:
                found = list(listing)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise ExportRefused(
                f"cannot export into {folder}: it holds {path}, a folder that cannot be read "
                f"({error.strerror}); an export replaces the folder as a whole, and would lose "
                "what it cannot see: make it readable, move it away, or choose another folder"
            ) from None
        for entry in sorted(found, key=lambda e: e.name, reverse=True):
            name = f"{rel}/{entry.name}" if rel else entry.name
            yield name, entry
            if entry.is_dir(follow_symlinks=False):
                stack.append(name)


def survey(live: Path, replaced: Collection[str]) -> Seen:
    """Look at `live` before anything is written: refuse a folder that cannot be read, and
    note which file each path of `replaced` (the files the export replaces) is."""
    snapshot = Seen()
    for rel, entry in entries(live):
        if rel in replaced and not entry.is_dir(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                status = entry.stat(follow_symlinks=False)
                snapshot.dropped[rel] = (status.st_ino, status.st_mtime_ns)
    return snapshot


def carry(live: Path, staging: Path, snapshot: Seen, exported: Collection[str]) -> None:
    """Hard-link into `staging` everything in `live` but the files the export replaces, then
    look again, up to ``LOOKS`` times in all, until a look finds nothing changed.

    A file saved over (a new inode) is linked anew, a new one linked, one deleted unlinked
    from `staging`. A path the export writes (`exported`) that is no longer the file the
    export saw stops it, as does a file turned into a folder or back.
    """
    for _ in range(LOOKS):
        if not _look(live, staging, snapshot, exported):
            break
    # The folders' modes last: a read-only one is linked into first, as its owner could not.
    for rel in snapshot.folders:
        with contextlib.suppress(FileNotFoundError):
            shutil.copymode(live / rel, staging / rel)
    shutil.copymode(live, staging)


def _look(live: Path, staging: Path, snapshot: Seen, exported: Collection[str]) -> int:
    """One look at `live`: bring `staging` up to it; how many entries changed."""
    changes, seen, into = 0, set(), os.fspath(staging)
    for rel, entry in entries(live):
        seen.add(rel)
        target = os.path.join(into, rel)  # strings: a Path per entry costs more than the look
        if entry.is_dir(follow_symlinks=False):
            if rel not in snapshot.folders:
                if rel in snapshot.carried:  # a file carried before, a folder now
                    os.unlink(target)
                    del snapshot.carried[rel]
                if os.path.lexists(target) and not os.path.isdir(target):
                    raise _changed(entry.path, "is a folder now")
                os.makedirs(target, exist_ok=True)
                snapshot.folders.add(rel)
                changes += 1
            continue
        try:
            status = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if rel in exported:
            if not snapshot.unchanged(rel, status):
                raise _changed(entry.path, "changed while the export ran, and the export writes it")
            continue
        if snapshot.unchanged(rel, status):
            continue
        snapshot.dropped.pop(rel, None)  # an earlier export's file, saved over: the user's now
        if rel in snapshot.carried:
            os.unlink(target)  # the file saved over: only this link of it is the export's
            del snapshot.carried[rel]
        if _link(entry, target, live):
            made = os.lstat(target).st_ino
            snapshot.carried[rel] = (status.st_ino if entry.is_symlink() else made, made)
            changes += 1
    for rel in [r for r in snapshot.carried if r not in seen]:  # deleted meanwhile
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(into, rel))
        del snapshot.carried[rel]
        changes += 1
    for rel in sorted((r for r in snapshot.folders if r not in seen), reverse=True):
        with contextlib.suppress(OSError):  # it holds the export's files
            os.rmdir(os.path.join(into, rel))
        snapshot.folders.discard(rel)
        changes += 1
    return changes


def _link(entry: os.DirEntry[str], target: str, live: Path) -> bool:
    """Put the file of `entry` at `target` (a symbolic link: one to the same place); False
    when it is gone meanwhile."""
    try:
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        else:
            os.link(entry.path, target, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except FileExistsError:  # the new export made a folder there
        raise _changed(entry.path, "is a file now, where a folder was") from None
    except OSError as error:
        raise ExportRefused(
            f"cannot export into {live}: it holds {entry.path}, which cannot be hard-linked "
            f"into the new export ({error.strerror}); export into an empty folder"
        ) from None
    return True


def _changed(path: str, what: str) -> ExportRefused:
    return ExportRefused(
        f"{path} {what}: nothing was replaced, the folder is as it was; export again"
    )


def bring_back(old: Path, live: Path, snapshot: Seen, exported: Collection[str]) -> list[Path]:
    """Move back into `live`, by rename, what the swapped-out folder `old` holds that the
    export did not see: saved, or saved over, between its last look and the swap.

    The carried link of a file saved over is replaced by the newer file. Returns what is kept
    in `old` instead: a file at a path the export wrote, or where `live` has changed since.
    """
    kept: list[Path] = []
    stack = [""]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(os.path.join(old, here)) as listing:
                found = list(listing)
        except OSError:
            continue  # unread, so not deleted either: the folder is left with a warning
        for entry in found:
            rel = f"{here}/{entry.name}" if here else entry.name
            target = os.path.join(live, rel)
            if entry.is_dir(follow_symlinks=False):
                if os.path.isdir(target) and not os.path.islink(target):
                    stack.append(rel)
                elif rel not in snapshot.folders and not _move(entry.path, target):
                    kept.append(Path(entry.path))  # a folder made meanwhile, where live has a file
                continue
            try:
                if snapshot.unchanged(rel, entry.stat(follow_symlinks=False)):
                    continue
                if rel not in exported and _put_back(entry.path, target, snapshot.carried.get(rel)):
                    continue
            except OSError:
                pass  # left where it is, and named
            kept.append(Path(entry.path))
    return kept


def _put_back(source: str, target: str, carried: tuple[int, int] | None) -> bool:
    """Move `source` to `target`, replacing only the export's own link (`carried`) there.

    What was at `target` is first moved out of the way (swapped with `source`, or renamed
    aside), then looked at: the export's link is deleted, anything else goes back, so a file
    saved at `target` meanwhile is never replaced.
    """
    if not os.path.lexists(target):
        return _move(source, target)
    if carried is None or os.lstat(target).st_ino != carried[1]:
        return False
    if renameat2(source, target, EXCHANGE):
        if os.lstat(source).st_ino == carried[1]:
            os.unlink(source)  # the export's link of the file the user saved over
            return True
        renameat2(source, target, EXCHANGE)  # saved in live since: both stay the user's
        return False
    aside = os.path.join(os.path.dirname(source), f".{os.path.basename(source)}.aside")
    os.rename(target, aside)  # without renameat2: the file is absent from live a moment
    if os.lstat(aside).st_ino != carried[1]:
        _move(aside, target)  # saved in live since: it goes back (or stays aside, named)
        return False
    os.unlink(aside)
    return _move(source, target)


def _move(source: str, target: str) -> bool:
    """Rename `source` to `target` unless something is there; False if it is."""
    try:
        if renameat2(source, target, NOREPLACE):
            return True
        if os.path.isdir(source) and not os.path.islink(source):
            if os.path.lexists(target):
                return False
            os.rename(source, target)
        else:
            os.link(source, target, follow_symlinks=False)
            os.unlink(source)
    except OSError:  # something is there (or came meanwhile)
        return False
    return True


def renameat2(a: str | os.PathLike[str], b: str | os.PathLike[str], flags: int) -> bool:
    """Linux ``renameat2(a, b, flags)``: True when done, False where not supported.

    Parameters
    ----------
    a, b : path
        The two paths.
    flags : int
        ``NOREPLACE`` (raises FileExistsError where `b` exists) or ``EXCHANGE``.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if call(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, f"could not rename {a} to {b}: {os.strerror(code)}", os.fspath(b))
