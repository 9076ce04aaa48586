"""An export folder replaced as a whole: written beside the target, swapped in at the end.

An export into ``folder`` is written into a hidden sibling ``.<folder>.al_widget-new-<token>``,
together with hard links to everything else ``folder`` holds (the user's own files, the
dataset's images when it is exported into its own folder); the two folders are then swapped
in one step (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames, between which the
folder is briefly absent). A reader sees the old export or the new one, never a mix, and a
killed export leaves only the hidden sibling, cleaned by the next export into that folder.
Before anything is written, a sub-folder that cannot be read stops the export, named: it
would be swapped away unseen. What the user saves into ``folder`` while the hard links are
made is carried too: the folder is looked over again until a look finds nothing changed
(see ``_carry``).

Each export lists the files it wrote in ``folder/.al_widget-export.json`` (the manifest):
``overwrite=True`` replaces exactly those, and an export never deletes or replaces a file that
no export wrote, nor one of the dataset's own images. A file is only ever deleted from a folder
that was swapped out, and only when it is listed in that folder's manifest or the same file (a
hard link) is in the live folder; anything else found there is left in place, with a warning.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import secrets
import warnings
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath

from ._atomic import ExportRefused, PathTaken
from ._carry import Seen, carry, survey

MANIFEST = ".al_widget-export.json"
"""The file, in an export folder, listing the files the export wrote (POSIX paths below it)."""

NEW, OLD = "al_widget-new", "al_widget-old"
"""What the hidden siblings of an export folder are called: ``.<name>.<kind>-<token>``."""

Writer = Callable[[Path], None]
"""Writes one export file at the path it is given (a fresh path in the staging folder)."""

Protected = Callable[[str], str | None]
"""What a path is that an export must never replace or delete (words for an error: "the
dataset's journal (...)"), or None; made by ``membership``."""


def read_manifest(folder: Path) -> set[str]:
    """The files an earlier export into `folder` wrote (empty when there is no manifest)."""
    try:
        with open(folder / MANIFEST, encoding="utf-8") as file:
            data = json.load(file)
    except FileNotFoundError:
        return set()
    except (OSError, ValueError):
        return set()  # unreadable: nothing counts as the export's, so nothing is replaced
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        return set()
    return {f for f in files if isinstance(f, str) and is_relative(f)}


def is_relative(name: str) -> bool:
    """Whether `name` stays inside the folder it is read against (not absolute, no "..")."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


def replace_folder(
    folder: str | os.PathLike[str],
    files: Mapping[str, Writer],
    *,
    kind: str,
    overwrite: bool,
    protected: Protected = lambda path: None,
    in_place: Collection[str] = (),
) -> Path:
    """Write the export `files` (POSIX path below `folder` -> its writer) as `folder`'s export.

    Parameters
    ----------
    folder : path
        The export folder (created if needed).
    files : mapping of str to callable
        Each file of the export and the function that writes it.
    kind : str
        The format, recorded in the manifest ("YOLO", ...).
    overwrite : bool
        Replace an earlier export in `folder` (the files its manifest lists); otherwise any
        of them, or any file in the way, stops the export before anything is written.
    protected : callable
        What a path is that the export must never replace or delete (the dataset's images
        and journal), or None: ``membership``, which resolves the images' paths only when a
        file in `folder` is to be checked (resolving a million paths takes seconds).
    in_place : collection of str
        Paths of `files` that already are the right file in `folder` (an image exported into
        its own folder): kept as they are, not written, not listed in the manifest.

    Returns
    -------
    Path
        `folder`.
    """
    live = Path(os.path.realpath(folder))
    if os.path.lexists(live) and not live.is_dir():
        what = protected(os.fspath(live)) or "a file"
        raise ExportRefused(f"{live} is {what}; the export writes a folder there")
    here = os.path.realpath(os.getcwd())
    if live.is_dir() and (here == str(live) or here.startswith(os.path.join(live, ""))):
        raise ExportRefused(
            f"{live} holds the working folder ({here}), and an export replaces its folder as a "
            "whole: export into a sub-folder"
        )
    clean_leftovers(live)
    written = {name: writer for name, writer in files.items() if name not in in_place}
    old = read_manifest(live) if live.is_dir() else set()
    exported = {*written, MANIFEST}
    _check_way(live, [*written, MANIFEST], old, overwrite, protected)
    replaced = exported | {n for n in old - set(in_place) if protected(os.fspath(live / n)) is None}
    snapshot = survey(live, replaced) if live.is_dir() else Seen()  # refuses unreadable folders
    live.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(live, NEW)
    staging.mkdir()
    try:
        # The manifest comes first: a killed export's staging folder is cleaned by it.
        _write_manifest(staging, kind, sorted(written))
        for name, writer in written.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            writer(target)
        if live.is_dir():
            carry(live, staging, snapshot, exported)
        _swap_in(staging, live)
    except BaseException:
        if staging.exists():
            _discard(staging, live)
        raise
    return live


def membership(sources: Callable[[], Collection[str]], journal: str | None = None) -> Protected:
    """What a path's real path is to the dataset, if an export must not replace it: its
    journal, or one of `sources` (the set made on the first question); None otherwise.

    Parameters
    ----------
    sources : callable returning a collection of str
        The real paths of the dataset's image files (see ``_export.source_paths``).
    journal : str, optional
        The path of the dataset's journal (``Dataset.journal_path``).
    """
    found: list[set[str]] = []
    journal_real = None if journal is None else os.path.realpath(journal)

    def protected(path: str) -> str | None:
        real = os.path.realpath(path)
        if real == journal_real:
            return "the dataset's journal, the record of its labels"
        if not found:
            found.append(set(sources()))
        return "one of the dataset's own images" if real in found[0] else None

    return protected


def _check_way(
    live: Path, names: list[str], old: set[str], overwrite: bool, protected: Protected
) -> None:
    """Refuse, before anything is written, a path in the way that the export may not replace."""
    if not live.is_dir():
        return
    folders_seen: set[PurePosixPath] = set()
    for name in names:
        path = live / name
        for parent in PurePosixPath(name).parents:
            if str(parent) == "." or parent in folders_seen:
                continue
            folders_seen.add(parent)
            above = live / parent
            if above.is_symlink() or above.is_file():
                raise ExportRefused(f"{above} is in the way of {path}: it is not a folder")
        if not os.path.lexists(path):
            continue
        check_replaceable(path, overwrite, protected)
        if name not in old and name != MANIFEST:
            raise ExportRefused(
                f"{path} is in the way and no earlier export wrote it (the folder's {MANIFEST} "
                "does not list it); overwrite=True replaces only an earlier export's files: "
                "move it away or choose another folder"
            )


def check_replaceable(
    path: str | os.PathLike[str],
    overwrite: bool,
    protected: Protected,
    instead: str = "folder",
) -> None:
    """Refuse, before anything is written, to write a file at `path` when it is a folder,
    below a file, one of the dataset's own images or its journal (`protected`, see
    ``membership``), or any file without `overwrite`.

    Parameters
    ----------
    path : path
        Where the export writes a file.
    overwrite : bool
        Whether an existing file (not a dataset image nor its journal) may be replaced.
    protected : callable
        What a path is that the export must never replace (see ``membership``), or None.
    instead : str, default "folder"
        What the error tells the user to choose instead ("folder", "path").
    """
    if not os.path.lexists(path):
        _check_above(path)
        return
    if os.path.isdir(path) and not os.path.islink(path):
        raise ExportRefused(f"{path} is a folder where the export writes a file")
    what = protected(os.fspath(path))
    if what is not None:
        raise ExportRefused(
            f"{path} is {what}; the export would replace it: choose another {instead}"
        )
    if not overwrite:
        raise PathTaken(path)


def _check_above(path: str | os.PathLike[str]) -> None:
    """Refuse a path whose nearest existing folder above it is a file (``a.png/x.csv``)."""
    for above in Path(os.path.abspath(path)).parents:
        if os.path.lexists(above):
            if not os.path.isdir(above):
                raise ExportRefused(f"{above} is in the way of {path}: it is not a folder")
            return


def _write_manifest(folder: Path, kind: str, names: list[str]) -> None:
    text = json.dumps({"written_by": "al_widget", "format": kind, "files": names}, indent=1)
    with open(folder / MANIFEST, "x", encoding="utf-8") as file:
        file.write(text + "\n")
        file.flush()
        os.fsync(file.fileno())


def _sibling(live: Path, what: str) -> Path:
    return live.parent / f".{live.name}.{what}-{secrets.token_hex(4)}"


def _swap_in(staging: Path, live: Path) -> None:
    """Put `staging` at `live` in one step where the OS allows, then discard the old folder."""
    if not live.exists():
        os.rename(staging, live)
        return
    if _exchange(staging, live):
        _discard(staging, live)  # it now holds the old folder
        return
    old = _sibling(live, OLD)
    os.rename(live, old)
    try:
        os.rename(staging, live)
    except BaseException:
        os.rename(old, live)
        raise
    _discard(old, live)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, f"could not swap the new export into {b}: {os.strerror(code)}")


def _discard(folder: Path, live: Path) -> None:
    """Delete a swapped-out or unfinished export folder, file by file, keeping what is nowhere else.

    A file goes when `folder`'s manifest lists it (an export wrote it) or `live` holds the same
    file (a hard link carried over); anything else is left, with a warning naming the folder.
    """
    listed = read_manifest(folder)
    kept = []
    for directory, folders, names in os.walk(folder, topdown=False):
        here = Path(directory)
        relative = here.relative_to(folder)
        for name in names + [f for f in folders if (here / f).is_symlink()]:
            path = here / name
            rel = (relative / name).as_posix()
            twin = live / rel
            if rel == MANIFEST:
                continue  # goes last, once nothing else is kept
            if rel in listed or (os.path.lexists(twin) and _same(path, twin)):
                os.unlink(path)
            else:
                kept.append(path)
        for name in folders:
            path = here / name
            if not path.is_symlink():
                with contextlib.suppress(OSError):  # it holds a kept file
                    path.rmdir()
    manifest = folder / MANIFEST
    if manifest.exists() and not kept:
        manifest.unlink()
    try:
        folder.rmdir()
    except OSError:
        warnings.warn(
            f"left {folder} in place: it holds {len(kept)} file(s) found nowhere else "
            f"(first: {kept[0] if kept else '?'}); look at it and delete it yourself",
            UserWarning,
            stacklevel=3,
        )


def _same(a: Path, b: Path) -> bool:
    if a.is_symlink() or b.is_symlink():
        return a.is_symlink() and b.is_symlink() and os.readlink(a) == os.readlink(b)
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def clean_leftovers(live: Path) -> None:
    """Finish or discard what a killed export into `live` left beside it."""
    if not live.parent.is_dir():
        return
    pattern = re.compile(rf"\.{re.escape(live.name)}\.({NEW}|{OLD})-[0-9a-f]{{8}}")
    leftovers = sorted(p for p in live.parent.iterdir() if pattern.fullmatch(p.name) and p.is_dir())
    for path in leftovers:
        if OLD in path.name and not live.exists():
            os.rename(path, live)  # killed between the two renames: the old export comes back
    for path in leftovers:
        if path.exists() and path != live:
            _discard(path, live)
