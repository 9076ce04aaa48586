"""Image sources: uniform RGB uint8 access to arrays, PIL images and files, decoded lazily."""

from __future__ import annotations

import io
import os
import threading
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from ._file_stamps import GONE, PixelStamp, bytes_digest, file_stamp
from ._orientation import orientation, upright, upright_size
from ._paths import PathTable, path_table


class ImageError(ValueError):
    """An image that cannot be read or converted; names its index and source."""


def to_rgb(array: np.ndarray, where: str = "image") -> np.ndarray:
    """An (H, W, 3) uint8 copy of a grayscale, RGB or RGBA image of 8 or 16 bits (16 bits as
    ``to_8_bits`` shows them; RGBA composited on white)."""
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif array.dtype == np.uint16:
        array = to_8_bits(array, where)
    elif array.dtype != np.uint8:
        raise ImageError(
            f"{where} must be uint8 (or uint16, bool), got dtype {array.dtype}; "
            "scale to 0..255 and cast with .astype(np.uint8)"
        )
    if array.ndim in (2, 3) and 0 in array.shape[:2]:
        raise ImageError(f"{where} must not be empty, got shape {array.shape}")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 1:
        return np.repeat(array, 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 3:
        return np.ascontiguousarray(array)
    if array.ndim == 3 and array.shape[2] == 4:
        return _composite_on_white(array)
    raise ImageError(f"{where} must have shape (H, W), (H, W, 3) or (H, W, 4), got {array.shape}")


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[:, :, 3:4].astype(np.uint16)
    rgb = rgba[:, :, :3].astype(np.uint16)
    return ((rgb * alpha + 255 * (255 - alpha)) // 255).astype(np.uint8)


_warned: set[str] = set()
_warned_lock = threading.Lock()
"""The warnings given (``warn_once``); the lock guards the set, as images are read on the
kernel's thread and on the round worker's at once. No other lock is taken while it is held."""


def warn_once(message: str) -> None:
    """Warn `message`, which names its image, the first time only in this process: an image is
    read again and again (canvas, thumbnails, every embedding pass), and Python's own "once"
    forgets whenever any code changes the warning filters (``catch_warnings``).

    Parameters
    ----------
    message : str
        The warning, naming the image and what is lost.
    """
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    warnings.warn(message, UserWarning, stacklevel=3)


def to_8_bits(values: np.ndarray, where: str = "image") -> np.ndarray:
    """8-bit pixels from wider ones (uint16, or a PIL image's int32 "I" or float32 "F"): the one
    rule by which every image wider than 8 bits is shown, and learned from.

    Integers are shifted right so that the bit depth their largest value needs, rounded up to
    an even one of at least 8 (the depths cameras and scanners store: 8, 10, 12, 14, 16, ...),
    fills 0..255: full-range 16-bit data shows as image viewers show it (its high byte), 12-bit
    camera data stored in 16 bits shows as 12-bit data (not near black), and 8-bit data stored
    in a wider type is kept exact. The depth is the image's own, so an image that uses only the
    low bits of a 16-bit type (say, all below 16384) shows brighter than its high byte alone.
    Floats whose largest value is at most 1 follow the 0..1 convention (times 255); larger
    floats are rounded and then shown as integers are. Values below 0, NaN and infinite values
    cannot be shown: they become 0, with a warning naming the image (``warn_once``).

    Parameters
    ----------
    values : numpy.ndarray
        The pixels, any shape, of an unsigned, signed or float dtype.
    where : str, default "image"
        The image, for the warning.
    """
    if values.size == 0:
        return values.astype(np.uint8)
    lost = []
    if values.dtype.kind == "f":
        unshown = ~np.isfinite(values)
        if unshown.any():
            lost.append(f"{int(unshown.sum())} NaN or infinite values")
            values = np.where(unshown, 0, values)
    lowest = values.min()
    if lowest < 0:
        lost.append(f"values below 0 (down to {lowest})")
        values = np.maximum(values, 0)
    if lost:
        warn_once(f"{where} has {' and '.join(lost)}: they are shown as 0")
    if values.dtype.kind == "f":
        if values.max() <= 1:
            return np.rint(values * 255).astype(np.uint8)
        values = np.rint(values)
    bits = max(8, int(values.max()).bit_length())
    shift = bits + bits % 2 - 8
    if values.dtype.kind == "f":
        return np.floor(values / float(2**shift)).astype(np.uint8)
    return (values.astype(np.uint64) >> np.uint64(shift)).astype(np.uint8)


def pil_to_array(image: Image.Image, where: str = "image") -> np.ndarray:
    """The pixels of a (loaded, upright) PIL image: 8-bit, or 16-bit as an "I;16" image holds
    them. "I" and "F" images go through ``to_8_bits``; an image with transparency (an alpha
    band, or a palette or gray level marked transparent) comes back RGBA, to be composited on
    white as every RGBA image is.

    Parameters
    ----------
    image : PIL.Image.Image
        The image.
    where : str, default "image"
        The image, for warnings.
    """
    mode = image.mode
    transparent = "transparency" in image.info or any(b in ("A", "a") for b in image.getbands())
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image)
        return values.astype(np.uint16) if values.dtype.kind == "u" else to_8_bits(values, where)
    if mode in ("L", "RGB", "RGBA", "1") and not (transparent and mode != "RGBA"):
        return np.asarray(image)
    return np.asarray(image.convert("RGBA" if transparent else "RGB"))


def pil_pixels(image: Image.Image, where: str) -> np.ndarray:
    """The pixels of an opened PIL image (a file's or one given in a list) as the dataset shows
    them: turned upright (``upright``), converted by ``pil_to_array``. Of an animation or a
    multi-page file only the current frame (a file's first) is used, with a warning naming the
    image; a phone's MPO JPEG is not warned of (its other frames are previews or depth maps).

    Parameters
    ----------
    image : PIL.Image.Image
        The image, loaded or not.
    where : str
        The image, for warnings.
    """
    if getattr(image, "is_animated", False) and image.format != "MPO":
        frames, shown = getattr(image, "n_frames", "several"), image.tell() + 1
        warn_once(
            f"{where} has {frames} frames (an animation or a multi-page file): only frame "
            f"{shown} is used"
        )
    return pil_to_array(upright(image), where)


class OrientedImage(NamedTuple):
    """An image's pixels as shown (upright), and the EXIF orientation (1..8, 1 if none) they
    were turned upright by, read from the same open of its file; None for an image given in
    memory, whose pixels cannot change. A label drawn on these pixels was drawn in that
    orientation. `stamp` is its file's, taken just before the read, with the digest of the
    bytes these pixels were decoded from (``PixelStamp``; None in memory): another file stamp now says the file may no longer
    hold them, and the digest of a read then says whether it does (``same_bytes``)."""

    pixels: np.ndarray
    orientation: int | None
    stamp: PixelStamp | None = None


def read_image(path: str | os.PathLike[str], where: str) -> np.ndarray:
    """The pixels of an image file, turned upright by its EXIF orientation.

    The one place image files are decoded: the dataset, the canvas, thumbnails, embeddings and
    exports all see a photo as other tools (browsers, PIL's ``exif_transpose``, OpenCV) show it.
    """
    return _decoded(path, where)[0]


def read_oriented(path: str | os.PathLike[str], where: str) -> OrientedImage:
    """The pixels of an image file as ``read_image`` gives them, and the EXIF orientation they
    were turned upright by, from one open of the file: a photo turned by another program
    between two reads is never shown in one orientation and labeled in the other. With them
    comes their ``PixelStamp``: the file's stamp, taken before the read (a change after it
    changes the stamp), and the digest of the bytes read, which these pixels are decoded from.

    Parameters
    ----------
    path : path
        The image file.
    where : str
        The image, for errors and warnings.
    """
    stamp = file_stamp(path) or GONE
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise ImageError(f"{where}: file not found") from None
    except OSError as error:
        raise ImageError(f"{where} could not be decoded: {error}") from error
    pixels, turn = _decoded(io.BytesIO(data), where)
    return OrientedImage(pixels, turn, PixelStamp(stamp, bytes_digest(data)))


def _decoded(path: str | os.PathLike[str] | io.BytesIO, where: str) -> tuple[np.ndarray, int]:
    """The pixels of an image file, turned upright, and the EXIF orientation they were turned
    upright by, from one open."""
    try:
        with Image.open(path) as image:
            turn = orientation(image)
            return pil_pixels(image, where), turn
    except FileNotFoundError:
        raise ImageError(f"{where}: file not found") from None
    except Exception as error:
        raise ImageError(f"{where} could not be decoded: {error}") from error


def read_size(path: str | os.PathLike[str], where: str) -> tuple[int, int]:
    """The (height, width) of an image file as ``read_image`` gives it, from its header only."""
    return read_frame(path, where)[0]


def read_frame(path: str | os.PathLike[str], where: str) -> tuple[tuple[int, int], int]:
    """The (height, width) of an image file as ``read_image`` gives it, and the EXIF
    orientation (1..8, 1 if none) its pixels are turned upright by, from its header only (one
    open: what a label drawn on the image depends on).

    Parameters
    ----------
    path : path
        The image file.
    where : str
        The image, for errors.
    """
    try:
        with Image.open(path) as image:
            return upright_size(image), orientation(image)
    except FileNotFoundError:
        raise ImageError(f"{where}: file not found") from None
    except Exception as error:
        raise ImageError(f"{where} could not be decoded: {error}") from error


def _named(ids: np.ndarray | None, i: int) -> int:
    """The dataset index of position `i` of a source (a subset's `ids`, else `i` itself)."""
    return i if ids is None else int(ids[i])


class ArraySource:
    """Images held in one (N, H, W[, C]) array, converted per access.

    Parameters
    ----------
    array : numpy.ndarray
        The images, (N, H, W) or (N, H, W, 1|3|4).
    ids : numpy.ndarray, optional
        The dataset index of each image, for messages (a subset's); by default its position.
    """

    def __init__(self, array: np.ndarray, ids: np.ndarray | None = None) -> None:
        if array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[3] not in (1, 3, 4)):
            raise ImageError(
                f"images array must have shape (N, H, W) or (N, H, W, 3|4), got {array.shape}"
            )
        if len(array):
            to_rgb(array[0], "images")  # checks the dtype once for the whole array
        self.array = array
        self.ids = ids

    def subset(self, indices: np.ndarray) -> ArraySource:
        """The images at `indices` (a copy), named by their index here."""
        return ArraySource(self.array[indices], ids=_ids_of(self.ids, indices))

    def __len__(self) -> int:
        return len(self.array)

    def size(self, i: int) -> tuple[int, int]:
        return (int(self.array.shape[1]), int(self.array.shape[2]))

    def frame(self, i: int) -> tuple[tuple[int, int], int | None]:
        """Image `i`'s (height, width), and no EXIF orientation (see ``SequenceSource``)."""
        return self.size(i), None

    def rgb(self, i: int) -> np.ndarray:
        return to_rgb(self.array[i], f"image {_named(self.ids, i)}")

    def oriented(self, i: int) -> OrientedImage:
        """Image `i` as ``rgb`` gives it, with no EXIF orientation (see ``SequenceSource``)."""
        return OrientedImage(self.rgb(i), None)

    def batch(self, indices: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        images = to_rgb_batch(self.array[indices])
        if size is not None and len(images) and images.shape[1:3] != tuple(size):
            images = np.stack([resize(image, size) for image in images])
        return images


def to_rgb_batch(array: np.ndarray) -> np.ndarray:
    """An (N, H, W, 3) uint8 batch from a stacked (N, H, W[, C]) batch."""
    if array.dtype == np.uint8 and array.ndim == 3:
        return np.repeat(array[..., None], 3, axis=3)
    if array.dtype == np.uint8 and array.ndim == 4 and array.shape[3] == 3:
        return array
    return (
        np.stack([to_rgb(image) for image in array])
        if len(array)
        else np.zeros((0, *array.shape[1:3], 3), np.uint8)
    )


class SequenceSource:
    """Images given as a sequence of arrays, PIL images or file paths; files decoded on use.

    Parameters
    ----------
    items : sequence
        Arrays, PIL images or file paths; all paths are best given as a ``PathTable``.
    ids : numpy.ndarray, optional
        The dataset index of each item, for messages (a subset's); by default its position.
    """

    def __init__(self, items: Sequence[Any], ids: np.ndarray | None = None) -> None:
        self.items = items
        self.ids = ids

    def __len__(self) -> int:
        return len(self.items)

    def subset(self, indices: np.ndarray) -> SequenceSource:
        """The items at `indices` (paths stay paths), named by their index here."""
        if isinstance(self.items, PathTable):
            items: Sequence[Any] = self.items.take(indices)
        else:
            items = [self.items[int(i)] for i in indices]
        return SequenceSource(items, ids=_ids_of(self.ids, indices))

    def _where(self, i: int) -> str:
        item = self.items[i]
        named = _named(self.ids, i)
        if isinstance(item, (str, os.PathLike)):
            return f"image {named} ({os.fspath(item)})"
        return f"image {named}"

    def raw(self, i: int) -> np.ndarray:
        item = self.items[i]
        where = self._where(i)
        if isinstance(item, (str, os.PathLike)):
            return read_image(item, where)
        if isinstance(item, Image.Image):
            try:
                return pil_pixels(item, where)
            except Exception as error:
                raise ImageError(f"{where} could not be read: {error}") from error
        if isinstance(item, np.ndarray):
            return item
        raise ImageError(
            f"{where} must be a numpy array, a PIL image or a file path, got {type(item).__name__}"
        )

    def size(self, i: int) -> tuple[int, int]:
        return self.frame(i)[0]

    def frame(self, i: int) -> tuple[tuple[int, int], int | None]:
        """Image `i`'s (height, width), and for a file the EXIF orientation its pixels are
        turned upright by, from one read of its header (``read_frame``); None for an image
        given in memory, whose pixels cannot change under its labels."""
        item = self.items[i]
        if isinstance(item, (str, os.PathLike)):
            return read_frame(item, self._where(i))
        if isinstance(item, Image.Image):
            return upright_size(item), None
        shape = np.shape(self.raw(i))
        return (int(shape[0]), int(shape[1])), None

    def rgb(self, i: int) -> np.ndarray:
        return to_rgb(self.raw(i), self._where(i))

    def oriented(self, i: int) -> OrientedImage:
        """Image `i` as ``rgb`` gives it and, for a file, the EXIF orientation its pixels were
        turned upright by, from the same open (``read_oriented``); None for an image given in
        memory."""
        item = self.items[i]
        if not isinstance(item, (str, os.PathLike)):
            return OrientedImage(self.rgb(i), None)
        where = self._where(i)
        pixels, turn, stamp = read_oriented(item, where)
        return OrientedImage(to_rgb(pixels, where), turn, stamp)

    def batch(self, indices: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        images = [self.rgb(int(i)) for i in indices]
        if not images:
            return np.zeros((0, 1, 1, 3), np.uint8)
        shape = size or images[0].shape[:2]
        return np.stack([resize(image, shape) for image in images])


def _ids_of(ids: np.ndarray | None, indices: np.ndarray) -> np.ndarray:
    """The dataset indices of a subset at `indices` of a source named by `ids`."""
    indices = np.asarray(indices, dtype=np.int64)
    return indices.copy() if ids is None else ids[indices]


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` resized to (H, W) with bilinear filtering (returned as is when it already fits)."""
    if image.shape[:2] == tuple(size):
        return image
    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.Resampling.BILINEAR))


def make_source(images: Any) -> ArraySource | SequenceSource:
    """The image source for an array or a sequence of images."""
    if isinstance(images, np.ndarray) and images.dtype.kind in "US" and images.ndim == 1:
        return SequenceSource(PathTable(images.tolist()))  # np.array(paths)
    if isinstance(images, np.ndarray) and images.dtype != object:
        return ArraySource(images)
    if isinstance(images, (str, os.PathLike)):
        raise ImageError("images must be an array or a sequence of images, got a single path")
    if not isinstance(images, Sequence) and not isinstance(images, np.ndarray):
        raise ImageError(
            f"images must be an (N, H, W[, 3]) uint8 array or a sequence of arrays / PIL images / paths, "
            f"got {type(images).__name__}"
        )
    items = list(images) if isinstance(images, np.ndarray) else images
    # All paths (a folder's files, a million of them): kept as one compact table, not a str each.
    paths = path_table(items)
    return SequenceSource(items if paths is None else paths)


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A (h, w) uint8 label map resized to (H, W) by nearest neighbour (as is when it fits)."""
    if labels.shape[:2] == tuple(size):
        return labels
    image = Image.fromarray(np.ascontiguousarray(labels, dtype=np.uint8))
    return np.asarray(image.resize((size[1], size[0]), Image.Resampling.NEAREST))
