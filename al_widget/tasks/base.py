"""The per-task interface a round uses, and the helpers the tasks share."""

from __future__ import annotations

import functools
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .. import heuristics, selectors
from ..dataset import Dataset, Snapshot
from ..scoring import MapExecutor, gather, load_list, map_chunks
from .strategies import DirectStrategy, Progress, ShouldStop, Strategy


@dataclass
class Scored:
    """What scoring a pool found: indices with their scores, the model's drafts, what failed."""

    indices: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray | None = None  # class ids (classification), else None
    drafts: dict[int, Any] = field(default_factory=dict)
    # Per draft: (K,) the confidence of each box, or (C,) of each class region of a mask (NaN: absent).
    confidences: dict[int, np.ndarray] = field(default_factory=dict)
    broken: dict[int, str] = field(default_factory=dict)
    dropped: int = 0  # degenerate boxes from the model, left out of the drafts
    reasons: dict[int, str] = field(default_factory=dict)  # per image: what made it uncertain


@dataclass
class ClassScored(Scored):
    """What scoring found, with the class probabilities (n, C) behind the scores (for selectors)."""

    probs: np.ndarray | None = None


def scored_from(
    indices: np.ndarray, probs: np.ndarray, heuristic: Any, broken: dict[int, str]
) -> ClassScored:
    """Scores, predicted classes and mean probabilities of the scored images' (n, C, I) probs.

    Parameters
    ----------
    indices : numpy.ndarray
        The scored images' dataset indices.
    probs : numpy.ndarray
        (n, C, I) their class probabilities.
    heuristic : str or callable
        The uncertainty heuristic.
    broken : dict
        The unreadable images, ``{index: reason}``.
    """
    mean = probs.mean(axis=2)
    return ClassScored(
        indices,
        heuristics.apply(heuristic, probs, indices=indices),
        predicted=mean.argmax(axis=1),
        broken=broken,
        probs=mean,
    )


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

    def strategy(
        self,
        learner: Any,
        dataset: Dataset,
        *,
        executor: MapExecutor,
        chunk_size: int,
        cache_dir: str | os.PathLike[str] | None,
    ) -> Strategy:
        """How rounds fit `learner` and score the pool (``tasks.strategies``)."""
        ...

    def measure(self, learner: Any, prepared: Any, n_classes: int) -> Measured:
        """The learner's metric on the prepared evaluation set."""
        ...


@dataclass
class ImageScore:
    """What one image's model output gave a per-image task: its score, draft and confidences."""

    score: float
    draft: Any
    confidences: np.ndarray  # (K,) per box, or (C,) per class region of a mask (NaN: absent)
    probs: np.ndarray | None = None  # (C,) class probabilities for the batch selectors, if kept
    dropped: int = 0  # degenerate boxes left out of the draft
    reason: str | None = None  # what made the image uncertain, in words (instances: its objects)


