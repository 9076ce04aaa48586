"""The images of a Dataset, its base class: read by index (pixels, sizes, EXIF orientations,
files, batches and chunks), without its lock; and the checks of indices into them."""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._chunks import Chunk
from ._images import ArraySource, ImageError, OrientedImage, SequenceSource
from ._numbers import check_int
from ._paths import PathTable


class DatasetImages:
    """The images of ``Dataset`` (its base class), read by index, and the checks that refuse an
    index that is none.

    Thread safety: as ``Dataset``'s thread note says, images are read without its lock.
    """

    _source: ArraySource | SequenceSource  # Dataset's, set in its __init__

    def __len__(self) -> int:
        return len(self._source)

    def image(self, i: int) -> np.ndarray:
        """Image `i` as an (H, W, 3) uint8 array.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        return self._source.rgb(self.check_index(i))

    def oriented_image(self, i: int) -> OrientedImage:
        """Image `i` as ``image`` gives it, and, for a file, the EXIF orientation (1..8, 1 if
        none) its pixels were turned upright by, read from the same open of the file; None for
        an image given in memory. What shows the image to draw on reads it so: a label drawn on
        these pixels was drawn in that orientation (``annotate``'s `orientation`).

        Parameters
        ----------
        i : int
            A dataset index.
        """
        return self._source.oriented(self.check_index(i))

    def image_size(self, i: int) -> tuple[int, int]:
        """The (H, W) of image `i`.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        return self._source.size(self.check_index(i))

    def image_frame(self, i: int) -> tuple[tuple[int, int], int | None]:
        """The (H, W) of image `i` and, for a file, the EXIF orientation (1..8, 1 if none) its
        pixels are turned upright by, read together from the file's header; None for an image
        given in memory. A box or mask fits the pixels of the size and orientation it was
        drawn on: the journal records both, and a restore checks them.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        return self._source.frame(self.check_index(i))

    def readable_size(self, indices: Any) -> tuple[int, int] | None:
        """The (H, W) of the first of `indices` whose size can be read; None when none can.

        Where a size is picked from one image (a batch's working size, photo or not), an
        unreadable image is passed over: it is reported where the images are loaded, and must
        not decide for the others.

        Parameters
        ----------
        indices : array-like of int
            Dataset indices, in the order to try them.
        """
        return next(self._readable_sizes(indices), None)

    def typical_size(self, indices: Any) -> tuple[int, int] | None:
        """The size (H, W) of one of the images of `indices` that stands for them: the size
        most of them share, when one covers at least half of those whose size can be read (of
        two sizes tied, the larger, then the wider); else the size of the image of middle area
        (the upper median; of two images of one area, the wider). None when no size can be
        read. Read from their headers, no pixel decoded (~60 us a JPEG, against ~10 ms to
        decode a 640x480 one).

        Where one size is picked for many images (a learner's working size), it is the size of
        an image of them, never a mix of the heights of some and the widths of others (a half
        portrait, half landscape set is not made square), and an odd image (a 1x1 icon, a
        panorama) does not decide for the others, wherever it comes. An unreadable image is
        passed over, as in ``readable_size``.

        Parameters
        ----------
        indices : array-like of int
            Dataset indices.
        """
        counts = collections.Counter(self._readable_sizes(indices))
        if not counts:
            return None
        most = max(counts.values())
        if 2 * most >= counts.total():
            return max((size for size, n in counts.items() if n == most), key=_area_then_width)
        ordered = sorted(counts.elements(), key=_area_then_width)
        return ordered[len(ordered) // 2]

    def _readable_sizes(self, indices: Any) -> Iterator[tuple[int, int]]:
        """The (H, W) of each of `indices` whose size can be read, in order."""
        for i in self.check_indices(indices).tolist():
            try:
                yield self._source.size(i)
            except ImageError:
                continue

    def source_file(self, i: int) -> str | None:
        """The file image `i` is read from, or None for an in-memory image.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        i = self.check_index(i)
        items = getattr(self._source, "items", None)
        item = None if items is None else items[i]
        return os.fspath(item) if isinstance(item, (str, os.PathLike)) else None

    def files_folder(self) -> str | None:
        """The folder all the image files are in, below which the journal matches them (so a
        moved folder still matches): the longest folder their paths, as given, start with,
        ending in its separator ("" when they share none); None unless every image is a file.

        ``source_file(i)[len(folder):]`` is image `i`'s path below it. Read from the paths
        alone, no file touched (under 0.1 s for a million).
        """
        items = getattr(self._source, "items", None)
        return items.relative()[0] if isinstance(items, PathTable) else None

    def batch(self, indices: Any, size: tuple[int, int] | None = None) -> np.ndarray:
        """Images as one (n, H, W, 3) uint8 array, resized to `size` (or the first one's size).

        Parameters
        ----------
        indices : array-like of int
            Dataset indices.
        size : tuple of int, optional
            (H, W) to resize every image to (None: the first image's size).
        """
        return self._source.batch(self.check_indices(indices), size)

    def chunk(self, indices: Any) -> Chunk:
        """Images `indices` as a Chunk that reads them wherever it is loaded (see ``_chunks``).

        Parameters
        ----------
        indices : array-like of int
            Dataset indices.
        """
        return Chunk(self._source, self.check_indices(indices))

    def check_indices(self, indices: Any) -> np.ndarray:
        """`indices` as an int64 array, refused unless every one is an int index into this dataset.

        Parameters
        ----------
        indices : array-like of int
            What to check.
        """
        array = np.asarray(indices)
        if array.size == 0:
            return np.zeros(0, np.int64)
        if array.dtype.kind not in "iu":
            raise ValueError(
                f"indices must be ints, got {array.dtype} values like {array.flat[0]!r}"
            )
        array = array.astype(np.int64, copy=False)
        bad = array[(array < 0) | (array >= len(self))]
        if bad.size:
            self.check_index(int(bad[0]))
        return array

    def check_index(self, i: Any) -> int:
        """`i` as an int, refused when it is not an index into this dataset.

        Parameters
        ----------
        i : int
            What to check.
        """
        check_int("index", i)
        if not 0 <= int(i) < len(self):
            raise IndexError(f"index {int(i)} is out of range for a dataset of {len(self)} images")
        return int(i)


def _area_then_width(size: tuple[int, int]) -> tuple[int, int, int]:
    """The order of image sizes (H, W) ``typical_size`` picks by: area, then width, then height."""
    h, w = size
    return h * w, w, h
