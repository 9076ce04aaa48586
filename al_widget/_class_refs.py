"""Class references (a class name or id) and the checks every annotation type shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._numbers import is_int

ClassRef = str | int


def frozen(array: np.ndarray) -> np.ndarray:
    """`array`, made read-only (the arrays of an immutable annotation)."""
    array.flags.writeable = False
    return array


def resolve_class(ref: ClassRef, classes: Sequence[str]) -> int:
    """Class id for a class name or id, with an error listing the valid classes."""
    if isinstance(ref, (bool, np.bool_)):
        raise ValueError(f"class must be a name or an id, got {ref!r}")
    if is_int(ref):
        if 0 <= int(ref) < len(classes):
            return int(ref)
        raise ValueError(
            f"class id must be in 0..{len(classes) - 1}, got {int(ref)}; classes are {list(classes)}"
        )
    if isinstance(ref, str):
        try:
            return list(classes).index(ref)
        except ValueError:
            raise ValueError(f"unknown class {ref!r}; choose one of {list(classes)}") from None
    raise ValueError(f"class must be a name (str) or an id (int), got {type(ref).__name__}")


def check_class_ref(ref: object, name: str) -> None:
    """Refuse `ref` (called `name` in the error) unless it is a class name or an id >= 0."""
    if not (isinstance(ref, str) or is_int(ref)):
        raise ValueError(f"{name} must be a class name (str) or id (int), got {ref!r}")
    if isinstance(ref, str) and not ref:
        raise ValueError(f"{name} must be a non-empty class name, got ''")
    if not isinstance(ref, str) and int(ref) < 0:
        raise ValueError(f"{name} must be a class id >= 0, got {int(ref)}")


def check_names(values: Any, name: str, *, allow_ids: bool = False) -> list[Any]:
    """`values` as a list, refusing a bare string where a list of names is meant."""
    if isinstance(values, (str, bytes)):
        raise ValueError(
            f"{name} must be a list, got the string {values!r}; write [{values!r}] for one entry"
        )
    return [v if allow_ids and not isinstance(v, str) else str(v) for v in values]
