"""Acquisition heuristics: pure numpy functions from class probabilities to uncertainty scores.

Every heuristic takes probabilities of shape (N, C) or (N, C, I) with I Monte Carlo samples and
returns scores of shape (N,); a higher score always means more uncertain.

The batch selectors of `al_widget.selectors` ("coreset", "cluster_margin", "badge" and a user's
own) are registered with them (``heuristic_registry``, re-exported here), so that their names
work wherever a heuristic name does; as heuristics they score with their base heuristic, and
the loop then picks its batch with them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._numbers import is_number
from .heuristic_registry import Heuristic as Heuristic
from .heuristic_registry import get as get
from .heuristic_registry import is_builtin as is_builtin
from .heuristic_registry import name_of as name_of
from .heuristic_registry import names as names
from .heuristic_registry import register as register
from .heuristic_registry import register_builtin as register_builtin
from .heuristic_registry import unregister as unregister
from .heuristic_registry import watch as watch

Reduction = str | Callable[[np.ndarray], float]

_TOLERANCE = 1e-3


def check_probs(probs: Any, *, source: str = "probs", indices: Any = None) -> np.ndarray:
    """`probs` as a float (N, C, I) array, refused with the offending rows if it is not probabilities.

    The one check of class probabilities: heuristics run it on their input, and the loop runs it
    on each chunk a learner returns, naming the learner and the images.

    Parameters
    ----------
    probs : array-like
        (N, C) or (N, C, I) probabilities that sum to 1 over C.
    source : str, default "probs"
        What made them, as errors name it (e.g. ``"MyNet.predict_proba"``).
    indices : array-like of int, optional
        The image index of each row: errors name these images instead of row numbers.
    """
    array = _numbers(probs, f"{source} must be")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"{source} must have shape (N, C) or (N, C, I), got {array.shape}")
    if array.shape[1] < 1 or array.shape[2] < 1:
        raise ValueError(
            f"{source} needs at least one class and one sample, got shape {array.shape}"
        )
    if not len(array):
        return array
    # Two passes: a NaN or inf anywhere in a row makes its sum non-finite, and values >= 0
    # whose row sums to 1 are each <= 1.
    sums = array.sum(axis=1, dtype=np.float64)
    finite = np.isfinite(sums).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        raise ValueError(
            f"{source} has NaN or infinite values in {rows.size} {_named(rows, indices)}; "
            "the model's output is broken there"
        )
    off = np.abs(sums - 1).max(axis=1) > _TOLERANCE * array.shape[1]
    low = array.min()
    if low < -_TOLERANCE or off.any():
        rows = np.flatnonzero(off | (array.min(axis=(1, 2)) < -_TOLERANCE))
        raise ValueError(
            f"{source} must be probabilities in [0, 1] summing to 1 over classes (axis 1); "
            f"got values in [{low:.3g}, {array.max():.3g}] in {rows.size} {_named(rows, indices)}. "
            "If these are logits, pass them through al_widget.heuristics.softmax first"
        )
    return array


def _numbers(values: Any, must: str) -> np.ndarray:
    """`values` as an array of real numbers, else a ValueError: "<must> numbers, got dtype ..."."""
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        like = f" values like {_cut(repr(array.ravel()[:1].tolist()[0]))}" if array.size else ""
        raise ValueError(f"{must} numbers, got dtype {array.dtype}{like}")
    return array


def _named(rows: np.ndarray, indices: Any) -> str:
    """Offending rows as an error names them: "rows (first: [..])" or "images (first: [..])"."""
    if indices is None:
        return f"rows (first: {rows[:10].tolist()})"
    return f"images (first: {np.asarray(indices)[rows[:10]].tolist()})"


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def softmax(logits: np.ndarray, axis: int = 1) -> np.ndarray:
    """Probabilities from logits along the class axis.

    Parameters
    ----------
    logits : array-like
        Unnormalised class scores.
    axis : int, default 1
        The class axis.
    """
    shifted = np.asarray(logits, dtype=np.float64) - np.max(logits, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def _mean_probs(probs: np.ndarray) -> np.ndarray:
    return check_probs(probs).mean(axis=2)


def _entropy(p: np.ndarray, axis: int = 1) -> np.ndarray:
    return -np.sum(p * np.log(np.clip(p, 1e-12, 1.0)), axis=axis)


def _samples(probs: np.ndarray, name: str) -> np.ndarray:
    array = check_probs(probs)
    if array.shape[2] < 2:
        raise ValueError(
            f"{name} needs Monte Carlo samples: probs of shape (N, C, I) with I >= 2, got {np.shape(probs)}; "
            "score with mc_samples >= 2 (MC dropout)"
        )
    return array


@register_builtin("random")
def random(probs: np.ndarray) -> np.ndarray:
    """Equal scores for all rows: the ranking's random tie-break makes the order random.

    Parameters
    ----------
    probs : numpy.ndarray
        Class probabilities, (N, C) or (N, C, I) with I Monte Carlo samples.

    Returns
    -------
    numpy.ndarray
        (N,) scores, higher = more uncertain.
    """
    return np.zeros(len(check_probs(probs)))


@register_builtin("least_confidence")
def least_confidence(probs: np.ndarray) -> np.ndarray:
    """1 - max_c p(c): low top probability means uncertain.

    Parameters
    ----------
    probs : numpy.ndarray
        Class probabilities, (N, C) or (N, C, I) with I Monte Carlo samples.

    Returns
    -------
    numpy.ndarray
        (N,) scores, higher = more uncertain.
    """
    return 1.0 - _mean_probs(probs).max(axis=1)


@register_builtin("margin")
def margin(probs: np.ndarray) -> np.ndarray:
    """1 - (p_top1 - p_top2): a small gap between the two best classes means uncertain.

    Parameters
    ----------
    probs : numpy.ndarray
        Class probabilities, (N, C) or (N, C, I) with I Monte Carlo samples.

    Returns
    -------
    numpy.ndarray
        (N,) scores, higher = more uncertain.
    """
    p = _mean_probs(probs)
    if p.shape[1] < 2:
        return np.zeros(len(p))
    top2 = np.partition(p, -2, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


@register_builtin("entropy")
def entropy(probs: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of the mean class distribution.

    Parameters
    ----------
    probs : numpy.ndarray
        Class probabilities, (N, C) or (N, C, I) with I Monte Carlo samples.

    Returns
    -------
    numpy.ndarray
        (N,) scores, higher = more uncertain.
    """
    return _entropy(_mean_probs(probs))


