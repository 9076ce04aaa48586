"""EXP4.P over heuristics: which one's top choice each query takes, and what it earned.

Active Learning by Learning (Hsu & Lin, AAAI 2015) treats each heuristic as an expert whose
advice is a distribution over the pool: its top remaining choice (all of the advice on one
image), or the whole pool evenly for ``random``. A query draws an arm with the probabilities
``(1 - K * floor) * w / sum(w) + floor`` and takes that arm's advice; the chance ``q`` that the
query took its image, summed over every arm advising it, is kept with the pick. When the
query's reward ``r`` is known, arm ``k`` is credited ``advice_k * r / q`` (an unbiased estimate
of what it would have earned), and its weight grows by ``exp(floor / 2 * (credit + bonus))``,
the bonus (``advice_k / q`` times a confidence term) being EXP4.P's exploration term.

Everything here is pure: a `State` is never changed, `update` returns a new one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

DELTA = 0.1  # EXP4.P's confidence parameter
HORIZON = 300  # the queries the floor and the learning rate are tuned for
SMOOTHING = 0.3  # the weight of the newest gain in the moving baseline and scale
RATE = 0.5  # the learning rate per unit of floor (EXP4.P: floor / 2)


@dataclass(frozen=True)
class Pick:
    """One query drawn by the bandit: which candidate, which arm chose it, and its propensity.

    ``position`` is a position into the candidates the draw was given; ``probability`` is the
    chance ``q`` that this draw took that candidate; ``advice`` holds each arm's advice on it
    (1 for the arm whose top choice it was, ``1 / n`` for ``random`` with ``n`` candidates left).
    """

    position: int
    arm: str
    probability: float
    advice: tuple[float, ...]

    @property
    def importance(self) -> float:
        """The importance weight ``1 / q`` of this query."""
        return 1.0 / self.probability


@dataclass(frozen=True)
class State:
    """The bandit after some rewards: log-weights per arm, and what each arm earned so far.

    Parameters
    ----------
    arms : tuple of str
        The heuristic names, one per arm.
    log_weights : tuple of float
        The arms' log-weights (their probabilities follow `probabilities`).
    floor : float
        The least probability of each arm (EXP4.P's p_min); ``len(arms) * floor <= 1``.
    gain : tuple of float
        Each arm's importance-weighted sum of gains per label over the rewarded queries.
    rewarded : int
        How many queries were rewarded.
    chosen : tuple of int
        How many rewarded queries each arm chose.
    scale : float
        The moving root mean square of the gains' deviations from `baseline`.
    baseline : float
        The gains' exponential moving mean (a reward is the gain less it, over `scale`).
    updates : int
        How many rewards were given.
    """

    arms: tuple[str, ...]
    log_weights: tuple[float, ...]
    floor: float
    gain: tuple[float, ...]
    rewarded: int = 0
    chosen: tuple[int, ...] = ()
    scale: float = 0.0
    baseline: float = 0.0
    updates: int = 0

    @property
    def probabilities(self) -> np.ndarray:
        """The chance that a query draws each arm: the weights mixed with the floor."""
        return probabilities(self.log_weights, self.floor)

    @property
    def weights(self) -> dict[str, float]:
        """Each arm's normalised weight (sums to 1), by name."""
        w = np.exp(np.asarray(self.log_weights) - max(self.log_weights))
        return dict(zip(self.arms, (w / w.sum()).tolist(), strict=True))

    @property
    def gain_per_label(self) -> dict[str, float | None]:
        """Each arm's estimated metric gain per label, by name (None before any reward)."""
        if not self.rewarded:
            return dict.fromkeys(self.arms)
        return {a: g / self.rewarded for a, g in zip(self.arms, self.gain, strict=True)}


def check_arms(arms: Sequence[str]) -> tuple[str, ...]:
    """`arms` as a tuple, refused unless it names at least two distinct heuristics."""
    found = tuple(arms)
    if (
        len(found) < 2
        or len(set(found)) != len(found)
        or not all(isinstance(a, str) for a in found)
    ):
        raise ValueError(f"arms must be two or more distinct heuristic names, got {arms!r}")
    return found


def start(arms: Sequence[str], *, floor: float | None = None, horizon: int = HORIZON) -> State:
    """A bandit with equal weights over `arms`.

    Parameters
    ----------
    arms : sequence of str
        The heuristic names.
    floor : float, optional
        Each arm's least probability; by default EXP4.P's ``sqrt(ln K / (K * horizon))``.
    horizon : int, default 300
        The number of queries the default floor is tuned for.
    """
    found = check_arms(arms)
    k = len(found)
    if floor is None:
        floor = math.sqrt(math.log(k) / (k * horizon))
    if not 0 < floor <= 1 / k:
        raise ValueError(f"floor must be in (0, 1 / {k}] for {k} arms, got {floor!r}")
    return State(found, (0.0,) * k, float(floor), (0.0,) * k, 0, (0,) * k)


def probabilities(log_weights: Sequence[float], floor: float) -> np.ndarray:
    """``(1 - K * floor) * softmax(log_weights) + floor``: each arm's chance to be drawn."""
    logs = np.asarray(log_weights, dtype=np.float64)
    w = np.exp(logs - logs.max())
    return (1 - len(logs) * floor) * w / w.sum() + floor


def draw(
    state: State,
    orders: Mapping[str, np.ndarray | None],
    n: int,
    k: int,
    rng: np.random.Generator,
) -> list[Pick]:
    """Draw `k` queries among `n` candidates, each from one arm's top remaining choice.

    Parameters
    ----------
    state : State
        The bandit; its arms' probabilities choose the arm of each query.
    orders : mapping of str to array or None
        Each arm's ranking of the candidates (positions ``0 .. n - 1``, best first); None for
        an arm whose advice is every remaining candidate evenly (``random``).
    n : int
        The number of candidates.
    k : int
        Queries to draw (at most `n`).
    rng : numpy.random.Generator
        Draws the arms and the random arm's candidates.
    """
    missing = [a for a in state.arms if a not in orders]
    if missing:
        raise ValueError(f"orders needs a ranking for every arm; missing {missing}")
    pi = state.probabilities
    taken = np.zeros(n, dtype=bool)
    cursor = dict.fromkeys(state.arms, 0)
    picks: list[Pick] = []
    for _ in range(min(k, n)):
        left = n - len(picks)
        tops: dict[str, int | None] = {}
        for arm in state.arms:
            order = orders[arm]
            if order is None:
                tops[arm] = None
                continue
            c = cursor[arm]
            while c < len(order) and taken[order[c]]:
                c += 1
            cursor[arm] = c
            tops[arm] = int(order[c]) if c < len(order) else None
        a = int(rng.choice(len(state.arms), p=pi))
        arm = state.arms[a]
        top = tops[arm]
        if top is None:  # the even arm (or one whose ranking ran dry): any remaining candidate
            top = int(rng.choice(np.flatnonzero(~taken)))
        advice = tuple(
            (1.0 / left if orders[b] is None else 0.0) if tops[b] is None else float(tops[b] == top)
            for b in state.arms
        )
        q = float(np.dot(pi, advice))
        picks.append(Pick(top, arm, q, advice))
        taken[top] = True
    return picks


def update(state: State, picks: Sequence[Pick], gain: float, labels: int | None = None) -> State:
    """The bandit after `picks` earned `gain` together (the metric's change they brought).

    The reward is the gain less a moving baseline (the gains' exponential mean), scaled by
    the deviations' moving root mean square and clipped to [-1, 1]: every query of a batch
    shares the batch's gain, so only a gain above or below the usual tells the arms apart,
    and the rate of learning depends neither on the metric's units nor on how fast the
    model still improves. The first gain has no usual to be measured against: it sets the
    baseline and the scale, and rewards no arm (early gains are all positive, and crediting
    them would favour whichever arm happened to draw most of the first batch).

    Parameters
    ----------
    state : State
        The bandit before.
    picks : sequence of Pick
        The rewarded queries (those that were labeled), as `draw` returned them.
    gain : float
        The metric's change the queries brought (each query is credited all of it).
    labels : int, optional
        How many labels brought the gain (default: ``len(picks)``), for the gain per label.
    """
    if not picks:
        return state
    if not math.isfinite(gain):
        raise ValueError(f"gain must be a finite number, got {gain!r}")
    k = len(state.arms)
    first = state.updates == 0
    deviation = gain - state.baseline
    scale = (
        abs(deviation)
        if first
        else math.sqrt((1 - SMOOTHING) * state.scale**2 + SMOOTHING * deviation**2)
    )
    reward = 0.0 if first or scale == 0 else max(-1.0, min(1.0, deviation / scale))
    baseline = gain if first else state.baseline + SMOOTHING * (gain - state.baseline)
    per_label = gain / (labels or len(picks))
    advice = np.array([p.advice for p in picks])  # (picks, arms)
    inverse = np.array([p.importance for p in picks])[:, None]
    credit = (advice * inverse * reward).sum(axis=0)
    bonus = (advice * inverse).sum(axis=0) * math.sqrt(math.log(k / DELTA) / (k * HORIZON))
    logs = np.asarray(state.log_weights) + RATE * state.floor * (credit + bonus)
    logs -= logs.max()  # only differences matter; keeps the numbers small
    earned = np.asarray(state.gain) + (advice * inverse * per_label).sum(axis=0)
    chosen = np.asarray(state.chosen) + [sum(p.arm == a for p in picks) for a in state.arms]
    return replace(
        state,
        log_weights=tuple(logs.tolist()),
        gain=tuple(earned.tolist()),
        rewarded=state.rewarded + len(picks),
        chosen=tuple(int(c) for c in chosen),
        scale=scale,
        baseline=baseline,
        updates=state.updates + 1,
    )


def agreement(picks: Sequence[Pick], agreed: Sequence[float]) -> float | None:
    """The importance-weighted mean agreement of a model with the labels of `picks`.

    The self-normalised (Hajek) form ``sum(agreed / q) / sum(1 / q)``: it estimates the
    model's agreement over the candidates the queries were drawn from, not only over the
    images the heuristics liked, and stays in [0, 1]. None without picks.

    Parameters
    ----------
    picks : sequence of Pick
        The labeled queries.
    agreed : sequence of float
        The model's agreement with each one's label, in [0, 1] (1: it predicted the label).
    """
    if len(picks) != len(agreed):
        raise ValueError(f"need one agreement per pick, got {len(agreed)} for {len(picks)}")
    if not picks:
        return None
    weights = np.array([p.importance for p in picks])
    return float(np.dot(weights, np.asarray(agreed, dtype=np.float64)) / weights.sum())
