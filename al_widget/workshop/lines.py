"""A straight-line learner for the toy: where each dot is, and a logistic regression on it."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..datasets import Line
from ..learners import ParamsMixin
from ..learners._checks import check_fitted


def fit_logistic(points: np.ndarray, targets: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Logistic regression of targets in [0, 1] on 2-D points: weights (w_x, w_y, bias).

    p = sigmoid(w . (point - 0.5) + bias), fitted by Newton's method on the mean
    cross-entropy plus ``l2 / 2 * |w| ** 2``.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 2) points of the unit square.
    targets : numpy.ndarray
        (N,) class-1 labels or probabilities.
    l2 : float, default 1e-3
        The weights' penalty (it keeps them finite when the classes separate).
    """
    x = np.column_stack([np.asarray(points, dtype=np.float64) - 0.5, np.ones(len(points))])
    t = np.asarray(targets, dtype=np.float64)
    penalty = np.array([l2, l2, 1e-9])

    def loss(beta: np.ndarray) -> float:
        z = x @ beta
        return float(np.mean(np.logaddexp(0, z) - t * z) + 0.5 * penalty @ beta**2)

    beta = np.zeros(3)
    for _ in range(100):
        p = 1 / (1 + np.exp(-(x @ beta)))
        gradient = x.T @ (p - t) / len(x) + penalty * beta
        hessian = (x.T * (p * (1 - p))) @ x / len(x) + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        scale, before = 1.0, loss(beta)
        while loss(beta - scale * step) > before and scale > 1e-6:
            scale /= 2
        beta = beta - scale * step
        if np.abs(scale * step).max() < 1e-9:
            break
    return beta


def line_of(weights: np.ndarray) -> Line:
    """The line where sigmoid(w . (point - 0.5) + bias) is 1/2."""
    w, bias = weights[:2], weights[2]
    norm2 = float(w @ w) or 1e-12
    point = 0.5 - bias * w / norm2
    angle = float(np.degrees(np.arctan2(w[0], -w[1])) % 180)
    return Line((float(point[0]), float(point[1])), angle)


def dot_positions(images: np.ndarray) -> np.ndarray:
    """Where the dot of each toy image is: (N, 2) points (fluffiness, sweetness) in [0, 1].

    A dot is a round Gaussian blob (``datasets.render_points``), so the sums of its rows and
    of its columns are Gaussians too, even when the image's edge cuts the dot off: a parabola
    fitted to their logarithms peaks at the dot's centre. (A centre of mass would be pulled
    inward at the edges: 0.0 would read as 0.045, and a straight line would bend there.)

    Parameters
    ----------
    images : numpy.ndarray
        (N, H, W) or (N, H, W, 3) dot images, as ``datasets.render_points`` draws them.
    """
    array = np.asarray(images, dtype=np.float64)
    gray = array.mean(axis=3) if array.ndim == 4 else array
    x = _peak(gray.sum(axis=1))
    y = _peak(gray.sum(axis=2))
    return np.stack([x, 1 - y], axis=1)


def _peak(profiles: np.ndarray) -> np.ndarray:
    """The peak of each (N, L) Gaussian profile, in [0, 1] units of its length: the vertex of
    the parabola fitted to the log of its bright part (the centre of mass where that fails)."""
    length = profiles.shape[1]
    u = (np.arange(length) + 0.5) / length - 0.5
    bright = profiles >= 0.02 * profiles.max(axis=1, keepdims=True)
    weights = np.where(bright, profiles, 0.0) ** 2
    design = np.stack([np.ones(length), u, u**2], axis=1)  # (L, 3)
    normal = np.einsum("nl,li,lj->nij", weights, design, design)
    logs = np.log(np.maximum(profiles, 1e-12))
    right = np.einsum("nl,li,nl->ni", weights, design, logs)
    solvable = (bright.sum(axis=1) >= 3) & (np.abs(np.linalg.det(normal)) > 1e-18)
    coef = np.zeros((len(profiles), 3))
    if solvable.any():
        coef[solvable] = np.linalg.solve(normal[solvable], right[solvable][:, :, None])[:, :, 0]
    mass = profiles / np.maximum(profiles.sum(axis=1, keepdims=True), 1e-12)
    centre = mass @ u
    peaked = solvable & (coef[:, 2] < 0)
    vertex = -coef[:, 1] / np.where(peaked, 2 * coef[:, 2], -1.0)
    return np.where(peaked, vertex, centre) + 0.5


class LineLearner(ParamsMixin):
    """A straight-line classifier for the toy: a logistic regression on where each dot is.

    It reads the dot's position from each image (`dot_positions`) and fits
    `fit_logistic`; its decision boundary is the straight line ``line_``. Two classes.

    Parameters
    ----------
    l2 : float, default 1e-3
        The weights' penalty.

    Attributes
    ----------
    weights_ : numpy.ndarray
        (w_x, w_y, bias) of class 1 (see `fit_logistic`).
    line_ : Line
        The decision boundary.
    """

    weights_: np.ndarray
    line_: Line

    def __init__(self, l2: float = 1e-3) -> None:
        self.l2 = l2

    def fit(
        self,
        images: np.ndarray,
        targets: np.ndarray,
        progress: Any = None,
        should_stop: Any = None,
    ) -> LineLearner:
        """Fit the line to the labeled dots (class ids 0 and 1).

        Parameters
        ----------
        images : numpy.ndarray
            (N, H, W, 3) dot images.
        targets : numpy.ndarray
            (N,) class ids, 0 or 1.
        progress : callable, optional
            Told 1.0 when done.
        should_stop : callable, optional
            Unused: a fit takes milliseconds.
        """
        self.weights_ = fit_logistic(dot_positions(images), targets, self.l2)
        self.line_ = line_of(self.weights_)
        if progress is not None:
            progress(1.0)
        return self

    def predict_proba(self, images: np.ndarray, mc_samples: int = 1) -> np.ndarray:
        """(N, 2, mc_samples) probabilities of cat and milkshake, the same for every sample.

        Parameters
        ----------
        images : numpy.ndarray
            (N, H, W, 3) dot images.
        mc_samples : int, default 1
            Samples per image (all equal: the line is not stochastic).
        """
        weights = check_fitted(self, "weights_")
        points = dot_positions(images) - 0.5 if len(images) else np.zeros((0, 2))
        p1 = 1 / (1 + np.exp(-(points @ weights[:2] + weights[2])))
        probs = np.stack([1 - p1, p1], axis=1)
        return np.repeat(probs[:, :, None], mc_samples, axis=2)
