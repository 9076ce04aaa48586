"""COCO's run-length encoding of a binary mask, and its compact string form.

A mask (H, W) is read column by column (Fortran order); its run lengths alternate between
background and object and start with a run of background (0 when the first pixel is set).
The string form is COCO's (``maskApi.c`` ``rleToString``): each count, from the third on as
the difference to the count two before, in 5-bit groups written as characters from '0'.
pycocotools, faster-coco-eval and CVAT read and write the same strings.
"""

from __future__ import annotations

import numpy as np

_MAX_GROUPS = 13  # 5-bit groups of one count: 65 bits, more than any real image needs


def counts(mask: np.ndarray) -> np.ndarray:
    """The run lengths of `mask` (H, W; nonzero = inside), column-major, from a background run."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(bounds)
    if flat.size and flat[0]:
        runs = np.concatenate([[0], runs])
    return runs.astype(np.int64)


def to_string(runs: np.ndarray) -> str:
    """The COCO string of run lengths `runs`."""
    out = []
    values = runs.tolist()
    for i, x in enumerate(values):
        if i > 2:
            x -= values[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def from_string(text: str) -> np.ndarray:
    """The run lengths a COCO string holds; ValueError if it is not one."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError(f"RLE counts must be an ASCII string, got {text!r:.40}")
    values: list[int] = []
    p, n = 0, len(text)
    while p < n:
        x, k, more = 0, 0, True
        while more:
            if p >= n or k >= _MAX_GROUPS:
                raise ValueError(f"RLE counts {text!r:.40} end inside a count or hold a huge one")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"RLE counts hold {text[p]!r}, not a COCO RLE character")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(values) > 2:
            x += values[-2]
        if not -(2**62) < x < 2**62:
            raise ValueError(f"RLE counts {text!r:.40} hold a run of {x} pixels")
        values.append(x)
    return np.asarray(values, dtype=np.int64)


def check(runs: np.ndarray, shape: tuple[int, int], name: str) -> None:
    """Refuse run lengths that are negative or do not cover `shape` exactly."""
    if runs.ndim != 1 or (runs < 0).any():
        raise ValueError(f"{name}: run lengths must be >= 0")
    total = sum(runs.tolist())  # Python ints: a crafted sum cannot wrap around
    if total != shape[0] * shape[1]:
        raise ValueError(
            f"{name}: run lengths cover {total} pixels, the image {shape[0]}x{shape[1]} (H x W) "
            f"has {shape[0] * shape[1]}"
        )


def canonical(runs: np.ndarray) -> np.ndarray:
    """The same mask's runs without empty runs inside (COCO writes none; a file may)."""
    keep = runs > 0
    values, lengths = (np.arange(len(runs)) % 2)[keep], runs[keep]
    if not len(lengths):
        return np.zeros(1, np.int64)
    starts = np.concatenate([[0], np.flatnonzero(values[1:] != values[:-1]) + 1])
    merged = np.add.reduceat(lengths, starts).astype(np.int64)
    return np.concatenate([[0], merged]) if values[0] else merged


def decode(runs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The (H, W) bool mask of run lengths `runs` (checked to cover `shape`)."""
    values = np.zeros(len(runs), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, runs)
    return flat.reshape(shape[1], shape[0]).T


def area(runs: np.ndarray) -> int:
    """How many pixels are set."""
    return int(runs[1::2].sum())


def box(runs: np.ndarray, height: int) -> np.ndarray:
    """The xyxy box (pixel edges: x1 = last column + 1) of the set pixels; zeros if none."""
    ends = np.cumsum(runs)
    starts = ends - runs
    on = (np.arange(len(runs)) % 2 == 1) & (runs > 0)
    if not on.any():
        return np.zeros(4)
    first, last = starts[on], ends[on] - 1
    x0, x1 = first // height, last // height
    y0, y1 = first % height, last % height
    spans = x0 != x1  # a run through a column's end covers rows 0 and height-1
    top = np.where(spans, 0, y0).min()
    bottom = np.where(spans, height - 1, y1).max()
    return np.array([x0.min(), top, x1.max() + 1, bottom + 1], dtype=np.float64)
