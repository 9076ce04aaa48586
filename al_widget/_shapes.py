"""Synthetic shapes on textured backgrounds, with exact boxes, instance masks and class maps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image, ImageDraw

from ._numbers import check_int
from .annotations import Boxes, Instances, Mask

SHAPE_CLASSES = ("circle", "square", "triangle")
SHAPE_TASKS = ("detect", "segment", "instances")  # the tasks a shapes pool is drawn for

_MIN_VISIBLE = 0.6  # every drawn shape keeps at least this fraction of its pixels visible
_PLACEMENT_TRIES = 12
_COLOUR_TRIES = 24
_MIN_CONTRAST = 90.0  # RGB distance between a shape and what lies under it, and other shapes
_NOISE = 6  # amplitude of the per-pixel noise added to the whole image
_BESIDE = 0.5  # "instances": how often a shape is put against an earlier one of its class


@dataclass(frozen=True, eq=False)
class Shapes:
    """Images of circles, squares and triangles with their boxes, masks and class maps.

    Parameters
    ----------
    images : numpy.ndarray
        (N, size, size, 3) uint8 RGB images.
    boxes : list of Boxes
        Per image, the tight box of each shape's visible pixels, labelled with its class name.
    masks : list of Mask
        Per image, the class map: 0 background, 1 circle, 2 square, 3 triangle.
    instances : list of numpy.ndarray
        Per image, a (K, size, size) bool array: the visible pixels of each shape, in the
        order of `boxes` (drawing order, back to front).
    classes : tuple of str
        The task's classes: the shape names for "detect" and "instances", with "background"
        first for "segment".
    task : str
        "detect", "segment" or "instances"; it picks `classes` and `annotations`.
    """

    images: np.ndarray
    boxes: list[Boxes]
    masks: list[Mask]
    instances: list[np.ndarray]
    classes: tuple[str, ...]
    task: str

    def __len__(self) -> int:
        return len(self.images)

    @property
    def annotations(self) -> list[Boxes] | list[Mask] | list[Instances]:
        """The task's annotations: `boxes` for "detect", `masks` for "segment", `objects` for
        "instances"."""
        if self.task == "instances":
            return self.objects
        return self.boxes if self.task == "detect" else self.masks

    @cached_property
    def objects(self) -> list[Instances]:
        """Per image, `instances` as ``Instances``: each shape's visible pixels and class name."""
        return [
            Instances(visible, list(boxes.labels))
            if len(boxes)
            else Instances.empty((visible.shape[2], visible.shape[1]))
            for visible, boxes in zip(self.instances, self.boxes, strict=True)
        ]


def shapes(n: int, size: int = 128, seed: int = 0, task: str = "detect") -> Shapes:
    """`n` images of 1 to 4 circles, squares and triangles on textured backgrounds.

    Each image has a background of smooth colour noise, a gradient or stripes, then one to
    four shapes of random colour, size, position and rotation (squares and triangles), drawn
    back to front, and a little pixel noise over everything. Each shape is drawn from its own
    binary mask (no anti-aliasing), so the annotations agree exactly with the pixels:

    * ``instances[i][k]`` is the part of shape k that stays visible (later shapes occlude
      earlier ones);
    * ``boxes[i]`` holds the tight bounds of those visible parts, in pixel edges: a shape
      covering columns 3..7 and rows 5..9 has the box (3, 5, 8, 10);
    * ``masks[i]`` is their union by class (0 background, 1 circle, 2 square, 3 triangle).

    A shape is only placed where every earlier shape keeps at least 60 % of its pixels
    visible; when a dozen tries find no such place it is not drawn at all. Every drawn shape
    is thus annotated, and every image holds at least one shape (the first always fits).
    Shape colours differ clearly from the background under them and from each other.

    Parameters
    ----------
    n : int
        The number of images, at least 0.
    size : int, default 128
        Their height and width in pixels, at least 16.
    seed : int, default 0
        Seeds everything: the same arguments give the same images and annotations.
    task : {"detect", "segment", "instances"}, default "detect"
        "detect": ``classes = ("circle", "square", "triangle")`` and ``annotations`` are the
        boxes. "segment": ``classes = ("background", "circle", "square", "triangle")`` and
        ``annotations`` are the class maps. "instances": the classes of "detect", and
        ``annotations`` are ``Instances``; the scenes differ: half the shapes after the first
        are put against an earlier shape of their class, touching or partly hiding it, so
        that one class map could not tell those objects apart (the other tasks' scenes, for
        the same seed, are unchanged).

    Returns
    -------
    Shapes
        The images with every form of annotation.
    """
    check_int("n", n, 0)
    check_int("size", size, 16)
    if task not in SHAPE_TASKS:
        raise ValueError(f"task must be one of {SHAPE_TASKS}, got {task!r}")
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    boxes, masks, instances = [], [], []
    for i in range(n):
        image, visible, kinds = _draw_image(rng, int(size), beside=task == "instances")
        images[i] = image
        boxes.append(
            Boxes(
                [_tight_box(mask) for mask in visible],
                [SHAPE_CLASSES[k] for k in kinds],
                canvas_size=(size, size),
            )
        )
        class_map = np.zeros((size, size), dtype=np.uint8)
        for mask, kind in zip(visible, kinds, strict=True):
            class_map[mask] = kind + 1
        masks.append(Mask(class_map))
        instances.append(np.stack(visible) if visible else np.zeros((0, size, size), bool))
    classes = SHAPE_CLASSES if task != "segment" else ("background", *SHAPE_CLASSES)
    return Shapes(images, boxes, masks, instances, classes, task)


