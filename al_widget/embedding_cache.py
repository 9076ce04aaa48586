"""Embeddings computed once per (image, backbone, weights, input size): float16, in memory or on disk.

The cache holds one row per dataset image for the current embedding key (the learner's
``embedding_key()``: a hash of its backbone, weights and input size). Each row is stored with a
hash of the pixels the backbone read, so a row is reused only for the very same image: a
``cache_dir`` survives a kernel restart (the rows are checked against their images again, which
costs a read of the image but not a pass through the backbone) and a changed image, backbone,
weights or input size is embedded anew. On disk a key's rows live in ``cache_dir/<key>/``
(``embeddings.npy`` float16 (N, d), ``hashes.npy`` uint64 (N,), both memory-mapped).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import scoring
from .dataset import Dataset
from .learners import Cancelled
from .learners.base import input_size_of

CHUNK = 256  # images per embedding chunk: the first suggestion waits for one
WAVE = 4  # chunks handed to the executor at once, so a long fill can stop between waves
_EMPTY = np.uint64(0)  # the hash of a row never written


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


class EmbeddingCache:
    """One float16 embedding per dataset image for the current key, with the pixel hash behind it.

    Thread safety: used by the loop's worker thread only. `n_ready` and `key` may be read from
    any thread: each is one value replaced whole.

    Parameters
    ----------
    n_images : int
        The dataset's length.
    cache_dir : path, optional
        Where to keep the embeddings (memory-mapped, one folder per key) so that a kernel
        restart reuses them; None keeps them in memory.
    """

    def __init__(self, n_images: int, cache_dir: str | os.PathLike[str] | None = None) -> None:
        self.n_images = int(n_images)
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.key: str | None = None
        self.n_ready = 0
        self._ready = np.zeros(self.n_images, bool)  # checked against its image this session
        self._hashes: np.ndarray | None = None
        self._rows: np.ndarray | None = None

    def bind(self, key: str) -> None:
        """Use the rows of `key`; a new key starts from what is stored for it (or nothing).

        Parameters
        ----------
        key : str
            The learner's ``embedding_key()``.
        """
        if key == self.key:
            return
        self.key, self.n_ready = key, 0
        self._ready = np.zeros(self.n_images, bool)
        self._hashes, self._rows = None, None
        folder = self._folder()
        if folder is not None and (folder / "meta.json").is_file():
            meta = json.loads((folder / "meta.json").read_text())
            if meta.get("n_images") == self.n_images:
                self._hashes = np.load(folder / "hashes.npy", mmap_mode="r+")
                self._rows = np.load(folder / "embeddings.npy", mmap_mode="r+")

    def ready(self, indices: np.ndarray) -> np.ndarray:
        """A mask: which of `indices` have an embedding checked against their image."""
        return self._ready[np.asarray(indices, np.int64)]

    def missing(self, indices: np.ndarray) -> np.ndarray:
        """The `indices` without a checked embedding, in their order."""
        indices = np.asarray(indices, np.int64)
        return indices[~self._ready[indices]]

    def get(self, indices: np.ndarray) -> np.ndarray:
        """The float16 embeddings (k, d) of `indices`, every one of them ready."""
        indices = np.asarray(indices, np.int64)
        if not self._ready[indices].all():
            raise KeyError(f"not embedded yet: {indices[~self._ready[indices]][:10].tolist()}")
        if self._rows is None:
            return np.zeros((0, 0), np.float16)
        return np.asarray(self._rows[indices])

    def stored(self, indices: np.ndarray) -> np.ndarray:
        """A mask: which of `indices` have a row on disk not checked yet this session."""
        indices = np.asarray(indices, np.int64)
        if self._hashes is None:
            return np.zeros(len(indices), bool)
        return (self._hashes[indices] != _EMPTY) & ~self._ready[indices]

    def reuse(self, indices: np.ndarray, hashes: np.ndarray) -> np.ndarray:
        """Mark ready the `indices` whose stored row was made from the same pixels; the mask of them."""
        indices = np.asarray(indices, np.int64)
        if self._hashes is None:
            return np.zeros(len(indices), bool)
        same = (self._hashes[indices] == hashes) & (hashes != _EMPTY)
        self._mark(indices[same])
        return same

    def put(self, indices: np.ndarray, hashes: np.ndarray, embeddings: np.ndarray) -> None:
        """Store the embeddings of `indices`, made from pixels with `hashes`."""
        indices = np.asarray(indices, np.int64)
        if not len(indices):
            return
        if self._rows is None:
            self._allocate(embeddings.shape[1])
        assert self._rows is not None
        assert self._hashes is not None
        if embeddings.shape[1] != self._rows.shape[1]:
            raise ValueError(
                f"embeddings of length {embeddings.shape[1]} for a cache of length "
                f"{self._rows.shape[1]} under the same key {self.key}"
            )
        self._rows[indices] = embeddings  # the rows first: a hash vouches for a written row
        self._hashes[indices] = hashes
        self._mark(indices)

    def flush(self) -> None:
        """Write memory-mapped rows to disk."""
        for array in (self._rows, self._hashes):
            if isinstance(array, np.memmap):
                array.flush()

    def _mark(self, indices: np.ndarray) -> None:
        self._ready[indices] = True
        self.n_ready = int(self._ready.sum())

    def _folder(self) -> Path | None:
        return None if self.cache_dir is None or self.key is None else self.cache_dir / self.key

    def _allocate(self, dim: int) -> None:
        folder = self._folder()
        if folder is None:
            self._rows = np.zeros((self.n_images, dim), np.float16)
            self._hashes = np.zeros(self.n_images, np.uint64)
            return
        folder.mkdir(parents=True, exist_ok=True)
        self._rows = np.lib.format.open_memmap(
            folder / "embeddings.npy", "w+", np.float16, (self.n_images, dim)
        )
        self._hashes = np.lib.format.open_memmap(
            folder / "hashes.npy", "w+", np.uint64, (self.n_images,)
        )
        meta = {"key": self.key, "n_images": self.n_images, "dim": dim}
        (folder / "meta.json").write_text(json.dumps(meta))


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

    Each executor call reads its chunk's images (where it runs), hashes and embeds them
    (`hash_and_embed`); the learner is shipped to the executor once. Rows an earlier session
    stored under the same key are first checked against their images (`hash_chunk`, a read
    without the backbone) and reused when the pixels are the same. The first wave is one
    chunk, so that a first ranking can follow it quickly; later waves are ``WAVE`` chunks.

    Parameters
    ----------
    cache : EmbeddingCache
        Bound to the learner's key here.
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
    cache.bind(learner.embedding_key())
    todo = cache.missing(order)
    size = input_size_of(learner)
    broken: dict[int, str] = {}

    def run(
        work: Callable[[Any, np.ndarray], Any], payload: Any, wave: np.ndarray
    ) -> Iterator[Any]:
        items = [
            (payload, dataset.chunk(wave[start : start + chunk_size]))
            for start in range(0, len(wave), chunk_size)
        ]
        for done in executor.map(functools.partial(scoring.run_chunk, work, size, False), items):
            broken.update(done.broken)
            if done.result is not None:
                yield done.indices, done.result
            if should_stop():
                cache.flush()
                raise Cancelled("embedding stopped")

    stored = todo[cache.stored(todo)]
    if len(stored):
        for indices, hashes in run(hash_chunk, None, stored):
            cache.reuse(indices, hashes)
        todo = cache.missing(todo)
        todo = todo[~np.isin(todo, list(broken))]
    shipped = scoring.ship(executor, learner) if len(todo) else None
    start, width = 0, chunk_size
    while start < len(todo):
        wave = todo[start : start + width]
        start, width = start + len(wave), chunk_size * WAVE
        for indices, (hashes, embeddings) in run(hash_and_embed, shipped, wave):
            cache.put(indices, hashes, embeddings)
        cache.flush()
        if after_wave is not None and after_wave():
            break
    return broken


def hash_chunk(_: Any, images: np.ndarray) -> np.ndarray:
    """`pixel_hashes` of one chunk (an executor's unit of work, needing no payload)."""
    return pixel_hashes(images)


def hash_and_embed(embedder: Any, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pixel hashes and float16 embeddings of one chunk (an executor's unit of work)."""
    return pixel_hashes(images), embed_chunk(embedder, images)
