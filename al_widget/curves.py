"""Learning curves: one run's metric after each round, and several runs compared with spread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._svg import line_chart
from .drafts import Savings
from .settings import check_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes

AXES = {"labels": "labeled images", "images": "labeled images", "boxes": "boxes drawn"}


def pyplot() -> Any:
    """matplotlib.pyplot, or an ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            'plotting needs matplotlib: pip install "al_widget[workshop]" (or pip install '
            "matplotlib); without it, a Curve or Comparison still shows as an SVG chart"
        ) from error
    return plt


def _axes(ax: Axes | None) -> Axes:
    return pyplot().subplots(figsize=(6, 4))[1] if ax is None else ax


def _check_axis(x: str) -> str:
    if x not in AXES:
        raise ValueError(f"x must be one of {', '.join(AXES)}, got {x!r}")
    return x


@dataclass(frozen=True)
class Curve:
    """A learning curve: the test metric after each round, against the labels (or boxes) so far.

    ``accuracy`` holds the metric whatever its name (``metric_name``: "accuracy", "mAP" or
    "mIoU"); ``metric`` is the same array under a task-neutral name. For heuristic "auto",
    ``weights`` holds each heuristic's weight after each round (``weights_svg``,
    ``plot_weights``).

    Parameters
    ----------
    heuristic : str
        The heuristic that chose the images.
    n_labels : numpy.ndarray
        (R,) labeled images after each round.
    accuracy : numpy.ndarray
        (R,) the test metric after each round.
    train_seconds : numpy.ndarray
        (R,) seconds each round spent training.
    score_seconds : numpy.ndarray
        (R,) seconds each round spent scoring the pool.
    seed : int, default 0
        The run's seed.
    n_boxes : numpy.ndarray, optional
        (R,) boxes drawn after each round (detection), the x axis ``x="boxes"``.
    metric_name : str, default "accuracy"
        The metric's name: "accuracy", "mAP" or "mIoU".
    weights : dict of str to numpy.ndarray, optional
        For heuristic "auto": each heuristic's (R,) weight after each round.
    drafts : tuple of Savings, optional
        Detection and segmentation: per round, what its drafts saved on the images labeled
        next.
    """

    heuristic: str
    n_labels: np.ndarray
    accuracy: np.ndarray
    train_seconds: np.ndarray
    score_seconds: np.ndarray
    seed: int = 0
    n_boxes: np.ndarray | None = None
    metric_name: str = "accuracy"
    weights: dict[str, np.ndarray] | None = None
    # Detection and segmentation: per round, what its drafts saved on the images labeled next.
    drafts: tuple[Savings, ...] | None = None

    @property
    def metric(self) -> np.ndarray:
        """The test metric after each round."""
        return self.accuracy

    def _check_weights(self) -> dict[str, np.ndarray]:
        if self.weights is None:
            raise ValueError(
                f"this curve has no weights: they are for heuristic 'auto', got {self.heuristic!r}"
            )
        return self.weights

    def weights_svg(self) -> str:
        """Each heuristic's weight in "auto" after each round, as an SVG chart."""
        series = {arm: (self.n_labels, w, None) for arm, w in self._check_weights().items()}
        return line_chart(
            series, x_label=AXES["labels"], y_label="weight in auto", y_range=(0.0, 1.0)
        )

    def plot_weights(self, ax: Axes | None = None) -> Axes:
        """Draw each heuristic's weight in "auto" after each round with matplotlib.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (None: a new figure).

        Returns
        -------
        matplotlib Axes
            The axes drawn on.
        """
        weights = self._check_weights()
        ax = _axes(ax)
        for arm, w in weights.items():
            ax.plot(self.n_labels, w, marker="o", markersize=3, label=arm)
        _label(ax, "labels", "weight in auto")
        return ax

    def x(self, axis: str = "labels") -> np.ndarray:
        """The x values: labeled images ("labels" or "images") or boxes drawn ("boxes").

        Parameters
        ----------
        axis : {"labels", "images", "boxes"}, default "labels"
            Labeled images or boxes drawn.
        """
        if _check_axis(axis) != "boxes":
            return self.n_labels
        if self.n_boxes is None:
            raise ValueError("this curve has no box counts: x='boxes' is for detection")
        return self.n_boxes

    @property
    def drafts_per_100(self) -> np.ndarray:
        """Per round: objects its drafts saved per 100 objects labeled next (NaN: none labeled)."""
        if self.drafts is None:
            raise ValueError(
                "this curve has no draft counts: they are for detection and segmentation"
            )
        return np.array([np.nan if s.rate is None else 100 * s.rate for s in self.drafts])

    @property
    def draft_savings(self) -> Savings:
        """What the drafts saved over the whole run; ``str()`` reads "drafts saved N of M objects"."""
        if self.drafts is None:
            raise ValueError(
                "this curve has no draft counts: they are for detection and segmentation"
            )
        return sum(self.drafts, Savings())

    def labels_to_reach(self, accuracy: float) -> int | None:
        """The fewest labels at which the curve reaches `accuracy` (the metric), or None.

        Parameters
        ----------
        accuracy : float
            The metric value to reach, in [0, 1] (0.95, not 95).
        """
        return _first_reach(self.n_labels, self.accuracy, accuracy)

    def svg(self, x: str = "labels") -> str:
        """The curve as an SVG chart, against labeled images or boxes drawn.

        Parameters
        ----------
        x : {"labels", "images", "boxes"}, default "labels"
            The x axis: labeled images or boxes drawn.
        """
        return line_chart(
            {self.heuristic: (self.x(x), self.accuracy, None)},
            x_label=AXES[x],
            y_label=f"test {self.metric_name}",
        )

    def _repr_svg_(self) -> str:
        return self.svg()

    def plot(self, ax: Axes | None = None, x: str = "labels") -> Axes:
        """Draw the curve with matplotlib, against labeled images or boxes drawn.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (None: a new figure).
        x : {"labels", "images", "boxes"}, default "labels"
            The x axis: labeled images, or boxes drawn (detection).

        Returns
        -------
        matplotlib Axes
            The axes drawn on.
        """
        ax = _axes(ax)
        ax.plot(self.x(x), self.metric, marker="o", label=f"{self.heuristic} (seed {self.seed})")
        _label(ax, x, f"test {self.metric_name}")
        return ax

    def __str__(self) -> str:
        rows = [f"{'labels':>7} {self.metric_name:>9}"]
        rows += [f"{n:7d} {a:9.3f}" for n, a in zip(self.n_labels, self.accuracy, strict=True)]
        return f"{self.heuristic} (seed {self.seed})\n" + "\n".join(rows)


