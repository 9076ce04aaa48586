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
    joined to the first by a zero-width bridge there and back between their nearest corners,
    as Ultralytics joins the polygons of one object. An even-odd fill, such as COCO's
    rasteriser, draws the holes back as holes."""
    found = sorted(loops(binary), key=lambda loop: -abs(_signed_area(loop)))
    joined = found[0]
    for loop in found[1:]:
        ours = np.array(joined, dtype=np.float64)
        theirs = np.array(loop, dtype=np.float64)
        gaps = ((ours[:, None, :] - theirs[None, :, :]) ** 2).sum(-1)
        i, j = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
        joined = [*joined[: i + 1], *loop[j:], *loop[: j + 1], *joined[i:]]
    return [float(v) for point in joined for v in point]


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