@register_builtin("variance")
def variance(probs: np.ndarray) -> np.ndarray:
    """Mean over classes of the standard deviation of p(c) across MC samples (Gal's Mean STD).

    Parameters
    ----------
    probs : numpy.ndarray
        Class probabilities, (N, C) or (N, C, I) with I Monte Carlo samples. I must be >= 2.

    Returns
    -------
    numpy.ndarray
        (N,) scores, higher = more uncertain.
    """
    return _samples(probs, "variance").std(axis=2).mean(axis=1)


@register_builtin("bald")
def bald(probs: np.ndarray) -> np.ndarray:
    """Mutual information between prediction and weights: H(mean p) - mean H(p_i).

    Parameters
    ----------
    probs : numpy.ndarray
        Class probabilities, (N, C) or (N, C, I) with I Monte Carlo samples. I must be >= 2.

    Returns
    -------
    numpy.ndarray
        (N,) scores, higher = more uncertain.
    """
    p = _samples(probs, "bald")
    return _entropy(p.mean(axis=2)) - _entropy(p, axis=1).mean(axis=1)


_REDUCTIONS: dict[str, Callable[[np.ndarray], float]] = {
    "mean": lambda s: float(s.mean()) if s.size else 0.0,
    "max": lambda s: float(s.max()) if s.size else 0.0,
    "sum": lambda s: float(s.sum()),
}
_TOP = re.compile(r"top\((.*)\)")


def top(q: float) -> Callable[[np.ndarray], float]:
    """The reduction that takes the mean of the highest fraction `q` of the scores.

    It sits between 'mean' (``q = 1``) and 'max' (one score): an image is as uncertain as its
    most uncertain pixels (or boxes), however small the uncertain part of the image is. For
    masks, ``top(0.01)`` of the per-pixel margins ranks images by their pixel error better
    than 'mean' or 'max' (``benchmarks/mask_reduction.py``). Also available by name, as
    ``"top(0.01)"``.

    Parameters
    ----------
    q : float
        The fraction of scores to average, in (0, 1]; at least one score is always taken
        (the ``ceil(q * n)`` highest of n).

    Returns
    -------
    callable
        A function from a 1-D array of scores to one float (0.0 for no scores), named
        ``top(<q>)``.
    """
    if not is_number(q):
        raise ValueError(f"top(q) needs a number q in (0, 1], got q={q!r}")
    fraction = float(q)
    if not 0 < fraction <= 1:
        raise ValueError(f"top(q) needs q in (0, 1], got q={q!r}")

    def reduce(scores: np.ndarray) -> float:
        flat = np.asarray(scores, dtype=np.float64).ravel()
        if not flat.size:
            return 0.0
        k = max(1, int(np.ceil(fraction * flat.size - 1e-9)))
        return float(np.partition(flat, flat.size - k)[flat.size - k :].mean())

    reduce.__name__ = reduce.__qualname__ = f"top({fraction!r})"
    return reduce


