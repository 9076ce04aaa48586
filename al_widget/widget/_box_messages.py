"""The boxes and drafts of a ``boxes`` message (or of ``Canvas.load``), checked one by one."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .._numbers import is_number
from ._refusal import ProtocolError, as_list
from ._refusal import shown as _shown

MAX_BOXES = 1000


def check_box_count(n_boxes: int, n_drafts: int) -> None:
    """Refuse an image with more than `MAX_BOXES` boxes and drafts together.

    Parameters
    ----------
    n_boxes, n_drafts
        How many boxes and drafts the image would hold.
    """
    if n_boxes + n_drafts > MAX_BOXES:
        raise ProtocolError(
            f"an image holds at most {MAX_BOXES} boxes and drafts together, "
            f"got {n_boxes} boxes and {n_drafts} drafts"
        )


def parse_boxes(
    value: object, *, width: int, height: int, n_classes: int, name: str = "boxes"
) -> list[dict[str, Any]]:
    """Check a list of ``{"xyxy": [x0, y0, x1, y1], "label": int}`` and return it normalised;
    a draft may carry its confidence, ``"score"``: a number in [0, 1].

    Parameters
    ----------
    value
        The list, as the browser sent it or ``Canvas.load`` was given it.
    width, height
        The image's size; every box must lie inside it.
    n_classes
        Labels must be below this.
    name
        What the list is called in error messages.
    """
    items = as_list(value, name)
    return [
        _parse_box(item, f"{name}[{i}]", width=width, height=height, n_classes=n_classes)
        for i, item in enumerate(items)
    ]


def _parse_box(
    item: object, where: str, *, width: int, height: int, n_classes: int
) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ProtocolError(f"{where} must be a dict, got {type(item).__name__}")
    xyxy = item.get("xyxy")
    if not isinstance(xyxy, (list, tuple)) or len(xyxy) != 4:
        raise ProtocolError(f"{where}.xyxy must be a list of 4 numbers, got {_shown(xyxy)}")
    coords = [_coordinate(c, where, xyxy) for c in xyxy]
    x0, y0, x1, y1 = coords
    if not (x0 < x1 and y0 < y1):
        raise ProtocolError(f"{where} must have x0 < x1 and y0 < y1 (non-zero area), got {coords}")
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        raise ProtocolError(f"{where} must lie inside the {width}x{height} image, got {coords}")
    label = item.get("label")
    if type(label) is not int or not 0 <= label < n_classes:
        raise ProtocolError(
            f"{where}.label must be an int in [0, {n_classes}), got {_shown(label)}"
        )
    parsed: dict[str, Any] = {"xyxy": coords, "label": label}
    score = item.get("score")
    if score is not None:  # a draft's confidence, in [0, 1]
        if not is_number(score) or not 0 <= score <= 1:
            raise ProtocolError(f"{where}.score must be a number in [0, 1], got {_shown(score)}")
        parsed["score"] = float(score)
    return parsed


def _coordinate(c: object, where: str, xyxy: Sequence[object]) -> float:
    """One coordinate as a finite float; an int too large for a float is refused like NaN."""
    value = math.nan
    if is_number(c):
        with contextlib.suppress(OverflowError):
            value = float(c)
    if not math.isfinite(value):
        raise ProtocolError(f"{where}.xyxy must hold finite numbers, got {_shown(xyxy)}")
    return value
