"""The one check that labels read from a file use the classes a user expects."""

from __future__ import annotations

from collections.abc import Sequence

from ._import import FormatError


def check_classes(found: Sequence[str], expected: Sequence[str] | None, where: str) -> list[str]:
    """`found` as a list, refused when `expected` is given and differs from it (order included)."""
    found = list(found)
    if expected is None or list(expected) == found:
        return found
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    detail = []
    if extra:
        detail.append(f"not expected: {extra}")
    if missing:
        detail.append(f"missing: {missing}")
    if not detail:
        detail.append("same names in another order")
    raise FormatError(
        f"{where}: classes {found} differ from the expected classes {list(expected)} ({'; '.join(detail)})"
    )
