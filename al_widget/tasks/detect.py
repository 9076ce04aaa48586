"""Detection: boxes as targets, per-box class probabilities with background, mAP."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import heuristics
from ..annotations import Boxes
from ..dataset import Dataset, Snapshot
from .base import (
    ImageScore,
    Measured,
    PerImageTask,
    Progress,
    ShouldStop,
    call_on_list,
    check_eval_set,
    eval_images,
    fit_lists,
    uncertain_probs,
)

_INSIDE = 0.5  # pixels a model's box may stray past the image edge before it is an error


def box_target(boxes: Boxes, classes: list[str]) -> dict[str, np.ndarray]:
    """An annotation as a learner's target: float (K, 4) boxes and int64 (K,) class ids."""
    return {
        "boxes": np.array(boxes.xyxy, dtype=np.float64).reshape(-1, 4),
        "labels": np.asarray(boxes.class_ids(classes), dtype=np.int64).reshape(-1),
    }


def check_detections(
    learner: Any, found: Any, size: tuple[int, int], n_classes: int, mc_samples: int, index: int
) -> tuple[dict[str, np.ndarray], int]:
    """One image's detections checked against the image and classes, degenerate boxes left out.

    Returns the kept detections (boxes clipped to the image) and how many were degenerate.
    """
    who = f"{type(learner).__name__}.predict for image {index}"
    if not isinstance(found, dict) or not {"boxes", "labels", "probs"} <= found.keys():
        raise ValueError(f"{who} must return a dict with boxes, labels, scores and probs")
    boxes = np.asarray(found["boxes"], dtype=np.float64).reshape(-1, 4)
    labels = np.asarray(found["labels"]).reshape(-1)
    scores = np.asarray(found.get("scores", np.ones(len(boxes))), dtype=np.float64).reshape(-1)
    probs = np.asarray(found["probs"])
    k = len(boxes)
    expected = (k, n_classes + 1, mc_samples)
    if len(labels) != k or len(scores) != k or probs.shape != expected:
        raise ValueError(
            f"{who} returned {k} boxes, {len(labels)} labels, {len(scores)} scores and probs of "
            f"shape {probs.shape}; expected probs {expected} (classes + background, mc_samples)"
        )
    if k and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"{who} returned labels {labels.tolist()}; expected ids in 0..{n_classes - 1}"
        )
    if not np.isfinite(boxes).all():
        raise ValueError(f"{who} returned a box with a non-finite coordinate")
    height, width = size
    outside = (
        (boxes[:, :2] < -_INSIDE).any(1)
        | (boxes[:, 2] > width + _INSIDE)
        | (boxes[:, 3] > height + _INSIDE)
    )
    if outside.any():
        raise ValueError(
            f"{who} returned box {boxes[outside][0].tolist()} outside the {width}x{height} image"
        )
    boxes = np.clip(boxes, 0, [width, height, width, height])
    if k:
        probs = heuristics.check_probs(probs, source=f"{who} (probs of its boxes)")
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    kept = {
        "boxes": boxes[keep],
        "labels": labels[keep].astype(np.int64),
        "scores": scores[keep],
        "probs": probs[keep],
    }
    return kept, int(k - keep.sum())


def box_probs(found: dict[str, np.ndarray], n_classes: int, mc_samples: int) -> np.ndarray:
    """The boxes' class probabilities; an image with no box is one box of uniform probabilities."""
    if len(found["probs"]):
        return found["probs"]
    return np.full((1, n_classes + 1, mc_samples), 1.0 / (n_classes + 1))


class Detect(PerImageTask):
    """Boxes per image; the learner follows `DetectionLearner`."""

    name: str = "detect"
    default_reduction: str | None = "max"
    chunk_limit: int = 32
    predict_method: str = "predict"

    def fit(
        self,
        learner: Any,
        dataset: Dataset,
        snapshot: Snapshot,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> dict[int, str]:
        classes = dataset.classes
        return fit_lists(
            learner, dataset, snapshot, lambda a: box_target(a, classes), progress, should_stop
        )

    def probs_width(self, n_classes: int) -> int:
        return n_classes + 1  # the classes and the background

    def keeps_probs(self, heuristic: Any) -> bool:
        return True  # one box's probabilities an image: kept for any heuristic, as they cost little

    def score_image(
        self,
        learner: Any,
        dataset: Dataset,
        index: int,
        found: Any,
        *,
        heuristic: Any,
        reduction: Any,
        mc_samples: int,
        keep_probs: bool,
    ) -> ImageScore:
        n_classes = len(dataset.classes)
        size = dataset.image_size(index)
        checked, dropped = check_detections(learner, found, size, n_classes, mc_samples, index)
        probs = box_probs(checked, n_classes, mc_samples)
        return ImageScore(
            heuristics.score_boxes([probs], heuristic, reduction)[0],
            Boxes(
                checked["boxes"], [dataset.classes[c] for c in checked["labels"]], canvas_size=size
            ),
            checked["scores"],
            # for the batch selectors: the most uncertain box's probabilities
            probs=uncertain_probs(probs) if keep_probs else None,
            dropped=dropped,
        )

    def prepare_eval(self, eval_set: tuple[Any, Any], classes: list[str]) -> Any:
        images, annotations = check_eval_set(eval_set)
        annotations = list(annotations)
        source = eval_images(images, classes, len(annotations))
        targets = []
        for k, boxes in enumerate(annotations):
            if not isinstance(boxes, Boxes):
                raise ValueError(
                    f"eval_set annotation {k} must be Boxes, got {type(boxes).__name__}"
                )
            bound = boxes.bind(image_size=source.image_size(k), classes=classes)
            targets.append(box_target(bound, classes))
        return [source.image(k) for k in range(len(source))], targets

    def measure(self, learner: Any, prepared: Any, n_classes: int) -> Measured:
        from ..coco_metrics import mean_ap

        images, targets = prepared
        found = []
        for start in range(0, len(images), self.chunk_limit):
            chunk = images[start : start + self.chunk_limit]
            for k, result in enumerate(call_on_list(learner, "predict", 1, chunk)):
                size = chunk[k].shape[:2]
                found.append(check_detections(learner, result, size, n_classes, 1, start + k)[0])
        ap = mean_ap(found, targets, n_classes)
        return Measured(float(ap["map"]), "mAP", {"AP50": float(ap["ap50"])})