def reduction(how: Reduction) -> Callable[[np.ndarray], float]:
    """The reduction named `how` ('mean', 'max', 'sum', 'top(q)'), or `how` itself if callable.

    Parameters
    ----------
    how : str or callable
        'mean', 'max', 'sum', 'top(q)' with q in (0, 1] such as 'top(0.01)' (see `top`), or a
        function from a 1-D array of scores to one float.
    """
    if callable(how):
        return how
    if isinstance(how, str):
        match = _TOP.fullmatch(how.strip())
        if match:
            try:
                q = float(match.group(1))
            except ValueError:
                raise ValueError(
                    f"reduction {how!r}: top(q) needs a number q in (0, 1], got q={match.group(1)!r}"
                ) from None
            return top(q)
    try:
        return _REDUCTIONS[how]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown reduction {how!r}; choose one of {sorted(_REDUCTIONS)}, 'top(q)' with q in "
            "(0, 1] such as 'top(0.01)', or pass a callable"
        ) from None


def score_dense(
    probs: np.ndarray, heuristic: str | Heuristic, how: Reduction = "mean"
) -> np.ndarray:
    """One score per image from per-pixel probabilities (N, C, H, W[, I]).

    Parameters
    ----------
    probs : numpy.ndarray
        Per-pixel class probabilities, (N, C, H, W) or (N, C, H, W, I).
    heuristic : str or callable
        The per-pixel heuristic.
    how : str or callable, default "mean"
        How pixel scores reduce to one score per image (see ``reduction``).
    """
    array = np.asarray(probs)
    if array.ndim == 4:
        array = array[..., None]
    if array.ndim != 5:
        raise ValueError(
            f"dense probs must have shape (N, C, H, W) or (N, C, H, W, I), got {array.shape}"
        )
    n, c, h, w, i = array.shape
    pixels = np.moveaxis(array, 1, 3).reshape(n * h * w, c, i)
    per_pixel = apply(heuristic, pixels).reshape(n, h * w)
    reduce = reduction(how)
    return np.array([reduce(row) for row in per_pixel], dtype=np.float64)


def score_boxes(
    probs: Sequence[np.ndarray], heuristic: str | Heuristic, how: Reduction = "max"
) -> np.ndarray:
    """One score per image from per-box probabilities: a list of (K_n, C[, I]) arrays.

    Parameters
    ----------
    probs : sequence of numpy.ndarray
        Per image, its boxes' class probabilities, (K_n, C) or (K_n, C, I).
    heuristic : str or callable
        The per-box heuristic.
    how : str or callable, default "max"
        How box scores reduce to one score per image (see ``reduction``).
    """
    get(heuristic)  # an unknown name is refused even with no boxes
    reduce = reduction(how)
    scores = []
    for boxes in probs:
        array = np.asarray(boxes)
        scores.append(reduce(apply(heuristic, array)) if len(array) else reduce(np.zeros(0)))
    return np.array(scores, dtype=np.float64)


def apply(heuristic: str | Heuristic, probs: np.ndarray, *, indices: Any = None) -> np.ndarray:
    """Scores from `heuristic`, checked to be one finite real number per row.

    The one check of what a heuristic returns: an error names the heuristic and what it
    returned, or what it raised (chained).

    Parameters
    ----------
    heuristic : str or callable
        A registered name or a heuristic function.
    probs : numpy.ndarray
        (N, C) or (N, C, I) class probabilities.
    indices : array-like of int, optional
        The image index of each row: errors name these images instead of row numbers.
    """
    n, name, fn = len(probs), name_of(heuristic), get(heuristic)
    try:
        found = fn(probs)
    except Exception as error:
        raise ValueError(f"heuristic {name!r} raised {type(error).__name__}: {error}") from error
    scores = _numbers(found, f"heuristic {name!r} must return real").astype(np.float64)
    if scores.shape != (n,):
        raise ValueError(f"heuristic {name!r} must return shape ({n},), got {scores.shape}")
    bad = np.flatnonzero(~np.isfinite(scores))
    if bad.size:
        raise ValueError(
            f"heuristic {name!r} returned NaN or infinite scores for {bad.size} "
            f"{_named(bad, indices)}"
        )
    return scores
