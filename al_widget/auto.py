"""heuristic="auto": the loop learns which heuristic pays on this data while the user labels.

Each round the bandit (`al_widget.bandit`, EXP4.P) draws the head of the queue: with an eval
set, one heuristic's top choices (the round's gain is then that heuristic's alone); without
one, each query from its own heuristic's top remaining choice. Once the queries are labeled
and a new model is trained, they earn the change in the model's quality: the eval set's
metric when there is one, else the importance-weighted agreement of each model with the
labels of the queries it drew (its agreement on images it had not seen, weighted so that it
estimates the agreement over the pool, as Active Learning by Learning does). The quality of the model a draw came from
is known when its queries are labeled, so without an eval set a draw is rewarded one round
later than with one. A draw earns only with the queries the newer model was trained on (its
round's snapshot), and rounds ranked by another heuristic settle the open draws unrewarded.

`Chooser` keeps the bandit and the open draws; only the loop's worker thread uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from . import bandit, heuristics

BASE_ARMS = ("random", "margin", "entropy")
MC_ARMS = ("bald", "variance")  # with MC dropout samples (mc_samples >= 2)


class Auto:
    """The "auto" heuristic: a choice among `arms` the loop makes per query, never a score.

    Parameters
    ----------
    arms : sequence of str, optional
        The heuristic (or selector) names to choose among, "random" included; by default
        random, margin and entropy, plus bald and variance when ``mc_samples >= 2``.
    """

    __name__ = "auto"
    __qualname__ = "Auto"

    def __init__(self, arms: Sequence[str] | None = None) -> None:
        if arms is not None:
            arms = bandit.check_arms([heuristics.name_of(a) for a in arms])
            for arm in arms:
                if isinstance(heuristics.get(arm), Auto):
                    raise ValueError("arms must be heuristics or selectors, not 'auto' itself")
        self.arms = None if arms is None else tuple(arms)

    def arms_for(self, mc_samples: int | None) -> tuple[str, ...]:
        """The arms for a loop scoring with `mc_samples` MC dropout samples."""
        if self.arms is not None:
            return self.arms
        return BASE_ARMS + (MC_ARMS if mc_samples is not None and mc_samples >= 2 else ())

    def __call__(self, probs: np.ndarray) -> np.ndarray:
        raise ValueError(
            "'auto' has no scores of its own: the loop draws each query from one of its "
            f"heuristics ({', '.join(self.arms or BASE_ARMS)}); call one of those instead"
        )

    def __repr__(self) -> str:
        return "Auto()" if self.arms is None else f"Auto(arms={list(self.arms)!r})"


heuristics.register_builtin("auto")(Auto())


def of(heuristic: Any) -> Auto | None:
    """The `Auto` behind a heuristic name or object, or None for any other heuristic."""
    found = heuristics.get(heuristic)
    return found if isinstance(found, Auto) else None


@dataclass(frozen=True)
class Drawn:
    """The head of an "auto" ranking: which heuristic drew each query, and with what chance.

    ``picks`` maps each drawn dataset index to its `bandit.Pick`, ``order`` lists them in
    queue order; the rest of the queue follows ``scored_by``'s order and scores; ``weights``
    are the arms' weights the draw used.
    """

    picks: Mapping[int, bandit.Pick]
    order: tuple[int, ...]
    scored_by: str
    weights: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "picks", MappingProxyType(dict(self.picks)))
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))


@dataclass
class Draw:
    """The queries drawn from one model's ranking, and that model's quality once known."""

    model_version: int
    picks: dict[int, bandit.Pick]  # dataset index -> the query
    ranking: Any  # the Ranking the queries were drawn from: the model's predictions and drafts
    quality: float | None = None
    labeled: list[int] | None = None  # set once a newer model trained on the labels


@dataclass(frozen=True)
class Choice:
    """What the bandit did in one round: the queries each arm drew, the weights, the reward.

    ``drawn`` counts the round's queries per arm; ``weights`` and ``gain_per_label`` are the
    bandit's after the round's reward; ``reward`` is the change in quality the last rewarded
    queries brought (None when no draw was rewarded this round), over ``rewarded`` labels.
    """

    drawn: dict[str, int]
    weights: dict[str, float]
    gain_per_label: dict[str, float | None]
    reward: float | None = None
    rewarded: int = 0
    quality: str = "agreement"  # what the reward measures: the eval metric's name or agreement


@dataclass
class Chooser:
    """The bandit over heuristics and its open draws (worker thread only: no lock)."""

    state: bandit.State | None = None
    draws: list[Draw] = field(default_factory=list)

    def arms(self, arms: tuple[str, ...], horizon: int) -> bandit.State:
        """The bandit over `arms`: what it learned of arms it knew is kept, new ones start even.

        It is tuned for `horizon` trials (rounds or queries, see `bandit.start`), also when it
        was tuned for others before (the round's size changed, or the eval set).
        """
        if self.state is None:
            self.state = bandit.start(arms, horizon=horizon)
        elif self.state.arms != arms:
            self.state = rearmed(self.state, arms)
        if self.state.horizon != horizon:
            self.state = bandit.retuned(self.state, horizon)
        return self.state

    def reward(
        self,
        model_version: int,
        quality: float | None,
        learned: Callable[[list[int]], np.ndarray],
        agreement: Callable[[Any, int], float | None],
    ) -> tuple[float | None, int]:
        """Reward the draws whose queries a newer model learned from; the last gain and labels.

        Parameters
        ----------
        model_version : int
            The model now trained.
        quality : float or None
            Its metric on the eval set (None: no eval set, agreement is used).
        learned : callable
            ``learned(indices) -> bool array``: which of the dataset indices were in the training
            data of the model now trained (not what is labeled since).
        agreement : callable
            ``agreement(ranking, index) -> float in [0, 1] or None``: how far the model behind
            `ranking` agreed with image `index`'s label (None: it offered nothing for it).
        """
        assert self.state is not None
        for draw in self.draws:
            if draw.labeled is None and draw.model_version < model_version:
                asked = list(draw.picks)
                draw.labeled = [i for i, done in zip(asked, learned(asked), strict=True) if done]
                if quality is None and draw.labeled:
                    found = [(i, agreement(draw.ranking, i)) for i in draw.labeled]
                    known = [(draw.picks[i], a) for i, a in found if a is not None]
                    draw.quality = bandit.agreement([p for p, _ in known], [a for _, a in known])
        # A draw nobody labeled from says nothing, nor one whose quality stayed unknown (no eval
        # set, and the model offered nothing for its labeled images).
        self.draws = [
            d for d in self.draws if d.picks and (d.labeled is None or d.quality is not None)
        ]
        last: tuple[float | None, int] = (None, 0)
        while self.draws:
            done = self.draws[0]
            # The quality of the model that learned from the draw's labels: the next draw's,
            # or with an eval set the model just trained (its draw is not added yet).
            after = self.draws[1].quality if len(self.draws) >= 2 else quality
            if done.labeled is None or done.quality is None or after is None:
                break
            gain = after - done.quality
            picks = [done.picks[i] for i in done.labeled]
            self.state = bandit.update(self.state, picks, gain)
            last = (gain, len(picks))
            self.draws.pop(0)
        return last

    def arm_of(self, model_version: int) -> str | None:
        """The arm of the open draw from `model_version`'s ranking (None: it drew none yet)."""
        if self.draws and self.draws[-1].model_version == model_version and self.draws[-1].picks:
            return next(iter(self.draws[-1].picks.values())).arm
        return None

    def settle(self) -> None:
        """Close the open draws without a reward: another heuristic ranks the queue now.

        The models trained from here on learn from that heuristic's queries too, so their gain
        is not the draws' to earn; what the bandit learned so far stays as it is.
        """
        self.draws = []

    def add(self, draw: Draw) -> None:
        """Keep `draw` until its queries are labeled and rewarded (one per model version)."""
        if self.draws and self.draws[-1].model_version == draw.model_version:
            kept = self.draws[-1]
            draw.picks = {**kept.picks, **draw.picks}
            draw.quality = kept.quality if draw.quality is None else draw.quality
            self.draws[-1] = draw
        else:
            self.draws.append(draw)


def rearmed(state: bandit.State, arms: tuple[str, ...]) -> bandit.State:
    """`state` over other `arms`: known arms keep their weights, new ones get the mean."""
    fresh = bandit.start(arms, horizon=state.horizon)
    known = dict(zip(state.arms, state.log_weights, strict=True))
    gains = dict(zip(state.arms, state.gain, strict=True))
    chosen = dict(zip(state.arms, state.chosen, strict=True))
    mean = float(np.mean([known[a] for a in arms if a in known])) if set(arms) & set(known) else 0.0
    return bandit.State(
        arms,
        tuple(known.get(a, mean) for a in arms),
        fresh.floor,
        tuple(gains.get(a, 0.0) for a in arms),
        state.rewarded,
        tuple(chosen.get(a, 0) for a in arms),
        state.scale,
        state.baseline,
        state.updates,
        state.horizon,
    )
