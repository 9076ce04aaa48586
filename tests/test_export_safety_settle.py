"""After the swap an export only tidies up: what stops it there (an interrupt, a file that cannot
be deleted) never deletes what the user saved meanwhile, never takes the new export back, and
never stops a later export; what it leaves beside the folder is named for what it is."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from al_widget.formats._replace import MANIFEST, replace_folder


def writers(names: Iterable[str], tag: str) -> dict[str, Callable[[Path], None]]:
    """A writer for each of `names`, writing "<tag>:<name>"."""

    def writer(text: str) -> Callable[[Path], None]:
        return lambda path: path.write_text(text) and None

    return {name: writer(f"{tag}:{name}") for name in names}


def export(folder: Path, names: Iterable[str], tag: str) -> None:
    replace_folder(folder, writers(names, tag), kind="test", overwrite=True)


def files(folder: Path) -> dict[str, str]:
    """Every file below `folder` but the export's manifest, by its path below it: its text."""
    return {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def beside(folder: Path) -> list[str]:
    """What is beside `folder` in its parent: what the exports left there."""
    return sorted(p.name for p in folder.parent.iterdir() if p != folder)
