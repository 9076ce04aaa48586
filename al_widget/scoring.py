"""Scoring a pool with a learner: images loaded in chunks, predictions through an executor."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from . import heuristics
from ._chunks import Chunk, Loaded
from ._images import ImageError
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


def load_list(
    dataset: Dataset, indices: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], dict[int, str]]:
    """The readable images among `indices` at their own sizes, their indices, and the unreadable ones."""
    found = dataset.chunk(indices).load_list()
    return found.indices, found.images, found.broken


def load(dataset: Dataset, indices: np.ndarray, size: tuple[int, int] | None) -> Loaded:
    """The readable images among `indices` as one batch; unreadable ones are left out with their reason.

    Raises ImageError when none of them can be read.
    """
    loaded = dataset.chunk(indices).load(size)
    if len(indices) and not len(loaded.indices):
        raise ImageError(next(iter(loaded.broken.values())))
    return loaded


def ship(executor: MapExecutor, payload: Any) -> Any:
    """`payload` put where `executor` runs its calls, once; what to hand the calls in its place.

    A Dask ``client.get_executor()`` scatters it to every worker (its tasks then receive the
    object itself, sent once); other executors get `payload` as it is.
    """
    if isinstance(executor, Shipping):
        return executor.ship(payload)
    # Dask's ClientExecutor keeps its Client as `_client` and has no public accessor for it.
    client = getattr(executor, "_client", None)
    if client is not None and callable(getattr(client, "scatter", None)):
        return client.scatter(payload, broadcast=True, hash=False)
    return payload


class Shipping:
    """An executor for one pass made of several maps: each payload is shipped once for all of them.

    Parameters
    ----------
    executor : MapExecutor
        The executor that runs the calls.
    """

    def __init__(self, executor: MapExecutor) -> None:
        self.executor = executor
        self._shipped: list[tuple[Any, Any]] = []  # (payload, what stands for it), by identity

    def map(self, fn: Callable[[Any], Any], iterable: Iterable[Any]) -> Iterator[Any]:
        return self.executor.map(fn, iterable)

    def ship(self, payload: Any) -> Any:
        """What stands for `payload` where the calls run: shipped on first use, then reused."""
        for known, shipped in self._shipped:
            if known is payload:
                return shipped
        shipped = ship(self.executor, payload)
        self._shipped.append((payload, shipped))
        return shipped


@dataclass
class Done:
    """One chunk's outcome: the indices read, `work`'s result for their images, what was unreadable."""

    indices: np.ndarray
    result: Any  # None when no image of the chunk could be read
    broken: dict[int, str] = field(default_factory=dict)


def map_chunks(
    executor: MapExecutor,
    work: Callable[[Any, Any], Any],
    payload: Any,
    dataset: Dataset,
    pool: np.ndarray,
    *,
    chunk_size: int,
    size: tuple[int, int] | None,
    as_list: bool = False,
) -> Iterator[Done]:
    """`work(payload, images)` for each chunk of `pool`, in order, run where `executor` runs it.

    Each call reads its chunk's images itself (a file-backed dataset ships paths, not pixels)
    and `payload` (e.g. the fitted learner) is shipped once (``ship``). `work` must be a
    module-level function (or a ``functools.partial`` of one) for process executors.

    Parameters
    ----------
    executor : MapExecutor
        ``Inline()``, a ``concurrent.futures`` executor, or a Dask ``client.get_executor()``.
    work : callable
        ``work(payload, images) -> result``; images as an (n, H, W, 3) uint8 batch at `size`,
        or a list of (H, W, 3) arrays when `as_list`.
    payload : object
        What every call needs, shipped once.
    dataset : Dataset
        Where the images are.
    pool : numpy.ndarray
        Dataset indices, in the order the results come back.
    chunk_size : int
        Images per call.
    size : (int, int) or None
        The (H, W) the batch is resized to; None: the first readable image's.
    as_list : bool, default False
        Give `work` the images at their own sizes, as a list.
    """
    shipped = ship(executor, payload)
    items = [
        (shipped, dataset.chunk(pool[start : start + chunk_size]))
        for start in range(0, len(pool), chunk_size)
    ]
    # A list, not a generator: Dask's map refuses iterators. Chunks hold no pixels until loaded.
    return executor.map(functools.partial(run_chunk, work, size, as_list), items)


def run_chunk(
    work: Callable[[Any, Any], Any],
    size: tuple[int, int] | None,
    as_list: bool,
    item: tuple[Any, Chunk],
) -> Done:
    """Read one chunk's images and apply `work` to them (runs where the executor runs it)."""
    payload, chunk = item
    loaded = chunk.load_list() if as_list else chunk.load(size)
    result = work(payload, loaded.images) if len(loaded.indices) else None
    return Done(loaded.indices, result, loaded.broken)


