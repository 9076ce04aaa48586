"""Evaluation metrics: predictions scored against the truth (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ClassMaps = np.ndarray | Sequence[np.ndarray]


def confusion(predicted: ClassMaps, truth: ClassMaps, n_classes: int) -> np.ndarray:
    """The confusion matrix of predicted against true class ids, counted over every pixel.

    Parameters
    ----------
    predicted : numpy.ndarray or sequence of numpy.ndarray
        Predicted class ids: one integer array of any shape (a class map, or a stack of them),
        or a sequence of class maps, for instance of images of different sizes.
    truth : numpy.ndarray or sequence of numpy.ndarray
        The true class ids, shaped as `predicted` (pair by pair for a sequence).
    n_classes : int
        The number of classes C; every id must be in ``0 .. C - 1``.

    Returns
    -------
    numpy.ndarray
        (C, C) int64 counts: row = true class, column = predicted class.

    Raises
    ------
    ValueError
        For shapes that do not match, non-integer ids, or ids outside ``0 .. C - 1``.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise TypeError(f"n_classes must be an int, got {n_classes!r}")
    if n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    pairs = _pairs(predicted, truth)
    counts = np.zeros(n_classes * n_classes, dtype=np.int64)
    for k, (p, t) in enumerate(pairs):
        where = f" (pair {k})" if len(pairs) > 1 else ""
        if p.shape != t.shape:
            raise ValueError(
                f"predicted and truth must have the same shape{where}, got {p.shape} and {t.shape}"
            )
        for name, ids in (("predicted", p), ("truth", t)):
            if ids.dtype.kind not in "iub":
                raise ValueError(
                    f"{name} must hold integer class ids{where}, got dtype {ids.dtype}"
                )
            if ids.size and (ids.min() < 0 or ids.max() >= n_classes):
                raise ValueError(
                    f"{name} holds class ids {ids.min()}..{ids.max()}{where}, "
                    f"outside 0..{n_classes - 1}"
                )
        flat = t.astype(np.int64).ravel() * n_classes + p.astype(np.int64).ravel()
        counts += np.bincount(flat, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def mean_iou(predicted: ClassMaps, truth: ClassMaps, n_classes: int) -> float:
    """Mean intersection over union of the classes, from the confusion matrix over all pixels.

    A class's IoU is ``TP / (TP + FP + FN)``, counted over every pixel of every image
    together (not averaged per image). Classes absent from both the prediction and the truth
    have no IoU (0 / 0) and are left out of the mean; a class present in only one of them has
    IoU 0.

    Parameters
    ----------
    predicted : numpy.ndarray or sequence of numpy.ndarray
        Predicted class ids, as for `confusion`.
    truth : numpy.ndarray or sequence of numpy.ndarray
        The true class ids, shaped as `predicted`.
    n_classes : int
        The number of classes C.

    Returns
    -------
    float
        The mean IoU in [0, 1].

    Raises
    ------
    ValueError
        As `confusion`, and when there are no pixels at all.
    """
    counts = confusion(predicted, truth, n_classes)
    hits = np.diag(counts).astype(np.float64)
    union = counts.sum(axis=0) + counts.sum(axis=1) - hits
    present = union > 0
    if not present.any():
        raise ValueError("mean_iou needs at least one pixel, got none")
    return float((hits[present] / union[present]).mean())


def _pairs(predicted: ClassMaps, truth: ClassMaps) -> list[tuple[np.ndarray, np.ndarray]]:
    """(predicted, truth) array pairs: one pair for arrays, one per item for sequences."""
    if isinstance(predicted, np.ndarray) and isinstance(truth, np.ndarray):
        return [(predicted, truth)]
    predicted_list, truth_list = list(predicted), list(truth)
    if len(predicted_list) != len(truth_list):
        raise ValueError(
            f"predicted and truth must have as many class maps, got "
            f"{len(predicted_list)} and {len(truth_list)}"
        )
    return [(np.asarray(p), np.asarray(t)) for p, t in zip(predicted_list, truth_list, strict=True)]
