"""What the loop remembers of each round, and how close it is to stopping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .auto import Choice


@dataclass(frozen=True)
class RoundRecord:
    """One round: what it trained on, what it measured, how long it took, and whether it failed.

    Parameters
    ----------
    round : int
        The round's number.
    model_version : int
        The version of the model that ranked (it grows with each training).
    data_version : int
        The dataset's version the round trained on (it grows with each label change).
    n_labels : int
        Labeled images the round trained on.
    heuristic : str
        The heuristic (or selector) that ranked the pool.
    retrained : bool
        Whether the round trained; False when it only ranked again.
    n_scored : int
        Images the ranking holds.
    train_seconds : float
        Seconds spent training.
    score_seconds : float
        Seconds spent scoring the pool.
    metric : float, optional
        The metric measured after the round, if the loop measures one.
    metric_name : str, optional
        Its name: "accuracy", "mAP" or "mIoU".
    error : str, optional
        Why the round failed; None when it published a ranking.
    n_boxes : int, default 0
        Boxes in the labeled set (detection): the x axis "boxes drawn".
    n_dropped : int, default 0
        Degenerate boxes from the model, left out of the drafts.
    details : dict of str to float, optional
        Further figures, e.g. AP50.
    """

    round: int
    model_version: int
    data_version: int
    n_labels: int
    heuristic: str
    retrained: bool
    n_scored: int
    train_seconds: float
    score_seconds: float
    metric: float | None = None
    metric_name: str | None = None
    error: str | None = None
    n_boxes: int = 0  # boxes in the labeled set (detection): the x axis "boxes drawn"
    n_dropped: int = 0  # degenerate boxes from the model, left out of the drafts
    details: dict[str, float] = field(default_factory=dict)  # further figures, e.g. AP50
    auto: Choice | None = None  # heuristic "auto": the queries each arm drew, weights, reward
    # Semi-supervised training (learners that take unlabeled pool images): how many pool images
    # the fit was given, how many became a confident pseudo-label (training targets only, never
    # stored), and the confidence they needed; 0, 0 and None when the round trained on labels only.
    n_unlabeled: int = 0
    n_pseudo_labels: int = 0
    pseudo_threshold: float | None = None

    @property
    def ok(self) -> bool:
        """True when the round published a ranking."""
        return self.error is None


@dataclass(frozen=True)
class Criterion:
    """One stopping criterion: its name, where the loop stands and the goal.

    Parameters
    ----------
    name : {"budget", "rounds", "target"}
        The setting it comes from.
    current : float or None
        Where the loop stands: labels given, rounds trained, or the latest metric (None: no
        round measured one yet).
    goal : float
        The setting's value.
    """

    name: str
    current: float | None
    goal: float

    @property
    def met(self) -> bool:
        """True when the goal is reached (never before there is a metric)."""
        return self.current is not None and self.current >= self.goal

    @property
    def fraction(self) -> float:
        """How far along, in [0, 1]."""
        if self.current is None:
            return 0.0
        return 1.0 if self.goal <= 0 else max(0.0, min(1.0, self.current / self.goal))

    def __str__(self) -> str:
        if self.name == "target":
            current = "none yet" if self.current is None else f"{self.current:.3f}"
            return f"target metric {current} / {self.goal:.3f}"
        return f"{self.name} {int(self.current or 0)} / {int(self.goal)}"


def criteria(settings: Any, n_labels: int, history: Sequence[RoundRecord]) -> list[Criterion]:
    """The stopping criteria `settings` sets (budget, rounds, target), each with where the loop stands."""
    found = []
    if settings.budget is not None:
        found.append(Criterion("budget", n_labels, settings.budget))
    if settings.rounds is not None:
        done = sum(r.ok and r.retrained for r in history)
        found.append(Criterion("rounds", done, settings.rounds))
    if settings.target is not None:
        found.append(Criterion("target", latest_metric(history), settings.target))
    return found


def latest_metric(history: Sequence[RoundRecord]) -> float | None:
    """The metric of the newest round that measured one, or None."""
    return next((r.metric for r in reversed(history) if r.metric is not None), None)


def semi_supervised_note(history: Sequence[RoundRecord]) -> str:
    """What the newest trained round learned from the pool, in words; "" when it used none.

    For instance "learning from the pool: 1,455 pseudo-labels of 2,000 images (confidence >=
    0.95)". The pseudo-labels are training targets only, never labels.
    """
    last = next((r for r in reversed(history) if r.ok and r.retrained), None)
    if last is None or last.pseudo_threshold is None:
        return ""
    return (
        f"learning from the pool: {last.n_pseudo_labels:,} pseudo-labels of "
        f"{last.n_unlabeled:,} images (confidence >= {last.pseudo_threshold:g})"
    )
