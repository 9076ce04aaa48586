"""An export folder replaced as a whole: written beside the target, swapped in at the end.

An export into ``folder`` is written into a hidden sibling ``.<folder>.al_widget-new-<token>``,
together with hard links to everything else ``folder`` holds (the user's own files, the
dataset's images when it is exported into its own folder); the two folders are then swapped
in one step (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames, between which the
folder is briefly absent). A reader sees the old export or the new one, never a mix. Before
anything is written, a sub-folder that cannot be read stops the export, named (it would be
swapped away unseen), and so does a folder name too long for the names written beside it.
One export into a folder runs at a time (``_export_lock``): a second is refused, named.

Each export lists the files it wrote in ``folder/.al_widget-export.json`` (the manifest):
``overwrite=True`` replaces exactly those, and an export never deletes or replaces a file that
no export wrote, nor one of the dataset's own images. Just before the swap the export writes
beside the folder a record of what it saw (``_manifest.Record``), so that the folder swapped
out, though it keeps the hidden name, is never taken for an unfinished export: a file is only
deleted from it when it is the very file (same inode, same modification time) the export saw
listed in its manifest, or the same file (a hard link) is in the live folder; anything else is
left in place, and so is a file that cannot be deleted, named in a warning for what it is
(``_leftovers``). Whatever stops an export once the new folder is in place, that folder stays:
an error there is a warning, an interrupt leaves the swapped-out folder and its record, and the
next export into the folder settles them first, as a killed export's are; an export stopped
before the swap leaves only its new folder, cleaned by its manifest. Cleaning never stops an
export.

The user may save into ``folder`` while an export runs (see ``_carry``): the hard links are
looked over again until a look finds nothing changed, and after the swap what the swapped-out
folder holds that no look saw (saved, or saved over, since) is renamed back into the live
folder, never copied. What is left, honestly:

- from the swap until that rename (one walk of the swapped-out folder, a stat a file: 0.1 s
  for 5,000 files, 0.3-0.5 s for 50,000 on a busy 2-core machine), the live folder shows
  such a file as it was at the last look, or not at all; an export interrupted or killed in
  that time leaves it so until the next export into the folder;
- a file saved, after the last look, at a path the new export writes is not put back (the
  export's file is there): it is kept as saved in the swapped-out folder, which is left in
  place, and named in a warning (saved before the last look, it stops the export untouched);
  so is one saved again in the live folder before it is put back (its older copy is kept);
- a file deleted after the last look comes back (its hard link was carried), and so does the
  old name of a file renamed then;
- a process writing into the swapped-out folder itself (its working folder, or a folder
  handle opened before the swap) writes there; what it writes is kept, with the warning,
  except a file it replaces at one of the old export's paths in the instant between the
  check and the deletion of that path;
- a read-only sub-folder keeps its mode in the new folder; its swapped-out copy is made
  writable to be emptied (its mode set back if something is kept in it); one of another
  user's is left, with what it holds, and named;
- without ``renameat2`` (macOS, Windows), a file put back over the export's link of it is
  absent from the live folder for an instant (the link is renamed aside first); without
  ``fcntl`` (Windows) two exports into one folder at once are not held apart;
- a swapped-out folder left beside the folder by a version of al_widget that wrote no record
  is cleaned as an unfinished export (by its manifest) if it has the ``new`` name.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import warnings
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath

from ._atomic import ExportRefused, ExportWarning, PathTaken
from ._carry import EXCHANGE, Seen, carry, renameat2, survey
from ._export_lock import ExportLock
from ._leftovers import clean_leftovers, discard, settle
from ._manifest import (
    MANIFEST,
    NEW,
    OLD,
    SEEN,
    Record,
    beside,
    check_name,
    read_manifest,
    write_manifest,
    write_record,
)

Writer = Callable[[Path], None]
"""Writes one export file at the path it is given (a fresh path in the staging folder)."""

Protected = Callable[[str], str | None]
"""What a path is that an export must never replace or delete (words for an error: "the
dataset's journal (...)"), or None; made by ``membership``."""


def replace_folder(
    folder: str | os.PathLike[str],
    files: Mapping[str, Writer],
    *,
    kind: str,
    overwrite: bool,
    protected: Protected = lambda path: None,
    in_place: Collection[str] = (),
    placed: Callable[[], object] | None = None,
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
    placed : callable, optional
        Called once the new export is in place, before anything else, even when the export is
        interrupted from then on (COCO renames its JSON file into place then).

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
    check_name(live)
    live.parent.mkdir(parents=True, exist_ok=True)
    with ExportLock(live):
        clean_leftovers(live)
        written = {name: writer for name, writer in files.items() if name not in in_place}
        old = read_manifest(live) if live.is_dir() else set()
        exported = {*written, MANIFEST}
        _check_way(live, [*written, MANIFEST], old, overwrite, protected)
        replaced = exported | {
            n for n in old - set(in_place) if protected(os.fspath(live / n)) is None
        }
        snapshot = survey(live, replaced) if live.is_dir() else Seen()  # refuses unread folders
        _write_and_swap(live, written, kind, snapshot, exported, placed)
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


def _write_and_swap(
    live: Path,
    written: Mapping[str, Writer],
    kind: str,
    snapshot: Seen,
    exported: set[str],
    placed: Callable[[], object] | None,
) -> None:
    """Write the new export beside `live`, carry the rest of `live` into it, swap it in, then
    settle the swapped-out folder (``_leftovers.settle``)."""
    token = secrets.token_hex(4)
    staging, record = beside(live, NEW, token), beside(live, SEEN, token)
    staging.mkdir()
    made = os.lstat(staging).st_ino
    try:
        # The manifest comes first: a stopped export's new folder is cleaned by it.
        write_manifest(staging, kind, sorted(written))
        folders: set[str] = set()
        for name, writer in written.items():
            _make_folders(staging, name, folders)
            writer(staging / name)
        if live.is_dir():
            carry(live, staging, snapshot, exported)
        if not _is(staging, made):
            raise _deleted(staging)
        if os.path.lexists(live):
            write_record(record, Record(made, snapshot))
        _swap_in(staging, live)
    except BaseException as error:
        if not _is(live, made):
            lost = not _is(staging, made)
            _abandon(live, staging, made, record)
            if lost and isinstance(error, Exception):
                raise _deleted(staging) from error
            raise
        # Stopped once the new export is in place: it stays; interrupted, so does the folder
        # swapped out, with its record, for the next export into `live` to settle.
        if not isinstance(error, Exception):
            if placed is not None:
                placed()
            raise
        note = f"the export is in place in {live}, but an error came with the swap: {error}"
        warnings.warn(ExportWarning(note), stacklevel=4)
    try:
        if placed is not None:
            placed()
    finally:
        _settle_now(live, token, snapshot, exported)


def _make_folders(staging: Path, name: str, made: set[str]) -> None:
    """Make the folders above `name` in `staging` (noted in `made`), never `staging` itself:
    one deleted meanwhile is never made anew."""
    parts = PurePosixPath(name).parent.parts
    for end in range(1, len(parts) + 1):
        rel = "/".join(parts[:end])
        if rel not in made:
            with contextlib.suppress(FileExistsError):
                os.mkdir(staging / rel)
            made.add(rel)


def _is(path: Path, inode: int) -> bool:
    """Whether `path` is the folder whose inode number is `inode`."""
    try:
        return os.lstat(path).st_ino == inode
    except OSError:
        return False


def _deleted(staging: Path) -> ExportRefused:
    return ExportRefused(
        f"{staging}, the folder the new export was written into, was deleted while the export "
        "wrote it: nothing was replaced; export again"
    )


def _abandon(live: Path, staging: Path, made: int, record: Path) -> None:
    """Stopped before the swap: the old folder back if it was set aside, the new one (`made`)
    discarded, and its record; a folder at `staging` that is not the one made is left, with the
    record, to the next export's cleaning."""
    aside = beside(live, OLD, staging.name[-8:])
    with contextlib.suppress(OSError):
        if not os.path.lexists(live) and os.path.isdir(aside):
            os.rename(aside, live)
    if _is(staging, made):
        with contextlib.suppress(OSError):
            discard(staging, live)
    elif os.path.lexists(staging):
        return
    with contextlib.suppress(OSError):
        os.unlink(record)


def _settle_now(live: Path, token: str, snapshot: Seen, exported: set[str]) -> None:
    """Settle the folder swapped out of `live`, if any; then delete the export's record, unless
    something is left for the next export to settle. An error is a warning: the export is in
    place."""
    for old in (beside(live, NEW, token), beside(live, OLD, token)):
        if not os.path.isdir(old) or os.path.islink(old):
            continue
        try:
            if not settle(old, live, snapshot, exported):
                return
        except Exception as error:
            note = (
                f"the export is in place in {live}, but tidying up after it stopped ({error}): "
                f"{old}, swapped out, is left beside it, with the record of what the export saw "
                "of it, for the next export into the folder to finish"
            )
            warnings.warn(ExportWarning(note), stacklevel=5)
            return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(beside(live, SEEN, token))


def _swap_in(staging: Path, live: Path) -> Path | None:
    """Put `staging` at `live` in one step where the OS allows; the swapped-out folder, if any."""
    if not live.exists():
        os.rename(staging, live)
        return None
    if _exchange(staging, live):
        return staging  # it now holds the old folder
    old = beside(live, OLD, staging.name[-8:])
    os.rename(live, old)
    try:
        os.rename(staging, live)
    except BaseException:
        os.rename(old, live)
        raise
    return old


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where not supported."""
    try:
        return renameat2(a, b, EXCHANGE)
    except OSError as error:
        raise OSError(
            error.errno, f"could not swap the new export into {b}: {error.strerror}"
        ) from None
