"""Instance mode's objects on the canvas: made from masks, changed by the browser's edits, sent
to the browser as runs, and read back as masks.

An object is a ``_protocol.ObjectEdit``: an id, a class id, whether it is a model draft, and its
mask as the rect it lies in and that rect's pixels. The canvas holds a tuple of them, bottom
first; the pure functions here make and change such tuples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..instances import Instances, SameMask
from ._box_messages import MAX_BOXES
from ._protocol import ObjectDelete, ObjectEdit, ObjectOrder
from ._refusal import ProtocolError

Objects = tuple[ObjectEdit, ...]


def objects_from_masks(
    masks: np.ndarray | Sequence[np.ndarray],
    labels: Sequence[int] | np.ndarray,
    *,
    width: int,
    height: int,
    n_classes: int,
    draft: bool = False,
    first_id: int = 1,
    name: str = "instances",
) -> list[ObjectEdit]:
    """One object per mask, ids counted from `first_id`.

    Parameters
    ----------
    masks
        (N, H, W) bool masks (or a list of (H, W) ones), each with at least one pixel.
    labels
        The N class ids, each below `n_classes`.
    width, height
        The image's size: each mask's shape must be (height, width).
    n_classes
        How many classes there are.
    draft
        Whether the objects are the model's drafts (to accept, edit or delete).
    first_id
        The first object's id.
    name
        What the objects are called in error messages.

    Raises
    ------
    ValueError
        Naming the object: a mask of another shape or without a pixel, or a label that names
        no class.
    """
    labels = [int(v) for v in np.asarray(labels).reshape(-1)]
    if len(masks) != len(labels):
        raise ValueError(f"{name}: got {len(masks)} masks but {len(labels)} labels")
    out = []
    for i, (mask, label) in enumerate(zip(masks, labels, strict=True)):
        arr = np.asarray(mask)
        if arr.shape != (height, width):
            raise ValueError(
                f"{name}[{i}]: mask must have shape {(height, width)}, got {arr.shape}"
            )
        if not 0 <= label < n_classes:
            raise ValueError(
                f"{name}[{i}]: label must be a class id in [0, {n_classes}), got {label}"
            )
        on = arr.astype(bool)
        rows, cols = np.flatnonzero(on.any(axis=1)), np.flatnonzero(on.any(axis=0))
        if not len(rows):
            raise ValueError(f"{name}[{i}]: its mask is empty (an object has pixels)")
        x0, x1, y0, y1 = int(cols[0]), int(cols[-1]) + 1, int(rows[0]), int(rows[-1]) + 1
        bits = on[y0:y1, x0:x1].astype(np.uint8).tobytes()
        out.append(ObjectEdit(first_id + i, label, draft, (x0, y0, x1, y1), bits))
    return out


def applied(objects: Objects, edit: ObjectEdit | ObjectDelete | ObjectOrder) -> Objects:
    """`objects` after one edit from the browser; ProtocolError if it names no object held.

    Parameters
    ----------
    objects
        The objects, bottom first.
    edit
        An object made or changed (a new one goes on top, unless the image holds
        ``_box_messages.MAX_BOXES`` objects already), removed, or the new order (the ids held, each
        once).
    """
    ids = [o.id for o in objects]
    if isinstance(edit, ObjectEdit):
        if edit.id in ids:
            return tuple(edit if o.id == edit.id else o for o in objects)
        if len(objects) >= MAX_BOXES:
            raise ProtocolError(
                f"instance {edit.id}: an image holds at most {MAX_BOXES} objects, "
                f"it has {len(objects)}"
            )
        return (*objects, edit)
    if isinstance(edit, ObjectDelete):
        if edit.id not in ids:
            raise ProtocolError(f"instance_delete: there is no object {edit.id} to delete")
        return tuple(o for o in objects if o.id != edit.id)
    if sorted(edit.order) != sorted(ids):
        raise ProtocolError(
            f"instance_order must name the objects held ({sorted(ids)}), got {list(edit.order)}"
        )
    by_id = {o.id: o for o in objects}
    return tuple(by_id[i] for i in edit.order)


def runs(bits: bytes) -> list[int]:
    """The lengths of the runs of `bits` (0 or 1 each), the first one of 0s (maybe empty)."""
    flat = np.frombuffer(bits, dtype=np.uint8)
    if not flat.size:
        return []
    starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], starts, [flat.size]))
    lengths = np.diff(bounds).tolist()
    return [0, *lengths] if flat[0] else lengths


def object_json(obj: ObjectEdit) -> dict[str, Any]:
    """One object as the browser is sent it (js/src/objectsin.js's objectsOf reads it)."""
    found = {
        "id": obj.id,
        "label": obj.label,
        "draft": obj.draft,
        "rect": list(obj.rect),
        "runs": runs(obj.bits),
    }
    if obj.score is not None:
        found["score"] = obj.score
    return found


def masks_of(objects: Sequence[ObjectEdit], *, width: int, height: int) -> np.ndarray:
    """The objects' masks as one (N, height, width) bool array, in their order."""
    out = np.zeros((len(objects), height, width), dtype=bool)
    for k, obj in enumerate(objects):
        out[k] = obj.mask(width=width, height=height)
    return out


def objects_of(
    instances: Instances,
    classes: Sequence[str],
    *,
    draft: bool = False,
    first_id: int = 1,
    scores: np.ndarray | None = None,
) -> list[ObjectEdit]:
    """The objects of an ``Instances`` (a label, or the model's drafts when `draft`).

    Parameters
    ----------
    instances
        The objects, their masks of the image's size.
    classes
        The dataset's class names, which the objects' classes name.
    draft
        Whether they are the model's drafts, to accept, edit or delete.
    first_id
        The first object's id.
    scores
        (N,) each draft's confidence, shown on its tag (rounded to 4 places); None: none.
    """
    width, height = instances.size
    made = objects_from_masks(
        instances.masks,
        instances.class_ids(classes),
        width=width,
        height=height,
        n_classes=len(classes),
        draft=draft,
        first_id=first_id,
    )
    if scores is None or len(scores) != len(made):
        return made
    clean = np.clip(np.nan_to_num(np.asarray(scores, np.float64), nan=0.0), 0.0, 1.0)
    return [
        dataclasses.replace(o, score=round(float(s), 4)) for o, s in zip(made, clean, strict=True)
    ]


def instances_of(
    objects: Sequence[ObjectEdit], classes: Sequence[str], *, width: int, height: int
) -> Instances:
    """The ``Instances`` the objects on the canvas make, to submit: those drawn or accepted;
    drafts left undecided are not stored. A ValueError says what is missing (no object).

    Parameters
    ----------
    objects
        The canvas's objects, bottom first.
    classes
        The dataset's class names.
    width, height
        The image's size.
    """
    kept = [o for o in objects if not o.draft]
    if not kept and objects:
        raise ValueError(
            "no objects: accept drafts (A, or Shift+A for all), draw one, or press N "
            "(No objects) if there is nothing here"
        )
    if not kept:
        raise ValueError("no objects: draw one (polygon, or a brush stroke) first")
    masks, names = masks_of(kept, width=width, height=height), [classes[o.label] for o in kept]
    try:
        return Instances(masks, names)
    except SameMask as same:  # named as the canvas tags them, by class, not by position
        first, second = names[same.first], names[same.second]
        both = (
            f"two {first!r} objects" if first == second else f"the {first!r} and {second!r} objects"
        )
        ys, xs = np.nonzero(masks[same.first])
        where = f"x {xs.min()}..{xs.max() + 1}, y {ys.min()}..{ys.max() + 1}"
        raise ValueError(
            f"{both} have the same mask ({where}): one object drawn twice; delete one of them "
            "(objects may overlap, but not coincide)"
        ) from None
