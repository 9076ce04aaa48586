"""The draft threshold the panel shows box and mask drafts from, and the line that says why and
what drafts saved.

By default the threshold is the loop's, calibrated from the labeler's own submissions
(``loop.draft_threshold``; None: no drafts at all yet). Moving the slider, or the `,` / `.`
keys, sets it by hand for the session; the "calibrated" button goes back to the loop's.
The canvas hides the box drafts below it (``Canvas.draft_threshold``; js/src/drafts.js); the
editor shows a mask draft's class regions at or above it (``Editor.show_mask_draft``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..annotations import Boxes
from ..loop import ActiveLoop
from . import status
from .canvas import Canvas
from .panel_lock import PanelLock

STEP = 0.05
"""How far `,` and `.` move the threshold."""


def shown(drafts: Sequence[dict[str, Any]], threshold: float | None) -> list[dict[str, Any]]:
    """The drafts the canvas shows at `threshold`: those whose ``"score"`` is at or above it
    (none while it is None); a draft without a score is always shown. js/src/drafts.js's
    ``isShown`` is the same rule.

    Parameters
    ----------
    drafts : sequence of dict
        ``Canvas.drafts`` or ``Canvas.loaded_drafts``.
    threshold : float or None
        ``Canvas.draft_threshold``.
    """

    def keep(draft: dict[str, Any]) -> bool:
        score = draft.get("score")
        if score is None:
            return True
        return threshold is not None and score >= threshold

    return [d for d in drafts if keep(d)]


def draft_dicts(
    draft: Boxes, confidences: np.ndarray | None, classes: Sequence[str]
) -> list[dict[str, Any]]:
    """The model's box drafts as ``Canvas.load`` takes them, each with its confidence
    (``"score"``, as the model gave it: a draft at the loop's threshold is shown), the most
    confident first (an image holds ``MAX_BOXES`` at most: the least
    confident are the ones left out).

    Parameters
    ----------
    draft : Boxes
        The model's boxes (``loop.prediction(i)``).
    confidences : numpy.ndarray or None
        (K,) one per box (``loop.draft_confidences(i)``); None or another length: no scores.
    classes : sequence of str
        The dataset's classes.
    """
    ids = draft.class_ids(classes)
    found = [
        {"xyxy": [float(c) for c in row], "label": int(label)}
        for row, label in zip(draft.xyxy, ids, strict=True)
    ]
    if confidences is None or len(confidences) != len(found):
        return found
    scores = np.clip(np.nan_to_num(np.asarray(confidences, np.float64), nan=0.0), 0.0, 1.0)
    for box, score in zip(found, scores, strict=True):
        # Unrounded: the canvas compares it with the loop's threshold, as the loop does.
        box["score"] = float(score)
    return sorted(found, key=lambda box: -box["score"])


def as_boxes(drafts: Sequence[dict[str, Any]]) -> Boxes | None:
    """Drafts (canvas dicts) as Boxes, or None when there are none."""
    if not drafts:
        return None
    return Boxes(np.array([d["xyxy"] for d in drafts], np.float64), [d["label"] for d in drafts])


class DraftBar:
    """The draft threshold slider, its "calibrated" button and the drafts line of a detection or
    segmentation panel, and the threshold the canvas shows drafts from.

    Thread safety: none of its own; the panel's lock (given to ``attach``) guards ``manual``
    and the widgets' values: the slider's observer takes it, every other call comes from the
    panel under it.

    Parameters
    ----------
    canvas : Canvas
        The canvas whose ``draft_threshold`` it sets.
    """

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.slider = widgets.FloatSlider(
            description="drafts from",
            min=0.0,
            max=1.0,
            step=0.01,
            value=1.0,
            readout_format=".2f",
            continuous_update=False,
            style={"description_width": "initial"},
            layout=widgets.Layout(flex="1 1 0%", min_width="0"),
            tooltip="drafts below this confidence are hidden (, lower · . raise)",
        )
        self.slider.add_class("alw-draft-threshold")
        self.calibrated = widgets.Button(
            description="calibrated",
            icon="magic",
            tooltip="go back to the threshold calibrated from your submissions",
            disabled=True,
            layout=widgets.Layout(width="auto", flex="0 0 auto"),
        )
        self.line = widgets.HTML()
        self.line.add_class("alw-drafts-line")
        self.box = widgets.VBox(
            [widgets.HBox([self.slider, self.calibrated]), self.line],
        )
        self.manual: float | None = None  # set by hand (slider, keys) for the session
        self._loop: ActiveLoop | None = None
        self._lock: threading.RLock | PanelLock = threading.RLock()
        self._setting = False  # the slider is being set by code, not by the labeler
        self.slider.observe(self._on_slide, "value")
        self.calibrated.on_click(lambda _: self.use_calibrated())

    def attach(self, loop: ActiveLoop, lock: PanelLock) -> None:
        """Follow `loop`'s calibrated threshold, under the panel's `lock`.

        Parameters
        ----------
        loop : ActiveLoop
            The loop whose ``draft_threshold``, ``draft_reason`` and ``draft_savings`` are shown.
        lock : PanelLock
            The panel's lock.
        """
        self._loop, self._lock = loop, lock
        self.refresh()

    @property
    def threshold(self) -> float | None:
        """The threshold the canvas shows drafts from: the one set by hand, else the loop's."""
        if self.manual is not None:
            return self.manual
        return None if self._loop is None else self._loop.draft_threshold

    def refresh(self) -> None:
        """Show the threshold on the slider, the canvas and the drafts line (after a submit, a
        round, a change by hand)."""
        loop = self._loop
        if loop is None:
            return
        threshold = self.threshold
        self._setting = True
        try:
            self.slider.value = 1.0 if threshold is None else threshold
        finally:
            self._setting = False
        self.calibrated.disabled = self.manual is None
        self.canvas.draft_threshold = threshold
        self.line.value = status.drafts_line(loop.draft_savings, loop.draft_reason, self.manual)

    def nudge(self, step: float) -> None:
        """Move the threshold by `step` (the `,` and `.` keys), by hand for the session.

        Parameters
        ----------
        step : float
            Added to the threshold shown (1.0 while there are no drafts), kept in [0, 1].
        """
        threshold = self.threshold
        start = 1.0 if threshold is None else threshold
        self.set_by_hand(start + step)

    def set_by_hand(self, value: float) -> None:
        """Show drafts from `value` for the rest of the session (``use_calibrated`` undoes it).

        Parameters
        ----------
        value : float
            The threshold, kept in [0, 1].
        """
        self.manual = round(min(1.0, max(0.0, float(value))), 4)
        self.refresh()

    def use_calibrated(self) -> None:
        """Go back to the loop's calibrated threshold."""
        with self._lock:
            self.manual = None
            self.refresh()

    def _on_slide(self, change: dict[str, Any]) -> None:
        if self._setting:
            return
        with self._lock:
            self.set_by_hand(change["new"])
