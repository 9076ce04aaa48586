"""A binary mask as COCO polygons where they draw it exactly, else as an uncompressed RLE.

COCO writes ``iscrowd=0`` objects as polygons and crowds as RLE; torchvision's detection
references (``ConvertCocoPolysToMask``) pass every ``iscrowd=0`` segmentation to
``frPyObjects``, which takes polygons and uncompressed RLE (``counts`` a list) but fails on
a compressed one (``counts`` a string). A mask is traced along its pixel edges, one polygon
per 4-connected part; the polygons are kept only when COCO's own rasteriser draws them back
into exactly the mask (a part with a hole cannot be drawn by polygons that are unioned).
For YOLO's one polygon per object, ``one_polygon`` joins every outline, holes included,
by zero-width bridges: COCO's even-odd rasteriser draws that back exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from faster_coco_eval.core import mask as coco_mask


def segmentation(mask: np.ndarray) -> list[list[float]] | dict[str, Any]:
    """`mask` (H, W, nonzero = inside) as polygons when exact, else an uncompressed RLE."""
    binary = np.asarray(mask).astype(bool)
    polygons = outlines(binary)
    if polygons is not None and polygons and _draws(polygons, binary):
        return polygons
    return uncompressed_rle(binary)


def uncompressed_rle(binary: np.ndarray) -> dict[str, Any]:
    """COCO's uncompressed RLE: column-major run lengths, starting with a run of zeros."""
    height, width = binary.shape
    flat = np.asarray(binary, dtype=np.uint8).ravel(order="F")
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"size": [int(height), int(width)], "counts": [int(c) for c in counts]}


def _draws(polygons: list[list[float]], binary: np.ndarray) -> bool:
    height, width = binary.shape
    rles = coco_mask.frPyObjects(polygons, height, width)
    drawn = coco_mask.decode(coco_mask.merge(rles))
    return bool(np.array_equal(drawn.astype(bool), binary))


def outlines(binary: np.ndarray) -> list[list[float]] | None:
    """The pixel-edge outline of each 4-connected part of `binary`, as flat [x, y, ...] lists
    (vertices at pixel corners, clockwise on screen); None when a part has a hole."""
    found = loops(binary)
    if any(_signed_area(loop) < 0 for loop in found):  # counter-clockwise on screen: a hole
        return None
    return [[float(v) for point in loop for v in point] for loop in found]


def loops(binary: np.ndarray) -> list[list[tuple[int, int]]]:
    """Every closed pixel-edge boundary of `binary` as its corner points: each part's outline
    clockwise on screen, each hole's counter-clockwise."""
    edges = _boundary_edges(binary)
    outgoing: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for x0, y0, x1, y1 in edges.tolist():
        outgoing.setdefault((x0, y0), []).append((x1, y1))
    found = []
    while outgoing:
        start = next(iter(outgoing))
        found.append(_corners(_walk(start, outgoing)))
    return found


def one_polygon(binary: np.ndarray) -> list[float]:
    """`binary` (not empty) as one flat [x, y, ...] polygon: every part and hole outline
    joined by a zero-width bridge there and back between its nearest corner and the nearest
    corner of a larger outline, as Ultralytics joins the polygons of one object. An even-odd
    fill, such as COCO's rasteriser, draws the holes back as holes.

    The outlines are taken largest first, each bridged to the nearest corner of those before
    it (found through a grid of their corners, so that the time grows with the number of
    outlines, not its square), and the polygon is walked once along the tree of bridges.
    """
    found = sorted(loops(binary), key=lambda loop: -abs(_signed_area(loop)))
    corners = [np.array(loop, dtype=np.int64) for loop in found]
    grid = _CornerGrid()
    grid.add(0, corners[0])
    bridges: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for k in range(1, len(found)):
        j, at = grid.nearest(corners[k])
        bridges.setdefault(at, []).append((k, j))
        grid.add(k, corners[k])
    return [float(v) for point in _walk_tree(found, bridges) for v in point]


