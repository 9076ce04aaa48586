"""Parse and validate the messages the canvas sends from the browser.

``{"kind": "boxes", "image_id", "boxes", "drafts"}``: the boxes and drafts after an edit.
``{"kind": "mask", "image_id", "width", "height"}`` with one buffer: the class map after an edit.
``{"kind": "fetch"}``: a view just displayed asks for the current state; Python answers with
``{"kind": "state", "image_id", "boxes", "drafts"}`` and the mask as one buffer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("boxes", "mask", "fetch")


class ProtocolError(ValueError):
    """A message from the browser that the canvas refuses."""


@dataclass(frozen=True)
class BoxesEdit:
    """The boxes and drafts after an edit in the browser."""

    boxes: list[dict[str, Any]]
    drafts: list[dict[str, Any]]


@dataclass(frozen=True)
class MaskEdit:
    """The whole class map after a stroke, fill, undo or redo in the browser."""

    mask: bytes


@dataclass(frozen=True)
class Fetch:
    """A view just displayed asks for the current boxes, drafts and mask."""


def parse_message(
    content: object,
    buffers: Sequence[object] | None,
    *,
    image_id: int,
    width: int,
    height: int,
    n_classes: int,
) -> BoxesEdit | MaskEdit | Fetch:
    """Validate one custom message against the current image; raise ProtocolError if refused."""
    if not isinstance(content, Mapping):
        raise ProtocolError(f"message must be a dict, got {type(content).__name__}")
    kind = content.get("kind")
    if kind not in KINDS:
        raise ProtocolError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "fetch":
        return Fetch()
    got_id = content.get("image_id")
    if type(got_id) is not int or got_id != image_id:
        raise ProtocolError(f"stale message: image_id must be {image_id}, got {got_id!r}")
    if kind == "boxes":
        return BoxesEdit(
            boxes=parse_boxes(
                content.get("boxes"), width=width, height=height, n_classes=n_classes
            ),
            drafts=parse_boxes(
                content.get("drafts", []),
                width=width,
                height=height,
                n_classes=n_classes,
                name="drafts",
            ),
        )
    if content.get("width") != width or content.get("height") != height:
        raise ProtocolError(
            f"mask size must be {width}x{height}, "
            f"got {content.get('width')!r}x{content.get('height')!r}"
        )
    if not buffers or len(buffers) != 1:
        raise ProtocolError(f"mask message must carry 1 buffer, got {len(buffers or [])}")
    return MaskEdit(parse_mask(buffers[0], width=width, height=height, n_classes=n_classes))


def parse_boxes(
    value: object, *, width: int, height: int, n_classes: int, name: str = "boxes"
) -> list[dict[str, Any]]:
    """Check a list of ``{"xyxy": [x0, y0, x1, y1], "label": int}`` and return it normalised."""
    if not isinstance(value, (list, tuple)):
        raise ProtocolError(f"{name} must be a list, got {type(value).__name__}")
    return [
        _parse_box(item, f"{name}[{i}]", width=width, height=height, n_classes=n_classes)
        for i, item in enumerate(value)
    ]


def _parse_box(
    item: object, where: str, *, width: int, height: int, n_classes: int
) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ProtocolError(f"{where} must be a dict, got {type(item).__name__}")
    xyxy = item.get("xyxy")
    if not isinstance(xyxy, (list, tuple)) or len(xyxy) != 4:
        raise ProtocolError(f"{where}.xyxy must be a list of 4 numbers, got {xyxy!r}")
    coords = []
    for c in xyxy:
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c):
            raise ProtocolError(f"{where}.xyxy must hold finite numbers, got {xyxy!r}")
        coords.append(float(c))
    x0, y0, x1, y1 = coords
    if not (x0 < x1 and y0 < y1):
        raise ProtocolError(f"{where} must have x0 < x1 and y0 < y1 (non-zero area), got {coords}")
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        raise ProtocolError(f"{where} must lie inside the {width}x{height} image, got {coords}")
    label = item.get("label")
    if type(label) is not int or not 0 <= label < n_classes:
        raise ProtocolError(f"{where}.label must be an int in [0, {n_classes}), got {label!r}")
    return {"xyxy": coords, "label": label}


def parse_mask(buffer: object, *, width: int, height: int, n_classes: int) -> bytes:
    """Check an H*W uint8 class map (class 0 is background) and return it as bytes."""
    try:
        data = bytes(buffer)  # type: ignore[call-overload]
    except TypeError:
        raise ProtocolError(f"mask must be a byte buffer, got {type(buffer).__name__}") from None
    if len(data) != width * height:
        raise ProtocolError(
            f"mask must have {width}*{height}={width * height} bytes, got {len(data)}"
        )
    if data:
        top = int(np.frombuffer(data, dtype=np.uint8).max())
        if top >= max(n_classes, 1):
            raise ProtocolError(f"mask values must be < {max(n_classes, 1)}, got {top}")
    return data
