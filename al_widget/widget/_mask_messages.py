"""The class values a mask, mask patch or object message carries: its rect, its encoding, its
buffer (inflated with a bound, so that a zip bomb stops at the rect's size) and its values."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..annotations import unknown_class_value
from ._refusal import ProtocolError
from ._refusal import shown as _shown


@dataclass(frozen=True)
class MaskPatch:
    """The class values inside one rect after a stroke, fill, undo or redo in the browser.

    ``rect`` is ``(x0, y0, x1, y1)`` in image pixels, x1 and y1 excluded; ``values`` holds its
    ``(y1 - y0) * (x1 - x0)`` class ids row by row.
    """

    rect: tuple[int, int, int, int]
    values: bytes

    def applied(self, mask: bytes, *, width: int, height: int) -> bytes:
        """The H*W class map `mask` (empty: all background) with this patch written in."""
        out = np.zeros((height, width), dtype=np.uint8)
        if mask:
            out[:] = np.frombuffer(mask, dtype=np.uint8).reshape(height, width)
        x0, y0, x1, y1 = self.rect
        out[y0:y1, x0:x1] = np.frombuffer(self.values, dtype=np.uint8).reshape(y1 - y0, x1 - x0)
        return out.tobytes()


def parse_mask_patch(
    content: Mapping[str, Any],
    buffers: Sequence[object] | None,
    *,
    width: int,
    height: int,
    n_classes: int,
) -> MaskPatch:
    """Check a ``mask_patch`` message's rect, encoding and values; raise ProtocolError if refused.

    Parameters
    ----------
    content
        The message's JSON content: ``rect`` and, optionally, ``encoding``.
    buffers
        Its binary buffers: exactly one, the rect's class values.
    width, height
        The image's size; the rect must lie inside it.
    n_classes
        Values must be below this.
    """
    rect, data = rect_values(content, buffers, "mask_patch", width=width, height=height)
    check_mask_values(data, n_classes, "mask_patch")
    return MaskPatch(rect=rect, values=data)


def rect_values(
    content: Mapping[str, Any],
    buffers: Sequence[object] | None,
    where: str,
    *,
    width: int,
    height: int,
) -> tuple[tuple[int, int, int, int], bytes]:
    """The rect and its values (inflated) of a mask patch or an object; ProtocolError if refused.

    Parameters
    ----------
    content
        The message's JSON content: ``rect`` ([x0, y0, x1, y1], x1 and y1 excluded, inside the
        image) and ``encoding`` (``"raw"``, the default, or ``"zlib"``).
    buffers
        Exactly one: the rect's values, one byte a pixel, row by row.
    where
        What the message is called in error messages.
    width, height
        The image's size.
    """
    rect = content.get("rect")
    if (
        not isinstance(rect, (list, tuple))
        or len(rect) != 4
        or any(type(v) is not int for v in rect)
    ):
        raise ProtocolError(
            f"{where} rect must be a list of 4 ints [x0, y0, x1, y1], got {_shown(rect)}"
        )
    x0, y0, x1, y1 = rect
    if not (x0 < x1 and y0 < y1):
        raise ProtocolError(
            f"{where} rect must have x0 < x1 and y0 < y1 (not empty), got {list(rect)}"
        )
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        raise ProtocolError(
            f"{where} rect must lie inside the {width}x{height} image, got {list(rect)}"
        )
    encoding = content.get("encoding", "raw")
    if encoding not in ("raw", "zlib"):
        raise ProtocolError(f"{where} encoding must be 'raw' or 'zlib', got {_shown(encoding)}")
    data = _as_bytes(one_buffer(buffers, where), where)
    size = (x1 - x0) * (y1 - y0)
    if encoding == "zlib":
        data = _inflated(data, size, where)
    if len(data) != size:
        raise ProtocolError(
            f"{where} must have {x1 - x0}*{y1 - y0}={size} bytes for its rect, got {len(data)}"
        )
    return (x0, y0, x1, y1), data


def _inflated(data: bytes, size: int, where: str) -> bytes:
    """zlib `data` inflated, reading at most one byte past `size` (a zip bomb stops there)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, size + 1)
    except zlib.error as err:
        raise ProtocolError(f"{where} buffer is not zlib data: {err}") from None
    if len(out) > size:
        raise ProtocolError(f"{where} inflates to more than the {size} bytes of its rect")
    if not inflater.eof:
        raise ProtocolError(f"{where} buffer is cut short: its zlib stream does not end")
    return out


def one_buffer(buffers: Sequence[object] | None, kind: str) -> object:
    """The one buffer a message of `kind` must carry; ProtocolError if it has none or more."""
    if not buffers or len(buffers) != 1:
        raise ProtocolError(f"{kind} message must carry 1 buffer, got {len(buffers or [])}")
    return buffers[0]


def parse_mask(buffer: object, *, width: int, height: int, n_classes: int) -> bytes:
    """Check an H*W uint8 class map (class 0 is background) and return it as bytes."""
    data = _as_bytes(buffer, "mask")
    if len(data) != width * height:
        raise ProtocolError(
            f"mask must have {width}*{height}={width * height} bytes, got {len(data)}"
        )
    check_mask_values(data, n_classes, "mask")
    return data


def check_mask_values(data: bytes, n_classes: int, name: str = "mask") -> None:
    """Refuse class ids of `n_classes` or more (any value when there is no class but 0), but
    ``Mask.IGNORE`` (255, not labeled), which a loaded mask may hold and a patch keeps.

    Parameters
    ----------
    data
        uint8 class ids.
    n_classes
        How many classes there are; 0 is always allowed (the background).
    name
        What the values are called in the error message.
    """
    bad = unknown_class_value(np.frombuffer(data, dtype=np.uint8), max(n_classes, 1))
    if bad is not None:
        raise ProtocolError(f"{name} values must be < {max(n_classes, 1)}, got {bad}")


def _as_bytes(buffer: object, name: str) -> bytes:
    try:
        return bytes(buffer)  # type: ignore[call-overload]
    except TypeError:
        raise ProtocolError(f"{name} must be a byte buffer, got {type(buffer).__name__}") from None
