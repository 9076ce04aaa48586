"""What the canvas sends the browser, encoded: an image's display copy and a compressed class map.

A very large image is sent as a display copy whose longer side is at most `DISPLAY_MAX_SIDE`;
the browser stretches it over the image's full size, so boxes and masks stay in image pixels.
A class map goes zlib-compressed (the browser inflates it with ``DecompressionStream("deflate")``),
as its runs where they are fewer than a fifth of its pixels: a 6000x8000 map is 48 MB raw, past
the Jupyter server's 10 MiB websocket message limit; a mask of a few shapes is some 10 kB of runs,
which the browser unpacks with one fill per run instead of inflating 48 MB.
"""

from __future__ import annotations

import io
import math
import zlib

import numpy as np
from PIL import Image

DISPLAY_MAX_SIDE = 2048
"""The longest side, in pixels, of the copy of an image the browser is sent to display."""
PNG_MAX_PIXELS = 256 * 256
"""Images up to this many pixels are sent as PNG (exact); larger ones as JPEG, except in mask mode."""
_JPEG_QUALITY = 90
_BAND_ROWS = 32  # rows of the display copy shrunk at a time


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An HxWx3 uint8 view or copy of an HxW, HxWx3 or HxWx4 uint8 image (alpha dropped).

    Parameters
    ----------
    image
        The image; anything else raises ValueError naming the dtype or shape.
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ValueError(f"image must be HxW, HxWx3 or HxWx4, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"image must not be empty, got shape {arr.shape}")
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])


def reduction(height: int, width: int) -> int:
    """The integer factor an image is shrunk by for display: 1 unless a side passes the bound.

    Parameters
    ----------
    height, width
        The image's size in pixels.
    """
    return max(1, math.ceil(max(height, width) / DISPLAY_MAX_SIDE))


def encode_display(rgb: np.ndarray, mode: str) -> tuple[bytes, str]:
    """The bytes and format ("png" or "jpeg") the browser is sent to show `rgb`.

    PNG where pixels must stay exact (mask mode, small images), else JPEG. An image with a side
    over `DISPLAY_MAX_SIDE` is shrunk by an integer factor (box filter) and sent as JPEG in every
    mode: its pixels are not exact any more, and a PNG of a 2048-pixel photo is ~15x a JPEG.

    Parameters
    ----------
    rgb
        An HxWx3 uint8 array (see `as_rgb`).
    mode
        The canvas mode the image is shown in.
    """
    h, w = rgb.shape[:2]
    factor = reduction(h, w)
    picture = Image.fromarray(rgb) if factor == 1 else _shrunk(rgb, factor)
    exact = mode in ("mask", "instance")  # pixels painted one by one
    fmt = "png" if factor == 1 and (exact or h * w <= PNG_MAX_PIXELS) else "jpeg"
    buf = io.BytesIO()
    if fmt == "png":
        picture.save(buf, format="PNG", compress_level=1)
    else:
        picture.save(buf, format="JPEG", quality=_JPEG_QUALITY)
    return buf.getvalue(), fmt


def _shrunk(rgb: np.ndarray, factor: int) -> Image.Image:
    """`rgb` shrunk `factor` times (box filter, partial blocks at the edges rounded up)."""
    h, w = rgb.shape[:2]
    out = Image.new("RGB", (-(-w // factor), -(-h // factor)))
    # A band at a time: the whole of a 6000x8000 photo as one PIL image first is a 192 MB
    # allocation, slower than the shrinking itself (~0.45 s against ~0.15 s in bands here).
    step = _BAND_ROWS * factor
    for y in range(0, h, step):
        out.paste(Image.fromarray(rgb[y : y + step]).reduce(factor), (0, y // factor))
    return out


def compress_mask(mask: bytes) -> bytes:
    """A class map as the browser is sent it (`expand_mask` reads it back); empty if all background.

    zlib of either the map's runs in row-major order (their n little-endian uint32 lengths, then
    their n class ids: 5n bytes), when 5n is less than the map's size, or else the map itself.
    The inflated size tells which.

    Parameters
    ----------
    mask
        The H*W uint8 class map (or empty).
    """
    if not mask:
        return b""
    flat = np.frombuffer(mask, dtype=np.uint8)
    starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if not len(starts) and not flat[0]:
        return b""
    if 5 * (len(starts) + 1) >= flat.size:  # speckle: the map is smaller than its runs
        # Run-length matching only: ~2x faster than level 1 of the default strategy on a class
        # map, and smaller.
        packer = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
        return packer.compress(mask) + packer.flush()
    starts = np.concatenate(([0], starts))
    lengths = np.diff(starts, append=flat.size).astype("<u4")
    return zlib.compress(lengths.tobytes() + flat[starts].tobytes(), 1)


def expand_mask(data: bytes, *, width: int, height: int) -> bytes:
    """The H*W class map that `compress_mask` packed into `data` (as the browser unpacks it).

    Parameters
    ----------
    data
        What `compress_mask` returned.
    width, height
        The map's size.
    """
    size = width * height
    if not data:
        return bytes(size)
    payload = zlib.decompress(data)
    if len(payload) == size:
        return payload
    n = len(payload) // 5
    lengths = np.frombuffer(payload, dtype="<u4", count=n)
    values = np.frombuffer(payload, dtype=np.uint8, count=n, offset=4 * n)
    return np.repeat(values, lengths).tobytes()
