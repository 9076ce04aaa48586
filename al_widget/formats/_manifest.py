"""What a folder export keeps about itself: the manifest in its folder, the names of what it
writes beside the folder, and the record of what it saw, written just before the swap.

Beside ``folder`` an export writes, each named after it (``.<folder>.<kind>-<token>``, one
token an export): its new folder (``NEW``), the folder set aside between two renames where no
atomic exchange is offered (``OLD``), and the record (``SEEN``): written and synced once the new
folder is complete, just before the swap, it holds the new folder's inode number and what the
export saw of the old one (``_carry.Seen``). After the swap the hidden ``NEW`` folder holds the
old export, so its inode number alone tells the two apart, whenever the export was stopped: a
swapped-out folder is only ever cleaned with the record's checks (``_leftovers``). The lock
beside it, shorter, is ``_export_lock``'s.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ._atomic import ExportRefused
from ._carry import Seen

MANIFEST = ".al_widget-export.json"
"""The file, in an export folder, listing the files the export wrote (POSIX paths below it)."""

NEW, OLD, SEEN = "al_widget-new", "al_widget-old", "al_widget-seen"
"""What an export writes beside its folder is called ``.<name>.<kind>-<token>``."""

LONGEST = len(f"..{SEEN}-") + 8
"""How many bytes the longest of those names adds to the folder's name."""


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


def write_manifest(folder: Path, kind: str, names: list[str]) -> None:
    """Write `folder`'s manifest: the export (`kind`, "YOLO", ...) wrote `names`."""
    text = json.dumps({"written_by": "al_widget", "format": kind, "files": names}, indent=1)
    _write_synced(folder / MANIFEST, text + "\n")


def beside(live: Path, kind: str, token: str) -> Path:
    """The path of what an export (`token`) writes beside `live`, of `kind` (``NEW``, ...)."""
    return live.parent / f".{live.name}.{kind}-{token}"


def check_name(live: Path) -> None:
    """Refuse, before anything is written, a folder whose name leaves no room for the names of
    what the export writes beside it (the file system's limit, 255 bytes on most)."""
    length = len(os.fsencode(live.name))
    above = next(p for p in live.parents if os.path.isdir(p))
    try:
        limit = os.pathconf(above, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if length + LONGEST > limit:
        raise ExportRefused(
            f"cannot export into {live}: its name is {length} bytes long, and an export writes "
            f"a hidden folder beside it under its name and {LONGEST} bytes more, past the "
            f"{limit}-byte limit of the file system: choose a folder with a shorter name"
        )


@dataclass
class Record:
    """What an export saw, written beside its folder just before the swap.

    Parameters
    ----------
    folder : int
        The inode number of the new folder: the hidden folder still has it until the swap.
    seen : Seen
        What the export saw of the old folder (the files it replaces, those it carried).
    """

    folder: int
    seen: Seen


def write_record(path: Path, record: Record) -> None:
    """Write `record` at `path`, synced: the swap comes after it."""
    seen = record.seen
    data = {
        "folder": record.folder,
        "dropped": seen.dropped,
        "carried": seen.carried,
        "folders": sorted(seen.folders),
    }
    _write_synced(path, json.dumps(data, separators=(",", ":")))


def read_record(path: Path) -> Record | None:
    """The record at `path`; None when there is none, or only part of one (the export was
    stopped while writing it, before the swap). A record that cannot be read raises OSError."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
        seen = Seen(
            {rel: (int(a), int(b)) for rel, (a, b) in data["dropped"].items()},
            {rel: (int(a), int(b)) for rel, (a, b) in data["carried"].items()},
            {str(rel) for rel in data["folders"]},
        )
        return Record(int(data["folder"]), seen)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _write_synced(path: Path, text: str) -> None:
    with open(path, "x", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