class _CornerGrid:
    """The corners of the outlines placed so far, by square cells of ``CELL`` px, for finding
    the nearest one to an outline without measuring the distance to every corner."""

    CELL = 16

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[np.ndarray]] = {}
        self.owners: dict[tuple[int, int], list[np.ndarray]] = {}

    def add(self, loop: int, points: np.ndarray) -> None:
        """Place the corners `points` (n, 2) of outline `loop`."""
        keys = points // self.CELL
        order = np.lexsort((keys[:, 1], keys[:, 0]))
        keys, index = keys[order], order
        starts = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
        for chunk_keys, chunk in zip(np.split(keys, starts), np.split(index, starts), strict=True):
            cell = (int(chunk_keys[0, 0]), int(chunk_keys[0, 1]))
            self.cells.setdefault(cell, []).append(points[chunk])
            self.owners.setdefault(cell, []).append(
                np.stack([np.full(len(chunk), loop), chunk], axis=1)
            )

    def nearest(self, points: np.ndarray) -> tuple[int, tuple[int, int]]:
        """The corner of `points` nearest a placed corner, and that corner as (outline, index
        in it): the first pair at the least distance found."""
        low, high = points.min(axis=0), points.max(axis=0)
        reach = self.CELL
        while True:
            found, owners = self._within(low - reach, high + reach)
            if found:
                placed = np.concatenate(found)
                j, c, distance = _closest(points, placed)
                if distance <= reach:
                    loop, index = np.concatenate(owners)[c].tolist()
                    return j, (loop, index)
                reach = int(np.ceil(distance))
            else:
                reach *= 2

    def _within(
        self, low: np.ndarray, high: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        (x0, y0), (x1, y1) = low // self.CELL, high // self.CELL
        if (x1 - x0 + 1) * (y1 - y0 + 1) > len(self.cells):
            cells = [c for c in self.cells if x0 <= c[0] <= x1 and y0 <= c[1] <= y1]
        else:
            cells = [
                (x, y)
                for x in range(int(x0), int(x1) + 1)
                for y in range(int(y0), int(y1) + 1)
                if (x, y) in self.cells
            ]
        cells.sort()
        return (
            [p for c in cells for p in self.cells[c]],
            [o for c in cells for o in self.owners[c]],
        )


def _closest(ours: np.ndarray, theirs: np.ndarray, block: int = 1 << 22) -> tuple[int, int, float]:
    """(i, j, distance) of the closest pair ``ours[i]``, ``theirs[j]``, measured in blocks of
    at most `block` pairs."""
    best = (0, 0, np.inf)
    step = max(1, block // max(1, len(theirs)))
    for start in range(0, len(ours), step):
        part = ours[start : start + step].astype(np.float64)
        gaps = ((part[:, None, :] - theirs[None, :, :].astype(np.float64)) ** 2).sum(-1)
        i, j = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
        if gaps[i, j] < best[2]:
            best = (start + int(i), int(j), float(gaps[i, j]))
    return best[0], best[1], float(np.sqrt(best[2]))


def _walk_tree(
    found: list[list[tuple[int, int]]], bridges: dict[tuple[int, int], list[tuple[int, int]]]
) -> list[tuple[int, int]]:
    """The corners of the first outline in order, each outline bridged to one at a corner
    (``bridges``: (outline, corner) -> [(outline, its corner), ...]) entered there: its
    corners from that one round to it again, and back to the corner it hangs from."""
    out: list[tuple[int, int]] = []
    # A frame is ("loop", outline, entry corner, step, steps) or ("point", corner to repeat).
    stack: list[tuple] = [("loop", 0, 0, 0, len(found[0]))]
    while stack:
        frame = stack.pop()
        if frame[0] == "point":
            out.append(frame[1])
            continue
        _, loop, entry, step, steps = frame
        if step == steps:
            continue
        n = len(found[loop])
        index = (entry + step) % n
        out.append(found[loop][index])
        stack.append(("loop", loop, entry, step + 1, steps))
        if step < n:
            for child, corner in reversed(bridges.get((loop, index), [])):
                stack.append(("point", found[loop][index]))
                stack.append(("loop", child, corner, 0, len(found[child]) + 1))
    return out


def _boundary_edges(binary: np.ndarray) -> np.ndarray:
    """Directed pixel edges between inside and outside, inside on the right (y down)."""
    padded = np.pad(binary, 1)
    inside = padded[1:-1, 1:-1]
    found = []
    for (dr, dc), (ax, ay, bx, by) in (
        ((-1, 0), (0, 0, 1, 0)),  # top side: left to right
        ((0, 1), (1, 0, 1, 1)),  # right side: downwards
        ((1, 0), (1, 1, 0, 1)),  # bottom side: right to left
        ((0, -1), (0, 1, 0, 0)),  # left side: upwards
    ):
        neighbour = padded[1 + dr : padded.shape[0] - 1 + dr, 1 + dc : padded.shape[1] - 1 + dc]
        rows, cols = np.nonzero(inside & ~neighbour)
        found.append(np.stack([cols + ax, rows + ay, cols + bx, rows + by], axis=1))
    return np.concatenate(found) if found else np.zeros((0, 4), np.int64)


def _walk(
    start: tuple[int, int], outgoing: dict[tuple[int, int], list[tuple[int, int]]]
) -> list[tuple[int, int]]:
    """Follow edges from `start` back to it, turning right first (diagonal pixels apart)."""
    loop = [start]
    here, heading = start, None
    while True:
        options = outgoing[here]
        nxt = options[0] if heading is None or len(options) == 1 else _turn(here, heading, options)
        options.remove(nxt)
        if not options:
            del outgoing[here]
        heading = (nxt[0] - here[0], nxt[1] - here[1])
        here = nxt
        if here == start:
            return loop
        loop.append(here)


def _turn(
    here: tuple[int, int], heading: tuple[int, int], options: list[tuple[int, int]]
) -> tuple[int, int]:
    dx, dy = heading
    for turn in ((-dy, dx), (dx, dy), (dy, -dx)):  # right, ahead, left (screen, y down)
        candidate = (here[0] + turn[0], here[1] + turn[1])
        if candidate in options:
            return candidate
    return options[0]


def _signed_area(loop: list[tuple[int, int]]) -> float:
    xs = np.array([p[0] for p in loop], dtype=np.float64)
    ys = np.array([p[1] for p in loop], dtype=np.float64)
    return float((xs * np.roll(ys, -1) - np.roll(xs, -1) * ys).sum() / 2)


def _corners(loop: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`loop` without the vertices where it goes straight on."""
    kept = []
    n = len(loop)
    for k in range(n):
        (ax, ay), (bx, by), (cx, cy) = loop[k - 1], loop[k], loop[(k + 1) % n]
        if (bx - ax) * (cy - by) - (by - ay) * (cx - bx) != 0:
            kept.append(loop[k])
    return kept
