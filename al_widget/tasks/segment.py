"""Segmentation: class maps as targets, per-pixel probabilities, mean IoU."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import heuristics
from .._images import resize_labels
from ..annotations import Mask
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

_SELECTOR_PIXELS = 0.01  # the fraction of most uncertain pixels whose probabilities a selector gets


def check_pixel_probs(
    learner: Any, probs: Any, n_classes: int, mc_samples: int, index: int
) -> np.ndarray:
    """One image's per-pixel probabilities (C, h, w, I), checked."""
    array = np.asarray(probs)
    if array.ndim != 4 or array.shape[0] != n_classes or array.shape[3] != mc_samples:
        raise ValueError(
            f"{type(learner).__name__}.predict_proba for image {index} returned shape "
            f"{array.shape}; expected (n classes, h, w, mc_samples) = ({n_classes}, h, w, {mc_samples})"
        )
    c, h, w, i = array.shape
    heuristics.check_probs(
        np.moveaxis(array, 0, 2).reshape(h * w, c, i),
        source=f"{type(learner).__name__}.predict_proba for image {index} (pixels as rows)",
    )
    return array


def mask_draft(probs: np.ndarray, size: tuple[int, int]) -> Mask:
    """The most probable class of each pixel, at the image's size."""
    return Mask(resize_labels(probs.mean(axis=3).argmax(axis=0).astype(np.uint8), size))


def region_confidences(probs: np.ndarray) -> np.ndarray:
    """(C,) each class's confidence in a mask draft: the mean probability of the pixels drafted
    as that class, NaN for a class drafted nowhere."""
    mean = probs.mean(axis=3)
    drafted, sure = mean.argmax(axis=0).ravel(), mean.max(axis=0).ravel()
    n_classes = len(mean)
    counts = np.bincount(drafted, minlength=n_classes)
    sums = np.bincount(drafted, weights=sure, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


class Segment(PerImageTask):
    """A class per pixel; the learner follows `SegmentationLearner`."""

    name: str = "segment"
    default_reduction: str | None = "top(0.01)"
    chunk_limit: int = 16
    predict_method: str = "predict_proba"

    def fit(
        self,
        learner: Any,
        dataset: Dataset,
        snapshot: Snapshot,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> dict[int, str]:
        return fit_lists(
            learner, dataset, snapshot, lambda a: np.asarray(a.class_map), progress, should_stop
        )

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
        probs = check_pixel_probs(learner, found, len(dataset.classes), mc_samples, index)
        image_probs = None
        if keep_probs:  # ~50 ms an image at 256 px, 21 classes
            # for a batch selector: the mean probabilities of the most uncertain pixels
            c, _, _, samples = probs.shape
            pixels = np.moveaxis(probs, 0, 2).reshape(-1, c, samples)
            image_probs = uncertain_probs(pixels, _SELECTOR_PIXELS)
        return ImageScore(
            heuristics.score_dense(probs[None], heuristic, reduction)[0],
            mask_draft(probs, dataset.image_size(index)),
            region_confidences(probs),
            probs=image_probs,
        )

    def prepare_eval(self, eval_set: tuple[Any, Any], classes: list[str]) -> Any:
        images, annotations = check_eval_set(eval_set)
        annotations = list(annotations)
        source = eval_images(images, classes, len(annotations))
        truths = []
        for k, mask in enumerate(annotations):
            if not isinstance(mask, Mask):
                raise ValueError(
                    f"eval_set annotation {k} must be a Mask, got {type(mask).__name__}"
                )
            truths.append(mask.bind(image_size=source.image_size(k), classes=classes).class_map)
        return [source.image(k) for k in range(len(source))], truths

    def measure(self, learner: Any, prepared: Any, n_classes: int) -> Measured:
        from ..metrics import mean_iou

        images, truths = prepared
        predicted = []
        for start in range(0, len(images), self.chunk_limit):
            chunk = images[start : start + self.chunk_limit]
            for k, result in enumerate(call_on_list(learner, "predict_proba", 1, chunk)):
                probs = check_pixel_probs(learner, result, n_classes, 1, start + k)
                predicted.append(mask_draft(probs, chunk[k].shape[:2]).class_map)
        return Measured(mean_iou(predicted, truths, n_classes), "mIoU")
