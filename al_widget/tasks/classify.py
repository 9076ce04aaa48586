"""Classification: class ids as targets, (N, C, I) probabilities, accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import heuristics, scoring
from ..dataset import Dataset, Snapshot
from ..learners.base import input_size_of
from .base import ClassScored, Measured, Progress, Scored, ShouldStop, eval_images

MAX_SIDE = 224  # the longest side a learner without its own input size trains at


def capped_size(size: tuple[int, int], max_side: int = MAX_SIDE) -> tuple[int, int]:
    """`size` (H, W) scaled down, aspect kept, so that its longest side is at most `max_side`."""
    height, width = size
    scale = min(1.0, max_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def scored_from(
    indices: np.ndarray, probs: np.ndarray, heuristic: Any, broken: dict[int, str]
) -> ClassScored:
    """Scores, predicted classes and mean probabilities of the scored images' (n, C, I) probs."""
    mean = probs.mean(axis=2)
    return ClassScored(
        indices,
        heuristics.apply(heuristic, probs),
        predicted=mean.argmax(axis=1),
        broken=broken,
        probs=mean,
    )


class Classify:
    """One class per image; the learner follows `Learner`."""

    name: str = "classify"
    default_reduction: str | None = None
    chunk_limit: int = 1 << 30

    def fit(
        self,
        learner: Any,
        dataset: Dataset,
        snapshot: Snapshot,
        progress: Progress,
        should_stop: ShouldStop,
        unlabeled: np.ndarray | None = None,
    ) -> dict[int, str]:
        """Fit on the snapshot's readable images, and on the images at `unlabeled` when given.

        `unlabeled` (dataset indices of pool images, for a learner that wants them) are
        loaded at the same size and passed as ``fit(..., unlabeled=images)``; unreadable ones
        are left out and returned with the broken labeled ones.
        """
        # A learner that declares no input size gets the first labeled image's size, capped:
        # a 6000x8000 photo first must not make every batch 6000x8000.
        size = input_size_of(learner) or capped_size(dataset.image_size(int(snapshot.indices[0])))
        loaded = scoring.load(dataset, snapshot.indices, size)
        targets = snapshot.targets(dataset.classes)[np.isin(snapshot.indices, loaded.indices)]
        if unlabeled is None:
            learner.fit(loaded.images, targets, progress, should_stop)
            return loaded.broken
        pool = dataset.chunk(unlabeled).load(size)
        learner.fit(loaded.images, targets, progress, should_stop, unlabeled=pool.images)
        return {**pool.broken, **loaded.broken}

    def score(
        self,
        learner: Any,
        dataset: Dataset,
        pool: np.ndarray,
        *,
        heuristic: Any,
        reduction: Any,
        mc_samples: int,
        executor: Any,
        chunk_size: int,
        should_stop: ShouldStop,
    ) -> Scored:
        indices, probs, broken = scoring.predict_pool(
            learner,
            dataset,
            pool,
            mc_samples=mc_samples,
            executor=executor,
            chunk_size=chunk_size,
            should_stop=should_stop,
        )
        return scored_from(indices, probs, heuristic, broken)

    def prepare_eval(self, eval_set: tuple[Any, Any], classes: list[str]) -> Any:
        images, labels = eval_set
        ids = [v if isinstance(v, str) else int(v) for v in labels]
        source = eval_images(images, classes, len(ids))
        return source.batch(np.arange(len(source))), np.array(
            [source.class_id(v) for v in ids], dtype=np.int64
        )

    def measure(self, learner: Any, prepared: Any, n_classes: int) -> Measured:
        images, labels = prepared
        return Measured(scoring.accuracy(learner, images, labels, n_classes), "accuracy")
