"""What one round of active learning computes: train on a snapshot, score the pool, rank, measure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import heuristics, ranking, scoring
from .dataset import Dataset, Snapshot
from .learners import Learner
from .learners.base import input_size_of
from .ranking import Ranking

_SAMPLING = {"variance", "bald"}
MC_SAMPLES = 20


def random_ranking(
    candidates: np.ndarray, pool_sample: int | None, data_version: int, rng: np.random.Generator
) -> Ranking:
    """A ranking in random order: what there is before a model, and for tasks without a learner."""
    pool = ranking.sample_pool(candidates, pool_sample, rng)
    return ranking.build(
        pool,
        np.zeros(len(pool)),
        None,
        rng=rng,
        temperature=None,
        model_version=0,
        data_version=data_version,
        heuristic="random",
    )


def mc_samples_for(heuristic: Any, mc_samples: int | None) -> int:
    """The MC dropout samples to score with: as set, else enough for the sampling heuristics."""
    if mc_samples is not None:
        return mc_samples
    return MC_SAMPLES if heuristics.name_of(heuristic) in _SAMPLING else 1


class RoundRunner:
    """Owns the learner and the model version; runs a round's steps on the calling thread."""

    def __init__(
        self,
        dataset: Dataset,
        learner: Learner | None,
        *,
        executor: scoring.MapExecutor,
        chunk_size: int,
        eval_set: tuple[np.ndarray, np.ndarray] | None,
        rng: np.random.Generator,
    ) -> None:
        self.dataset, self.learner = dataset, learner
        self.executor, self.chunk_size = executor, chunk_size
        self.eval_set = eval_set
        self.rng = rng
        self.model_version = 0

    def train(
        self, snapshot: Snapshot, progress: Callable[[float], None], should_stop: Callable[[], bool]
    ) -> dict[int, str]:
        """Fit the learner on the snapshot's readable images; returns the unreadable ones."""
        assert self.learner is not None
        loaded = scoring.load(self.dataset, snapshot.indices, input_size_of(self.learner))
        targets = snapshot.targets(self.dataset.classes)[np.isin(snapshot.indices, loaded.indices)]
        self.learner.fit(loaded.images, targets, progress, should_stop)
        self.model_version += 1
        return loaded.broken

    def rank(
        self,
        candidates: np.ndarray,
        *,
        heuristic: Any,
        pool_sample: int | None,
        mc_samples: int | None,
        temperature: float | None,
        data_version: int,
        should_stop: Callable[[], bool],
    ) -> tuple[Ranking, dict[int, str]]:
        """Score a sample of `candidates` with the heuristic; the ranking and the unreadable images."""
        if self.model_version == 0 or self.learner is None:
            return random_ranking(candidates, pool_sample, data_version, self.rng), {}
        pool = ranking.sample_pool(candidates, pool_sample, self.rng)
        scored, probs, broken = scoring.predict_pool(
            self.learner,
            self.dataset,
            pool,
            mc_samples=mc_samples_for(heuristic, mc_samples),
            executor=self.executor,
            chunk_size=self.chunk_size,
            should_stop=should_stop,
        )
        built = ranking.build(
            scored,
            heuristics.apply(heuristic, probs),
            probs.mean(axis=2).argmax(axis=1),
            rng=self.rng,
            temperature=temperature,
            model_version=self.model_version,
            data_version=data_version,
            heuristic=heuristics.name_of(heuristic),
        )
        return built, broken

    def accuracy(self) -> float | None:
        """Accuracy on the evaluation set, when there is one and a model."""
        if self.eval_set is None or self.model_version == 0 or self.learner is None:
            return None
        return scoring.accuracy(self.learner, *self.eval_set, len(self.dataset.classes))
