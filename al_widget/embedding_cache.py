"""Embeddings computed once per (image, backbone, weights, input size): float16, in memory or on disk.

The cache holds one row per dataset image for the current embedding key (the learner's
``embedding_key()``: for an ``EmbeddingClassifier``, a hash of its backbone's layers, weights and
buffers and of its input size; a changed ``forward`` alone is not seen). Each row is stored with a
hash of the pixels the backbone read, so a row is reused only for the very same image: a
``cache_dir`` survives a kernel restart (the rows are checked against their images again, which
costs a read of the image but not a pass through the backbone) and a changed image or key is
embedded anew. On disk a key's rows live in ``cache_dir/<key>/``
(``embeddings.npy`` float16 (N, d), ``hashes.npy`` uint64 (N,), ``checksums.npy`` uint64 (N,), all
memory-mapped, and ``meta.json``); a key that is not one plain folder name ("", "..", "a/b", an
absolute path) is refused by ``bind``, naming it and the learner, in memory too.

A folder on disk is trusted only after it proves it belongs: when it is opened, its ``meta.json``
must name the learner's key, the dataset's length and the learner's embedding length, each file
must have exactly the length its header promises, and each row must match its checksum (of the
row's bytes and its pixel hash). A folder that fails the first checks is embedded anew as a whole,
rows that fail their checksum one by one; either is logged as a warning naming the folder and what
was wrong, and no failing row is ever served. An error that proves no damage (too many open
files, an I/O error) while a folder is opened is raised naming it, and leaves the cache unbound
and the files as they are, for the next bind to open again. A folder that may not be written
(a read-only mount, no permission) is mapped copy-on-write, with a warning: its rows are served
and what it lacks is embedded in memory only. Where nothing valid is stored there, ``bind`` (or
the first ``put``) raises an OSError naming the folder. Something else where the cache keeps its
key's folder or a file (a user's file, a folder named ``meta.json``) is refused by ``bind``,
naming it, and left as it is; so is a file the cache cannot tell for its own (``check_own``: a
``meta.json`` that is no JSON object naming a key and a number of images, or an array without a
``meta.json``, unless the folder holds nothing but the arrays with the headers the cache writes
for the dataset, as an older version stopped while making them left it), which may be the
user's. ``meta.json`` is written first, without ``dim``, and replaced whole (``write_meta``),
never removed: a folder the cache was stopped in while making its files is still its own, and
embedded anew.

One open cache per folder: a cache holds an exclusive ``flock`` on its key's folder from ``bind``
until it binds another key or is closed (POSIX; as the dataset's journal does). Another cache on
that folder, in this process or another (a second loop on the same ``cache_dir``), is refused
with `CacheLocked` naming the folder and the holder, so that it never rebuilds or writes files
the first one has memory-mapped. A process forked while a cache is open closes its copy of the
lock at once. Where ``fcntl`` is missing (Windows), no lock is taken.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import numpy as np

from ._cache_files import (
    ARRAYS,
    Untrusted,
    array_files,
    check_own,
    map_files,
    read_meta,
    write_meta,
)
from ._cache_folder import (
    FolderLock,
    cache_error,
    check_cache_dir,
    check_cache_files,
    check_key,
    is_read_only,
)

_EMPTY = np.uint64(0)  # the hash of a row never written
FORMAT = 2  # meta.json's "format": 2 added checksums.npy
CHECKED_ROWS = 4096  # rows per checksum pass on open: temporaries stay small

KEPT = "its files are left as they are and the next round tries again"
WRITE_ELSEWHERE = (
    "give the loop a cache_dir it can write to, or cache_dir=None to keep the embeddings in memory"
)

log = logging.getLogger("al_widget")


def row_checksums(rows: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """(n,) uint64 checksums of float16 rows and the pixel hashes stored with them.

    A weighted sum, modulo 2**64, of the rows' bytes taken 8 at a time and of the hash, with odd
    weights: any change to one 8-byte word of a row (or to its hash) changes it, and so does a
    random change to several but for a chance of 2**-64. It guards against a damaged file, not
    against a forger. A row never written (zeros, hash 0) sums to 0.

    Parameters
    ----------
    rows : numpy.ndarray
        (n, d) float16 embeddings.
    hashes : numpy.ndarray
        (n,) uint64 pixel hashes.
    """
    n, d = rows.shape
    words = -(-d // 4)  # 4 float16 a word; the last one padded with zeros
    weights = _weights(words + 1)
    out = np.empty(n, np.uint64)
    for start in range(0, n, CHECKED_ROWS):
        block = np.asarray(rows[start : start + CHECKED_ROWS], np.float16)
        padded = np.zeros((len(block), words * 4), np.uint16)
        padded[:, :d] = block.view(np.uint16)
        summed = (padded.view(np.uint64) * weights[:words]).sum(axis=1, dtype=np.uint64)
        hashed = np.asarray(hashes[start : start + CHECKED_ROWS], np.uint64) * weights[words]
        out[start : start + len(block)] = summed + hashed
    return out


@functools.lru_cache(maxsize=8)
def _weights(n: int) -> np.ndarray:
    """n odd uint64 weights, position i's the same for every n (splitmix64 of i + 1)."""
    z = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = (z ^ (z >> np.uint64(31))) | np.uint64(1)
    z.flags.writeable = False
    return z


