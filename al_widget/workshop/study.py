"""Oracle runs on the toy: the boundary each heuristic learns from a few labels, over seeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from .. import heuristics
from ..annotations import Label
from ..compare_runs import check_heuristics
from ..curves import pyplot
from ..dataset import Dataset
from ..datasets import Line, Toy
from ..heuristic_registry import Heuristic
from ..learners import clone
from ..loop import ActiveLoop
from ..simulate import (
    balanced_seed,
    check_budget,
    learner_for_run,
    oracle_batches,
    settle,
)
from .boundary import agreement, learned_line, plot_boundary, true_line

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class ToyRun:
    """One oracle run on a toy: the trained learner, the points it was given, its line."""

    heuristic: str
    seed: int
    learner: Any
    labeled: np.ndarray
    seed_size: int
    line: Line
    angle_error: float
    agreement: float

    @property
    def queried(self) -> np.ndarray:
        """The pool indices the heuristic chose (the labeled ones after the seed set)."""
        return self.labeled[self.seed_size :]

    def plot(self, toy: Toy, ax: Axes | None = None) -> Axes:
        """Draw the run's learned boundary beside the true one (see `plot_boundary`).

        Parameters
        ----------
        toy : Toy
            The pool the run learned.
        ax : matplotlib Axes, optional
            Where to draw (None: a new figure).
        """
        ax = plot_boundary(self.learner, toy, ax, queried=self.labeled)
        title = f"{self.heuristic}, seed {self.seed}"
        off = "" if np.isnan(self.angle_error) else f": off by {self.angle_error:.1f}°"
        ax.set_title(title + off)
        return ax

    def after(self, toy: Toy, n_labels: int) -> ToyRun:
        """The run as it stood after its first `n_labels` labels: its learner retrained on them.

        For a deterministic learner such as `LineLearner` that is the very model the loop had
        then; a learner that trains with randomness gives one like it.

        Parameters
        ----------
        toy : Toy
            The pool the run learned.
        n_labels : int
            How many of the run's labels, in the order given: from its seed set's size to all.
        """
        if not self.seed_size <= n_labels <= len(self.labeled):
            raise ValueError(
                f"n_labels must be from the seed set's {self.seed_size} to the run's "
                f"{len(self.labeled)} labels, got {n_labels}"
            )
        labeled = self.labeled[:n_labels]
        learner = clone(self.learner)
        images = Dataset(toy.images, list(toy.classes)).batch(labeled)
        learner.fit(images, toy.labels[labeled], lambda fraction: None, lambda: False)
        return _measured(toy, self.heuristic, self.seed, learner, labeled, self.seed_size)


def learn_boundary(
    toy: Toy,
    heuristic: str | heuristics.Heuristic = "margin",
    *,
    budget: int = 28,
    seed_size: int = 4,
    query_size: int = 4,
    seed: int = 0,
    learner: Any = None,
    pool_sample: int | None = None,
) -> ToyRun:
    """Label `budget` points of the toy with an oracle, picked by `heuristic`; measure the line.

    Parameters
    ----------
    toy : Toy
        The pool; its labels are the oracle.
    heuristic : str or callable, default "margin"
        How the loop picks the points after the seed set.
    budget : int, default 28
        Labels in all, the seed set included.
    seed_size : int, default 4
        Labels given first, spread evenly over the classes (the same for every heuristic
        at a given `seed`).
    query_size : int, default 4
        Labels per round.
    seed : int, default 0
        Seeds the seed set, the loop and the default learner.
    learner : Learner or callable, optional
        The model: an instance, of which the run trains a clone (seeded with `seed` when it
        has a ``seed`` parameter), or a factory ``learner(seed)``; None: the default
        ``Classifier`` seeded with `seed`.
    pool_sample : int, optional
        Score this many random points per round (None: all of them).

    Returns
    -------
    ToyRun
        The learner after its last round, the labeled indices in order, the learned line, its
        angle error and the share of the square where it agrees with the true boundary (both
        NaN for a toy without a straight true boundary, such as ``datasets.moons()``).

    Raises
    ------
    ValueError
        For an impossible budget, or unreadable images that leave too few to reach it.
    RuntimeError
        When a round fails (with the round's error).
    """
    check_budget(seed_size, budget, len(toy.labels))
    dataset = Dataset(toy.images, list(toy.classes))
    own = learner_for_run(learner, seed)
    loop = ActiveLoop(dataset, own, heuristic, pool_sample, query_size, seed=seed, start=False)
    labeled: list[int] = []

    def give(indices: Iterable[int]) -> None:
        for i in indices:
            loop.commit(int(i), Label(int(toy.labels[i])))
            labeled.append(int(i))

    try:
        give(balanced_seed(toy.labels, seed_size, np.random.default_rng(seed)))
        loop.start()
        settle(loop)
        for batch in oracle_batches(loop, budget, query_size):
            give(batch)
    finally:
        loop.close()
    name = heuristics.name_of(heuristic)
    return _measured(toy, name, seed, loop.learner, np.array(labeled), seed_size)


def _measured(
    toy: Toy, heuristic: str, seed: int, learner: Any, labeled: np.ndarray, seed_size: int
) -> ToyRun:
    """A run of a trained learner, with its line, angle error and agreement measured."""
    line = learned_line(learner, toy.images.shape[1])
    true = toy.boundary
    return ToyRun(
        heuristic,
        seed,
        learner,
        labeled,
        seed_size,
        line,
        line.angle_to(true) if true is not None else float("nan"),
        agreement(learner, toy) if true is not None else float("nan"),
    )


@dataclass(frozen=True)
class BoundaryStudy:
    """Runs of several heuristics over the same seeds on one toy, and their angle errors."""

    toy: Toy
    runs: tuple[ToyRun, ...]

    @property
    def heuristics(self) -> list[str]:
        """The heuristics compared, in the order given."""
        return list(dict.fromkeys(run.heuristic for run in self.runs))

    @property
    def seeds(self) -> list[int]:
        """The seeds, in the order given."""
        return list(dict.fromkeys(run.seed for run in self.runs))

    def _name(self, heuristic: str | Heuristic) -> str:
        """The heuristic's name in the study, or a ValueError naming it and those there are."""
        name = heuristics.name_of(heuristic)
        if name not in self.heuristics:
            raise ValueError(
                f"no runs of heuristic {heuristic!r} in this study; it has runs of "
                f"{self.heuristics}"
            )
        return name

    def run(self, heuristic: str | Heuristic, seed: int) -> ToyRun:
        """The run of `heuristic` with `seed`.

        Parameters
        ----------
        heuristic : str or callable
            A heuristic of the study (any spelling `heuristics.name_of` takes).
        seed : int
            A seed of the study.
        """
        name = self._name(heuristic)
        if seed not in self.seeds:
            raise ValueError(
                f"no runs with seed {seed!r} in this study; its seeds are {self.seeds}"
            )
        return next(r for r in self.runs if (r.heuristic, r.seed) == (name, seed))

    def errors(self, heuristic: str | Heuristic) -> np.ndarray:
        """The heuristic's angle error (degrees) per seed, in seed order.

        Parameters
        ----------
        heuristic : str or callable
            A heuristic of the study.
        """
        name = self._name(heuristic)
        return np.array([self.run(name, seed).angle_error for seed in self.seeds])

    def summary(self) -> dict[str, tuple[float, float]]:
        """Per heuristic, the mean and standard deviation of the angle error over the seeds."""
        return {
            name: (float(self.errors(name).mean()), float(self.errors(name).std()))
            for name in self.heuristics
        }

    def wins(self) -> dict[str, int]:
        """Per heuristic, on how many seeds its line was the closest to the true one."""
        errors = np.array([self.errors(name) for name in self.heuristics])
        best = errors.argmin(axis=0)
        return {name: int((best == k).sum()) for k, name in enumerate(self.heuristics)}

    def typical_seed(self, worse: str = "random", better: str = "margin") -> int:
        """The seed whose gap (`worse`'s angle error minus `better`'s) is closest to the mean
        gap over all the seeds: a typical seed, neither `better`'s best case nor its worst.

        Parameters
        ----------
        worse, better : str
            The two heuristics compared (default: random and margin).
        """
        gap = self.errors(worse) - self.errors(better)
        return self.seeds[int(np.argmin(np.abs(gap - gap.mean())))]

    def table(self) -> str:
        """Angle errors per seed, the closest heuristic of each seed, and the mean ± std, as text."""
        names = self.heuristics
        rows = [f"{'seed':>6} " + " ".join(f"{name:>13}" for name in names) + "   closest"]
        for seed in self.seeds:
            errors = [self.run(name, seed).angle_error for name in names]
            cells = " ".join(f"{error:12.1f}°" for error in errors)
            rows.append(f"{seed:>6} {cells}   {names[int(np.argmin(errors))]}")
        cells = " ".join(f"{f'{m:.1f} ± {s:.1f}°':>13}" for m, s in self.summary().values())
        rows.append(f"{'mean':>6} {cells}")
        return "\n".join(rows)

    def plot_errors(self, ax: Axes | None = None) -> Axes:
        """Each seed's angle error per heuristic, as grouped bars, with each mean as a line.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (None: a new figure).
        """
        plt = pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(max(5.0, 0.45 * len(self.seeds) + 2), 3.5))
        names, seeds = self.heuristics, np.arange(len(self.seeds))
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            errors = self.errors(name)
            bars = ax.bar(seeds + (k - (len(names) - 1) / 2) * width, errors, width, label=name)
            ax.axhline(errors.mean(), color=bars.patches[0].get_facecolor(), linestyle="--")
        ax.set_xticks(seeds, [str(seed) for seed in self.seeds])
        ax.set(xlabel="seed", ylabel="angle error (degrees)")
        ax.legend(title="dashed: mean")
        ax.grid(axis="y", alpha=0.3)
        return ax

    def plot_progress(
        self, seed: int, counts: Sequence[int] = (4, 8, 16, 28), size: float = 2.8
    ) -> Figure:
        """How each heuristic's line moved: a row per heuristic, a column per label count.

        Each panel is the run with `seed` after that many labels (`ToyRun.after`), its angle
        error in the title.

        Parameters
        ----------
        seed : int
            The seed whose runs to draw (see `typical_seed`).
        counts : sequence of int, default (4, 8, 16, 28)
            The label counts, from the seed set's size to the budget.
        size : float, default 2.8
            The side of one panel, in inches.
        """
        plt = pyplot()
        names = self.heuristics
        fig, axes = plt.subplots(
            len(names),
            len(counts),
            figsize=(size * len(counts), size * len(names) + 0.6),
            squeeze=False,
        )
        for r, name in enumerate(names):
            run = self.run(name, seed)
            for c, count in enumerate(counts):
                step = run.after(self.toy, count)
                ax = plot_boundary(step.learner, self.toy, axes[r][c], queried=step.labeled)
                ax.set_title(f"{name}, {count} labels: off by {step.angle_error:.1f}°")
                legend = ax.get_legend()
                if legend is not None:
                    legend.remove()
                if c:
                    ax.set_ylabel("")
        fig.suptitle(f"seed {seed}: the learned line (solid) after each round, the true one dashed")
        fig.tight_layout()
        return fig

    def __str__(self) -> str:
        return self.table()

    def plot(self, seeds: Sequence[int] | None = None, size: float = 3.0) -> Figure:
        """One panel per run: a row per seed, a column per heuristic.

        Parameters
        ----------
        seeds : sequence of int, optional
            The seeds to draw (None: all of them).
        size : float, default 3.0
            The side of one panel, in inches.
        """
        plt = pyplot()
        rows = list(self.seeds if seeds is None else seeds)
        names = self.heuristics
        fig, axes = plt.subplots(
            len(rows), len(names), figsize=(size * len(names), size * len(rows)), squeeze=False
        )
        for r, seed in enumerate(rows):
            for c, name in enumerate(names):
                self.run(name, seed).plot(self.toy, axes[r][c])
        legend = axes[0][0].get_legend()
        handles, labels = legend.legend_handles, [text.get_text() for text in legend.texts]
        for ax in axes.flat:
            ax.get_legend().remove()
        legend = _legend_that_fits(fig, handles, labels)
        height = (legend.get_window_extent().height + 0.1 * fig.dpi) / fig.bbox.height
        fig.tight_layout(rect=(0, height, 1, 1))
        return fig


