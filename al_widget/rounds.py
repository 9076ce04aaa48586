"""What one round of active learning computes: train on a snapshot, score the pool, rank, measure."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import auto, bandit, heuristics, ranking, scoring, selectors, session, tasks
from .dataset import Dataset, Snapshot
from .ranking import Ranking
from .settings import Settings
from .tasks.strategies import Hooks

_SAMPLING = {"variance", "bald"}
MC_SAMPLES = 20
MC_SAMPLES_MASKS = 8  # MaskAL's spatial and occurrence uncertainty, for a fraction of 20's time


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


def mc_samples_for(heuristic: Any, mc_samples: int | None, task: Any = None) -> int:
    """The MC dropout samples to score with: as set, else enough for the sampling heuristics
    and for a task that samples masks (``task.samples_masks``, instance segmentation)."""
    if mc_samples is not None:
        return mc_samples
    if getattr(task, "samples_masks", False) and heuristics.name_of(heuristic) != "random":
        return MC_SAMPLES_MASKS
    selector = selectors.of(heuristic)
    base = heuristic if selector is None else selector.heuristic
    return MC_SAMPLES if heuristics.name_of(base) in _SAMPLING else 1


class RoundRunner:
    """Owns the learner and the model version; runs a round's steps.

    How a round fits and scores is the task's strategy for the learner
    (``Task.strategy``): directly on the images, or, for a classifier with cacheable
    embeddings, on an embedding cache that each round grows (``tasks.cached``).

    Thread safety: none needed; only the loop's worker thread uses it.

    Parameters
    ----------
    dataset : Dataset
        The images and labels.
    learner : object
        The task's learner.
    executor : MapExecutor
        Runs the scoring chunks.
    chunk_size : int
        Images per executor call.
    eval_set : tuple or None
        (images, labels) the metric is measured on.
    rng : numpy.random.Generator
        Draws pool samples, ties and the bandit's picks.
    cache_dir : path-like, optional
        Where a cached-embedding strategy keeps its cache.
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
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.dataset, self.learner = dataset, learner
        self.task = tasks.for_dataset(dataset.task)
        self.strategy = self.task.strategy(
            learner, dataset, executor=executor, chunk_size=chunk_size, cache_dir=cache_dir
        )
        self.eval_set = (
            None if eval_set is None else self.task.prepare_eval(eval_set, dataset.classes)
        )
        self.rng = rng
        # The unlabeled samples for semi-supervised fits come from a stream of their own
        # (spawning leaves `rng`'s draws as they were), so a learner that takes none, or one
        # with semi-supervision off, sees exactly the rounds it saw before.
        self.unlabeled_rng = rng.spawn(1)[0]
        self.model_version = 0
        self.trained_on: Snapshot | None = None  # the labels the current model learned
        self.chooser = auto.Chooser()  # heuristic "auto": kept when the heuristic changes and back
        self.choice: auto.Choice | None = None  # what the bandit did in the last ranking
        self._measured: tuple[int, tasks.Measured | None] = (-1, None)
        self.semi_supervised: dict[str, Any] = {}  # the last fit's, as RoundRecord fields

    def close(self) -> None:
        """Let go of what the strategy holds open (an embedding cache's folder)."""
        self.strategy.close()

    def train(
        self,
        snapshot: Snapshot,
        progress: Callable[[float], None],
        should_stop: Callable[[], bool],
        pool: np.ndarray | None = None,
    ) -> dict[int, str]:
        """Fit the learner on the snapshot's readable images; returns the unreadable ones.

        A classifier that wants unlabeled images (``learners.base.unlabeled_wanted``) also gets
        a random sample of `pool` (the unlabeled candidates), outside the snapshot's labels.

        Parameters
        ----------
        snapshot : Snapshot
            The labels to fit.
        progress : callable
            Receives the fraction done.
        should_stop : callable
            True: cancel.
        pool : numpy.ndarray, optional
            The unlabeled candidates.
        """
        broken = self.strategy.fit(snapshot, progress, should_stop, pool, self.unlabeled_rng)
        self.model_version += 1
        self.trained_on = snapshot
        self.semi_supervised = semi_fields(getattr(self.learner, "semi_supervised_", None))
        return broken

    def rank(
        self,
        candidates: np.ndarray,
        settings: Settings,
        hooks: Hooks,
        *,
        data_version: int,
        previous: Ranking | None = None,
    ) -> tuple[Ranking, tasks.Scored]:
        """Score a sample of `candidates` with the heuristic: the ranking, and what scoring found.

        With a selector for a heuristic, its batch of ``settings.query_size`` leads the
        ranking. The task's strategy scores the pool in the order of `previous`, publishing
        rankings of the part scored so far and ending early when ``hooks.should_yield()``.
        Before any model the ranking is random, or the strategy's cold start.

        Parameters
        ----------
        candidates : numpy.ndarray
            The unlabeled, unskipped, readable dataset indices.
        settings : Settings
            The heuristic, reduction, pool sample, MC samples, temperature and query size.
        hooks : Hooks
            Stopping, publishing early and yielding to the next round.
        data_version : int
            The dataset version ranked.
        previous : Ranking, optional
            The last published ranking.
        """
        self.choice = None
        if self.model_version == 0:
            if self.strategy.cold_starts and len(candidates):
                started = self.strategy.cold_start(
                    candidates,
                    pool_sample=settings.pool_sample,
                    query_size=settings.query_size,
                    data_version=data_version,
                    rng=self.rng,
                    should_stop=hooks.should_stop,
                )
                if started is not None:
                    return started
            ranked = random_ranking(candidates, settings.pool_sample, data_version, self.rng)
            return ranked, tasks.Scored(ranked.indices, ranked.scores)
        pool = ranking.sample_pool(candidates, settings.pool_sample, self.rng)
        chooser = auto.of(settings.heuristic)
        if chooser is not None:
            arms = chooser.arms_for(settings.mc_samples)
            return self._rank_auto(pool, arms, settings, hooks, data_version, previous)
        self.chooser.settle()  # the rounds from now on are not the bandit's draws
        return self._rank_one(pool, settings, hooks, data_version, previous)

    def _rank_one(
        self,
        pool: np.ndarray,
        settings: Settings,
        hooks: Hooks,
        data_version: int,
        previous: Ranking | None,
    ) -> tuple[Ranking, tasks.Scored]:
        """The ranking of `pool` (sampled already) by one heuristic or selector."""
        heuristic = settings.heuristic

        def build(scored: tasks.Scored, pending: int = 0) -> Ranking:
            return self._build(
                scored, heuristic, settings.temperature, data_version, settings.query_size, pending
            )

        return self.strategy.score(
            pool,
            heuristic=heuristic,
            reduction=settings.reduction,
            mc_samples=mc_samples_for(heuristic, settings.mc_samples, self.task),
            build=build,
            hooks=hooks,
            previous=previous,
        )

    def _rank_auto(
        self,
        pool: np.ndarray,
        arms: tuple[str, ...],
        settings: Settings,
        hooks: Hooks,
        data_version: int,
        previous: Ranking | None,
    ) -> tuple[Ranking, tasks.Scored]:
        """The "auto" ranking of `pool`: `query_size` queries drawn by the bandit, then the rest.

        With an eval set the round's queries are one arm's top choices; without one each query
        is drawn from its own arm's top remaining choice.

        The first arm that is not random scores the pool as usual (published while it grows);
        each other arm ranks what it scored. The bandit is first rewarded for the draws a newer
        model learned from (the queries in its training snapshot), then draws the head of the
        queue; the rest follows the first arm.
        """
        query_size = settings.query_size
        # With an eval set each model's quality is measured apart from the queries, so a round
        # follows one arm and its gain is that arm's; without one the quality is estimated from
        # the queries' labels, which needs each round to mix the arms (see al_widget.bandit).
        whole = self.eval_set is not None
        self.chooser.arms(arms, bandit.rounds_for(query_size) if whole else bandit.HORIZON)
        lead = next(a for a in arms if a != "random")

        def arm_settings(arm: str) -> Settings:
            return dataclasses.replace(settings, heuristic=arm, temperature=None)

        led, scored = self._rank_one(pool, arm_settings(lead), hooks, data_version, previous)
        at = {int(i): p for p, i in enumerate(led.indices)}
        orders: dict[str, np.ndarray | None] = {}
        quiet = Hooks(should_stop=hooks.should_stop)  # the other arms neither publish nor yield
        for arm in arms:
            if arm == "random":
                orders[arm] = None
                continue
            own = led
            if arm != lead:
                own, found = self._rank_one(
                    led.indices, arm_settings(arm), quiet, data_version, None
                )
                scored.broken.update(found.broken)
            orders[arm] = np.array([at[int(i)] for i in own.indices if int(i) in at], np.int64)
        measured = self.measure()
        trained = self.trained_on
        assert trained is not None  # ranked by a model: one was trained
        learned = dict(zip(trained.indices.tolist(), trained.annotations, strict=True))

        def agreement(ranked: Ranking, index: int) -> float | None:
            """How far the model behind `ranked` agreed with the label the newer model learned."""
            annotation = learned.get(index)
            if annotation is None:
                return None
            return session.agreement(ranked, index, annotation, self.dataset.classes)

        gain, rewarded = self.chooser.reward(
            self.model_version,
            None if measured is None else measured.value,
            lambda indices: np.array([int(i) in learned for i in indices], dtype=bool),
            agreement,
        )
        state = self.chooser.state
        assert state is not None
        if whole:
            kept = self.chooser.arm_of(self.model_version)  # ranked again: it keeps its arm
            picks = bandit.draw_round(state, orders, len(led), query_size, self.rng, kept)
        else:
            picks = bandit.draw(state, orders, len(led), query_size, self.rng)
        head = np.array([p.position for p in picks], dtype=np.int64)
        positions = np.concatenate([head, np.setdiff1d(np.arange(len(led)), head)])
        # setdiff1d sorts: positions into `led` are its order, so the rest keeps the lead's order
        by_index = {int(led.indices[p.position]): p for p in picks}
        self.chooser.add(
            auto.Draw(
                self.model_version,
                by_index,
                led,
                None if measured is None else measured.value,
            )
        )
        self.choice = auto.Choice(
            drawn={a: sum(p.arm == a for p in picks) for a in arms},
            weights=state.weights,
            gain_per_label=state.gain_per_label,
            reward=gain,
            rewarded=rewarded,
            quality="agreement" if measured is None else measured.name,
        )
        drawn = auto.Drawn(by_index, tuple(by_index), lead, state.weights)
        ranked = Ranking(
            indices=led.indices[positions],
            scores=led.scores[positions],
            predicted=led.predicted[positions],
            model_version=led.model_version,
            data_version=led.data_version,
            heuristic="auto",
            drafts=led.drafts,
            pending=led.pending,
            drawn=drawn,
        )
        return ranked, scored

    def _build(
        self,
        scored: tasks.Scored,
        heuristic: Any,
        temperature: float | None,
        data_version: int,
        query_size: int,
        pending: int,
    ) -> Ranking:
        selector = selectors.of(heuristic)
        first = None if selector is None else self._select(selector, scored, query_size)
        return ranking.build(
            scored.indices,
            scored.scores,
            scored.predicted,
            rng=self.rng,
            temperature=temperature,
            model_version=self.model_version,
            data_version=data_version,
            heuristic=heuristics.name_of(heuristic),
            drafts=scored.drafts,
            confidences=scored.confidences,
            reasons=scored.reasons,
            first=first,
            pending=pending,
        )

    def _select(self, selector: selectors.Selector, scored: tasks.Scored, k: int) -> np.ndarray:
        """The selector's batch: positions into the scored pool.

        The selector chooses among the images whose embeddings could be read; an image that
        became unreadable since it was scored (moved, deleted) is left out of the batch and
        added to ``scored.broken``.
        """
        selectors.check_usable(selector.name, self.task.name, self.learner)
        probs = getattr(scored, "probs", None)
        assert probs is not None  # every task's scoring keeps them per image
        pool = self.strategy.embeddings(scored.indices)
        labeled = self.strategy.embeddings(self.dataset.labeled)
        scored.broken.update(pool.broken)
        scored.broken.update(labeled.broken)
        kept = np.flatnonzero(np.isin(scored.indices, pool.indices))
        batch = selectors.Batch(scored.scores[kept], probs[kept], pool.rows, labeled.rows)
        return kept[selector.select(batch, k, self.rng)]

    def measure(self) -> tasks.Measured | None:
        """The metric on the evaluation set, when there is one and a model (once per model)."""
        if self.eval_set is None or self.model_version == 0:
            return None
        if self._measured[0] != self.model_version:
            found = self.task.measure(self.learner, self.eval_set, len(self.dataset.classes))
            self._measured = (self.model_version, found)
        return self._measured[1]


def semi_fields(report: Any) -> dict[str, Any]:
    """A learner's ``semi_supervised_`` report as RoundRecord fields (none for a supervised fit)."""
    if not report:
        return {}
    return {
        "n_unlabeled": int(report.get("unlabeled", 0)),
        "n_pseudo_labels": int(report.get("pseudo_labels", 0)),
        "pseudo_threshold": None if report.get("threshold") is None else float(report["threshold"]),
    }
