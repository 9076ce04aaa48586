"""Evaluation metrics: predictions scored against the truth (numpy only; `mean_ap` also uses
faster-coco-eval, imported when called)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

ClassMaps = np.ndarray | Sequence[np.ndarray]


IGNORE = 255
"""The class-map value of a pixel not labeled: ``annotations.IGNORE``, restated so that this module
loads on its own, without the package (and so without torch)."""


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
        _check_ids("predicted", p, n_classes, where)
        if ignore_index is not None:
            labeled = t != ignore_index
            p, t = p[labeled], t[labeled]
        _check_ids("truth", t, n_classes, where)
        flat = t.astype(np.int64).ravel() * n_classes + p.astype(np.int64).ravel()
        counts += np.bincount(flat, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


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


def _check_ids(name: str, ids: np.ndarray, n_classes: int, where: str) -> None:
    """Refuse ids that are not integers in ``0 .. n_classes - 1``."""
    if ids.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integer class ids{where}, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= n_classes):
        raise ValueError(
            f"{name} holds class ids {ids.min()}..{ids.max()}{where}, outside 0..{n_classes - 1}"
        )


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
    if not len(predicted) and not len(truth):
        return 1.0
    if not len(predicted) or not len(truth):
        return 0.0
    low = np.maximum(predicted[:, None, :2], truth[None, :, :2])
    high = np.minimum(predicted[:, None, 2:], truth[None, :, 2:])
    inter = np.clip(high - low, 0, None).prod(axis=2)
    area_p = (predicted[:, 2:] - predicted[:, :2]).clip(0).prod(axis=1)
    area_t = (truth[:, 2:] - truth[:, :2]).clip(0).prod(axis=1)
    union = area_p[:, None] + area_t[None, :] - inter
    overlap = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    same = np.asarray(predicted_labels)[:, None] == np.asarray(true_labels)[None, :]
    overlap = np.where(same & (overlap >= iou), overlap, -1.0)
    matched = 0
    while overlap.size and overlap.max() >= 0:
        k, m = np.unravel_index(int(overlap.argmax()), overlap.shape)
        overlap[k, :], overlap[:, m] = -1.0, -1.0
        matched += 1
    return 2 * matched / (len(predicted) + len(truth))


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


def mean_ap(
    detections: Sequence[Mapping[str, Any]],
    targets: Sequence[Mapping[str, Any]],
    n_classes: int,
) -> dict[str, float]:
    """COCO mean average precision of detections, as the COCO evaluation computes it.

    Parameters
    ----------
    detections : sequence of dict
        One dict per image with ``"boxes"`` (K, 4) xyxy in pixels, ``"labels"`` (K,) class
        ids in ``0 .. n_classes - 1`` and ``"scores"`` (K,), such as `Detector.predict`
        returns (other keys are ignored).
    targets : sequence of dict
        The true boxes, one dict per image in the same order, with ``"boxes"`` and
        ``"labels"`` as above.
    n_classes : int
        The number of classes C.

    Returns
    -------
    dict
        ``"map"``: AP averaged over IoU thresholds 0.50, 0.55, ..., 0.95 (COCO's mAP);
        ``"ap50"``: AP at IoU 0.5. Each is averaged over the classes that have at least one
        true box, with at most 100 detections per image; NaN when no image has a true box.
    """
    from faster_coco_eval import COCO, COCOeval_faster

    if len(detections) != len(targets):
        raise ValueError(
            f"need one detections dict per target, got {len(detections)} and {len(targets)}"
        )
    truth = _coco_boxes(targets, n_classes, with_scores=False)
    if not truth:
        return {"map": float("nan"), "ap50": float("nan")}
    found = _coco_boxes(detections, n_classes, with_scores=True)
    quiet = lambda *args, **kwargs: None  # noqa: E731
    ground = COCO(
        {
            "images": [{"id": i + 1} for i in range(len(targets))],
            "categories": [{"id": c + 1} for c in range(n_classes)],
            "annotations": truth,
        },
        print_function=quiet,
    )
    results = ground.loadRes(found)
    evaluation = COCOeval_faster(ground, results, iouType="bbox", print_function=quiet)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    stats = evaluation.stats
    return {"map": float(stats[0]), "ap50": float(stats[1])}


def _coco_boxes(
    images: Sequence[Mapping[str, Any]], n_classes: int, *, with_scores: bool
) -> list[dict[str, Any]]:
    """COCO annotation dicts (xywh boxes, 1-based image and category ids) for every box."""
    out: list[dict[str, Any]] = []
    for i, image in enumerate(images):
        boxes = np.asarray(image["boxes"], dtype=np.float64).reshape(-1, 4)
        labels = np.asarray(image["labels"], dtype=np.int64).reshape(-1)
        if len(labels) != len(boxes):
            raise ValueError(f"image {i}: {len(boxes)} boxes but {len(labels)} labels")
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(
                f"image {i}: labels must be class ids in 0..{n_classes - 1}, "
                f"got {labels.min()}..{labels.max()}"
            )
        scores = (
            np.asarray(image["scores"], dtype=np.float64).reshape(-1)
            if with_scores
            else np.ones(len(boxes))
        )
        if len(scores) != len(boxes):
            raise ValueError(f"image {i}: {len(boxes)} boxes but {len(scores)} scores")
        for box, label, score in zip(boxes, labels, scores, strict=True):
            width, height = box[2] - box[0], box[3] - box[1]
            entry: dict[str, Any] = {
                "id": len(out) + 1,
                "image_id": i + 1,
                "category_id": int(label) + 1,
                "bbox": [float(box[0]), float(box[1]), float(width), float(height)],
                "area": float(width * height),
                "iscrowd": 0,
            }
            if with_scores:
                entry["score"] = float(score)
            out.append(entry)
    return out
