"""A learner's boundary on the toy's square: its probabilities, its line, and a drawing of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..curves import pyplot
from ..dataset import Dataset
from ..datasets import Line, Toy, render_points
from ..loop import ActiveLoop
from .lines import fit_logistic, line_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CLASS_COLORS = ("#e07b39", "#3a78b5")  # cats, milkshakes
RESOLUTION = 61  # grid points per side where a learner's boundary is traced


def probabilities(learner_or_loop: Any, size: int = 16, resolution: int = RESOLUTION) -> np.ndarray:
    """The learner's probability of class 1 over the unit square, a (resolution, resolution) grid.

    Row k is sweetness ``k / (resolution - 1)`` (bottom to top), column j fluffiness
    ``j / (resolution - 1)``; each grid point is drawn as a dot image, as the pool's points are.

    Parameters
    ----------
    learner_or_loop : Learner or ActiveLoop
        A fitted learner, or a loop whose learner has trained.
    size : int, default 16
        The side of the dot images, as the toy's images.
    resolution : int, default 61
        Grid points per side.
    """
    learner = _learner(learner_or_loop)
    grid = _grid(resolution)
    images = Dataset(render_points(grid, size), ["0", "1"]).batch(np.arange(len(grid)))
    probs = np.asarray(learner.predict_proba(images))
    if probs.ndim == 3:
        probs = probs.mean(axis=2)
    return probs[:, 1].reshape(resolution, resolution)


def learned_line(learner_or_loop: Any, size: int = 16, resolution: int = RESOLUTION) -> Line:
    """The straight line that best separates what the learner decides over the unit square.

    A logistic regression on the grid points' positions, fitted to the learner's own
    probabilities there: for a learner whose boundary is a straight line (`LineLearner`) it is
    that line; for a curved boundary it is the line closest to it, point for point of the
    square.

    Parameters
    ----------
    learner_or_loop : Learner or ActiveLoop
        A fitted learner, or a loop whose learner has trained.
    size : int, default 16
        The side of the dot images, as the toy's images.
    resolution : int, default 61
        Grid points per side.
    """
    p = probabilities(learner_or_loop, size, resolution)
    weights = fit_logistic(_grid(resolution), p.ravel(), l2=1e-6)
    return line_of(weights)


def _grid(resolution: int) -> np.ndarray:
    """The (resolution**2, 2) grid points of the unit square, row by row from the bottom."""
    axis = np.linspace(0, 1, resolution)
    return np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)


def angle_error(learner_or_loop: Any, toy: Toy) -> float:
    """Degrees between the learner's decision line (`learned_line`) and the toy's true boundary.

    Parameters
    ----------
    learner_or_loop : Learner or ActiveLoop
        A fitted learner, or a loop whose learner has trained.
    toy : Toy
        A pool with a straight true boundary, such as ``datasets.cats_vs_milkshakes()``.
    """
    return learned_line(learner_or_loop, toy.images.shape[1]).angle_to(true_line(toy))


def true_line(toy: Toy) -> Line:
    """The toy's true boundary, refused when it is not a straight line."""
    if toy.boundary is None:
        raise ValueError("this toy's true boundary is not a straight line (toy.boundary is None)")
    return toy.boundary


def agreement(learner_or_loop: Any, toy: Toy) -> float:
    """The share of the unit square where the learner's class is the true boundary's side.

    Parameters
    ----------
    learner_or_loop : Learner or ActiveLoop
        A fitted learner, or a loop whose learner has trained.
    toy : Toy
        A pool with a straight true boundary.
    """
    p = probabilities(learner_or_loop, toy.images.shape[1])
    truth = true_line(toy).side(_grid(len(p))) < 0
    return float(np.mean((p.ravel() > 0.5) == truth))


def _learner(learner_or_loop: Any) -> Any:
    return learner_or_loop.learner if isinstance(learner_or_loop, ActiveLoop) else learner_or_loop