def _legend_that_fits(fig: Figure, handles: list[Any], labels: list[str]) -> Any:
    """A legend below the panels in as few rows as fit the figure's width (one entry a row
    at worst)."""
    for ncol in range(len(labels), 0, -1):
        legend = fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False)
        if ncol == 1 or legend.get_window_extent().width <= fig.bbox.width:
            return legend
        legend.remove()
    raise ValueError("a legend needs at least one entry")


def boundary_study(
    toy: Toy,
    heuristics: Sequence[str] = ("random", "margin"),
    seeds: Iterable[int] = range(6),
    *,
    progress: bool = True,
    **kwargs: Any,
) -> BoundaryStudy:
    """`learn_boundary` for every heuristic and seed (the same seed sets for every heuristic).

    Parameters
    ----------
    toy : Toy
        The pool, with a straight true boundary.
    heuristics : sequence of str, default ("random", "margin")
        The heuristics to compare.
    seeds : iterable of int, default range(6)
        One run per heuristic for each.
    progress : bool, default True
        Show a progress bar over the runs.
    **kwargs
        Passed to `learn_boundary`: ``budget``, ``seed_size``, ``query_size``, ...

    Raises
    ------
    ValueError
        For a toy without a straight true boundary (``toy.boundary`` None, as for
        ``datasets.moons()``), or `heuristics` given as one string, empty, naming one twice
        or naming an unknown one.
    """
    names = check_heuristics(heuristics)
    try:
        true_line(toy)
    except ValueError as error:
        raise ValueError(
            f"boundary_study compares each run's line with the toy's true one, and {error}; "
            "use a toy with a straight boundary, such as datasets.cats_vs_milkshakes(), or "
            "learn_boundary and ToyRun.plot to look at single runs"
        ) from None
    pairs = [(name, seed) for seed in seeds for name in names]
    runs = tuple(
        learn_boundary(toy, name, seed=seed, **kwargs)
        for name, seed in tqdm(pairs, desc="boundaries", disable=not progress)
    )
    return BoundaryStudy(toy, runs)
