"""The names a folder export gives its images: made unique up to their extension, hidden ones
and those a format's readers take for part of its layout made visible as images, and the words
listing those renamed."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import PurePosixPath

RENAMED = {
    "stem": (
        "share a name stem with an earlier image and were exported under another name",
        "shares its name stem with another image",
    ),
    "hidden": (
        "have a hidden name (a part starting with '.', which importers skip, as al_widget's own "
        "do) and were exported under a visible one",
        "has a hidden name",
    ),
    "folder": (
        "lie in a folder named images, which YOLO readers take for the export's images folder "
        "(they would look for the label of images/x/images/b.jpg in images/x/labels/ and read "
        "the image as one with no objects), and were exported with that folder renamed",
        "lies in a folder named like one of the export's own",
    ),
    "file": (
        "are named classes, so their label file would be classes.txt, which YOLO readers "
        "(al_widget's, LabelImg) take for the class list, and were exported under another name",
        "has the name of the export's class list",
    ),
}
"""Why ``export_names`` renamed an image (see ``rename_reason``): the words for a note listing
such images, and for one image."""


def renamed_note(renamed: tuple[tuple[str, str], ...], shown: int = 3) -> str:
    """Words listing images exported under another name (the first `shown` of each kind)."""
    notes = []
    for reason, (words, _) in RENAMED.items():
        these = tuple(pair for pair in renamed if rename_reason(*pair) == reason)
        if these:
            notes.append(f"{len(these)} image(s) {words}: {_pairs(these, shown)}")
    return "; ".join(notes)


def rename_reason(name: str, exported: str) -> str:
    """Why ``export_names`` gave the image `name` the name `exported`, a key of `RENAMED`:
    "hidden" (a part of `name` is hidden), "folder" (a folder of it got a leading "_"),
    "file" (its file name did) or else "stem" (it shares a name stem with another image)."""
    if is_hidden(name):
        return "hidden"
    old, new = PurePosixPath(name).parts, PurePosixPath(exported).parts
    if any(b == f"_{a}" for a, b in zip(old[:-1], new[:-1], strict=True)):
        return "folder"
    return "file" if new[-1].startswith(f"_{old[-1]}") else "stem"


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
    names: Mapping[int, str], folders: Collection[str] = (), stems: Collection[str] = ()
) -> tuple[dict[int, str], tuple[tuple[str, str], ...]]:
    """`names` (index -> POSIX name) as a folder export writes them, and those renamed
    (name, exported name): each hidden part made visible with a leading "_" (``.a.png`` ->
    ``_.a.png``), as importers skip hidden files, and so is each part a reader of the format
    would take for part of its layout (YOLO: ``images/b.jpg`` -> ``_images/b.jpg``,
    ``classes.jpg`` -> ``_classes.jpg``); then the names are made unique up to their extension
    (see ``unique_stems``). ``rename_reason`` tells why a name was changed.

    Parameters
    ----------
    names : mapping of int to str
        Index -> the image's path below the images' common folder.
    folders : collection of str, default ()
        Folder names the format's readers take for its own (YOLO: "images"), as written.
    stems : collection of str, default ()
        File stems whose label file would be one of the format's own files (YOLO: "classes"),
        compared case-blind, as on macOS and Windows.
    """
    kept = {stem.casefold() for stem in stems}

    def visible(part: str, last: bool) -> str:
        reserved = PurePosixPath(part).stem.casefold() in kept if last else part in folders
        return f"_{part}" if part.startswith(".") or reserved else part

    made = {}
    for i, name in names.items():
        parts = name.split("/")
        made[i] = "/".join(visible(part, k == len(parts) - 1) for k, part in enumerate(parts))
    unique, _ = unique_stems(made)
    renamed = tuple((names[i], unique[i]) for i in sorted(names) if unique[i] != names[i])
    return unique, renamed
