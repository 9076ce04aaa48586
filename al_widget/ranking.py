"""Which pool items to score (explore vs exploit) and their order (most uncertain first)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ._numbers import check_int

if TYPE_CHECKING:
    from .auto import Drawn


def sample_pool(
    candidates: np.ndarray, pool_sample: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Dataset indices to score: `pool_sample` of `candidates` at random, or all of them for None."""
    candidates = np.asarray(candidates, dtype=np.int64)
    check_pool_sample(pool_sample)
    if pool_sample is None or pool_sample >= len(candidates):
        return candidates
    return np.sort(rng.choice(candidates, size=pool_sample, replace=False))


def check_pool_sample(pool_sample: int | None) -> None:
    """Refuse a pool_sample that is neither None nor a positive int."""
    check_int("pool_sample", pool_sample, 1, optional=True, note="(score the whole pool)")


def order(
    scores: np.ndarray, rng: np.random.Generator, temperature: float | None = None
) -> np.ndarray:
    """Positions into `scores`, highest first; ties broken at random, or power-sampled for a temperature."""
    scores = np.asarray(scores, dtype=np.float64)
    if temperature is None or temperature == 0:
        return np.lexsort((rng.random(len(scores)), -scores))
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 or None ranks greedily), got {temperature}")
    if len(scores) and scores.min() < 0:
        raise ValueError(
            "power sampling (a temperature) needs scores >= 0; the heuristic returned negative scores"
        )
    # Gumbel-top-k: sorting log(s)/T + Gumbel noise samples without replacement with p ~ s**(1/T).
    with np.errstate(divide="ignore"):
        keys = np.log(scores) / temperature + rng.gumbel(size=len(scores))
    return np.lexsort((rng.random(len(scores)), -keys))


@dataclass(frozen=True)
class Ranking:
    """An immutable ranked queue of dataset indices, with the model and data versions behind it.

    Parameters
    ----------
    indices : numpy.ndarray
        (n,) dataset indices, the one to label first first.
    scores : numpy.ndarray
        (n,) each one's score, higher = more uncertain.
    predicted : numpy.ndarray
        (n,) the model's predicted class id of each, -1 where there is none.
    model_version : int
        The version of the model that scored them.
    data_version : int
        The dataset's version it was trained on.
    heuristic : str
        The heuristic (or selector) that ranked them.
    drafts : mapping of int to annotation, optional
        The model's draft annotation per dataset index, for the labeler to correct.
    created : float, optional
        When it was made (``time.time()``); default: now.
    pending : int, default 0
        Candidates left out because they are not embedded yet (the cache grows).
    """

    indices: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray
    model_version: int
    data_version: int
    heuristic: str
    drafts: Mapping[int, Any] = field(default_factory=dict)
    confidences: Mapping[int, np.ndarray] = field(default_factory=dict)  # per draft, see tasks
    reasons: Mapping[int, str] = field(default_factory=dict)  # per image: what made it uncertain
    created: float = field(default_factory=time.time)
    pending: int = 0  # candidates left out because they are not embedded yet (the cache grows)
    drawn: Drawn | None = None  # heuristic "auto": the queries at the head, and which arm drew each

    def __post_init__(self) -> None:
        for array in (self.indices, self.scores, self.predicted):
            array.flags.writeable = False
        object.__setattr__(self, "drafts", MappingProxyType(dict(self.drafts)))
        object.__setattr__(self, "confidences", MappingProxyType(dict(self.confidences)))

    def __len__(self) -> int:
        return len(self.indices)

    def position_of(self, index: int) -> int | None:
        """Where dataset index `index` stands in the queue, or None.

        Parameters
        ----------
        index : int
            A dataset index.
        """
        hits = np.flatnonzero(self.indices == index)
        return int(hits[0]) if hits.size else None

    def score_of(self, index: int) -> float | None:
        """The score of dataset index `index`, or None when it was not ranked.

        Parameters
        ----------
        index : int
            A dataset index.
        """
        position = self.position_of(index)
        return None if position is None else float(self.scores[position])

    def predicted_of(self, index: int) -> int | None:
        """The model's predicted class id for `index`, or None (no model, or not ranked).

        Parameters
        ----------
        index : int
            A dataset index.
        """
        position = self.position_of(index)
        if position is None or self.predicted[position] < 0:
            return None
        return int(self.predicted[position])


def build(
    pool: np.ndarray,
    scores: np.ndarray,
    predicted: np.ndarray | None,
    *,
    rng: np.random.Generator,
    temperature: float | None,
    model_version: int,
    data_version: int,
    heuristic: str,
    drafts: Mapping[int, Any] | None = None,
    confidences: Mapping[int, np.ndarray] | None = None,
    first: np.ndarray | None = None,
    pending: int = 0,
    reasons: Mapping[int, str] | None = None,
) -> Ranking:
    """The ranking of the scored `pool` (dataset indices) by `scores`, with the model's drafts
    and their confidences, and what made each image uncertain (`reasons`, in words).

    `first`, positions into `pool` (a selector's batch), leads the queue in its own order; the
    rest follows by score. `pending` counts candidates not scored yet (still being embedded).
    """
    positions = order(scores, rng, temperature)
    if first is not None and len(first):
        first = np.asarray(first, dtype=np.int64)
        positions = np.concatenate([first, positions[~np.isin(positions, first)]])
    if predicted is None:
        predicted = np.full(len(pool), -1, dtype=np.int64)
    return Ranking(
        indices=np.asarray(pool, dtype=np.int64)[positions],
        scores=np.asarray(scores, dtype=np.float64)[positions],
        predicted=np.asarray(predicted, dtype=np.int64)[positions],
        model_version=model_version,
        data_version=data_version,
        heuristic=heuristic,
        drafts=drafts or {},
        confidences=confidences or {},
        reasons=reasons or {},
        pending=pending,
    )