def _draw_image(
    rng: np.random.Generator, size: int, beside: bool = False
) -> tuple[np.ndarray, list[np.ndarray], list[int]]:
    """One image, the visible mask of each shape on it, and each shape's class index.

    With `beside`, a shape after the first is, half the time, of an earlier shape's class and
    put against it: its centre at 0.7 to 1 times the sum of their radii from that one's.
    """
    canvas = _background(rng, size)
    full: list[np.ndarray] = []
    visible: list[np.ndarray] = []
    kinds: list[int] = []
    colours: list[np.ndarray] = []
    placed: list[tuple[float, float, float]] = []  # (cx, cy, radius) of each drawn shape
    for _ in range(int(rng.integers(1, 5))):
        kind = int(rng.integers(0, len(SHAPE_CLASSES)))
        near = None
        if beside and placed and rng.random() < _BESIDE:
            near = int(rng.integers(0, len(placed)))
            kind = kinds[near]
        for _ in range(_PLACEMENT_TRIES):
            mask, where = _shape_mask(rng, kind, size, None if near is None else placed[near])
            if all(
                (seen & ~mask).sum() >= _MIN_VISIBLE * whole.sum()
                for seen, whole in zip(visible, full, strict=True)
            ):
                break
        else:
            continue
        colour = _colour(rng, canvas[mask].mean(0), colours)
        canvas[mask] = colour
        visible = [seen & ~mask for seen in visible]
        full.append(mask)
        visible.append(mask.copy())
        kinds.append(kind)
        placed.append(where)
        colours.append(colour)
    noise = rng.integers(-_NOISE, _NOISE + 1, canvas.shape, dtype=np.int16)
    image = np.clip(canvas.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return image, visible, kinds


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A (size, size, 3) float texture in muted colours: smooth noise, a gradient or stripes."""
    base = rng.uniform(70, 185, 3)
    other = np.clip(base + rng.uniform(-60, 60, 3), 40, 215)
    texture = int(rng.integers(0, 3))
    if texture == 0:
        cells = int(rng.integers(3, 9))
        coarse = rng.uniform(-1, 1, (cells, cells, 3)).astype(np.float32)
        smooth = np.stack(
            [
                np.asarray(
                    Image.fromarray(coarse[..., c]).resize((size, size), Image.Resampling.BILINEAR)
                )
                for c in range(3)
            ],
            axis=-1,
        )
        return np.clip(base + 45 * smooth, 0, 255)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    angle = rng.uniform(0, np.pi)
    along = xx * np.cos(angle) + yy * np.sin(angle)
    if texture == 1:
        t = (along - along.min()) / (along.max() - along.min())
    else:
        t = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 10) * along + rng.uniform(0, 2 * np.pi))
    return base + t[..., None] * (other - base)


def _shape_mask(
    rng: np.random.Generator,
    kind: int,
    size: int,
    against: tuple[float, float, float] | None = None,
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A (size, size) bool mask of one shape of class `kind`, wholly inside the image, and its
    (cx, cy, radius); put against the shape at `against` (cx, cy, radius) when given."""
    radius = rng.uniform(0.08, 0.2) * size
    if against is None:
        cx, cy = rng.uniform(radius + 1, size - radius - 1, 2)
    else:
        apart = (against[2] + radius) * rng.uniform(0.7, 1.0)
        towards = rng.uniform(0, 2 * np.pi)
        low, high = radius + 1, size - radius - 1
        cx = float(np.clip(against[0] + apart * np.cos(towards), low, high))
        cy = float(np.clip(against[1] + apart * np.sin(towards), low, high))
    layer = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(layer)
    if kind == 0:
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=1)
    else:
        corners = 4 if kind == 1 else 3
        angle = rng.uniform(0, 2 * np.pi) + np.arange(corners) * 2 * np.pi / corners
        reach = radius * (0.95 if kind == 1 else 1.0)
        points = [(cx + reach * np.cos(a), cy + reach * np.sin(a)) for a in angle]
        draw.polygon(points, fill=1)
    return np.asarray(layer, dtype=bool), (float(cx), float(cy), float(radius))


def _colour(rng: np.random.Generator, under: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """A fill colour far from the pixels it covers and from the other shapes' colours."""
    best, best_gap = None, -1.0
    for _ in range(_COLOUR_TRIES):
        colour = rng.integers(0, 256, 3).astype(np.float64)
        gap = min(float(np.linalg.norm(colour - c)) for c in [under, *others])
        if gap >= _MIN_CONTRAST:
            return colour
        if gap > best_gap:
            best, best_gap = colour, gap
    assert best is not None
    return best


def _tight_box(mask: np.ndarray) -> list[float]:
    """The (x0, y0, x1, y1) pixel-edge bounds of a non-empty mask."""
    rows = np.flatnonzero(mask.any(1))
    cols = np.flatnonzero(mask.any(0))
    return [float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)]
