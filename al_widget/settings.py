"""The loop's settings as one immutable value, each checked when it is given."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import heuristics, ranking
from ._numbers import check_int, is_number

# Which settings re-rank the pool as soon as they change; the others apply from the next round.
RERANK_NOW = frozenset({"heuristic", "pool_sample", "reduction"})
SETTING_DOCS = {
    "heuristic": "The acquisition heuristic (a name or a function); setting it re-ranks now.",
    "pool_sample": "How many unlabeled images a round scores (None: all); setting it re-ranks now.",
    "reduction": "How box / pixel scores reduce to one per image (None: the task's default); re-ranks now.",
    "query_size": "How many new labels start a round; applies from the next label.",
    "mc_samples": "MC-dropout samples when scoring (None: by heuristic); applies from the next round.",
    "temperature": "Power-sampling temperature (None or 0: greedy); applies from the next round.",
    "budget": "Stop after this many labels (None: no limit); applies at once.",
    "rounds": "Stop after this many training rounds (None: no limit); applies at once.",
    "target": "Stop once the round's metric reaches this (None: no target); applies at once.",
}


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    below: float | None = None,
    maximum: float | None = None,
) -> None:
    """Refuse a `value` that is neither None nor a finite number (>= `minimum`, < `below` and
    <= `maximum` when given).

    Parameters
    ----------
    name : str
        The setting's name, for the error.
    value : object
        What was given.
    minimum : float, optional
        The least value allowed.
    below : float, optional
        The value allowed values stay under.
    maximum : float, optional
        The greatest value allowed.
    """
    if value is None:
        return
    if (
        not is_number(value)
        or not math.isfinite(value)
        or (minimum is not None and value < minimum)
        or (below is not None and value >= below)
        or (maximum is not None and value > maximum)
    ):
        bound = f" >= {minimum}" if minimum is not None else ""
        bound += (" and" if bound else "") + f" < {below}" if below is not None else ""
        bound += (" and" if bound else "") + f" <= {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must be None or a finite number{bound}, got {value!r}")


@dataclass(frozen=True)
class Settings:
    """What the next round uses, and when the loop stops; replaced whole, never changed in place.

    Parameters
    ----------
    heuristic : str or callable
        A registered heuristic name or a function from probabilities to scores.
    pool_sample : int or None
        How many unlabeled images a round scores (None: all of them).
    query_size : int
        How many new labels start a round.
    mc_samples : int or None
        MC-dropout samples per image when scoring (None: enough for the heuristic).
    temperature : float or None
        Power-sampling temperature for the queue's order (None or 0: greedy).
    budget, rounds : int or None
        Stop after this many labels / successful training rounds.
    target : float or None
        Stop once the round's metric reaches this value, in [0, 1] as the metrics are.
    reduction : str, callable or None
        Detection and segmentation: how per-box / per-pixel scores become one per image
        (``"max"``, ``"sum"``, ``"mean"``, ``"top(q)"`` or a callable; None: the task's default).
    """

    heuristic: str | heuristics.Heuristic = "margin"
    pool_sample: int | None = 100
    query_size: int = 10
    mc_samples: int | None = None
    temperature: float | None = None
    budget: int | None = None
    rounds: int | None = None
    target: float | None = None
    reduction: str | Callable[[np.ndarray], float] | None = None

    def __post_init__(self) -> None:
        heuristics.get(self.heuristic)
        ranking.check_pool_sample(self.pool_sample)
        check_int("query_size", self.query_size, 1)
        check_int("mc_samples", self.mc_samples, 1, optional=True)
        check_number("temperature", self.temperature, minimum=0)
        check_int("budget", self.budget, 0, optional=True)
        check_int("rounds", self.rounds, 0, optional=True)
        check_number("target", self.target, minimum=0, maximum=1)  # every metric is in [0, 1]
        if self.reduction is not None:
            heuristics.reduction(self.reduction)

    def changed(self, **values: Any) -> Settings:
        """A copy with `values` changed, each checked."""
        return replace(self, **values)
