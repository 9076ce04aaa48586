"""EXP4.P over heuristics: which heuristic asks for each query, and what it earned.

Active Learning by Learning (Hsu & Lin, AAAI 2015) treats each heuristic as an expert and lets
a bandit choose whose advice each query follows, rewarding the choice with the model's gain.
Arms are drawn with the probabilities ``(1 - K * floor) * w / sum(w) + floor``, and weights
grow by ``exp(RATE * floor * (credit + bonus))``, the bonus being EXP4.P's exploration term.

A loop labels a round of queries and then trains once, so the gain it measures is the round's:

- `draw_round` (a loop with an eval set): the whole round follows one arm ``a``, its top
  choices (``random``: candidates drawn evenly). The round's gain is that arm's alone, credited
  ``r / p_a`` (an unbiased estimate of what each arm would have earned); every arm ``j`` gets
  the bonus over ``p_j``.
- `draw` (no eval set): each query follows its own arm's top remaining choice, and every arm
  advising a query is credited ``advice * r / q``. All the arms of a round share its one gain,
  so which arm brought it is a guess from the rounds' mixes; but the mix is what lets the
  queries' own labels estimate the model's quality over the pool (`agreement`): random's picks,
  with their small ``q``, carry it. Rounds of one arm would measure each model on that arm's
  picks only (hard ones for margin, easy ones for random), and so reward the arm drawn next.

Each pick keeps the chance ``q`` that its draw asked for its image, summed over every arm whose
choices held it: the importance weight ``1 / q`` of its label.

Everything here is pure: a `State` is never changed, `update` returns a new one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ._numbers import check_int

DELTA = 0.1  # EXP4.P's confidence parameter
HORIZON = 300  # the labels the floor and the bonus are tuned for (rounds: HORIZON / k rounds)
SMOOTHING = 0.3  # the weight of the newest gain in the moving baseline and scale
RATE = 0.5  # the learning rate per unit of floor (EXP4.P: floor / 2)


@dataclass(frozen=True)
class Pick:
    """One query drawn by the bandit: which candidate, which arm chose it, and its propensity.

    ``position`` is a position into the candidates the draw was given; ``arm`` is the arm that
    asked for it; ``probability`` is the chance ``q`` that the draw asked for that candidate;
    ``advice`` holds each arm's chance of asking for it (1 for an arm whose top choices held
    it, the even share for ``random``). ``arm_probability`` is the chance the round's arm was
    drawn when the whole round follows one arm (`draw_round`), None when each query drew its
    own (`draw`).
    """

    position: int
    arm: str
    probability: float
    advice: tuple[float, ...]
    arm_probability: float | None = None

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
        Each arm's importance-weighted sum of gains per label over the rewarded rounds.
    rewarded : int
        How many queries were rewarded.
    chosen : tuple of int
        How many rewarded queries each arm chose.
    scale : float
        The moving root mean square of the gains' deviations from `baseline`.
    baseline : float
        The gains' exponential moving mean (a reward is the gain less it, over `scale`).
    updates : int
        How many rewards (rounds) were given.
    horizon : int
        The trials the floor and the exploration bonus are tuned for: rounds where each round
        follows one arm (`draw_round`), queries where each query draws its own (`draw`).
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
    horizon: int = HORIZON

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
        if not self.updates:
            return dict.fromkeys(self.arms)
        return {a: g / self.updates for a, g in zip(self.arms, self.gain, strict=True)}


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


def rounds_for(query_size: int) -> int:
    """The rounds of `query_size` labels a `draw_round` bandit is tuned for: `HORIZON` labels'
    worth."""
    return max(1, HORIZON // max(1, query_size))


def start(arms: Sequence[str], *, floor: float | None = None, horizon: int = HORIZON) -> State:
    """A bandit with equal weights over `arms`.

    Parameters
    ----------
    arms : sequence of str
        The heuristic names.
    floor : float, optional
        Each arm's least probability; by default EXP4.P's ``sqrt(ln K / (K * horizon))``.
    horizon : int, default 300
        The number of trials the default floor and the exploration bonus are tuned for: rounds
        (`rounds_for` a round size) where each round follows one arm, else queries.
    """
    found = check_arms(arms)
    k = len(found)
    check_horizon(horizon)
    if floor is None:
        floor = default_floor(k, horizon)
    if not 0 < floor <= 1 / k:
        raise ValueError(f"floor must be in (0, 1 / {k}] for {k} arms, got {floor!r}")
    return State(found, (0.0,) * k, float(floor), (0.0,) * k, 0, (0,) * k, horizon=horizon)


def check_horizon(horizon: int) -> None:
    """Refuse a `horizon` that is not a positive number of trials."""
    check_int("horizon", horizon, 1, note="(a number of trials)")


def default_floor(k: int, horizon: int) -> float:
    """EXP4.P's least probability of each of `k` arms over `horizon` trials."""
    return math.sqrt(math.log(k) / (k * horizon))


def retuned(state: State, horizon: int) -> State:
    """`state` tuned for `horizon` trials: the floor and the bonus follow it, the weights stay.

    Parameters
    ----------
    state : State
        The bandit, whose weights and earnings are kept.
    horizon : int
        The trials (rounds or queries, see `start`) it is now tuned for.
    """
    check_horizon(horizon)
    return replace(state, floor=default_floor(len(state.arms), horizon), horizon=horizon)