class PerImageTask(ABC):
    """The scoring skeleton of a task whose learner predicts a list of images, one result each.

    `score` predicts the pool in chunks with ``learner.<predict_method>(images, mc_samples)``
    and gathers what `score_image` makes of each image's result into one `ClassScored`; a task
    supplies the method's name, `score_image`, and its `fit`, `prepare_eval` and `measure`.
    """

    name: str
    default_reduction: (
        str | None
    )  # how an image's many uncertainties (boxes, pixels) become one score
    chunk_limit: int  # the most images scored in one chunk
    predict_method: str  # the learner's method giving one result per image

    @abstractmethod
    def fit(
        self,
        learner: Any,
        dataset: Dataset,
        snapshot: Snapshot,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> dict[int, str]:
        """Train `learner` on the snapshot's readable images; the unreadable ones with reasons."""

    @abstractmethod
    def prepare_eval(self, eval_set: tuple[Any, Any], classes: list[str]) -> Any:
        """The evaluation set checked and converted once, for `measure`."""

    @abstractmethod
    def measure(self, learner: Any, prepared: Any, n_classes: int) -> Measured:
        """The learner's metric on the prepared evaluation set."""

    @abstractmethod
    def score_image(
        self,
        learner: Any,
        dataset: Dataset,
        index: int,
        found: Any,
        *,
        heuristic: Any,
        reduction: Any,
        mc_samples: int,
        keep_probs: bool,
    ) -> ImageScore:
        """One image's result from the learner, checked, as its score and draft.

        Parameters
        ----------
        learner : object
            The learner that predicted it (named in errors).
        dataset : Dataset
            The images.
        index : int
            The image's dataset index.
        found : object
            What ``learner.<predict_method>`` returned for the image.
        heuristic : str or callable
            The uncertainty heuristic.
        reduction : str or callable
            How the image's uncertainties reduce to one score.
        mc_samples : int
            The MC dropout samples predicted.
        keep_probs : bool
            Whether to keep the image's class probabilities for a batch selector.
        """

    def strategy(
        self,
        learner: Any,
        dataset: Dataset,
        *,
        executor: MapExecutor,
        chunk_size: int,
        cache_dir: str | os.PathLike[str] | None,
    ) -> Strategy:
        """Rounds fit on the images and score the pool directly (no cache).

        Parameters
        ----------
        learner : object
            The task's learner.
        dataset : Dataset
            The images.
        executor : MapExecutor
            Runs the scoring chunks.
        chunk_size : int
            Images per executor call.
        cache_dir : path-like, optional
            Where embeddings would be cached (unused here).
        """
        return DirectStrategy(self, learner, dataset, executor=executor, chunk_size=chunk_size)

    def probs_width(self, n_classes: int) -> int:
        """How many class probabilities `score_image` keeps per image (C)."""
        return n_classes

    def keeps_probs(self, heuristic: Any) -> bool:
        """Whether the images' class probabilities are kept: when a batch selector wants them."""
        return selectors.of(heuristic) is not None

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
        """Scores (higher = more uncertain) and drafts for the readable images of `pool`.

        Parameters
        ----------
        learner : object
            The fitted learner.
        dataset : Dataset
            The images.
        pool : numpy.ndarray
            Dataset indices to score.
        heuristic : str or callable
            The uncertainty heuristic.
        reduction : str or callable, optional
            How an image's uncertainties reduce to one score; None: `default_reduction`.
        mc_samples : int
            MC dropout samples per image.
        executor : MapExecutor
            Runs the chunks.
        chunk_size : int
            Images per chunk (at most `chunk_limit`).
        should_stop : callable
            True: stop scoring.
        """
        indices, results, broken = predict_lists(
            learner,
            self.predict_method,
            dataset,
            pool,
            mc_samples=mc_samples,
            chunk_size=min(chunk_size, self.chunk_limit),
            executor=executor,
            should_stop=should_stop,
        )
        how = reduction if reduction is not None else self.default_reduction
        keep_probs = self.keeps_probs(heuristic)
        found = [
            self.score_image(
                learner,
                dataset,
                i,
                result,
                heuristic=heuristic,
                reduction=how,
                mc_samples=mc_samples,
                keep_probs=keep_probs,
            )
            for i, result in zip(indices.tolist(), results, strict=True)
        ]
        width = self.probs_width(len(dataset.classes))
        return ClassScored(
            indices,
            np.array([f.score for f in found], dtype=np.float64),
            drafts={i: f.draft for i, f in zip(indices.tolist(), found, strict=True)},
            confidences={i: f.confidences for i, f in zip(indices.tolist(), found, strict=True)},
            broken=broken,
            dropped=sum(f.dropped for f in found),
            reasons={
                i: f.reason
                for i, f in zip(indices.tolist(), found, strict=True)
                if f.reason is not None
            },
            probs=np.array([f.probs for f in found]).reshape(len(found), width)
            if keep_probs
            else None,
        )


def fit_lists(
    learner: Any,
    dataset: Dataset,
    snapshot: Snapshot,
    target: Callable[[Any], Any],
    progress: Progress,
    should_stop: ShouldStop,
) -> dict[int, str]:
    """Fit a list-taking learner on the snapshot's readable images and `target(annotation)` each."""
    indices, images, broken = load_list(dataset, snapshot.indices)
    by_index = dict(zip(snapshot.indices.tolist(), snapshot.annotations, strict=True))
    if images:
        learner.fit(images, [target(by_index[int(i)]) for i in indices], progress, should_stop)
    return broken


def predict_lists(
    learner: Any,
    method: str,
    dataset: Dataset,
    pool: np.ndarray,
    *,
    mc_samples: int,
    chunk_size: int,
    executor: Any,
    should_stop: ShouldStop,
) -> tuple[np.ndarray, list[Any], dict[int, str]]:
    """The pool's readable indices, `learner.<method>(images, mc_samples)`'s result for each, the unreadable."""
    work = functools.partial(_call_shipped, method, mc_samples)
    found = gather(
        map_chunks(
            executor, work, learner, dataset, pool, chunk_size=chunk_size, size=None, as_list=True
        ),
        should_stop,
    )
    broken = {i: why for done in found for i, why in done.broken.items()}
    kept = [done for done in found if done.result is not None]
    indices = np.concatenate([d.indices for d in kept]) if kept else np.zeros(0, np.int64)
    return indices, [r for done in kept for r in done.result], broken


def _call_shipped(
    method: str, mc_samples: int, learner: Any, images: list[np.ndarray]
) -> list[Any]:
    return call_on_list(learner, method, mc_samples, images)


def call_on_list(learner: Any, method: str, mc_samples: int, images: list[np.ndarray]) -> list[Any]:
    """`learner.<method>(images, mc_samples)` as a list, refused unless it has one result per image."""
    found = list(getattr(learner, method)(images, mc_samples))
    if len(found) != len(images):
        raise ValueError(
            f"{type(learner).__name__}.{method} returned {len(found)} results for {len(images)} images"
        )
    return found


def uncertain_probs(rows: np.ndarray, fraction: float = 0.0) -> np.ndarray:
    """(C,) one image's class probabilities for the batch selectors: the mean of its most
    uncertain rows (boxes or pixels, smallest margin first), the top `fraction` of them and at
    least one.

    Parameters
    ----------
    rows : numpy.ndarray
        (K, C, I) probabilities per box or pixel, I samples; K may be 0 (then uniform).
    fraction : float, default 0.0
        How many of the rows to average, as a fraction (0: the most uncertain one).
    """
    mean = np.asarray(rows, dtype=np.float64).mean(axis=2)
    if not len(mean):
        return np.full(mean.shape[1], 1.0 / mean.shape[1])
    top = -np.partition(-mean, 1, axis=1)[:, :2] if mean.shape[1] > 1 else np.ones((len(mean), 2))
    margins = top[:, 0] - top[:, 1]
    n = max(1, int(np.ceil(fraction * len(mean))))
    return mean[np.argsort(margins, kind="stable")[:n]].mean(axis=0)  # type: ignore[no-any-return]


def check_eval_set(eval_set: Any, name: str = "eval_set") -> tuple[Any, Any]:
    """`eval_set` as its (images, labels) pair, refused when it is not one.

    Parameters
    ----------
    eval_set : tuple
        The held-out set: (images, labels), labels one truth per image.
    name : str, default "eval_set"
        The argument's name, as errors give it (``simulate`` calls it ``test``).
    """
    if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 2:
        got = (
            f"an array of shape {eval_set.shape}"
            if isinstance(eval_set, np.ndarray)
            else f"{type(eval_set).__name__}"
            + (f" of length {len(eval_set)}" if isinstance(eval_set, (tuple, list)) else "")
        )
        raise ValueError(
            f"{name} must be (images, labels): a pair of the images and their labels, got {got}"
        )
    return eval_set[0], eval_set[1]


def eval_images(images: Any, classes: list[str], n_targets: int) -> Dataset:
    """The evaluation images as a Dataset (converted on read), checked against the targets' count."""
    source = Dataset(images, classes)
    if n_targets != len(source):
        raise ValueError(
            f"eval_set needs one label per image: {len(source)} images, {n_targets} labels"
        )
    return source