class EmbeddingCache:
    """One float16 embedding per dataset image for the current key, with the pixel hash behind it.

    A row is ready once it was checked against its image this session; the file stamps taken
    before that read (`file_stamps`) are kept with it, and `recheck` makes a row whose file has
    another stamp now not ready again, so that the next fill hashes (and, if its pixels
    changed, embeds) it anew.

    Thread safety: used by the loop's worker thread only (``close`` too: the worker calls it as
    it ends). `n_ready` and `key` may be read from any thread: each is one value replaced whole.

    Parameters
    ----------
    n_images : int
        The dataset's length.
    cache_dir : path, optional
        Where to keep the embeddings (memory-mapped, one folder per key) so that a kernel
        restart reuses them; None keeps them in memory. A folder, made if missing; one that is
        a file is refused.
    """

    def __init__(self, n_images: int, cache_dir: str | os.PathLike[str] | None = None) -> None:
        self.n_images = int(n_images)
        self.cache_dir = None if cache_dir is None else check_cache_dir(Path(cache_dir))
        self.key: str | None = None
        self.n_ready = 0
        self._ready = np.zeros(self.n_images, bool)  # checked against its image this session
        self._stamps = np.zeros((self.n_images, 4), np.int64)  # its file's, taken before that read
        self._hashes: np.ndarray | None = None
        self._rows: np.ndarray | None = None
        self._sums: np.ndarray | None = None
        self._lock: FolderLock | None = None  # held on the key's folder while bound to it

    def bind(self, key: str, width: int | None = None, learner: object = None) -> None:
        """Use the rows of `key`; a new key starts from what is stored for it (or nothing).

        A folder stored for `key` is verified first (see the module's notes): what fails is
        embedded anew, with a warning. A folder that cannot be read now (too many open files,
        an I/O error) is no proof of damage: the OSError, naming the folder, leaves the cache
        unbound and the files as they are, so that the next bind tries them again.

        Parameters
        ----------
        key : str
            The learner's ``embedding_key()``.
        width : int, optional
            The length of the learner's embeddings, which stored rows must have; None: not
            checked.
        learner : object, optional
            The learner whose key it is, named when the key is refused: one that is not one
            plain folder name (see ``_cache_folder.check_key``), in memory too, so that a
            learner's key does not work or fail by where its cache is kept.
        """
        check_key(key, learner)
        if key == self.key:
            return
        self.close()
        if self.cache_dir is None:
            self.key = key
            return
        folder = check_cache_dir(self.cache_dir / key, called="embedding cache folder")
        lock = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            then = WRITE_ELSEWHERE if is_read_only(error) else KEPT
            raise cache_error(folder, error, "cannot be made", then) from error
        check_cache_files(folder, ("meta.json", *ARRAYS))
        check_own(folder, self.n_images)
        try:  # an error (CacheLocked too) leaves it unbound: the next bind tries the folder again
            lock = FolderLock(folder)
            if any(folder.iterdir()):
                self._open(folder, key, width)
        except Untrusted as problem:
            self._hashes, self._rows, self._sums = None, None, None
            log.warning(
                "al_widget: embedding cache %s: %s; embedding all its images again", folder, problem
            )
        except BaseException as error:
            if lock is not None:
                lock.release()
            if isinstance(error, OSError):
                raise cache_error(folder, error, "cannot be opened", KEPT) from error
            raise
        self._lock, self.key = lock, key

    def close(self) -> None:
        """Let go of the current key's rows and of its folder's lock: unbound, nothing ready.
        Safe to call twice; ``bind`` opens a key again."""
        self.key, self.n_ready = None, 0
        self._ready = np.zeros(self.n_images, bool)
        self._stamps = np.zeros((self.n_images, 4), np.int64)
        self._hashes, self._rows, self._sums = None, None, None
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def _open(self, folder: Path, key: str, width: int | None) -> None:
        """Map the files of `folder` if they prove to be `key`'s; clear rows that fail their checksum.

        Raises `Untrusted` saying what is wrong when the folder as a whole is not to be used.
        """
        meta = read_meta(folder)
        if meta.get("format") != FORMAT:
            raise Untrusted(
                f"meta.json has format {meta.get('format')!r}, not {FORMAT} (written by another "
                "version, without row checksums)"
            )
        if meta.get("key") != key:
            raise Untrusted(
                f"meta.json names the embedding key {meta.get('key')!r}, not this learner's {key!r}"
            )
        if meta.get("n_images") != self.n_images:
            raise Untrusted(
                f"it holds {meta.get('n_images')!r} images, the dataset has {self.n_images}"
            )
        dim = meta.get("dim")
        if not isinstance(dim, int) or dim < 1:
            raise Untrusted(f"meta.json's dim must be a positive int, got {dim!r}")
        if width is not None and dim != width:
            raise Untrusted(f"its embeddings have length {dim}, this learner's have {width}")
        try:
            rows, hashes, sums = map_files(folder, self.n_images, dim, "r+")
        except OSError as error:
            if not is_read_only(error):
                raise
            rows, hashes, sums = map_files(folder, self.n_images, dim, "c")  # writes stay here
            log.warning(
                "al_widget: embedding cache %s is read-only (%s): its rows are used, and the "
                "images it lacks are embedded in memory only, not cached",
                folder,
                error.strerror,
            )
        bad = np.flatnonzero(row_checksums(rows, hashes) != sums)
        if len(bad):
            rows[bad], hashes[bad], sums[bad] = 0, _EMPTY, 0  # an empty row again, never served
            for array in (rows, hashes, sums):
                array.flush()
            log.warning(
                "al_widget: embedding cache %s: %d rows do not match their checksums (images %s); "
                "embedding them again",
                folder,
                len(bad),
                bad[:10].tolist(),
            )
        self._rows, self._hashes, self._sums = rows, hashes, sums

    def ready(self, indices: np.ndarray) -> np.ndarray:
        """A mask: which of `indices` have an embedding checked against their image."""
        return self._ready[np.asarray(indices, np.int64)]

    def recheck(self, indices: np.ndarray, stamps: np.ndarray) -> np.ndarray:
        """Make the ready `indices` whose file's stamp is not the one kept not ready; those indices.

        Parameters
        ----------
        indices : numpy.ndarray
            Dataset indices.
        stamps : numpy.ndarray
            (k, 4) their files' stamps now (`file_stamps`).
        """
        indices = np.asarray(indices, np.int64)
        changed = self._ready[indices] & (self._stamps[indices] != stamps).any(axis=1)
        stale = indices[changed]
        if len(stale):
            self._ready[stale] = False
            self.n_ready = int(self._ready.sum())
        return stale

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

    def reuse(
        self, indices: np.ndarray, hashes: np.ndarray, stamps: np.ndarray | None = None
    ) -> np.ndarray:
        """Mark ready the `indices` whose stored row was made from the same pixels; the mask of them.

        `stamps`: (k, 4) the files' stamps taken before the pixels were read (None: 0, so that
        `recheck` finds a file's row stale).
        """
        indices = np.asarray(indices, np.int64)
        if self._hashes is None:
            return np.zeros(len(indices), bool)
        same = (self._hashes[indices] == hashes) & (hashes != _EMPTY)
        self._mark(indices[same], None if stamps is None else stamps[same])
        return same

    def put(
        self,
        indices: np.ndarray,
        hashes: np.ndarray,
        embeddings: np.ndarray,
        stamps: np.ndarray | None = None,
    ) -> None:
        """Store the embeddings of `indices`, made from pixels with `hashes` (read from files
        with `stamps`, as in `reuse`)."""
        indices = np.asarray(indices, np.int64)
        if not len(indices):
            return
        if self._rows is None:
            self._allocate(embeddings.shape[1])
        assert self._rows is not None
        assert self._hashes is not None
        assert self._sums is not None
        if embeddings.shape[1] != self._rows.shape[1]:
            raise ValueError(
                f"embeddings of length {embeddings.shape[1]} for a cache of length "
                f"{self._rows.shape[1]} under the same key {self.key}"
            )
        embeddings = np.asarray(embeddings, np.float16)
        hashes = np.asarray(hashes, np.uint64)
        self._rows[indices] = embeddings
        self._hashes[indices] = hashes
        self._sums[indices] = row_checksums(embeddings, hashes)  # vouches for the two above
        self._mark(indices, stamps)

    def flush(self) -> None:
        """Write memory-mapped rows to disk."""
        for array in (self._rows, self._hashes, self._sums):
            if isinstance(array, np.memmap):
                array.flush()

    def _mark(self, indices: np.ndarray, stamps: np.ndarray | None) -> None:
        self._ready[indices] = True
        self._stamps[indices] = 0 if stamps is None else stamps
        self.n_ready = int(self._ready.sum())

    def _folder(self) -> Path | None:
        return None if self.cache_dir is None or self.key is None else self.cache_dir / self.key

    def _allocate(self, dim: int) -> None:
        folder = self._folder()
        if folder is None:
            self._rows = np.zeros((self.n_images, dim), np.float16)
            self._hashes = np.zeros(self.n_images, np.uint64)
            self._sums = np.zeros(self.n_images, np.uint64)
            return
        n, meta = self.n_images, {"format": FORMAT, "key": self.key, "n_images": self.n_images}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_meta(folder, meta)  # without dim: the cache's, not to be trusted meanwhile
            made = [
                np.lib.format.open_memmap(folder / name, "w+", dtype, shape)
                for name, dtype, shape in array_files(n, dim)
            ]
            write_meta(folder, {**meta, "dim": dim})
        except OSError as error:
            then = WRITE_ELSEWHERE if is_read_only(error) else "the next round tries again"
            raise cache_error(folder, error, "cannot be written", then) from error
        self._rows, self._hashes, self._sums = made
