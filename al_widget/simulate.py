"""Headless active learning with an oracle: learning curves, and heuristics compared with random."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import heuristics
from ._svg import line_chart
from .annotations import Label
from .dataset import Dataset
from .learners import Learner
from .loop import ActiveLoop


@dataclass(frozen=True)
class Curve:
    """A learning curve: test accuracy after each round, against the number of labels."""

    heuristic: str
    n_labels: np.ndarray
    accuracy: np.ndarray
    train_seconds: np.ndarray
    score_seconds: np.ndarray
    seed: int = 0

    def labels_to_reach(self, accuracy: float) -> int | None:
        """The fewest labels at which the curve reaches `accuracy`, or None."""
        return _first_reach(self.n_labels, self.accuracy, accuracy)

    def _repr_svg_(self) -> str:
        return line_chart(
            {self.heuristic: (self.n_labels, self.accuracy, None)},
            x_label="labels",
            y_label="test accuracy",
        )

    def __str__(self) -> str:
        rows = [f"{'labels':>7} {'accuracy':>9}"]
        rows += [f"{n:7d} {a:9.3f}" for n, a in zip(self.n_labels, self.accuracy, strict=True)]
        return f"{self.heuristic} (seed {self.seed})\n" + "\n".join(rows)


@dataclass(frozen=True)
class Comparison:
    """Curves per heuristic over several repeats, with their mean and spread."""

    curves: dict[str, list[Curve]] = field(default_factory=dict)

    def n_labels(self, heuristic: str) -> np.ndarray:
        """The label counts of the heuristic's curves."""
        return self.curves[heuristic][0].n_labels

    def mean(self, heuristic: str) -> np.ndarray:
        """Mean accuracy over the repeats, per label count."""
        return np.mean([c.accuracy for c in self.curves[heuristic]], axis=0)

    def std(self, heuristic: str) -> np.ndarray:
        """Standard deviation of the accuracy over the repeats, per label count."""
        return np.std([c.accuracy for c in self.curves[heuristic]], axis=0)

    def labels_to_reach(self, accuracy: float) -> dict[str, int | None]:
        """Per heuristic, the fewest labels at which the mean curve reaches `accuracy` (None: never)."""
        return {
            name: _first_reach(self.n_labels(name), self.mean(name), accuracy)
            for name in self.curves
        }

    def table(self) -> str:
        """The mean ± std accuracy of each heuristic at each label count, as text."""
        names = list(self.curves)
        rows = [f"{'labels':>7} " + " ".join(f"{name:>17}" for name in names)]
        for k, n in enumerate(self.n_labels(names[0])):
            cells = [f"{self.mean(name)[k]:.3f} ± {self.std(name)[k]:.3f}" for name in names]
            rows.append(f"{n:7d} " + " ".join(f"{cell:>17}" for cell in cells))
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.table()

    def _repr_svg_(self) -> str:
        series = {
            name: (self.n_labels(name), self.mean(name), self.std(name)) for name in self.curves
        }
        return line_chart(series, x_label="labels", y_label="test accuracy (mean ± std)")


def _first_reach(n_labels: np.ndarray, accuracy: np.ndarray, goal: float) -> int | None:
    hits = np.flatnonzero(np.asarray(accuracy) >= goal)
    return int(n_labels[hits[0]]) if hits.size else None


def _split(n: int, test_size: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size}")
    order = rng.permutation(n)
    n_test = max(1, round(n * test_size))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def _balanced_seed(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` pool positions spread evenly over the classes, at random within each class."""
    by_class = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    picked = [
        group[k] for k in range(max(map(len, by_class))) for group in by_class if k < len(group)
    ]
    return np.array(picked[:size], dtype=np.int64)


def simulate(
    images: Any,
    labels: Sequence[int] | np.ndarray,
    heuristic: str | heuristics.Heuristic = "margin",
    seed_size: int = 20,
    query_size: int = 10,
    budget: int = 300,
    test_size: float = 0.2,
    seed: int = 0,
    learner: Learner | Callable[[int], Learner] | None = None,
    *,
    pool_sample: int | None = None,
    mc_samples: int | None = None,
    test: tuple[Any, Any] | None = None,
    classes: Sequence[str] | None = None,
    progress: bool = True,
) -> Curve:
    """Run active learning with an oracle that knows `labels`; returns the learning curve."""
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    classes = (
        list(classes) if classes is not None else [str(c) for c in range(int(labels.max()) + 1)]
    )
    if test is None:
        train, held_out = _split(len(labels), test_size, rng)
        dataset = Dataset(
            [images[i] for i in train] if not isinstance(images, np.ndarray) else images[train],
            classes,
        )
        pool_labels, test = labels[train], (images[held_out], labels[held_out])
    else:
        dataset, pool_labels = Dataset(images, classes), labels
    if not 0 < seed_size <= budget <= len(pool_labels):
        raise ValueError(
            f"need 0 < seed_size ({seed_size}) <= budget ({budget}) <= pool size ({len(pool_labels)})"
        )
    if callable(learner) and not hasattr(learner, "fit"):
        learner = learner(seed)
    if learner is not None and not isinstance(learner, Learner):
        raise TypeError(
            f"learner must have fit() and predict_proba() (the Learner protocol), got {learner!r}"
        )
    loop = ActiveLoop(
        dataset,
        learner,
        heuristic,
        pool_sample,
        query_size,
        mc_samples=mc_samples,
        eval_set=test,
        seed=seed,
        start=False,
    )
    bar = tqdm(
        total=budget,
        desc=f"{heuristics.name_of(heuristic)} (seed {seed})",
        disable=not progress,
        leave=False,
    )
    try:
        for i in _balanced_seed(pool_labels, seed_size, rng):
            loop.commit(int(i), Label(int(pool_labels[i])))
        bar.update(seed_size)
        loop.start()
        _settle(loop)
        while len(dataset.labeled) < budget:
            batch = loop.queue[: min(query_size, budget - len(dataset.labeled))]
            for i in batch:
                loop.commit(int(i), Label(int(pool_labels[i])))
            bar.update(len(batch))
            _settle(loop)
    finally:
        bar.close()
        loop.close()
    rounds = [r for r in loop.history if r.retrained and r.ok]
    return Curve(
        heuristics.name_of(heuristic),
        np.array([r.n_labels for r in rounds]),
        np.array([r.metric for r in rounds]),
        np.array([r.train_seconds for r in rounds]),
        np.array([r.score_seconds for r in rounds]),
        seed,
    )


def _settle(loop: ActiveLoop) -> None:
    loop.wait()
    last = loop.history[-1] if loop.history else None
    if last is not None and not last.ok:
        raise RuntimeError(f"round {last.round} failed: {last.error}")


def compare(
    images: Any,
    labels: Sequence[int] | np.ndarray,
    heuristics: Sequence[str] = ("random", "margin"),
    repeats: int = 3,
    progress: bool = True,
    **kwargs: Any,
) -> Comparison:
    """Learning curves of each heuristic over `repeats` seeds (the same seeds for every heuristic)."""
    result = Comparison()
    runs = [(name, seed) for seed in range(repeats) for name in heuristics]
    for name, seed in tqdm(runs, desc="compare", disable=not progress):
        result.curves.setdefault(name, []).append(
            simulate(images, labels, name, seed=seed, progress=False, **kwargs)
        )
    return result
