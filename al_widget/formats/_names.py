"""The names a folder export gives its images: made unique up to their extension, hidden ones
made visible, and the words listing those renamed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath


def renamed_note(renamed: tuple[tuple[str, str], ...], shown: int = 3) -> str:
    """Words listing images exported under another name (the first `shown` of each kind)."""
    hidden = tuple(pair for pair in renamed if is_hidden(pair[0]))
    stems = tuple(pair for pair in renamed if not is_hidden(pair[0]))
    notes = []
    if stems:
        notes.append(
            f"{len(stems)} image(s) share a name stem with an earlier image and were exported "
            f"under another name: {_pairs(stems, shown)}"
        )
    if hidden:
        notes.append(
            f"{len(hidden)} image(s) have a hidden name (a part starting with '.', which "
            f"importers skip, as al_widget's own do) and were exported under a visible one: "
            f"{_pairs(hidden, shown)}"
        )
    return "; ".join(notes)


def _pairs(renamed: tuple[tuple[str, str], ...], shown: int) -> str:
    return listed([f"{a} as {b}" for a, b in renamed], shown)


def listed(names: Sequence[str], shown: int = 3, sep: str = ", ") -> str:
    """The first `shown` of `names` for a message, "and N more" after them.

    Parameters
    ----------
    names : sequence of str
        What to list (file names, images).
    shown : int, default 3
        How many to name.
    sep : str, default ", "
        What goes between them (``"; "`` where a name holds commas or lists of its own).
    """
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return sep.join(names[:shown]) + more


def unique_stems(names: Mapping[int, str]) -> tuple[dict[int, str], tuple[tuple[str, str], ...]]:
    """`names` (index -> POSIX name) made unique up to their extension, and those renamed.

    Formats that name a label file after its image's stem (YOLO ``a.txt``, VOC ``a.xml``, PNG
    masks ``a.png``) cannot tell ``a.jpg`` from ``a.png``. The first image in index order keeps
    its name; each later one sharing its stem (compared case-blind, as on macOS and Windows)
    gets its extension doubled, ``a.png`` -> ``a.png.png`` (label ``a.png.txt``), and a number
    before it when that is taken too, ``a.png-2.png``.
    """
    taken = {stem_key(name) for name in names.values()}
    seen: set[str] = set()
    unique, renamed = {}, []
    for i in sorted(names):
        name = names[i]
        key = stem_key(name)
        if key in seen:
            path = PurePosixPath(name)
            candidate, number = f"{name}{path.suffix}", 1
            while stem_key(candidate) in taken:
                number += 1
                candidate = f"{name}-{number}{path.suffix}"
            renamed.append((name, candidate))
            name, key = candidate, stem_key(candidate)
            taken.add(key)
        seen.add(key)
        unique[i] = name
    return unique, tuple(renamed)


def stem_key(name: str) -> str:
    """What two file names share when they differ only by extension or letter case."""
    return str(PurePosixPath(name).with_suffix("")).casefold()


def is_hidden(name: str) -> bool:
    """Whether a POSIX path below an export folder has a hidden part (``.a.png``,
    ``.cache/b.png``), which ``list_images`` and other tools' listings skip."""
    return any(part.startswith(".") for part in PurePosixPath(name).parts)


def export_names(
    names: Mapping[int, str],
) -> tuple[dict[int, str], tuple[tuple[str, str], ...]]:
    """`names` (index -> POSIX name) as a folder export writes them, and those renamed
    (name, exported name): each hidden part made visible with a leading "_" (``.a.png`` ->
    ``_.a.png``), as importers skip hidden files, then unique up to their extension (see
    ``unique_stems``).
    """
    visible = {
        i: "/".join(f"_{part}" if part.startswith(".") else part for part in name.split("/"))
        for i, name in names.items()
    }
    unique, _ = unique_stems(visible)
    renamed = tuple((names[i], unique[i]) for i in sorted(names) if unique[i] != names[i])
    return unique, renamed
