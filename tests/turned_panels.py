"""What the tests of a panel whose photo another program turned or replaced share: the photos'
sizes, the tasks drawn on, and the browser's messages (a drawing, a key). The panels themselves
come from the ``photo_panels`` fixture (``tests/conftest.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np

import al_widget as alw

SQUARE = (16, 16)  # (H, W) stored: turned a quarter, it keeps its size
WIDE = (12, 16)  # (H, W) stored: turned a quarter, or replaced by a (16, 12) photo, it is as
# many pixels of another shape, too narrow for a box drawn across it
TASKS = ["detect", "segment", "instances"]


def draw(panel: alw.Panel, width: int | None = None) -> None:
    """Draw on the image shown as the browser sends it, in the canvas's mode: a box over its top
    5 rows, those rows painted, or an object painted on them.

    Parameters
    ----------
    panel : Panel
        The panel showing the image.
    width : int, optional
        How far from the left edge the box or the paint reaches; across the whole image when
        None.
    """
    canvas = panel.canvas
    h, w = canvas.height, canvas.width
    across = w if width is None else width
    shape = np.zeros((h, w), np.uint8)
    shape[:5, :across] = 1
    content: dict[str, Any]
    if canvas.mode == "box":
        box = {"xyxy": [0, 0, across, 5], "label": 1}
        content = {"kind": "boxes", "boxes": [box], "drafts": []}
    elif canvas.mode == "mask":
        content = {"kind": "mask", "width": w, "height": h}
    else:
        content = {"kind": "instance", "id": 1, "label": 1, "draft": False, "rect": [0, 0, w, h]}
    buffers = [] if canvas.mode == "box" else [memoryview(shape.tobytes())]
    canvas._handle_custom_msg({"image_id": canvas.image_id, **content}, buffers)


def press(panel: alw.Panel, key: str) -> None:
    """Press `key` over the panel as the browser sends it: naming the image shown, as every key
    does (``js/src/panelkeys.js``).

    Parameters
    ----------
    panel : Panel
        The panel.
    key : str
        The key's name, as a keydown event gives it ("Enter", "n", "z").
    """
    panel.handle_key({"key": key, "image_id": panel.canvas.image_id})
