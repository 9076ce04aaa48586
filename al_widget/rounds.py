"""What one round of active learning computes: train on a snapshot, score the pool, rank, measure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import heuristics, ranking, scoring, tasks
from .dataset import Dataset, Snapshot
from .ranking import Ranking

_SAMPLING = {"variance", "bald"}
MC_SAMPLES = 20


def random_ranking(
    candidates: np.ndarray, pool_sample: int | None, data_version: int, rng: np.random.Generator
) -> Ranking:
    """A ranking in random order: what there is before the first model."""
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
    """Owns the learner and the model version; runs a round's steps on the calling thread.

    Thread safety: none needed; only the loop's worker thread uses it.
    """

    def __init__(
        self,
        dataset: Dataset,
        learner: Any,
        *,
        executor: scoring.MapExecutor,
        chunk_size: int,
        eval_set: Any,
        rng: np.random.Generator,
    ) -> None:
        self.dataset, self.learner = dataset, learner
        self.task = tasks.for_dataset(dataset.task)
        self.executor, self.chunk_size = executor, chunk_size
        self.eval_set = (
            None if eval_set is None else self.task.prepare_eval(eval_set, dataset.classes)
        )
        self.rng = rng
        self.model_version = 0

    def train(
        self, snapshot: Snapshot, progress: Callable[[float], None], should_stop: Callable[[], bool]
    ) -> dict[int, str]:
        """Fit the learner on the snapshot's readable images; returns the unreadable ones."""
        broken = self.task.fit(self.learner, self.dataset, snapshot, progress, should_stop)
        self.model_version += 1
        return broken

    def rank(
        self,
        candidates: np.ndarray,
        *,
        heuristic: Any,
        reduction: Any,
        pool_sample: int | None,
        mc_samples: int | None,
        temperature: float | None,
        data_version: int,
        should_stop: Callable[[], bool],
    ) -> tuple[Ranking, tasks.Scored]:
        """Score a sample of `candidates` with the heuristic: the ranking, and what scoring found."""
        if self.model_version == 0:
            ranked = random_ranking(candidates, pool_sample, data_version, self.rng)
            return ranked, tasks.Scored(ranked.indices, ranked.scores)
        pool = ranking.sample_pool(candidates, pool_sample, self.rng)
        scored = self.task.score(
            self.learner,
            self.dataset,
            pool,
            heuristic=heuristic,
            reduction=reduction,
            mc_samples=mc_samples_for(heuristic, mc_samples),
            executor=self.executor,
            chunk_size=self.chunk_size,
            should_stop=should_stop,
        )
        built = ranking.build(
            scored.indices,
            scored.scores,
            scored.predicted,
            rng=self.rng,
            temperature=temperature,
            model_version=self.model_version,
            data_version=data_version,
            heuristic=heuristics.name_of(heuristic),
            drafts=scored.drafts,
        )
        return built, scored

    def measure(self) -> tasks.Measured | None:
        """The metric on the evaluation set, when there is one and a model."""
        if self.eval_set is None or self.model_version == 0:
            return None
        return self.task.measure(self.learner, self.eval_set, len(self.dataset.classes))
