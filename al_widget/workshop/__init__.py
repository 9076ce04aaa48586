"""Teaching helpers: heuristics drawn over the 3-class simplex, and for the 2-D toy
(``datasets.cats_vs_milkshakes``) learn a boundary from a few oracle labels, measure how far it
is tilted from the true one, and draw it.

The drawing functions need matplotlib (``pip install "al_widget[workshop]"``).
"""

from .boundary import agreement, angle_error, learned_line, plot_boundary, probabilities
from .lines import LineLearner, dot_positions, fit_logistic
from .live import boundary_figure, boundary_png, watch_boundary
from .simplex import plot_simplex, simplex_grid
from .study import BoundaryStudy, ToyRun, boundary_study, learn_boundary

__all__ = [
    "BoundaryStudy",
    "LineLearner",
    "ToyRun",
    "agreement",
    "angle_error",
    "boundary_figure",
    "boundary_png",
    "boundary_study",
    "dot_positions",
    "fit_logistic",
    "learn_boundary",
    "learned_line",
    "plot_boundary",
    "plot_simplex",
    "probabilities",
    "simplex_grid",
    "watch_boundary",
]
