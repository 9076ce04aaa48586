"""Filling an `EmbeddingCache`: reading, hashing and embedding the images it lacks, chunk by
chunk on an executor, and finding the files changed since their rows were read.

The functions an executor runs (`embed_chunk`, `hash_chunk`, `hash_and_embed`) are pure and at
module level, so that they pickle for a Dask or process executor.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import scoring
from ._file_stamps import file_stamp
from .dataset import Dataset
from .embedding_cache import EmbeddingCache
from .learners import Cancelled
from .learners.base import input_size_of

CHUNK = 256  # images per embedding chunk: the first suggestion waits for one
WAVE = 4  # chunks handed to the executor at once, so a long fill can stop between waves


def embed_chunk(embedder: Any, images: np.ndarray) -> np.ndarray:
    """The float16 embeddings of one chunk of images: the unit of work an executor runs.

    A pure function of its arguments (module level, so that it pickles for a Dask or process
    executor): ``executor.map(functools.partial(embed_chunk, learner), chunks)``.

    Parameters
    ----------
    embedder : object with ``embed(images) -> (n, d)``
        The learner (an ``EmbeddingClassifier``, or the default ``Classifier``).
    images : numpy.ndarray
        (n, H, W, 3) uint8 images at the learner's input size.

    Returns
    -------
    numpy.ndarray
        (n, d) float16 embeddings.
    """
    found = np.asarray(embedder.embed(images))
    if found.ndim != 2 or len(found) != len(images):
        raise ValueError(
            f"{type(embedder).__name__}.embed returned shape {found.shape} for {len(images)} "
            "images; expected (n images, d)"
        )
    if not np.isfinite(found).all():
        bad = np.flatnonzero(~np.isfinite(found).all(1))
        raise ValueError(
            f"{type(embedder).__name__}.embed returned NaN or infinite values for images at "
            f"chunk positions {bad[:10].tolist()}"
        )
    return found.astype(np.float16)


def pixel_hashes(images: np.ndarray) -> np.ndarray:
    """(n,) uint64 hashes of images' pixels and shapes (never 0, which marks an empty row).

    Parameters
    ----------
    images : numpy.ndarray
        (n, H, W, 3) uint8 images.
    """
    out = np.empty(len(images), np.uint64)
    for i, image in enumerate(images):
        digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=8)
        digest.update(str(image.shape).encode())
        out[i] = np.frombuffer(digest.digest(), np.uint64)[0] | np.uint64(1)
    return out


def file_stamps(dataset: Dataset, indices: np.ndarray) -> np.ndarray:
    """(k, 4) int64 stamps of the files behind `indices`: inode, size, mtime and ctime (ns).

    Each is ``file_stamp``'s, the one stamp of a file (the panel's submits check it too). An
    in-memory image's stamp is 0, a file that cannot be stat'ed (moved, deleted) has -1.

    Parameters
    ----------
    dataset : Dataset
        The images.
    indices : numpy.ndarray
        Dataset indices.
    """
    chunk = dataset.chunk(indices)  # checks the indices once, not one by one
    items = getattr(chunk.source, "items", None)
    if items is None:
        return np.zeros((len(chunk), 4), np.int64)
    found = []
    for position in chunk.positions.tolist():
        path = items[position]
        in_file = isinstance(path, (str, os.PathLike))
        found.append(file_stamp(path) if in_file else (0, 0, 0, 0))
    return np.array(found, np.int64).reshape(len(chunk), 4)


def recheck_files(cache: EmbeddingCache, dataset: Dataset, indices: np.ndarray) -> np.ndarray:
    """Make the ready rows of `indices` whose files changed since they were read not ready; those.

    A stat of each ready row's file, no read: a fill then hashes the changed ones again and
    embeds those whose pixels changed.

    Parameters
    ----------
    cache : EmbeddingCache
        The rows.
    dataset : Dataset
        Their images.
    indices : numpy.ndarray
        Dataset indices.
    """
    indices = np.asarray(indices, np.int64)
    ready = indices[cache.ready(indices)]
    return cache.recheck(ready, file_stamps(dataset, ready))


def fill(
    cache: EmbeddingCache,
    learner: Any,
    dataset: Dataset,
    order: np.ndarray,
    *,
    executor: scoring.MapExecutor,
    chunk_size: int = CHUNK,
    should_stop: Callable[[], bool] = lambda: False,
    after_wave: Callable[[], bool] | None = None,
) -> dict[int, str]:
    """Embed the images of `order` that the cache lacks, in that order, chunk by chunk.

    A row whose file changed since it was read (`recheck_files`) counts as lacking.

    Each executor call reads its chunk's images (where it runs), hashes and embeds them
    (`hash_and_embed`); the learner is shipped to the executor once. Rows an earlier session
    stored under the same key are first checked against their images (`hash_chunk`, a read
    without the backbone) and reused when the pixels are the same. The first wave is one
    chunk, so that a first ranking can follow it quickly; later waves are ``WAVE`` chunks.

    Parameters
    ----------
    cache : EmbeddingCache
        Bound to the learner's key (and its embeddings' length) here.
    learner : EmbeddingLearner
        Has ``embedding_key()`` and ``embed(images)``.
    dataset : Dataset
        The images.
    order : numpy.ndarray
        Dataset indices, most wanted first.
    executor : MapExecutor
        Runs the chunks.
    chunk_size : int, default CHUNK
        Images per chunk.
    should_stop : callable
        True: stop with `Cancelled` between chunks (what is done is kept).
    after_wave : callable, optional
        Called after each wave; returning True ends the fill early (what is done is kept).

    Returns
    -------
    dict
        The unreadable images among `order`, index to reason.
    """
    size = input_size_of(learner)
    key = learner.embedding_key()
    if key != cache.key:
        cache.bind(key, embedding_width(learner, size), learner)
    recheck_files(cache, dataset, order)
    todo = cache.missing(order)
    broken: dict[int, str] = {}

    def run(
        work: Callable[[Any, np.ndarray], Any], payload: Any, wave: np.ndarray
    ) -> Iterator[Any]:
        """(indices, stamps, result) of each chunk of `wave` read; stamped before the read."""
        stamps = file_stamps(dataset, wave)
        at = {i: row for row, i in enumerate(wave.tolist())}
        items = [
            (payload, dataset.chunk(wave[start : start + chunk_size]))
            for start in range(0, len(wave), chunk_size)
        ]
        for done in executor.map(functools.partial(scoring.run_chunk, work, size, False), items):
            broken.update(done.broken)
            if done.result is not None:
                rows = [at[i] for i in done.indices.tolist()]
                yield done.indices, stamps[rows], done.result
            if should_stop():
                cache.flush()
                raise Cancelled("embedding stopped")

    stored = todo[cache.stored(todo)]
    if len(stored):
        for indices, stamps, hashes in run(hash_chunk, None, stored):
            cache.reuse(indices, hashes, stamps)
        todo = cache.missing(todo)
        todo = todo[~np.isin(todo, list(broken))]
    shipped = scoring.ship(executor, learner) if len(todo) else None
    start, width = 0, chunk_size
    while start < len(todo):
        wave = todo[start : start + width]
        start, width = start + len(wave), chunk_size * WAVE
        for indices, stamps, (hashes, embeddings) in run(hash_and_embed, shipped, wave):
            cache.put(indices, hashes, embeddings, stamps)
        cache.flush()
        if after_wave is not None and after_wave():
            break
    return broken


def embedding_width(learner: Any, size: tuple[int, int] | None) -> int:
    """The length of `learner`'s embeddings: its ``embedding_dim_``, else that of a blank image's.

    Parameters
    ----------
    learner : EmbeddingLearner
        Has ``embed(images)``.
    size : (int, int), optional
        The (height, width) it reads; None: any (a 32 x 32 blank image is embedded).
    """
    known = getattr(learner, "embedding_dim_", None)
    if isinstance(known, (int, np.integer)):
        return int(known)
    height, width = size or (32, 32)
    return int(embed_chunk(learner, np.zeros((1, height, width, 3), np.uint8)).shape[1])


def hash_chunk(_: Any, images: np.ndarray) -> np.ndarray:
    """`pixel_hashes` of one chunk (an executor's unit of work, needing no payload)."""
    return pixel_hashes(images)


def hash_and_embed(embedder: Any, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pixel hashes and float16 embeddings of one chunk (an executor's unit of work)."""
    return pixel_hashes(images), embed_chunk(embedder, images)
