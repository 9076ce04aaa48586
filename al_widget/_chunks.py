"""Chunks of a pool that read their own images where they are used: here, or on a cluster's worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._images import ArraySource, ImageError, SequenceSource, resize


@dataclass
class Loaded:
    """Images that could be read, their dataset indices, and why the others could not."""

    indices: np.ndarray
    images: Any  # an (n, H, W, 3) uint8 array, or a list of (H, W, 3) arrays at their own sizes
    broken: dict[int, str] = field(default_factory=dict)


class Chunk:
    """Dataset images `indices`, read by ``load`` wherever the chunk is when it is called.

    In this process a chunk refers to the dataset's image source, nothing copied. Pickled for
    another process (a Dask worker, a process pool), it carries only its own items: the file
    paths of a file-backed dataset (the worker reads the files itself), pixels otherwise.

    Parameters
    ----------
    source : ArraySource or SequenceSource
        The images the positions point into.
    indices : numpy.ndarray
        The dataset index of each image of the chunk.
    positions : numpy.ndarray, optional
        Where each image is in `source`; by default `indices` (the dataset's own source).
    """

    def __init__(
        self,
        source: ArraySource | SequenceSource,
        indices: np.ndarray,
        positions: np.ndarray | None = None,
    ) -> None:
        self.source = source
        self.indices = np.asarray(indices, dtype=np.int64)
        self.positions = self.indices if positions is None else positions

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Chunk({len(self)} images from {type(self.source).__name__})"

    def __reduce__(self) -> tuple[Any, ...]:
        own = self.source.subset(self.positions)
        return (Chunk, (own, self.indices, np.arange(len(self.indices))))

    def rgb(self, k: int) -> np.ndarray:
        """The chunk's `k`-th image (dataset index ``indices[k]``) as (H, W, 3) uint8."""
        return self.source.rgb(int(self.positions[k]))

    def load(self, size: tuple[int, int] | None) -> Loaded:
        """The readable images as one batch at `size` (else the first one's); the others left out.

        None of them readable: an empty batch, every one in `broken` with its reason.
        """
        try:
            return Loaded(self.indices, self.source.batch(self.positions, size))
        except ImageError:
            found = self.load_list()
            if not found.images:
                return Loaded(
                    found.indices, np.zeros((0, *(size or (1, 1)), 3), np.uint8), found.broken
                )
            shape = size or found.images[0].shape[:2]
            return Loaded(
                found.indices, np.stack([resize(im, shape) for im in found.images]), found.broken
            )

    def load_list(self) -> Loaded:
        """The readable images at their own sizes, as a list; the unreadable ones with reasons."""
        good, images, broken = [], [], {}
        for index, position in zip(self.indices.tolist(), self.positions.tolist(), strict=True):
            try:
                images.append(self.source.rgb(position))
                good.append(index)
            except ImageError as error:
                broken[index] = str(error)
        return Loaded(np.array(good, np.int64), images, broken)
