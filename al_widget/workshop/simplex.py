"""Heuristics over the probability simplex of three classes: where each one asks (Settles' picture)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import heuristics
from .._numbers import check_int
from ..curves import pyplot

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])  # classes 0, 1, 2 in the plane


def simplex_grid(resolution: int = 60) -> np.ndarray:
    """Every 3-class probability vector with entries in steps of ``1 / resolution``: (M, 3).

    Parameters
    ----------
    resolution : int, default 60
        Steps along each edge of the triangle.
    """
    check_int("resolution", resolution, 1)
    steps = [
        (i, j, resolution - i - j) for i in range(resolution + 1) for j in range(resolution + 1 - i)
    ]
    return np.array(steps, dtype=np.float64) / resolution


def plot_simplex(
    heuristic: str | heuristics.Heuristic,
    ax: Axes | None = None,
    classes: tuple[str, str, str] = ("A", "B", "C"),
    resolution: int = 60,
) -> Axes:
    """A heuristic's score over every prediction a 3-class model can make, as a heat map.

    Each corner of the triangle is a sure prediction of one class, the centre 1/3 each; the
    brighter a spot, the sooner the heuristic asks about an image predicted so.

    Parameters
    ----------
    heuristic : str or callable
        A registered name (``heuristics.names()``) or a heuristic function.
    ax : matplotlib Axes, optional
        Where to draw (None: a new figure).
    classes : tuple of three str, default ("A", "B", "C")
        The names written at the corners.
    resolution : int, default 60
        Steps along each edge of the triangle.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        For a heuristic that raises or does not return one finite score per prediction
        (`heuristics.apply`'s check); it gets (M, 3, 1) probabilities, as in the loop.
    """
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.4))
    probs = simplex_grid(resolution)
    scores = heuristics.apply(heuristic, probs[:, :, None])  # (M, C, I) as the loop gives them
    x, y = (probs @ CORNERS).T
    ax.tricontourf(x, y, scores, levels=20, cmap="viridis")
    ax.plot(*CORNERS[[0, 1, 2, 0]].T, color="black", linewidth=1)
    offsets = ((-8, -14), (8, -14), (0, 5))
    for corner, name, offset in zip(CORNERS, classes, offsets, strict=True):
        ax.annotate(name, corner, xytext=offset, textcoords="offset points", ha="center")
    ax.set_title(heuristics.name_of(heuristic), pad=14)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