@dataclass(frozen=True)
class Comparison:
    """Curves per heuristic over several repeats, with their mean and spread.

    Parameters
    ----------
    curves : dict of str to list of Curve
        Each heuristic's curves, one per repeat, all at the same label counts (heuristics may
        differ from each other).
    """

    curves: dict[str, list[Curve]] = field(default_factory=dict)

    @property
    def metric_name(self) -> str:
        """The name of the curves' metric."""
        return next(iter(self.curves.values()))[0].metric_name if self.curves else "accuracy"

    def _curves_of(self, heuristic: str) -> list[Curve]:
        """The heuristic's curves, or a ValueError naming it and the heuristics there are, or
        naming it when its curves do not share their label counts (their mean would mix rounds).
        """
        if heuristic not in self.curves:
            known = f"it has curves of {list(self.curves)}" if self.curves else "it has no curves"
            raise ValueError(f"no curves of heuristic {heuristic!r} in this comparison; {known}")
        curves = self.curves[heuristic]
        counts = {tuple(c.n_labels.tolist()) for c in curves}
        if len(counts) > 1:
            raise ValueError(
                f"the curves of {heuristic!r} must share their label counts to be averaged, got "
                f"{', '.join(str(list(n)) for n in sorted(counts))}; give runs with different "
                "query sizes or budgets their own names"
            )
        return curves

    def _check_not_empty(self) -> None:
        if not self.curves:
            raise ValueError("this comparison has no curves to draw")

    def n_labels(self, heuristic: str) -> np.ndarray:
        """The label counts of the heuristic's curves.

        Parameters
        ----------
        heuristic : str
            The heuristic's name, as in the comparison.
        """
        return self._curves_of(heuristic)[0].n_labels

    def x(self, heuristic: str, axis: str = "labels") -> np.ndarray:
        """The heuristic's x values, averaged over its repeats (boxes drawn vary by run).

        Parameters
        ----------
        heuristic : str
            The heuristic's name, as in the comparison.
        axis : {"labels", "images", "boxes"}, default "labels"
            Labeled images or boxes drawn.
        """
        return np.mean([c.x(axis) for c in self._curves_of(heuristic)], axis=0)

    def mean(self, heuristic: str) -> np.ndarray:
        """Mean metric over the repeats, per label count.

        Parameters
        ----------
        heuristic : str
            The heuristic's name, as in the comparison.
        """
        return np.mean([c.accuracy for c in self._curves_of(heuristic)], axis=0)

    def std(self, heuristic: str) -> np.ndarray:
        """Standard deviation of the metric over the repeats, per label count.

        Parameters
        ----------
        heuristic : str
            The heuristic's name, as in the comparison.
        """
        return np.std([c.accuracy for c in self._curves_of(heuristic)], axis=0)

    def labels_to_reach(self, accuracy: float) -> dict[str, int | None]:
        """Per heuristic, the fewest labels at which the mean curve reaches `accuracy` (None: never).

        Parameters
        ----------
        accuracy : float
            The metric value to reach, in [0, 1] (0.95, not 95).
        """
        return {
            name: _first_reach(self.n_labels(name), self.mean(name), accuracy)
            for name in self.curves
        }

    def table(self, x: str = "labels") -> str:
        """The mean ± std metric of each heuristic per round, as text, against labels or boxes.

        A row per label count of any heuristic; a heuristic's cell is blank at a count its
        rounds did not stop at (e.g. runs with different query sizes).

        Against boxes, each cell also gives the heuristic's own mean boxes drawn (``@ n``):
        heuristics that pick busier images draw more boxes for the same number of images.

        Parameters
        ----------
        x : {"labels", "images", "boxes"}, default "labels"
            What the rows count: labeled images or boxes drawn.
        """
        names = list(self.curves)
        boxes = _check_axis(x) == "boxes"
        if not names:
            return "no curves: this comparison is empty"
        width = 25 if boxes else 17
        cells: dict[str, dict[int, str]] = {}
        for name in names:
            mean, std = self.mean(name), self.std(name)
            drawn = self.x(name, "boxes") if boxes else None
            cells[name] = {}
            for k, n in enumerate(self.n_labels(name).tolist()):
                cell = f"{mean[k]:.3f} ± {std[k]:.3f}"
                cells[name][n] = cell if drawn is None else f"{cell} @ {drawn[k]:.0f}"
        rows = [f"{'labels':>7} " + " ".join(f"{name:>{width}}" for name in names)]
        for n in sorted({n for by_count in cells.values() for n in by_count}):
            row = " ".join(f"{cells[name].get(n, ''):>{width}}" for name in names)
            rows.append(f"{n:7d} {row}".rstrip())
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.table()

    def svg(self, x: str = "labels") -> str:
        """Mean ± std curves of every heuristic as an SVG chart, against labels or boxes drawn.

        Parameters
        ----------
        x : {"labels", "images", "boxes"}, default "labels"
            The x axis: labeled images or boxes drawn.
        """
        self._check_not_empty()
        series = {name: (self.x(name, x), self.mean(name), self.std(name)) for name in self.curves}
        return line_chart(
            series, x_label=AXES[_check_axis(x)], y_label=f"test {self.metric_name} (mean ± std)"
        )

    def _repr_svg_(self) -> str | None:
        return self.svg() if self.curves else None  # None: shown as text instead

    def plot(self, ax: Axes | None = None, x: str = "labels") -> Axes:
        """Draw each heuristic's mean curve and a band of ± one standard deviation.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (None: a new figure).
        x : {"labels", "images", "boxes"}, default "labels"
            The x axis: labeled images, or boxes drawn (detection).

        Returns
        -------
        matplotlib Axes
            The axes drawn on.
        """
        self._check_not_empty()
        ax = _axes(ax)
        for name, curves in self.curves.items():
            xs, mean, std = self.x(name, x), self.mean(name), self.std(name)
            (line,) = ax.plot(
                xs, mean, marker="o", markersize=3, label=f"{name} ({len(curves)} seeds)"
            )
            ax.fill_between(xs, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        _label(ax, x, f"test {self.metric_name} (mean ± std)")
        return ax


def _label(ax: Axes, x: str, y_label: str) -> None:
    ax.set_xlabel(AXES[_check_axis(x)])
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    ax.legend()


def _first_reach(n_labels: np.ndarray, accuracy: np.ndarray, goal: float) -> int | None:
    try:
        if goal is None:
            raise ValueError
        check_number("accuracy", goal, minimum=0, maximum=1)  # every metric is in [0, 1]
    except ValueError:
        raise ValueError(
            f"accuracy must be a number in [0, 1], got {goal!r}; the metric is a fraction: "
            "0.95, not 95"
        ) from None
    hits = np.flatnonzero(np.asarray(accuracy) >= goal)
    return int(n_labels[hits[0]]) if hits.size else None
