"""COCO mean average precision of boxes (`mean_ap`) and of object masks (`mask_map`), as the
COCO evaluation computes it (faster-coco-eval, imported when called; numpy otherwise)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


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
    return _stats(COCOeval_faster(ground, results, iouType="bbox", print_function=quiet))


def _stats(evaluation: Any) -> dict[str, float]:
    """COCO's mAP and AP at IoU 0.5 from an evaluation set up (``COCOeval_faster``)."""
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return {"map": float(evaluation.stats[0]), "ap50": float(evaluation.stats[1])}


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


def mask_map(
    predicted: Sequence[Any],
    truth: Sequence[Any],
    classes: Sequence[str],
) -> dict[str, float]:
    """COCO mask mean average precision of predicted objects (``iouType="segm"``).

    Parameters
    ----------
    predicted : sequence
        One entry per image: a pair ``(Instances, scores)`` with one score per object, or a
        dict with ``"masks"`` (K, H, W) or (K, 1, H, W), bool or 0/1, ``"labels"`` (K,) class
        ids and ``"scores"`` (K,), such as a Mask R-CNN gives once its mask probabilities are
        thresholded (``masks > 0.5``; probabilities are refused, naming the image). Empty or
        repeated masks are allowed there.
    truth : sequence of Instances
        The true objects, one ``Instances`` per image in the same order.
    classes : sequence of str
        The classes, which give each object its class id.

    Returns
    -------
    dict
        ``"map"``: mask AP averaged over IoU thresholds 0.50, 0.55, ..., 0.95 (COCO's mAP);
        ``"ap50"``: mask AP at IoU 0.5. Each is averaged over the classes that have at least
        one true object, with at most 100 objects per image; NaN when no image has one.
    """
    from faster_coco_eval import COCO, COCOeval_faster

    if len(predicted) != len(truth):
        raise ValueError(
            f"need one prediction per image of the truth, got {len(predicted)} and {len(truth)}"
        )
    ground: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    for i, (guess, objects) in enumerate(zip(predicted, truth, strict=True)):
        for rle, label, area in zip(
            objects.to_rle(), objects.class_ids(classes), objects.areas, strict=True
        ):
            ground.append(
                {
                    "id": len(ground) + 1,
                    "image_id": i + 1,
                    "category_id": int(label) + 1,
                    "segmentation": rle,
                    "area": float(area),
                    "iscrowd": 0,
                    "bbox": [0.0, 0.0, 0.0, 0.0],
                }
            )
        for rle, label, score in _predicted_rles(i, guess, classes, objects.canvas_size):
            found.append(
                {"image_id": i + 1, "category_id": label + 1, "segmentation": rle, "score": score}
            )
    if not ground:
        return {"map": float("nan"), "ap50": float("nan")}
    quiet = lambda *args, **kwargs: None  # noqa: E731
    coco = COCO(
        {
            "images": [
                {"id": i + 1, "height": t.canvas_size[0], "width": t.canvas_size[1]}
                for i, t in enumerate(truth)
            ],
            "categories": [{"id": c + 1} for c in range(len(classes))],
            "annotations": ground,
        },
        print_function=quiet,
    )
    results = coco.loadRes(found) if found else COCO(print_function=quiet)
    return _stats(COCOeval_faster(coco, results, iouType="segm", print_function=quiet))


def _predicted_rles(
    i: int, guess: Any, classes: Sequence[str], size: tuple[int, int]
) -> list[tuple[dict[str, Any], int, float]]:
    """(compressed RLE, class id, score) of each predicted object of image `i`."""
    from faster_coco_eval.core import mask as coco_mask

    if isinstance(guess, Mapping):
        masks = np.asarray(guess["masks"])
        # (K, 1, H, W), as Mask R-CNN gives its masks, is (K, H, W)
        masks = masks[:, 0] if masks.ndim == 4 and masks.shape[1] == 1 else masks
        _check_masks(i, masks, size)
        labels = np.asarray(guess["labels"], dtype=np.int64).reshape(-1)
        scores = np.asarray(guess["scores"], dtype=np.float64).reshape(-1)
        if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
            raise ValueError(
                f"image {i}: labels must be class ids in 0..{len(classes) - 1}, "
                f"got {labels.min()}..{labels.max()}"
            )
        rles = [coco_mask.encode(np.asfortranarray(m != 0, dtype=np.uint8)) for m in masks]
    else:
        objects, scores = guess
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        _check_masks(i, (len(objects), *objects.canvas_size), size)
        labels, rles = objects.class_ids(classes), objects.to_rle()
    if not len(labels) == len(scores) == len(rles):
        raise ValueError(
            f"image {i}: {len(rles)} predicted masks, {len(labels)} labels and "
            f"{len(scores)} scores; need one of each per object"
        )
    return [
        (rle, int(label), float(score))
        for rle, label, score in zip(rles, labels, scores, strict=True)
    ]


def _check_masks(i: int, masks: np.ndarray | tuple[int, ...], size: tuple[int, int]) -> None:
    """Refuse image `i`'s predicted masks unless they are (K, H, W) at its true `size`, of bool
    or 0/1 values. Masks of another shape, even of as many pixels (transposed), would be scored
    on pixels they were not predicted on; probabilities (Mask R-CNN's, before a threshold) would
    count every pixel above 0 as the object's. Nothing found, in any shape, is no mask.

    Parameters
    ----------
    i : int
        The image, for the error.
    masks : numpy.ndarray or tuple of int
        The masks given, or the shape of an ``Instances``' (bool by construction).
    size : tuple of int
        The (H, W) of its true masks.
    """
    if isinstance(masks, np.ndarray) and masks.ndim and not len(masks):
        return
    shape = masks.shape if isinstance(masks, np.ndarray) else masks
    if len(shape) != 3 or tuple(shape[1:]) != tuple(size):
        need = f"need (K, H, W) = (K, {size[0]}, {size[1]}), the size of its true masks"
        raise ValueError(f"image {i}: predicted masks are {tuple(shape)}, {need}")
    if not isinstance(masks, np.ndarray) or masks.dtype == np.bool_:
        return
    other = masks[(masks != 0) & (masks != 1)]
    if len(other):
        raise ValueError(
            f"image {i}: predicted masks must be bool or 0/1, got {masks.dtype} values such as "
            f"{other[0]} (probabilities?): threshold them first, e.g. masks > 0.5"
        )
