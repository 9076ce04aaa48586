"""Instance segmentation: objects (a mask and a class each) as targets, MaskAL's uncertainty, mask mAP."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import heuristics
from ..dataset import Dataset, Snapshot
from ..instances import Instances
from . import instance_scores
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
from .detect import box_probs, check_detections


def instance_target(objects: Instances, classes: list[str]) -> dict[str, np.ndarray]:
    """An annotation as a learner's target: boxes, class ids from 0 and (K, H, W) uint8 masks."""
    return objects.to_target(classes, first_label=0)  # type: ignore[no-any-return]


def check_objects(
    learner: Any, found: Any, size: tuple[int, int], n_classes: int, mc_samples: int, index: int
) -> tuple[dict[str, np.ndarray], int]:
    """One image's objects checked like detections (`check_detections`) and for their masks;
    objects with an empty mask, or the same mask as a better object, are left out (counted)."""
    who = f"{type(learner).__name__}.predict for image {index}"
    if not isinstance(found, dict) or not {"masks", "mask_samples"} <= found.keys():
        raise ValueError(
            f"{who} must return masks and mask_samples besides boxes, labels and probs"
        )
    boxes = np.asarray(found.get("boxes", np.zeros((0, 4)))).reshape(-1, 4)
    masks, samples = np.asarray(found["masks"]), np.asarray(found["mask_samples"])
    k = len(boxes)
    if masks.shape != (k, *size) or masks.dtype != bool:
        raise ValueError(
            f"{who} returned masks {masks.shape} {masks.dtype}; expected bool "
            f"({k}, {size[0]}, {size[1]}): one per box, at the image's size"
        )
    if samples.ndim < 3 or samples.shape[:2] != (k, mc_samples) or samples.dtype != bool:
        raise ValueError(
            f"{who} returned mask_samples {samples.shape} {samples.dtype}; expected bool "
            f"({k}, {mc_samples}, ...): each box's mask in each pass"
        )
    height, width = size
    clipped = np.clip(boxes, 0, [width, height, width, height])
    whole = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    checked, dropped = check_detections(learner, found, size, n_classes, mc_samples, index)
    masks, samples = masks[whole], samples[whole]
    keep, seen = [], set()
    for j, mask in enumerate(masks):
        key = np.packbits(mask).tobytes()
        if mask.any() and key not in seen:
            keep.append(j)
            seen.add(key)
    kept = {name: value[keep] for name, value in checked.items()}
    kept["masks"], kept["mask_samples"] = masks[keep], samples[keep]
    return kept, dropped + len(masks) - len(keep)


def draft_of(
    objects: dict[str, np.ndarray], classes: list[str], size: tuple[int, int]
) -> Instances:
    """The model's objects as an annotation, one object per detection, best first, on an image
    of `size` (H, W)."""
    if not len(objects["masks"]):
        height, width = size
        return Instances.empty((width, height))
    return Instances(objects["masks"], [classes[c] for c in objects["labels"]])


class InstanceSegment(PerImageTask):
    """Objects per image, each a mask and a class; the learner follows `InstanceLearner`.

    An image's score is MaskAL's (``instance_scores``): per object, its semantic, spatial and
    occurrence uncertainty combined, reduced over the objects ("max" by default); 1 when
    nothing is found; equal for all images with the "random" heuristic.
    """

    name: str = "instances"
    default_reduction: str | None = "max"
    chunk_limit: int = 16
    predict_method: str = "predict"
    samples_masks: bool = True  # MaskAL needs MC samples whatever the heuristic

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
            learner, dataset, snapshot, lambda a: instance_target(a, classes), progress, should_stop
        )

    def probs_width(self, n_classes: int) -> int:
        return n_classes + 1  # the classes and the background

    def keeps_probs(self, heuristic: Any) -> bool:
        return (
            True  # one object's probabilities an image: kept for any heuristic, as they cost little
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
        classes = list(dataset.classes)
        size = dataset.image_size(index)
        objects, dropped = check_objects(learner, found, size, len(classes), mc_samples, index)
        probs = box_probs(objects, len(classes), mc_samples)
        draft = draft_of(objects, classes, size)
        # for the batch selectors: the most uncertain object's probabilities
        kept = uncertain_probs(probs) if keep_probs else None
        if heuristics.name_of(heuristic) == "random":  # equal scores: the ranking draws at random
            return ImageScore(0.0, draft, objects["scores"], probs=kept, dropped=dropped)
        uncertainty = instance_scores.object_uncertainty(
            objects["probs"], objects["mask_samples"], heuristic
        )
        names = [classes[c] for c in objects["labels"]]
        return ImageScore(
            instance_scores.image_score(uncertainty, reduction),
            draft,
            objects["scores"],
            probs=kept,
            dropped=dropped,
            reason=instance_scores.explain(uncertainty, names, mc_samples),
        )

    def prepare_eval(self, eval_set: tuple[Any, Any], classes: list[str]) -> Any:
        images, annotations = check_eval_set(eval_set)
        annotations = list(annotations)
        source = eval_images(images, classes, len(annotations))
        truths = []
        for k, objects in enumerate(annotations):
            if not isinstance(objects, Instances):
                raise ValueError(
                    f"eval_set annotation {k} must be Instances, got {type(objects).__name__}"
                )
            truths.append(objects.bind(image_size=source.image_size(k), classes=classes))
        return [source.image(k) for k in range(len(source))], truths, list(classes)

    def measure(self, learner: Any, prepared: Any, n_classes: int) -> Measured:
        from ..coco_metrics import mask_map

        images, truths, classes = prepared
        found = []
        for start in range(0, len(images), self.chunk_limit):
            chunk = images[start : start + self.chunk_limit]
            for k, result in enumerate(call_on_list(learner, "predict", 1, chunk)):
                size = chunk[k].shape[:2]
                found.append(check_objects(learner, result, size, n_classes, 1, start + k)[0])
        ap = mask_map(found, truths, classes)
        return Measured(float(ap["map"]), "mask mAP", {"AP50": float(ap["ap50"])})
