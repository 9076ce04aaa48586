"""N (the "No objects" or "All background" button): the label that says an image holds nothing
to box, outline or paint, on purpose, and when the canvas's contents refuse it.

The label lies on the pixels the canvas showed (their size; ``Actions.commit`` passes the
orientation they were read in), as Enter's does (``Editor.annotation``): on a photo another
program turned or replaced by one of another size since, the checks that refuse Enter's label
refuse it the same way, and nothing is stored.
"""

from __future__ import annotations

import numpy as np

from ..annotations import Boxes, Mask
from ..instances import Instances
from .canvas import Canvas


def refusal(task: str, canvas: Canvas) -> str:
    """Why N is refused on what `canvas` holds, or "" when it is not: boxes, objects or painted
    pixels (of a class other than background) the labeler drew or accepted, which N would
    throw away; they are deleted or erased first. The model's drafts, a mask draft included, do
    not refuse it: N drops them, as Enter drops the drafts left undecided.

    Parameters
    ----------
    task : str
        ``"detect"``, ``"segment"`` or ``"instances"``.
    canvas : Canvas
        The canvas showing the image.
    """
    if task == "detect" and canvas.boxes:
        held, done, how = "boxes", "no objects", "delete"
    elif task == "instances" and any(not o.draft for o in canvas.objects):
        held, done, how = "objects", "no objects", "delete"
    elif task == "segment" and not canvas.mask_draft and canvas.mask_array().any():
        held, done, how = "painted pixels", "all background", "erase"
    else:
        return ""
    return f"not submitted as {done}: the image has {held}; {how} them first"


def label(task: str, canvas: Canvas) -> Boxes | Mask | Instances:
    """The label "nothing here" of the image `canvas` shows, on the pixels it shows: no boxes
    (detection), all background (segmentation) or no objects (instance segmentation).

    Parameters
    ----------
    task : str
        ``"detect"``, ``"segment"`` or ``"instances"``.
    canvas : Canvas
        The canvas showing the image.
    """
    height, width = canvas.height, canvas.width
    if task == "instances":
        return Instances.empty((width, height))
    if task == "segment":
        return Mask(np.zeros((height, width), np.uint8))
    return Boxes(np.zeros((0, 4)), [], canvas_size=(height, width))