def predict(learner: Learner, mc_samples: int, images: np.ndarray) -> Any:
    """What the learner's ``predict_proba`` returns for `images`, unchecked (see `checked_probs`)."""
    return learner.predict_proba(images, mc_samples)


def checked_probs(
    source: str, probs: Any, indices: np.ndarray, n_classes: int, mc_samples: int
) -> np.ndarray:
    """`probs` as an (n, C, I) float array, refused unless they are probabilities for `indices`.

    Checked once per chunk where a learner's output comes back: numbers, of shape (n images,
    n classes, mc_samples) (or (n images, n classes) when mc_samples is 1), finite, in [0, 1]
    and summing to 1 over the classes (``heuristics.check_probs``). Errors name `source` and the
    images.

    Parameters
    ----------
    source : str
        What made them, e.g. ``"MyNet.predict_proba"``.
    probs : array-like
        The learner's output.
    indices : numpy.ndarray
        The dataset index of each image they are for, in order.
    n_classes, mc_samples : int
        The C and I expected.
    """
    n = len(indices)
    expected = (n, n_classes, mc_samples)
    try:
        array = np.asarray(probs)
    except ValueError:  # rows of different lengths
        raise ValueError(
            f"{source} returned rows of different lengths ({type(probs).__name__}) for {n} "
            f"images; expected an array of shape (n images, n classes, mc_samples) = {expected}"
        ) from None
    shape = array.shape
    if array.ndim == 2 and mc_samples == 1:
        array = array[:, :, None]
    if array.shape != expected:
        raise ValueError(
            f"{source} returned shape {shape} for {n} images; expected "
            f"(n images, n classes, mc_samples) = {expected}"
        )
    return heuristics.check_probs(array, source=source, indices=indices)


def _predict_shipped(mc_samples: int, learner: Learner, images: np.ndarray) -> Any:
    return predict(learner, mc_samples, images)


def gather(done: Iterator[Done], should_stop: Callable[[], bool]) -> list[Done]:
    """Every chunk's outcome from `map_chunks`, stopping between chunks when asked."""
    out = []
    for result in done:
        if should_stop():
            raise Cancelled("scoring stopped")
        out.append(result)
    return out


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
    n_classes = len(dataset.classes)
    work = functools.partial(_predict_shipped, mc_samples)
    found = gather(
        map_chunks(
            executor,
            work,
            learner,
            dataset,
            pool,
            chunk_size=chunk_size,
            size=input_size_of(learner),
        ),
        should_stop,
    )
    broken = {i: why for done in found for i, why in done.broken.items()}
    kept = [done for done in found if done.result is not None]
    if not kept:
        return np.zeros(0, np.int64), np.zeros((0, n_classes, mc_samples)), broken
    source = f"{type(learner).__name__}.predict_proba"
    return (
        np.concatenate([done.indices for done in kept]),
        np.concatenate(
            [
                checked_probs(source, done.result, done.indices, n_classes, mc_samples)
                for done in kept
            ]
        ),
        broken,
    )


def accuracy(learner: Learner, images: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """The fraction of `images` whose most probable class is their label."""
    probs = checked_probs(
        f"{type(learner).__name__}.predict_proba on the eval set",
        predict(learner, 1, images),
        np.arange(len(images)),
        n_classes,
        1,
    )
    return float((probs.mean(axis=2).argmax(axis=1) == labels).mean())
