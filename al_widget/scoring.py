"""Scoring a pool with a learner: images loaded in chunks, predictions through an executor."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ._images import ImageError, resize
from .dataset import Dataset
from .learners import Cancelled, Learner
from .learners.base import input_size_of


class MapExecutor(Protocol):
    """Anything with `map(fn, iterable)`: a concurrent.futures Executor, a Dask client's executor."""

    def map(self, fn: Callable[[Any], Any], iterable: Iterable[Any]) -> Iterator[Any]: ...


class Inline:
    """The default executor: runs each call lazily in the calling thread."""

    def map(self, fn: Callable[[Any], Any], iterable: Iterable[Any]) -> Iterator[Any]:
        return (fn(item) for item in iterable)


@dataclass
class Loaded:
    """Images that could be read, their dataset indices, and why the others could not."""

    indices: np.ndarray
    images: np.ndarray
    broken: dict[int, str] = field(default_factory=dict)


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


def load(dataset: Dataset, indices: np.ndarray, size: tuple[int, int] | None) -> Loaded:
    """The readable images among `indices` as one batch; unreadable ones are left out with their reason."""
    try:
        return Loaded(np.asarray(indices, np.int64), dataset.batch(indices, size))
    except ImageError:
        good, images, broken = load_list(dataset, indices)
        if not images:
            raise
        shape = size or images[0].shape[:2]
        return Loaded(good, np.stack([resize(im, shape) for im in images]), broken)


def predict(learner: Learner, mc_samples: int, n_classes: int, images: np.ndarray) -> np.ndarray:
    """The learner's (n, C, I) probabilities for `images`, refused when of another shape."""
    probs = np.asarray(learner.predict_proba(images, mc_samples))
    expected = (len(images), n_classes, mc_samples)
    if probs.shape != expected:
        raise ValueError(
            f"{type(learner).__name__}.predict_proba returned shape {probs.shape} for "
            f"{len(images)} images; expected (n images, n classes, mc_samples) = {expected}"
        )
    return probs


def predict_pool(
    learner: Learner,
    dataset: Dataset,
    pool: np.ndarray,
    *,
    mc_samples: int,
    executor: MapExecutor,
    chunk_size: int,
    should_stop: Callable[[], bool],
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Indices, class probabilities (n, C, I) and unreadable images of `pool`, chunk by chunk."""
    size = input_size_of(learner)
    kept: list[np.ndarray] = []
    broken: dict[int, str] = {}

    def chunks() -> Iterator[np.ndarray]:
        for start in range(0, len(pool), chunk_size):
            loaded = load(dataset, pool[start : start + chunk_size], size)
            kept.append(loaded.indices)
            broken.update(loaded.broken)
            yield loaded.images

    results = []
    n_classes = len(dataset.classes)
    for probs in executor.map(functools.partial(predict, learner, mc_samples, n_classes), chunks()):
        if should_stop():
            raise Cancelled("scoring stopped")
        results.append(probs)
    if not results:
        return np.zeros(0, np.int64), np.zeros((0, len(dataset.classes), mc_samples)), broken
    return np.concatenate(kept), np.concatenate(results), broken


def accuracy(learner: Learner, images: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """The fraction of `images` whose most probable class is their label."""
    probs = predict(learner, 1, n_classes, images)
    return float((probs.mean(axis=2).argmax(axis=1) == labels).mean())
