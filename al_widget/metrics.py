"""Evaluation metrics: predictions scored against the truth (numpy only). The COCO mAPs,
`mean_ap` and `mask_map`, live in ``coco_metrics`` (faster-coco-eval, imported when called)
and are imported here too."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._numbers import check_int
from .coco_metrics import mask_map as mask_map
from .coco_metrics import mean_ap as mean_ap

ClassMaps = np.ndarray | Sequence[np.ndarray]

_CHUNK = 1 << 18  # pixels counted at a time by `confusion`


IGNORE = 255
"""The class-map value of a pixel not labeled: ``annotations.IGNORE``, restated so that this module
loads with `_numbers` and `coco_metrics` alone, without the rest of the package (and so without
torch)."""


def confusion(
    predicted: ClassMaps, truth: ClassMaps, n_classes: int, *, ignore_index: int | None = IGNORE
) -> np.ndarray:
    """The confusion matrix of predicted against true class ids, counted over every pixel
    labeled in the truth.

    Parameters
    ----------
    predicted : numpy.ndarray or sequence of numpy.ndarray
        Predicted class ids: one integer array of any shape (a class map, or a stack of them),
        or a sequence of class maps, for instance of images of different sizes.
    truth : numpy.ndarray or sequence of numpy.ndarray
        The true class ids, shaped as `predicted` (pair by pair for a sequence).
    n_classes : int
        The number of classes C; every id must be in ``0 .. C - 1``.
    ignore_index : int or None, default ``Mask.IGNORE`` (255)
        The truth value of pixels not labeled, which are not counted (as torch's
        ``ignore_index``); None counts every pixel.

    Returns
    -------
    numpy.ndarray
        (C, C) int64 counts: row = true class, column = predicted class.

    Raises
    ------
    ValueError
        For an `n_classes` that is not an int >= 1 (a TypeError too when it is no int), shapes
        that do not match, non-integer ids, or ids outside ``0 .. C - 1``.
    """
    check_int("n_classes", n_classes, 1)
    pairs = _pairs(predicted, truth)
    counts = np.zeros(n_classes * n_classes + 1, dtype=np.int64)  # the last: pixels not labeled
    for k, (p, t) in enumerate(pairs):
        where = f" (pair {k})" if len(pairs) > 1 else ""
        if p.shape != t.shape:
            raise ValueError(
                f"predicted and truth must have the same shape{where}, got {p.shape} and {t.shape}"
            )
        check_ids("predicted", p, n_classes, where)
        check_ids("truth", t, n_classes, where, ignore_index)
        counts += _pair_counts(p.ravel(), t.ravel(), n_classes, ignore_index)
    return counts[:-1].reshape(n_classes, n_classes)


def _pair_counts(
    predicted: np.ndarray, truth: np.ndarray, n_classes: int, ignore_index: int | None
) -> np.ndarray:
    """(C * C + 1,) counts of ``truth * C + predicted``, the pixels not labeled in the last bin,
    a chunk at a time (a 12-megapixel mask needs no image-sized int64 array)."""
    counts = np.zeros(n_classes * n_classes + 1, dtype=np.int64)
    for start in range(0, predicted.size, _CHUNK):
        t = truth[start : start + _CHUNK]
        code = t.astype(np.intp) * n_classes
        np.add(code, predicted[start : start + _CHUNK], out=code, casting="unsafe")  # ids checked
        if ignore_index is not None:
            code[t == ignore_index] = n_classes * n_classes
        counts += np.bincount(code, minlength=n_classes * n_classes + 1)
    return counts


def mean_iou(
    predicted: ClassMaps, truth: ClassMaps, n_classes: int, *, ignore_index: int | None = IGNORE
) -> float:
    """Mean intersection over union of the classes, from the confusion matrix over all pixels.

    A class's IoU is ``TP / (TP + FP + FN)``, counted over every pixel of every image
    together (not averaged per image), but those the truth leaves unlabeled. Classes absent from both the prediction and the truth
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
    ignore_index : int or None, default ``Mask.IGNORE`` (255)
        The truth value of pixels not labeled, which are not counted; None counts every pixel.

    Returns
    -------
    float
        The mean IoU in [0, 1].

    Raises
    ------
    ValueError
        As `confusion`, and when there are no pixels at all.
    """
    counts = confusion(predicted, truth, n_classes, ignore_index=ignore_index)
    hits = np.diag(counts).astype(np.float64)
    union = counts.sum(axis=0) + counts.sum(axis=1) - hits
    present = union > 0
    if not present.any():
        raise ValueError("mean_iou needs at least one pixel, got none")
    return float((hits[present] / union[present]).mean())


def check_ids(
    name: str, ids: np.ndarray, n_classes: int, where: str, ignore_index: int | None = None
) -> None:
    """Refuse ids that are not integers in ``0 .. n_classes - 1`` (but `ignore_index`)."""
    if ids.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integer class ids{where}, got dtype {ids.dtype}")
    if ids.dtype.kind in "ub" and (ids.dtype == bool or np.iinfo(ids.dtype).max < n_classes):
        return  # every value of the dtype is a class id
    labeled = None if ignore_index is None else ids != ignore_index
    if labeled is not None and not labeled.all():
        if not labeled.any():
            return
        low = ids.min(where=labeled, initial=np.iinfo(ids.dtype).max)
        high = ids.max(where=labeled, initial=np.iinfo(ids.dtype).min)
    elif ids.size:
        low, high = ids.min(), ids.max()
    else:
        return
    if low < 0 or high >= n_classes:
        raise ValueError(f"{name} holds class ids {low}..{high}{where}, outside 0..{n_classes - 1}")


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(K, M) intersection over union of boxes `a` (K, 4) and `b` (M, 4), x0 y0 x1 y1."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    low = np.maximum(a[:, None, :2], b[None, :, :2])
    high = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(high - low, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).clip(0).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).clip(0).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def match(overlap: np.ndarray, allowed: np.ndarray, least: float) -> list[tuple[int, int]]:
    """Pairs (row, column) of `overlap` matched one to one, best overlap first, among the
    `allowed` pairs that overlap by at least `least`."""
    overlap = np.where(allowed & (overlap >= least), overlap, -1.0)
    pairs = []
    while overlap.size and overlap.max() >= 0:
        k, m = np.unravel_index(int(overlap.argmax()), overlap.shape)
        overlap[k, :], overlap[:, m] = -1.0, -1.0
        pairs.append((int(k), int(m)))
    return pairs


def box_f1(
    predicted: np.ndarray,
    predicted_labels: np.ndarray,
    truth: np.ndarray,
    true_labels: np.ndarray,
    *,
    iou: float = 0.5,
) -> float:
    """F1 of one image's predicted boxes against its true ones, matched one to one.

    A predicted box matches a true box of the same class overlapping it by at least `iou`
    (intersection over union); pairs are matched greedily, best overlap first. No box on
    either side is full agreement (1.0).

    Parameters
    ----------
    predicted, truth : numpy.ndarray
        (K, 4) and (M, 4) boxes, x0 y0 x1 y1.
    predicted_labels, true_labels : numpy.ndarray
        (K,) and (M,) class ids.
    iou : float, default 0.5
        The least overlap of a match.
    """
    predicted = np.asarray(predicted, np.float64).reshape(-1, 4)
    truth = np.asarray(truth, np.float64).reshape(-1, 4)
    return matched_f1(box_iou(predicted, truth), predicted_labels, true_labels, iou=iou)


def matched_f1(
    overlap: np.ndarray,
    predicted_labels: np.ndarray,
    true_labels: np.ndarray,
    *,
    iou: float = 0.5,
) -> float:
    """F1 of one image's predicted objects against its true ones, from their (K, M) overlaps.

    Objects match one to one (``match``): same class, overlap at least `iou`, best first. No
    object on either side is full agreement (1.0).

    Parameters
    ----------
    overlap : numpy.ndarray
        (K, M) the IoU of each predicted object with each true one (boxes or masks).
    predicted_labels, true_labels : numpy.ndarray
        (K,) and (M,) class ids.
    iou : float, default 0.5
        The least overlap of a match.
    """
    k, m = np.shape(overlap)
    if not k and not m:
        return 1.0
    if not k or not m:
        return 0.0
    same = np.asarray(predicted_labels)[:, None] == np.asarray(true_labels)[None, :]
    return 2 * len(match(np.array(overlap, np.float64), same, iou)) / (k + m)


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
