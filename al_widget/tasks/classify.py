"""Classification: class ids as targets, (N, C, I) probabilities, accuracy."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import scoring
from ..dataset import Dataset, Snapshot
from ..learners.base import EmbeddingLearner, input_size_of
from .base import (
    Measured,
    Progress,
    Scored,
    ShouldStop,
    check_eval_set,
    eval_images,
    scored_from,
)
from .cached import CachedEmbeddingStrategy
from .strategies import DirectStrategy, Strategy, unlabeled_sample

MAX_SIDE = 224  # the longest side a learner without its own input size trains at


def capped_size(size: tuple[int, int], max_side: int = MAX_SIDE) -> tuple[int, int]:
    """`size` (H, W) scaled down, aspect kept, so that its longest side is at most `max_side`."""
    height, width = size
    scale = min(1.0, max_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


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
        # A learner that declares no input size gets the size of a typical labeled image (the
        # size most share, else the one of middle area; from their headers), capped: a
        # 6000x8000 photo must not make every batch 6000x8000, nor a 1x1 image labeled first
        # every batch 1x1. An unreadable image is left out by `load`
        # and reported, wherever it is among the labeled ones; none readable: `load` raises.
        size = input_size_of(learner)
        if size is None:
            typical = dataset.typical_size(snapshot.indices)
            size = None if typical is None else capped_size(typical)
        loaded = scoring.load(dataset, snapshot.indices, size)
        targets = snapshot.targets(dataset.classes)[np.isin(snapshot.indices, loaded.indices)]
        if unlabeled is None:
            learner.fit(loaded.images, targets, progress, should_stop)
            return loaded.broken
        pool = dataset.chunk(unlabeled).load(size)
        learner.fit(loaded.images, targets, progress, should_stop, unlabeled=pool.images)
        return {**pool.broken, **loaded.broken}

    def strategy(
        self,
        learner: Any,
        dataset: Dataset,
        *,
        executor: scoring.MapExecutor,
        chunk_size: int,
        cache_dir: str | os.PathLike[str] | None,
    ) -> Strategy:
        """Rounds on an embedding cache for a learner with cacheable embeddings, else direct.

        Parameters
        ----------
        learner : object
            The classifier; an ``EmbeddingLearner`` gets the embedding cache.
        dataset : Dataset
            The images.
        executor : MapExecutor
            Runs the scoring chunks.
        chunk_size : int
            Images per executor call.
        cache_dir : path-like, optional
            Where the embedding cache is kept between sessions (None: in memory).
        """
        if isinstance(learner, EmbeddingLearner):
            return CachedEmbeddingStrategy(
                learner, dataset, executor=executor, chunk_size=chunk_size, cache_dir=cache_dir
            )
        return SemiSupervisedStrategy(
            self, learner, dataset, executor=executor, chunk_size=chunk_size
        )

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
        images, labels = check_eval_set(eval_set)
        ids = [v if isinstance(v, str) else int(v) for v in labels]
        source = eval_images(images, classes, len(ids))
        return source.batch(np.arange(len(source))), np.array(
            [source.class_id(v) for v in ids], dtype=np.int64
        )

    def measure(self, learner: Any, prepared: Any, n_classes: int) -> Measured:
        images, labels = prepared
        return Measured(scoring.accuracy(learner, images, labels, n_classes), "accuracy")


class SemiSupervisedStrategy(DirectStrategy):
    """Direct rounds of a classifier; one that wants unlabeled images gets a sample of the pool.

    Parameters
    ----------
    task : Classify
        Fits and scores.
    learner : object
        The classifier.
    dataset : Dataset
        The images.
    executor : MapExecutor
        Runs the scoring chunks.
    chunk_size : int
        Images per executor call.
    """

    def __init__(
        self,
        task: Classify,
        learner: Any,
        dataset: Dataset,
        *,
        executor: scoring.MapExecutor,
        chunk_size: int,
    ) -> None:
        super().__init__(task, learner, dataset, executor=executor, chunk_size=chunk_size)
        self.classify = task

    def fit(
        self,
        snapshot: Snapshot,
        progress: Progress,
        should_stop: ShouldStop,
        pool: np.ndarray | None,
        rng: np.random.Generator,
    ) -> dict[int, str]:
        """Fit on the snapshot's readable images, and on a sample of `pool` when wanted.

        Parameters
        ----------
        snapshot : Snapshot
            The labels to fit.
        progress : callable
            Receives the fraction done.
        should_stop : callable
            True: cancel.
        pool : numpy.ndarray or None
            The unlabeled candidates (``strategies.unlabeled_sample`` draws from them).
        rng : numpy.random.Generator
            Draws the sample.
        """
        unlabeled = unlabeled_sample(self.learner, snapshot, pool, rng)
        if unlabeled is None:
            return self.classify.fit(self.learner, self.dataset, snapshot, progress, should_stop)
        return self.classify.fit(
            self.learner, self.dataset, snapshot, progress, should_stop, unlabeled
        )
