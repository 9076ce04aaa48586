"""What an export leaves beside its folder, and how it is cleaned: the swapped-out folder settled
once the new one is in place, an unfinished one discarded, whatever stopped the export.

A file is only ever deleted when it is certainly the export's or elsewhere: in a swapped-out
folder, the very file (same inode, same modification time) the export saw listed in that
folder's manifest, as its record says (``_manifest.Record``), or a hard link of the file at
the same path of the live folder; in an unfinished new folder, a file its own manifest lists
(the export wrote it there) or such a hard link. Anything else is left in place, and so is a
file that cannot be deleted, named in an ``ExportWarning`` for what it is. Cleaning never stops
an export: what cannot be cleaned is left, with the warning.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import warnings
from collections.abc import Collection
from pathlib import Path

from ._atomic import ExportWarning
from ._carry import Seen, bring_back
from ._manifest import MANIFEST, NEW, OLD, SEEN, read_manifest, read_record


def settle(old: Path, live: Path, snapshot: Seen, exported: Collection[str]) -> bool:
    """After the swap: what the user saved meanwhile moved back from `old` into `live`, then
    `old` discarded (see ``discard``); whether it is gone.

    Parameters
    ----------
    old : Path
        The swapped-out folder.
    live : Path
        The export folder, holding the new export.
    snapshot : Seen
        What the export saw of the folder before the swap.
    exported : collection of str
        The paths the new export wrote, its manifest included.
    """
    bring_back(old, live, snapshot, exported)
    return discard(old, live, snapshot, exported)


def discard(
    folder: Path, live: Path, snapshot: Seen | None = None, exported: Collection[str] = ()
) -> bool:
    """Delete a swapped-out (with `snapshot`) or unfinished export folder, file by file, keeping
    what is not certainly the export's or elsewhere; whether it is gone.

    What is kept is named in an ``ExportWarning``, for what it is: saved at a path the export
    wrote (`exported`), another version of a file `live` holds, found nowhere else, or a file
    that could not be deleted.
    """
    # A swapped-out folder's files the export replaced are those its record lists, with what
    # each was: its manifest may be gone, or list a file saved over since.
    listed = read_manifest(folder) if snapshot is None else set(snapshot.dropped)
    kept: dict[str, list[str]] = {}
    unread: list[OSError] = []
    for directory, folders, names in os.walk(folder, topdown=False, onerror=unread.append):
        here = Path(directory)
        relative = here.relative_to(folder)
        mode = _writable(here)
        for name in names + [f for f in folders if (here / f).is_symlink()]:
            path, rel = here / name, (relative / name).as_posix()
            if rel == MANIFEST:
                continue  # goes last, once nothing else is kept
            if not _goes(path, rel, live, rel in listed, snapshot):
                kept.setdefault(_why_kept(rel, live, exported), []).append(os.fspath(path))
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as error:
                why = f"that could not be deleted ({error.strerror}; "
                kept.setdefault(why, []).append(os.fspath(path))
        for name in folders:
            if not (here / name).is_symlink():
                with contextlib.suppress(OSError):  # it holds a kept file
                    (here / name).rmdir()
        if mode is not None:
            with contextlib.suppress(OSError):
                os.chmod(here, mode)
    manifest = folder / MANIFEST
    with contextlib.suppress(OSError):
        if manifest.exists() and (not kept or snapshot is not None):
            # A swapped-out folder's manifest goes even then: what it lists that is left is
            # the user's, saved over while the export ran, and a later cleaning must not take it.
            manifest.unlink()
    try:
        folder.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        _warn_kept(folder, kept, unread)
        return False
    return True


def _goes(path: Path, rel: str, live: Path, listed: bool, snapshot: Seen | None) -> bool:
    """Whether `path` (at `rel`) may be deleted: an export wrote it (its folder's manifest lists
    it, and it is the very file the export replaced, as `snapshot` saw it) or `live` holds the
    same file at `rel`."""
    try:
        if listed and (snapshot is None or snapshot.unchanged(rel, path.lstat())):
            return True
    except FileNotFoundError:
        return False
    return os.path.lexists(live / rel) and _same(path, live / rel)


def _same(a: Path, b: Path) -> bool:
    if a.is_symlink() or b.is_symlink():
        return a.is_symlink() and b.is_symlink() and os.readlink(a) == os.readlink(b)
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _writable(folder: Path) -> int | None:
    """Make `folder` writable to delete what it holds, if it is not (a read-only folder of the
    old export, swapped out); its mode before, to set again, or None if unchanged. Its files
    are the ones carried into the live folder, whose own folders keep their modes."""
    if os.access(folder, os.W_OK | os.X_OK):
        return None
    try:
        mode = stat.S_IMODE(os.lstat(folder).st_mode)
        os.chmod(folder, mode | stat.S_IWUSR | stat.S_IXUSR)
    except OSError:
        return None  # not the owner: what cannot be deleted is kept, and named
    return mode


def _why_kept(rel: str, live: Path, exported: Collection[str]) -> str:
    """What a file kept at `rel` of a folder beside `live` is, in words following a count and
    opening the parenthesis that names the first one."""
    if rel in exported:
        return (
            f"saved into {live} while the export ran, at a path the export wrote, kept as saved ("
        )
    if os.path.lexists(live / rel):
        return f"at a path where {live} now holds another file ("
    return "found nowhere else ("


def _warn_kept(folder: Path, kept: dict[str, list[str]], unread: list[OSError]) -> None:
    parts = [f"{len(paths)} file(s) {why}first: {paths[0]})" for why, paths in kept.items()]
    if unread:
        parts.append(
            f"{len(unread)} folder(s) that could not be read (first: {unread[0].filename})"
        )
    note = (
        f"left {folder} in place: it holds {', '.join(parts) or 'what it could not delete'}; "
        "look at them, then delete it yourself"
    )
    warnings.warn(ExportWarning(note), stacklevel=4)


def clean_leftovers(live: Path) -> None:
    """Finish what stopped exports into `live` left beside it: a folder set aside between two
    renames comes back, a swapped-out one is settled, an unfinished one discarded, each with
    its record. Never raises: what cannot be cleaned is left, with a warning."""
    if not live.parent.is_dir():
        return
    pattern = re.compile(rf"\.{re.escape(live.name)}\.({NEW}|{OLD}|{SEEN})-([0-9a-f]{{8}})")
    found: dict[str, dict[str, Path]] = {}
    for path in live.parent.iterdir():
        match = pattern.fullmatch(path.name)
        if match:
            found.setdefault(match[2], {})[match[1]] = path
    for token in sorted(found):
        try:
            _clean(live, found[token])
        except OSError as error:
            note = (
                f"could not clean what an earlier export into {live} left beside it "
                f"({', '.join(sorted(map(str, found[token].values())))}: {error}); left in place"
            )
            warnings.warn(ExportWarning(note), stacklevel=3)


def _clean(live: Path, paths: dict[str, Path]) -> None:
    """Clean what one stopped export (its paths beside `live`, by kind) left."""
    record = read_record(paths[SEEN]) if SEEN in paths else None
    new, old = paths.get(NEW), paths.get(OLD)
    if old is not None and old.is_dir() and not os.path.lexists(live):
        os.rename(old, live)  # stopped between the two renames: the old export comes back
        old = None
    exported = read_manifest(live) | {MANIFEST}
    gone = True
    for folder in (new, old):
        if folder is None or not folder.is_dir() or folder.is_symlink():
            continue
        if record is not None and os.lstat(folder).st_ino != record.folder:
            gone &= settle(folder, live, record.seen, exported)  # swapped out
        elif folder is old:
            gone &= discard(folder, live, Seen(), exported)  # swapped out, with no record
        else:
            gone &= discard(folder, live)  # unfinished: its manifest lists what it wrote
    if gone and SEEN in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(paths[SEEN])
