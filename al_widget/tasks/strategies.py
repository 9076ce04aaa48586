"""How a round trains and scores the pool: a strategy each task chooses for its learner.

`DirectStrategy` trains on the images and scores the pool in growing parts; the cached
strategy of classifiers with cacheable embeddings lives in ``tasks.cached``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .. import scoring
from ..dataset import Dataset, Snapshot
from ..embedding_fill import embed_chunk
from ..learners.base import Progress, ShouldStop, input_size_of, unlabeled_wanted
from ..ranking import Ranking

if TYPE_CHECKING:
    from .base import Scored, Task

Build = Callable[["Scored", int], Ranking]  # scored so far, images pending -> the ranking


@dataclass(frozen=True)
class Embedded:
    """The embeddings a strategy could give: which images they are for, and which failed.

    Parameters
    ----------
    indices : numpy.ndarray
        (k,) the dataset indices embedded, in the order they were asked for.
    rows : numpy.ndarray
        (k, d) float32 their embeddings, row i for ``indices[i]``.
    broken : dict
        The images that could not be read, ``{index: reason}``.
    """

    indices: np.ndarray
    rows: np.ndarray
    broken: dict[int, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Hooks:
    """What a ranking calls back into while it runs.

    Parameters
    ----------
    should_stop : callable
        True: cancel the round.
    publish : callable, optional
        Receives a ranking of the part scored so far, while the rest is scored.
    should_yield : callable, optional
        True: end the ranking early with what is scored (another round is due).
    """

    should_stop: ShouldStop
    publish: Callable[[Ranking], None] | None = None
    should_yield: ShouldStop | None = None


class Strategy(Protocol):
    """How a round fits the learner and scores the pool, for one task and learner."""

    cold_starts: bool  # whether `cold_start` can rank the pool before any model

    def fit(
        self,
        snapshot: Snapshot,
        progress: Progress,
        should_stop: ShouldStop,
        pool: np.ndarray | None,
        rng: np.random.Generator,
    ) -> dict[int, str]:
        """Fit the learner on the snapshot's readable images; the unreadable ones with reasons."""
        ...

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
        """A ranking before any model (None: none better than random)."""
        ...

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
        """The ranking of `pool` (built by `build`) and what scoring found."""
        ...

    def embeddings(self, indices: np.ndarray) -> Embedded:
        """float32 embeddings of the readable `indices` (and which those are), for a batch selector."""
        ...

    def close(self) -> None:
        """Let go of what the strategy holds open (an embedding cache's folder); safe twice."""
        ...


class DirectStrategy:
    """Train on the images, score the pool in growing parts, most wanted first.

    Parameters
    ----------
    task : Task
        Fits and scores.
    learner : object
        The task's learner.
    dataset : Dataset
        The images.
    executor : MapExecutor
        Runs the scoring chunks.
    chunk_size : int
        Images per executor call.
    """

    cold_starts = False

    def __init__(
        self,
        task: Task,
        learner: Any,
        dataset: Dataset,
        *,
        executor: scoring.MapExecutor,
        chunk_size: int,
    ) -> None:
        self.task, self.learner, self.dataset = task, learner, dataset
        self.executor, self.chunk_size = executor, chunk_size

    def fit(
        self,
        snapshot: Snapshot,
        progress: Progress,
        should_stop: ShouldStop,
        pool: np.ndarray | None,
        rng: np.random.Generator,
    ) -> dict[int, str]:
        """Fit on the snapshot's readable images.

        Parameters
        ----------
        snapshot : Snapshot
            The labels to fit.
        progress : callable
            Receives the fraction done.
        should_stop : callable
            True: cancel.
        pool : numpy.ndarray or None
            The unlabeled candidates (unused here).
        rng : numpy.random.Generator
            Draws unlabeled samples (unused here).
        """
        return self.task.fit(self.learner, self.dataset, snapshot, progress, should_stop)

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
        """None: without embeddings at hand, the first ranking is random.

        Parameters
        ----------
        candidates : numpy.ndarray
            The unlabeled candidates.
        pool_sample : int or None
            How many to rank.
        query_size : int
            How many lead the queue.
        data_version : int
            The dataset version ranked.
        rng : numpy.random.Generator
            Draws the sample.
        should_stop : callable
            True: cancel.
        """
        return None

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
        """Score `pool` in growing parts, in the order of `previous`; a ranking of each part is
        published while the rest is scored, and the round ends early when it should yield.

        Parameters
        ----------
        pool : numpy.ndarray
            Dataset indices to score.
        heuristic : str or callable
            The uncertainty heuristic.
        reduction : str, callable or None
            How per-box / per-pixel scores reduce to one per image.
        mc_samples : int
            MC dropout samples.
        build : callable
            ``build(scored, pending)``: the ranking of what is scored.
        hooks : Hooks
            Stopping, publishing and yielding.
        previous : Ranking or None
            The last published ranking: its order is the scoring order.
        """
        publish = hooks.publish
        scored, left = score_in_parts(
            self.task,
            self.learner,
            self.dataset,
            # One chunk is scored in one part: left in its own order, the ranking (and the
            # random heuristic's draws) stay as they were before parts existed.
            priority(pool, previous) if len(pool) > self.chunk_size else pool,
            chunk_size=self.chunk_size,
            executor=self.executor,
            on_part=None if publish is None else lambda part, left: publish(build(part, left)),
            should_yield=hooks.should_yield,
            heuristic=heuristic,
            reduction=reduction,
            mc_samples=mc_samples,
            should_stop=hooks.should_stop,
        )
        return build(scored, left), scored

    def close(self) -> None:
        """Nothing to let go of: the images are read as each round needs them."""

    def embeddings(self, indices: np.ndarray) -> Embedded:
        """float32 embeddings of the readable `indices`, computed now; the unreadable ones with
        their reasons (a file moved or deleted since the pool was scored).

        Parameters
        ----------
        indices : numpy.ndarray
            Dataset indices.
        """
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
        read = [d for d in done if d.result is not None]
        broken = {i: why for d in done for i, why in d.broken.items()}
        if not read:
            return Embedded(np.zeros(0, np.int64), np.zeros((0, 0), np.float32), broken)
        return Embedded(
            np.concatenate([d.indices for d in read]).astype(np.int64),
            np.concatenate([d.result for d in read]).astype(np.float32),
            broken,
        )


