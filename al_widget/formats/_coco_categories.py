"""COCO categories read as classes: in category id order, class 0 of "segment" (the
background), and Roboflow's project category, which no annotation uses, left out."""

from __future__ import annotations

import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .._numbers import is_int
from ._import import FormatError


@dataclass(frozen=True)
class CocoClasses:
    """The classes a COCO file's categories give.

    Parameters
    ----------
    ids : dict of int to int
        Category id -> class id.
    names : list of str
        The class names, by class id (for "segment", the background first).
    entries : tuple of dict
        The file's category entries kept, in class order (for "segment": of classes 1, 2, ...).
    """

    ids: dict[int, int]
    names: list[str]
    entries: tuple[dict[str, Any], ...]


def read_categories(
    source: str,
    entries: list[Any],
    used: Collection[Any],
    task: str,
    background: str | None,
    classes: Sequence[str] | None,
    info: Any,
) -> CocoClasses:
    """The classes of a COCO file's ``categories`` `entries`, checked.

    For "segment", class 0 is the background: named `background`, else by a category of id 0
    (COCO's ids start at 1; tools that list the background give it 0), else by the file's
    ``info["background"]`` (as ``write_coco`` stores it), else "background".

    A category whose own ``supercategory`` is ``"none"``, that no annotation uses (none of the
    category ids in `used`) and that every other category names as its ``supercategory`` is
    left out, unless `classes` are the
    classes with it; with a warning when `classes` are not given. Roboflow's COCO export lists
    the project so (``{"id": 0, "name": "pets", "supercategory": "none"}`` above ``{"id": 1,
    "name": "cat", "supercategory": "pets"}``; a one-class project may bear its class's name),
    and it is no class.

    Parameters
    ----------
    source : str
        The file, for messages.
    entries : list
        The file's ``categories``.
    used : collection
        The category ids the file's annotations use.
    task : {"detect", "segment", "instances"}
        The dataset's task.
    background : str, optional
        For "segment": the name of class 0, when given.
    classes : sequence of str, optional
        The classes expected.
    info : Any
        The file's ``info``.
    """
    entries = sorted(_checked(source, entries), key=lambda e: e["id"])
    parent = _project_category(entries, used)
    if parent is not None and (
        classes is None or _names(entries, task, background, info) != list(classes)
    ):
        entries = [e for e in entries if e is not parent]
    if parent is not None and classes is None:
        warnings.warn(
            f"COCO file {source}: category {parent['name']!r} (id {parent['id']}) is left out "
            "of the classes: no annotation uses it and it is the supercategory of all the "
            "others, as Roboflow's export lists the project; pass the classes with it "
            "(classes=[...]) to keep it",
            UserWarning,
            stacklevel=3,
        )
    names = [str(e["name"]) for e in entries]
    if len(set(names)) != len(names) or len({e["id"] for e in entries}) != len(entries):
        raise FormatError(f"COCO file {source}: category ids and names must be unique, got {names}")
    if task != "segment":
        return CocoClasses({e["id"]: k for k, e in enumerate(entries)}, names, tuple(entries))
    objects = [e for e in entries if e["id"] != 0]
    background, *object_names = _names(entries, task, background, info)
    if background in object_names:
        raise FormatError(
            f"COCO file {source}: category {background!r} is also the background's name; "
            "pass another background='...'"
        )
    category_ids = {e["id"]: k + 1 for k, e in enumerate(objects)}
    if len(objects) < len(entries):
        category_ids[0] = 0
    return CocoClasses(category_ids, [background, *object_names], tuple(objects))


def _checked(source: str, entries: list[Any]) -> list[dict[str, Any]]:
    """The category `entries`, each refused naming it unless it has an int id and a name."""
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or "id" not in entry or "name" not in entry:
            raise FormatError(
                f"COCO file {source}: category {number} must have an int 'id' and a 'name', "
                f"got {entry!r:.80}"
            )
        if not is_int(entry["id"]):  # true/false, 1.0 or "1" are no category ids
            raise FormatError(
                f"COCO file {source}: category {number} ({entry['name']!r:.80}) has id "
                f"{entry['id']!r:.80}; a category id must be an int"
            )
    return entries


def _names(
    entries: list[dict[str, Any]], task: str, background: str | None, info: Any
) -> list[str]:
    """The class names the category `entries` (sorted by id) give, for "segment" the
    background's first (see ``read_categories``)."""
    names = [str(e["name"]) for e in entries if task != "segment" or e["id"] != 0]
    if task != "segment":
        return names
    zero = [str(e["name"]) for e in entries if e["id"] == 0]
    if background is None:
        background = zero[0] if zero else _background(info)
    return [background, *names]


def _project_category(
    entries: list[dict[str, Any]], used: Collection[Any]
) -> dict[str, Any] | None:
    """The category whose supercategory is ``"none"``, that no annotation uses and that all
    the others (at least one) name as their ``supercategory``, as Roboflow lists the project;
    None when there is none. A category that is its own supercategory (``vehicle`` above
    ``car`` and ``truck``) is a class not used yet."""
    for entry in entries:
        others = [e for e in entries if e is not entry]
        if (
            others
            and entry["id"] not in used
            and entry.get("supercategory") == "none"
            and all(e.get("supercategory") == entry["name"] for e in others)
        ):
            return entry
    return None


def _background(info: Any) -> str:
    """The name of class 0 that ``write_coco`` stores in ``info["background"]``, else
    "background"."""
    name = info.get("background") if isinstance(info, dict) else None
    return name if isinstance(name, str) and name else "background"
