"""The round strategy of a classifier with cacheable embeddings: fit and score on the cache.

Each round grows the cache in priority order: the labeled images, then the pool in the order
of the last published ranking, then the rest; a ranking of the embedded part is published
every ``PUBLISH_EVERY`` seconds meanwhile. Before any model, a sample of the pool is embedded
to choose the first images to label (``cold_start``).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from .. import cold_start, ranking, scoring
from ..dataset import Dataset, Snapshot
from ..embedding_cache import EmbeddingCache
from ..embedding_fill import CHUNK, fill, recheck_files
from ..ranking import Ranking
from .base import ClassScored, Scored, scored_from
from .strategies import (
    Build,
    Embedded,
    Hooks,
    Progress,
    ShouldStop,
    priority,
    unlabeled_sample,
)

PUBLISH_EVERY = 1.0  # seconds between rankings published while the embedding cache grows
COLD_POOL = 1000  # the most pool images embedded to choose the first ones to label


class CachedEmbeddingStrategy:
    """Fit and score an ``EmbeddingLearner`` on cached embeddings of the images.

    Parameters
    ----------
    learner : EmbeddingLearner
        Embeds images and fits / predicts on embeddings.
    dataset : Dataset
        The images.
    executor : MapExecutor
        Runs the embedding chunks.
    chunk_size : int
        Images per executor call (at most ``embedding_fill.CHUNK``).
    cache_dir : path-like, optional
        Where the cache is kept between sessions (None: in memory).
    """

    cold_starts = True

    def __init__(
        self,
        learner: Any,
        dataset: Dataset,
        *,
        executor: scoring.MapExecutor,
        chunk_size: int,
        cache_dir: str | os.PathLike[str] | None,
    ) -> None:
        self.learner, self.dataset = learner, dataset
        self.executor, self.chunk_size = executor, chunk_size
        self.cache = EmbeddingCache(len(dataset), cache_dir)

    def fit(
        self,
        snapshot: Snapshot,
        progress: Progress,
        should_stop: ShouldStop,
        pool: np.ndarray | None,
        rng: np.random.Generator,
    ) -> dict[int, str]:
        """Embed the labeled images the cache lacks, then fit on the embeddings.

        Parameters
        ----------
        snapshot : Snapshot
            The labels to fit.
        progress : callable
            Receives the fraction done.
        should_stop : callable
            True: cancel.
        pool : numpy.ndarray or None
            The unlabeled candidates: a semi-supervised learner gets a sample of the cached ones.
        rng : numpy.random.Generator
            Draws that sample.
        """
        broken = self._fill(snapshot.indices, should_stop)
        ready = self.cache.ready(snapshot.indices)
        if not ready.any():
            raise ValueError(f"none of the {len(snapshot.indices)} labeled images can be read")
        targets = snapshot.targets(self.dataset.classes)[ready]
        embeddings = self.cache.get(snapshot.indices[ready]).astype(np.float32)
        # Semi-supervised: the pool's embeddings cached so far (earlier rounds embedded them).
        cached = None if pool is None else pool[self.cache.ready(pool)]
        unlabeled = unlabeled_sample(self.learner, snapshot, cached, rng)
        if unlabeled is not None:
            # a changed image is left out, embedded when it is scored
            recheck_files(self.cache, self.dataset, unlabeled)
            unlabeled = unlabeled[self.cache.ready(unlabeled)]
        if unlabeled is None:
            self.learner.fit_embeddings(embeddings, targets, progress, should_stop)
        else:
            pool_embeddings = self.cache.get(unlabeled).astype(np.float32)
            self.learner.fit_embeddings(
                embeddings, targets, progress, should_stop, unlabeled=pool_embeddings
            )
        return broken

    def cold_start(
        self,
        candidates: np.ndarray,
        *,
        pool_sample: int | None,
        query_size: int,
        data_version: int,
        rng: np.random.Generator,
        should_stop: ShouldStop,
    ) -> tuple[Ranking, Scored] | None:
        """Before any model: a sample of the pool embedded, its typical and spread images first.

        TypiClust (``cold_start.typical_and_spread``): `query_size` images, each the most
        typical of one k-means cluster of the embeddings, lead the queue; the rest follows by
        typicality. At most ``COLD_POOL`` images are embedded for it.

        Parameters
        ----------
        candidates : numpy.ndarray
            The unlabeled candidates.
        pool_sample : int or None
            How many to embed (at most ``COLD_POOL``).
        query_size : int
            How many lead the queue.
        data_version : int
            The dataset version ranked.
        rng : numpy.random.Generator
            Draws the sample and seeds the clustering.
        should_stop : callable
            True: cancel.
        """
        size = min(pool_sample or COLD_POOL, COLD_POOL)
        pool = ranking.sample_pool(candidates, size, rng)
        broken = self._fill(pool, should_stop)
        ready = pool[self.cache.ready(pool)]
        embeddings = self.cache.get(ready).astype(np.float32)
        first, typical = cold_start.typical_and_spread(embeddings, query_size, rng)
        ranked = ranking.build(
            ready,
            typical,
            None,
            rng=rng,
            temperature=None,
            model_version=0,
            data_version=data_version,
            heuristic=cold_start.TYPICAL,
            first=first,
        )
        return ranked, Scored(ranked.indices, ranked.scores, broken=broken)

    def score(
        self,
        pool: np.ndarray,
        *,
        heuristic: Any,
        reduction: Any,
        mc_samples: int,
        build: Build,
        hooks: Hooks,
        previous: Ranking | None,
    ) -> tuple[Ranking, Scored]:
        """Embed what the cache lacks of `pool`, in the order of `previous`, then score it all.

        While the cache grows, a ranking of the embedded part is published every
        ``PUBLISH_EVERY`` seconds, and the round ends early (the rest left to the next) when
        it should yield.

        Parameters
        ----------
        pool : numpy.ndarray
            Dataset indices to score.
        heuristic : str or callable
            The uncertainty heuristic.
        reduction : str, callable or None
            Unused: a classification has one score per image.
        mc_samples : int
            MC dropout samples.
        build : callable
            ``build(scored, pending)``: the ranking of what is scored.
        hooks : Hooks
            Stopping, publishing and yielding.
        previous : Ranking or None
            The last published ranking: its order is the embedding order.
        """
        broken: dict[int, str] = {}
        published = [time.monotonic()]

        def grown() -> bool:
            if hooks.publish is not None and time.monotonic() - published[0] >= PUBLISH_EVERY:
                scored = self._score(pool, heuristic, mc_samples, broken)
                hooks.publish(build(scored, self._pending(pool, broken)))
                published[0] = time.monotonic()
            return hooks.should_yield() if hooks.should_yield is not None else False

        recheck_files(self.cache, self.dataset, pool)  # a changed image's row is embedded anew
        missing = self.cache.missing(pool)  # the cache is bound to the learner's key by fit
        if len(missing):
            broken.update(self._fill(priority(missing, previous), hooks.should_stop, grown))
        scored = self._score(pool, heuristic, mc_samples, broken)
        return build(scored, self._pending(pool, broken)), scored

    def close(self) -> None:
        """Let go of the cache's rows and its folder's lock (another loop may open it then)."""
        self.cache.close()

    def embeddings(self, indices: np.ndarray) -> Embedded:
        """float32 embeddings of the cached `indices` (the others are left out).

        Parameters
        ----------
        indices : numpy.ndarray
            Dataset indices.
        """
        ready = indices[self.cache.ready(indices)]
        return Embedded(ready, self.cache.get(ready).astype(np.float32))

    def _fill(
        self, order: np.ndarray, should_stop: ShouldStop, after_wave: ShouldStop | None = None
    ) -> dict[int, str]:
        return fill(
            self.cache,
            self.learner,
            self.dataset,
            order,
            executor=self.executor,
            chunk_size=min(self.chunk_size, CHUNK),
            should_stop=should_stop,
            after_wave=after_wave,
        )

    def _pending(self, pool: np.ndarray, broken: dict[int, str]) -> int:
        """How many readable images of `pool` are not embedded yet."""
        missing = self.cache.missing(pool)
        return int(len(missing) - np.isin(missing, list(broken)).sum()) if broken else len(missing)

    def _score(
        self, pool: np.ndarray, heuristic: Any, mc_samples: int, broken: dict[int, str]
    ) -> ClassScored:
        """Scores of the embedded part of `pool`, from the cache."""
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