def plot_boundary(
    learner_or_loop: Any,
    toy: Toy,
    ax: Axes | None = None,
    queried: Sequence[int] | np.ndarray | None = None,
) -> Axes:
    """Draw the learned boundary, the true one, the pool and the points that were labeled.

    The background shows the learner's probability of each class; the solid line is where
    it is 1/2 (the learned boundary), the dashed line the toy's true boundary.

    Parameters
    ----------
    learner_or_loop : Learner or ActiveLoop
        A fitted learner, or a loop (then `queried` defaults to its labeled images).
    toy : Toy
        The pool the learner learned.
    ax : matplotlib Axes, optional
        Where to draw (None: a new figure).
    queried : sequence of int, optional
        Pool indices to mark as labeled (drawn large, with a black edge).

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        For a loop whose pool is not `toy` (another number of images), or `queried`
        indices outside the toy.
    """
    plt = pyplot()
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.lines import Line2D

    if isinstance(learner_or_loop, ActiveLoop) and len(learner_or_loop.dataset) != len(toy.labels):
        raise ValueError(
            f"toy must be the loop's pool: the loop has {len(learner_or_loop.dataset)} images, "
            f"the toy {len(toy.labels)} points"
        )
    if queried is None and isinstance(learner_or_loop, ActiveLoop):
        queried = learner_or_loop.dataset.labeled
    picked = np.asarray([] if queried is None else queried, dtype=np.int64)
    if picked.size and not 0 <= picked.min() <= picked.max() < len(toy.labels):
        raise ValueError(
            f"queried must be point indices of the toy, 0 .. {len(toy.labels) - 1}, got "
            f"{picked.min() if picked.min() < 0 else picked.max()}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    p = probabilities(learner_or_loop, toy.images.shape[1])
    shades = LinearSegmentedColormap.from_list("toy", [CLASS_COLORS[0], "white", CLASS_COLORS[1]])
    ax.imshow(p, origin="lower", extent=(0, 1, 0, 1), cmap=shades, vmin=0, vmax=1, alpha=0.45)
    axis = np.linspace(0, 1, len(p))
    if p.min() < 0.5 < p.max():
        ax.contour(axis, axis, p, levels=[0.5], colors="black", linewidths=2)
    if toy.boundary is not None:
        ends = _clip_to_square(toy.boundary)
        ax.plot(ends[:, 0], ends[:, 1], color="#555555", linestyle="--", linewidth=1.5)
    colors = np.array(CLASS_COLORS)[toy.labels]
    ax.scatter(toy.points[:, 0], toy.points[:, 1], s=8, c=colors, alpha=0.6, linewidths=0)
    marked = toy.points[picked]
    ax.scatter(
        marked[:, 0], marked[:, 1], s=60, c=colors[picked], edgecolors="black", linewidths=1.2
    )
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="fluffiness", ylabel="sweetness", aspect="equal")
    legend = [
        Line2D([], [], color="black", linewidth=2, label="learned boundary"),
        Line2D([], [], color="#555555", linestyle="--", label="true boundary"),
    ]
    legend += [
        Line2D([], [], marker="o", linestyle="", color=color, label=name)
        for color, name in zip(CLASS_COLORS, toy.classes, strict=False)
    ]
    legend.append(
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color="white",
            markeredgecolor="black",
            label="labeled",
        )
    )
    ax.legend(
        handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize="small"
    )
    return ax


def _clip_to_square(line: Line) -> np.ndarray:
    """The two ends of the part of `line` inside the unit square."""
    point, direction = np.asarray(line.point), line.direction
    low, high = -np.inf, np.inf
    for k in range(2):
        if abs(direction[k]) > 1e-12:
            ends = sorted(((0 - point[k]) / direction[k], (1 - point[k]) / direction[k]))
            low, high = max(low, ends[0]), min(high, ends[1])
    return np.array([point + low * direction, point + high * direction])
