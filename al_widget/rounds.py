"""What one round of active learning computes: train on a snapshot, score the pool, rank, measure."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import auto, bandit, cold_start, heuristics, ranking, scoring, selectors, session, tasks
from .dataset import Dataset, Snapshot
from .embedding_cache import CHUNK, EmbeddingCache, embed_chunk, fill
from .learners.base import input_size_of, unlabeled_wanted
from .learners.embedding import EmbeddingLearner
from .ranking import Ranking
from .tasks.base import score_in_parts
from .tasks.classify import Classify, ClassScored, scored_from

_SAMPLING = {"variance", "bald"}
MC_SAMPLES = 20
MC_SAMPLES_MASKS = 8  # MaskAL's spatial and occurrence uncertainty, for a fraction of 20's time
PUBLISH_EVERY = 1.0  # seconds between rankings published while the embedding cache grows
COLD_POOL = 1000  # the most pool images embedded to choose the first ones to label


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
    """Owns the learner, the model version and the embedding cache; runs a round's steps.

    A classifier with cacheable embeddings (``learners.embedding.EmbeddingLearner``) trains
    and scores on the embedding cache, which each round grows in priority order: the labeled
    images, then the pool in the order of the last published ranking, then the rest.

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
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.dataset, self.learner = dataset, learner
        self.task = tasks.for_dataset(dataset.task)
        self.executor, self.chunk_size = executor, chunk_size
        cached = self.task.name == "classify" and isinstance(learner, EmbeddingLearner)
        self.cache = EmbeddingCache(len(dataset), cache_dir) if cached else None
        self.eval_set = (
            None if eval_set is None else self.task.prepare_eval(eval_set, dataset.classes)
        )
        self.rng = rng
        # The unlabeled samples for semi-supervised fits come from a stream of their own
        # (spawning leaves `rng`'s draws as they were), so a learner that takes none, or one
        # with semi-supervision off, sees exactly the rounds it saw before.
        self.unlabeled_rng = rng.spawn(1)[0]
        self.model_version = 0
        self.chooser = auto.Chooser()  # heuristic "auto": kept when the heuristic changes and back
        self.choice: auto.Choice | None = None  # what the bandit did in the last ranking
        self._measured: tuple[int, tasks.Measured | None] = (-1, None)
        self.semi_supervised: dict[str, Any] = {}  # the last fit's, as RoundRecord fields

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
        """
        if self.cache is None:
            unlabeled = self._unlabeled_sample(snapshot, pool)
            if unlabeled is None or not isinstance(self.task, Classify):
                broken = self.task.fit(self.learner, self.dataset, snapshot, progress, should_stop)
            else:
                broken = self.task.fit(
                    self.learner, self.dataset, snapshot, progress, should_stop, unlabeled
                )
        else:
            broken = self._fit_cached(snapshot, progress, should_stop, pool)
        self.model_version += 1
        self.semi_supervised = semi_fields(getattr(self.learner, "semi_supervised_", None))
        return broken

    def _unlabeled_sample(self, snapshot: Snapshot, pool: np.ndarray | None) -> np.ndarray | None:
        """Dataset indices of the pool images the learner trains on beside the labels, or None."""
        if pool is None or not isinstance(self.task, Classify):
            return None
        wanted = unlabeled_wanted(self.learner)
        if not wanted:
            return None
        pool = pool[~np.isin(pool, snapshot.indices)]
        if len(pool) > wanted:
            pool = np.sort(self.unlabeled_rng.choice(pool, wanted, replace=False))
        return pool

    def _fit_cached(
        self,
        snapshot: Snapshot,
        progress: Callable[[float], None],
        should_stop: Callable[[], bool],
        pool: np.ndarray | None = None,
    ) -> dict[int, str]:
        assert self.cache is not None
        broken = fill(
            self.cache,
            self.learner,
            self.dataset,
            snapshot.indices,
            executor=self.executor,
            chunk_size=min(self.chunk_size, CHUNK),
            should_stop=should_stop,
        )
        ready = self.cache.ready(snapshot.indices)
        if not ready.any():
            raise ValueError(f"none of the {len(snapshot.indices)} labeled images can be read")
        targets = snapshot.targets(self.dataset.classes)[ready]
        embeddings = self.cache.get(snapshot.indices[ready]).astype(np.float32)
        # Semi-supervised: the pool's embeddings cached so far (earlier rounds embedded them).
        unlabeled = self._unlabeled_sample(snapshot, None if pool is None else self._cached(pool))
        if unlabeled is None:
            self.learner.fit_embeddings(embeddings, targets, progress, should_stop)
        else:
            pool_embeddings = self.cache.get(unlabeled).astype(np.float32)
            self.learner.fit_embeddings(
                embeddings, targets, progress, should_stop, unlabeled=pool_embeddings
            )
        return broken

    def _cached(self, indices: np.ndarray) -> np.ndarray:
        """The `indices` whose embeddings are in the cache."""
        assert self.cache is not None
        return indices[self.cache.ready(indices)]

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
        query_size: int = 10,
        previous: Ranking | None = None,
        publish: Callable[[Ranking], None] | None = None,
        should_yield: Callable[[], bool] | None = None,
    ) -> tuple[Ranking, tasks.Scored]:
        """Score a sample of `candidates` with the heuristic: the ranking, and what scoring found.

        With a selector for a heuristic, its batch of `query_size` leads the ranking. With an
        embedding cache, the images it lacks are embedded first, in the order of `previous`;
        meanwhile a ranking of the embedded part goes to `publish` every ``PUBLISH_EVERY``
        seconds, and the round ends early (the rest left to the next) when `should_yield()`.
        Without a cache, a pool of several chunks is scored in growing parts in the order of
        `previous` (``tasks.base.score_in_parts``), published and ended early the same way.
        """
        self.choice = None
        if self.model_version == 0:
            if self.cache is not None and len(candidates):
                return self._cold_start(
                    candidates, pool_sample, data_version, query_size, should_stop
                )
            ranked = random_ranking(candidates, pool_sample, data_version, self.rng)
            return ranked, tasks.Scored(ranked.indices, ranked.scores)
        pool = ranking.sample_pool(candidates, pool_sample, self.rng)
        chooser = auto.of(heuristic)
        if chooser is not None:
            return self._rank_auto(
                pool,
                chooser.arms_for(mc_samples),
                reduction=reduction,
                mc_samples=mc_samples,
                data_version=data_version,
                should_stop=should_stop,
                query_size=query_size,
                previous=previous,
                publish=publish,
                should_yield=should_yield,
            )
        self.chooser.set_aside(self.dataset.is_labeled)  # labels from now on are not its queries
        return self._rank_one(
            pool,
            heuristic=heuristic,
            reduction=reduction,
            mc_samples=mc_samples,
            temperature=temperature,
            data_version=data_version,
            should_stop=should_stop,
            query_size=query_size,
            previous=previous,
            publish=publish,
            should_yield=should_yield,
        )

    def _rank_one(
        self,
        pool: np.ndarray,
        *,
        heuristic: Any,
        reduction: Any,
        mc_samples: int | None,
        temperature: float | None,
        data_version: int,
        should_stop: Callable[[], bool],
        query_size: int,
        previous: Ranking | None = None,
        publish: Callable[[Ranking], None] | None = None,
        should_yield: Callable[[], bool] | None = None,
    ) -> tuple[Ranking, tasks.Scored]:
        """The ranking of `pool` (sampled already) by one heuristic or selector."""
        mc = mc_samples_for(heuristic, mc_samples, self.task)

        def build(scored: tasks.Scored, pending: int = 0) -> Ranking:
            return self._build(scored, heuristic, temperature, data_version, query_size, pending)

        if self.cache is None:
            # A big pool is scored in growing parts, most wanted first: a ranking of each part
            # scored so far is published while the rest is scored, and new labels end it early.
            scored, left = score_in_parts(
                self.task,
                self.learner,
                self.dataset,
                # One chunk is scored in one part: left in its own order, the ranking (and the
                # random heuristic's draws) stay as they were before parts existed.
                _priority(pool, previous) if len(pool) > self.chunk_size else pool,
                chunk_size=self.chunk_size,
                executor=self.executor,
                on_part=None if publish is None else lambda part, left: publish(build(part, left)),
                should_yield=should_yield,
                heuristic=heuristic,
                reduction=reduction,
                mc_samples=mc,
                should_stop=should_stop,
            )
            return build(scored, left), scored

        broken: dict[int, str] = {}
        published = [time.monotonic()]

        def grown() -> bool:
            if publish is not None and time.monotonic() - published[0] >= PUBLISH_EVERY:
                scored = self._score_cached(pool, heuristic, mc, broken)
                publish(build(scored, self._pending(pool, broken)))
                published[0] = time.monotonic()
            return should_yield() if should_yield is not None else False

        missing = self.cache.missing(pool)  # the cache is bound to the learner's key by train
        if len(missing):
            broken.update(
                fill(
                    self.cache,
                    self.learner,
                    self.dataset,
                    _priority(missing, previous),
                    executor=self.executor,
                    chunk_size=min(self.chunk_size, CHUNK),
                    should_stop=should_stop,
                    after_wave=grown,
                )
            )
        scored = self._score_cached(pool, heuristic, mc, broken)
        return build(scored, self._pending(pool, broken)), scored

    def _rank_auto(
        self,
        pool: np.ndarray,
        arms: tuple[str, ...],
        *,
        query_size: int,
        previous: Ranking | None,
        publish: Callable[[Ranking], None] | None,
        should_yield: Callable[[], bool] | None,
        **common: Any,
    ) -> tuple[Ranking, tasks.Scored]:
        """The "auto" ranking of `pool`: `query_size` queries drawn by the bandit, then the rest.

        The first arm that is not random scores the pool as usual (published while it grows);
        each other arm ranks what it scored. The bandit is first rewarded for the draws a newer
        model learned from, then draws the head of the queue; the rest follows the first arm.
        """
        self.chooser.arms(arms)
        lead = next(a for a in arms if a != "random")
        led, scored = self._rank_one(
            pool,
            heuristic=lead,
            temperature=None,
            query_size=query_size,
            previous=previous,
            publish=publish,
            should_yield=should_yield,
            **common,
        )
        at = {int(i): p for p, i in enumerate(led.indices)}
        orders: dict[str, np.ndarray | None] = {}
        for arm in arms:
            if arm == "random":
                orders[arm] = None
                continue
            own = led
            if arm != lead:
                own = self._rank_one(
                    led.indices, heuristic=arm, temperature=None, query_size=query_size, **common
                )[0]
            orders[arm] = np.array([at[int(i)] for i in own.indices if int(i) in at], np.int64)
        measured = self.measure()
        gain, rewarded = self.chooser.reward(
            self.model_version,
            None if measured is None else measured.value,
            self.dataset.is_labeled,
            self._agreement,
        )
        state = self.chooser.state
        assert state is not None
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

    def _agreement(self, ranked: Ranking, index: int) -> float | None:
        """How far the model behind `ranked` agreed with image `index`'s label (None: no label)."""
        annotation = self.dataset.annotation(index)
        if annotation is None:
            return None
        return session.agreement(ranked, index, annotation, self.dataset.classes)

    def _cold_start(
        self,
        candidates: np.ndarray,
        pool_sample: int | None,
        data_version: int,
        query_size: int,
        should_stop: Callable[[], bool],
    ) -> tuple[Ranking, tasks.Scored]:
        """Before any model: a sample of the pool embedded, its typical and spread images first.

        TypiClust (``cold_start.typical_and_spread``): `query_size` images, each the most
        typical of one k-means cluster of the embeddings, lead the queue; the rest follows by
        typicality. At most ``COLD_POOL`` images are embedded for it.
        """
        assert self.cache is not None
        size = min(pool_sample or COLD_POOL, COLD_POOL)
        pool = ranking.sample_pool(candidates, size, self.rng)
        broken = fill(
            self.cache,
            self.learner,
            self.dataset,
            pool,
            executor=self.executor,
            chunk_size=min(self.chunk_size, CHUNK),
            should_stop=should_stop,
        )
        ready = pool[self.cache.ready(pool)]
        embeddings = self.cache.get(ready).astype(np.float32)
        first, typical = cold_start.typical_and_spread(embeddings, query_size, self.rng)
        ranked = ranking.build(
            ready,
            typical,
            None,
            rng=self.rng,
            temperature=None,
            model_version=0,
            data_version=data_version,
            heuristic=cold_start.TYPICAL,
            first=first,
        )
        return ranked, tasks.Scored(ranked.indices, ranked.scores, broken=broken)

    def _pending(self, pool: np.ndarray, broken: dict[int, str]) -> int:
        """How many readable images of `pool` are not embedded yet."""
        assert self.cache is not None
        missing = self.cache.missing(pool)
        return int(len(missing) - np.isin(missing, list(broken)).sum()) if broken else len(missing)

    def _score_cached(
        self, pool: np.ndarray, heuristic: Any, mc_samples: int, broken: dict[int, str]
    ) -> ClassScored:
        """Scores of the embedded part of `pool`, from the cache."""
        assert self.cache is not None
        indices = pool[self.cache.ready(pool)]
        embeddings = self.cache.get(indices)
        probs = scoring.checked_probs(
            f"{type(self.learner).__name__}.predict_proba_embeddings",
            self.learner.predict_proba_embeddings(embeddings, mc_samples),
            indices,
            len(self.dataset.classes),
            mc_samples,
        )
        return scored_from(indices, probs, heuristic, dict(broken))

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
        """The selector's batch: positions into the scored pool."""
        selectors.check_usable(selector.name, self.task.name, self.learner)
        probs = getattr(scored, "probs", None)
        assert probs is not None  # every task's scoring keeps them per image
        labeled = self.dataset.labeled
        pool_embeddings = self._embeddings(scored.indices)
        labeled_embeddings = self._embeddings(labeled)
        batch = selectors.Batch(scored.scores, probs, pool_embeddings, labeled_embeddings)
        return selector.select(batch, k, self.rng)

    def _embeddings(self, indices: np.ndarray) -> np.ndarray:
        """float32 embeddings of readable `indices`: from the cache, else computed now."""
        if self.cache is not None:
            return self.cache.get(indices[self.cache.ready(indices)]).astype(np.float32)
        done = scoring.gather(
            scoring.map_chunks(
                self.executor,
                embed_chunk,
                self.learner,
                self.dataset,
                indices,
                chunk_size=min(self.chunk_size, self.task.chunk_limit),
                size=input_size_of(self.learner),
            ),
            lambda: False,
        )
        found = [d.result for d in done if d.result is not None]
        return np.concatenate(found).astype(np.float32) if found else np.zeros((0, 0), np.float32)

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


def _priority(pool: np.ndarray, previous: Ranking | None) -> np.ndarray:
    """`pool` in the order to embed it: as the last ranking showed it, then the rest."""
    if previous is None or not len(previous.indices):
        return pool
    shown = previous.indices[np.isin(previous.indices, pool)]
    return np.concatenate([shown, pool[~np.isin(pool, shown)]])