def unlabeled_sample(
    learner: Any, snapshot: Snapshot, pool: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray | None:
    """Dataset indices of the pool images a learner trains on beside the labels, or None.

    Parameters
    ----------
    learner : object
        Says how many it wants (``learners.base.unlabeled_wanted``).
    snapshot : Snapshot
        The labels: left out of the sample.
    pool : numpy.ndarray or None
        The unlabeled candidates (None: no sample).
    rng : numpy.random.Generator
        Draws the sample when the pool has more than wanted.
    """
    if pool is None:
        return None
    wanted = unlabeled_wanted(learner)
    if not wanted:
        return None
    pool = pool[~np.isin(pool, snapshot.indices)]
    if len(pool) > wanted:
        pool = np.sort(rng.choice(pool, wanted, replace=False))
    return pool


def priority(pool: np.ndarray, previous: Ranking | None) -> np.ndarray:
    """`pool` in the order to score or embed it: as the last ranking showed it, then the rest.

    Parameters
    ----------
    pool : numpy.ndarray
        Dataset indices.
    previous : Ranking or None
        The last published ranking.
    """
    if previous is None or not len(previous.indices):
        return pool
    shown = previous.indices[np.isin(previous.indices, pool)]
    return np.concatenate([shown, pool[~np.isin(pool, shown)]])


def score_in_parts(
    task: Task,
    learner: Any,
    dataset: Dataset,
    pool: np.ndarray,
    *,
    chunk_size: int,
    executor: Any,
    on_part: Callable[[Scored, int], None] | None,
    should_yield: ShouldStop | None = None,
    **score: Any,
) -> tuple[Scored, int]:
    """`task.score` over `pool` in growing parts, in its order; what was scored and how many were not.

    The first part is one chunk and each next one twice the last, at most an eighth of the
    pool: a big pool gets a ranking of its first chunk at once and a dozen or so in all. After
    each part but the last, ``on_part(scored so far, n not scored yet)``; when `should_yield()`
    says so the rest is left unscored. The learner is shipped to the executor once.

    Parameters
    ----------
    task : Task
        Scores each part (``task.score(learner, dataset, part, **score)``).
    learner : object
        The fitted learner.
    dataset : Dataset
        The images.
    pool : numpy.ndarray
        Dataset indices, most wanted first.
    chunk_size : int
        Images per executor call.
    executor : MapExecutor
        Runs the calls.
    on_part : callable, optional
        Receives each growing result; None scores the pool in one part.
    should_yield : callable, optional
        True: stop after the current part.
    **score
        The rest of ``task.score``'s keyword arguments.
    """
    shipping = scoring.Shipping(executor)
    parts: list[Scored] = []
    start, size = 0, chunk_size if on_part is not None else len(pool)
    cap = max(chunk_size, -(-len(pool) // (8 * chunk_size)) * chunk_size)
    while True:
        part = pool[start : start + size]
        parts.append(
            task.score(learner, dataset, part, chunk_size=chunk_size, executor=shipping, **score)
        )
        start += len(part)
        left = len(pool) - start
        if not left or (should_yield is not None and should_yield()):
            return merged(parts), left
        if on_part is not None:
            on_part(merged(parts), left)
        size = min(2 * size, cap)


def merged(parts: list[Scored]) -> Scored:
    """The parts' results as one, of their own type: arrays joined, dicts united, counts summed."""
    if len(parts) == 1:
        return parts[0]
    values: dict[str, Any] = {}
    for name in (f.name for f in dataclasses.fields(parts[0])):
        found = [getattr(p, name) for p in parts if getattr(p, name) is not None]
        if not found:
            values[name] = None
        elif all(isinstance(v, np.ndarray) for v in found):
            values[name] = np.concatenate(found)
        elif all(isinstance(v, dict) for v in found):
            values[name] = {k: v for d in found for k, v in d.items()}
        elif all(isinstance(v, int) for v in found):
            values[name] = sum(found)
        else:
            raise TypeError(f"cannot join the field {name!r} of scored parts: {found[0]!r}")
    return dataclasses.replace(parts[0], **values)
