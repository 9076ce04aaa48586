"""The per-task interface a round uses, and the helpers the tasks share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .._images import ImageError
from ..dataset import Dataset, Snapshot
from ..learners import Cancelled

Progress = Callable[[float], None]
ShouldStop = Callable[[], bool]


@dataclass
class Scored:
    """What scoring a pool found: indices with their scores, the model's drafts, what failed."""

    indices: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray | None = None  # class ids (classification), else None
    drafts: dict[int, Any] = field(default_factory=dict)
    broken: dict[int, str] = field(default_factory=dict)
    dropped: int = 0  # degenerate boxes from the model, left out of the drafts


@dataclass(frozen=True)
class Measured:
    """A round's metric on the evaluation set: its value, name, and any further figures."""

    value: float
    name: str
    details: dict[str, float] = field(default_factory=dict)


class Task(Protocol):
    """How a round trains, scores and measures for one task."""

    name: str
    default_reduction: str | None
    chunk_limit: int  # the most images scored in one chunk

    def fit(
        self,
        learner: Any,
        dataset: Dataset,
        snapshot: Snapshot,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> dict[int, str]:
        """Train `learner` on the snapshot's readable images; the unreadable ones with reasons."""
        ...

    def score(
        self,
        learner: Any,
        dataset: Dataset,
        pool: np.ndarray,
        *,
        heuristic: Any,
        reduction: Any,
        mc_samples: int,
        executor: Any,
        chunk_size: int,
        should_stop: ShouldStop,
    ) -> Scored:
        """Scores (higher = more uncertain) and drafts for the readable images of `pool`."""
        ...

    def prepare_eval(self, eval_set: tuple[Any, Any], classes: list[str]) -> Any:
        """The evaluation set checked and converted once, for `measure`."""
        ...

    def measure(self, learner: Any, prepared: Any, n_classes: int) -> Measured:
        """The learner's metric on the prepared evaluation set."""
        ...


def load_list(
    dataset: Dataset, indices: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], dict[int, str]]:
    """The readable images among `indices` at their own sizes, their indices, and the unreadable ones."""
    good, images, broken = [], [], {}
    for i in indices:
        try:
            images.append(dataset.image(int(i)))
            good.append(int(i))
        except ImageError as error:
            broken[int(i)] = str(error)
    return np.array(good, np.int64), images, broken


def chunked_lists(
    dataset: Dataset, pool: np.ndarray, size: int, kept: list[np.ndarray], broken: dict[int, str]
) -> Iterator[list[np.ndarray]]:
    """The pool's readable images in chunks of `size`, recording their indices and the unreadable."""
    for start in range(0, len(pool), size):
        indices, images, bad = load_list(dataset, pool[start : start + size])
        kept.append(indices)
        broken.update(bad)
        yield images


def gather(results: Iterator[Any], should_stop: ShouldStop) -> list[Any]:
    """Every result of an executor's map, stopping between chunks when asked."""
    out = []
    for result in results:
        if should_stop():
            raise Cancelled("scoring stopped")
        out.append(result)
    return out


def eval_images(images: Any, classes: list[str], n_targets: int) -> Dataset:
    """The evaluation images as a Dataset (converted on read), checked against the targets' count."""
    source = Dataset(images, classes)
    if n_targets != len(source):
        raise ValueError(
            f"eval_set needs one label per image: {len(source)} images, {n_targets} labels"
        )
    return source
