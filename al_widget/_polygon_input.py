"""The polygons a user gives for ``Instances.from_polygons``, checked one object at a time.

An object is one polygon (a flat ``[x0, y0, x1, y1, ...]`` list or a (K, 2) array) or a list of
them; every polygon needs at least 3 finite points inside the image. Errors name the object,
the polygon and the point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def polygon_parts(item: Any, k: int, width: int, height: int) -> list[list[float]]:
    """Object `k`'s polygons as flat lists, checked: >= 3 finite points inside the image."""
    if _is_points(item):
        raw = [item]  # one polygon: flat [x0, y0, ...] or (K, 2)
    elif isinstance(item, (str, bytes)) or not isinstance(item, (Sequence, np.ndarray)):
        raise ValueError(f"object {k}: a polygon must be a list of numbers, got {item!r:.60}")
    else:
        raw = list(item)
    if not raw:
        raise ValueError(f"object {k} has no polygon")
    parts = []
    for j, polygon in enumerate(raw):
        flat = polygon_points(polygon, f"object {k}, polygon {j}")
        xs, ys = flat[0::2], flat[1::2]
        outside = (xs < 0) | (xs > width) | (ys < 0) | (ys > height)
        if outside.any():
            at = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"object {k}, polygon {j}: point ({xs[at]:g}, {ys[at]:g}) lies outside the "
                f"{width}x{height} image (width x height)"
            )
        parts.append(flat.tolist())
    return parts


def polygon_points(polygon: Any, where: str) -> np.ndarray:
    """One polygon's coordinates as a flat float array, checked: x, y pairs of at least 3 finite
    points (refused naming `where`; where they lie is the caller's to check)."""
    try:
        flat = np.asarray(polygon, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: points must be numbers") from None
    if flat.size % 2 or flat.size < 6:
        raise ValueError(f"{where}: needs x, y pairs of at least 3 points, got {flat.size} numbers")
    if not np.isfinite(flat).all():
        raise ValueError(f"{where}: a coordinate is not finite")
    return flat


def _is_points(item: Any) -> bool:
    """Whether `item` is one polygon: numbers, or (x, y) pairs of numbers."""
    if isinstance(item, np.ndarray):
        return item.dtype != object and (item.ndim == 1 or (item.ndim == 2 and item.shape[1] == 2))
    if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or not item:
        return False
    if all(isinstance(v, (int, float, np.number)) for v in item):
        return True
    return all(
        isinstance(v, (Sequence, np.ndarray))
        and not isinstance(v, str)
        and len(v) == 2
        and all(isinstance(c, (int, float, np.number)) for c in v)
        for v in item
    )