def check_orders(state: State, orders: Mapping[str, np.ndarray | None]) -> None:
    """Refuse `orders` unless it has a ranking (or None, for even advice) for every arm."""
    missing = [a for a in state.arms if a not in orders]
    if missing:
        raise ValueError(f"orders needs a ranking for every arm; missing {missing}")


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
    """Draw `k` queries among `n` candidates, each from its own arm's top remaining choice.

    The rounds of a loop without an eval set: the quality of its models is estimated from the
    queries' own labels (`agreement`), weighted by their propensities, which needs a round's
    queries to mix the arms (random's picks carry the estimate).

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
    check_orders(state, orders)
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
        picks.append(Pick(top, arm, q, advice, None))
        taken[top] = True
    return picks


def draw_round(
    state: State,
    orders: Mapping[str, np.ndarray | None],
    n: int,
    k: int,
    rng: np.random.Generator,
    arm: str | None = None,
) -> list[Pick]:
    """Draw a round of `k` queries among `n` candidates, all from one arm's top choices.

    The rounds of a loop with an eval set, where each model's quality is measured apart from
    the queries: the round's gain is then the arm's alone.

    Parameters
    ----------
    state : State
        The bandit; its arms' probabilities choose the round's arm.
    orders : mapping of str to array or None
        Each arm's ranking of the candidates (positions ``0 .. n - 1``, best first); None for
        an arm whose advice is every candidate evenly (``random``).
    n : int
        The number of candidates.
    k : int
        Queries to draw (at most `n`).
    rng : numpy.random.Generator
        Draws the arm and the random arm's candidates.
    arm : str, optional
        The round's arm when it is drawn already (a round ranked again for the same model keeps
        its arm); by default the bandit draws it.
    """
    check_orders(state, orders)
    if arm is not None and arm not in state.arms:
        raise ValueError(f"arm {arm!r} is not one of the bandit's arms {list(state.arms)}")
    pi = state.probabilities
    k = min(k, n)
    if k <= 0:
        return []
    a = state.arms.index(arm) if arm is not None else int(rng.choice(len(state.arms), p=pi))
    chosen = state.arms[a]
    tops: dict[str, np.ndarray | None] = {}
    for b in state.arms:
        order = orders[b]
        tops[b] = None if order is None else np.asarray(order[:k], dtype=np.int64)
    head = tops[chosen]
    taken = [] if head is None else [int(p) for p in head]
    if len(taken) < k:  # the even arm, or a ranking that ran dry: candidates drawn evenly
        rest = np.setdiff1d(np.arange(n), taken)
        taken += [int(p) for p in rng.choice(rest, size=k - len(taken), replace=False)]
    held = {b: set() if top is None else set(top.tolist()) for b, top in tops.items()}
    picks: list[Pick] = []
    for position in taken:
        advice = tuple(k / n if tops[b] is None else float(position in held[b]) for b in state.arms)
        q = float(np.dot(pi, advice))
        picks.append(Pick(position, chosen, q, advice, float(pi[a])))
    return picks


def update(state: State, picks: Sequence[Pick], gain: float, labels: int | None = None) -> State:
    """The bandit after the round of `picks` earned `gain` (the metric's change it brought).

    The reward is the gain less a moving baseline (the gains' exponential mean), scaled by
    the deviations' moving root mean square and clipped to [-1, 1]: only a gain above or below
    the usual tells the arms apart, and the rate of learning depends neither on the metric's
    units nor on how fast the model still improves. The first gain has no usual to be measured
    against: it sets the baseline and the scale, and rewards no arm (early gains are all
    positive, and crediting them would favour whichever arm happened to draw the first round).

    A round that followed one arm (`draw_round`) gives the reward to that arm, over its chance
    ``p_a`` of being drawn (picks of several such rounds share it by their numbers), and every
    arm ``j`` gets the exploration bonus over ``p_j``. A round whose queries drew their own arms
    (`draw`) shares the reward among them: each arm is credited ``advice / q`` of every query.

    Parameters
    ----------
    state : State
        The bandit before.
    picks : sequence of Pick
        The rewarded queries (those that were labeled), as `draw` returned them.
    gain : float
        The metric's change the queries brought.
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
    confidence = math.sqrt(math.log(k / DELTA) / (k * state.horizon))
    if all(p.arm_probability is not None for p in picks):  # one trial: the round
        share = np.zeros(k)  # each arm's share of the round over its chance of drawing it
        for p in picks:
            share[state.arms.index(p.arm)] += 1.0 / (len(picks) * (p.arm_probability or 1.0))
        credit, bonus = share, confidence / state.probabilities
    else:  # one trial per query: every arm advising a query shares it, over its propensity
        unit = np.array([p.advice for p in picks]) / [[p.probability] for p in picks]
        credit, share = unit.sum(axis=0), unit.mean(axis=0)
        bonus = credit * confidence
    logs = np.asarray(state.log_weights) + RATE * state.floor * (credit * reward + bonus)
    logs -= logs.max()  # only differences matter; keeps the numbers small
    earned = np.asarray(state.gain) + share * per_label
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
