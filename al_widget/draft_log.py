"""The drafts of submitted images: the calibrated draft threshold, and the work drafts saved."""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import drafts
from .annotations import IGNORE, Annotation, Boxes, Mask
from .drafts import Outcome, Savings, Threshold
from .instances import Instances


@dataclass(frozen=True)
class DraftRecord:
    """One submitted image: its drafts' outcome (None: the model drafted nothing for it) and
    how the drafts shown became the annotation stored."""

    index: int
    outcome: Outcome | None
    savings: Savings


def shown_draft(
    draft: Annotation | None, confidences: np.ndarray | None, threshold: Threshold
) -> Annotation | None:
    """The part of `draft` at or above `threshold`: its boxes or objects, or a mask whose regions
    below it are not labeled (``IGNORE``); None when nothing is left (a mask with no class
    region but the background left is nothing).

    Parameters
    ----------
    draft : Boxes, Instances, Mask or None
        The model's draft.
    confidences : numpy.ndarray or None
        (K,) per box or object, or (C,) per class of a mask; None counts as no confidence
        (nothing shown).
    threshold : Threshold
        The confidence from which drafts are shown.
    """
    if draft is None or confidences is None:
        return None
    if isinstance(draft, Boxes):
        keep = threshold.keeps(confidences)
        if not keep.any():
            return None
        labels = [label for label, k in zip(draft.labels, keep, strict=True) if k]
        return Boxes(draft.xyxy[keep], labels, canvas_size=draft.canvas_size)
    if isinstance(draft, Instances):
        keep = threshold.keeps(confidences)
        if not keep.any():
            return None
        return draft.subset(np.flatnonzero(keep))
    if isinstance(draft, Mask):
        shown = threshold.keeps(np.nan_to_num(confidences, nan=-1.0))
        shown[0] = shown[1:].any()  # the background is shown around the regions shown
        if not shown[1:].any():
            return None
        class_map = draft.class_map.copy()
        table = np.full(256, IGNORE, dtype=class_map.dtype)
        table[np.flatnonzero(shown)] = np.flatnonzero(shown)
        return Mask(table[class_map])
    return None


def outcome_of(
    draft: Annotation | None,
    confidences: np.ndarray | None,
    stored: Annotation,
    classes: Sequence[str],
) -> Outcome | None:
    """Which of the model's drafts for an image were right against the annotation stored; None
    when there was no draft (or one of another kind, or another size)."""
    if draft is None or confidences is None:
        return None
    if isinstance(draft, Boxes) and isinstance(stored, Boxes):
        right = drafts.right_boxes(
            draft.xyxy, draft.class_ids(classes), stored.xyxy, stored.class_ids(classes)
        )
        return Outcome(np.asarray(confidences, np.float64), right)
    if (
        isinstance(draft, Mask)
        and isinstance(stored, Mask)
        and draft.class_map.shape == stored.class_map.shape
    ):
        return drafts.right_regions(draft.class_map, stored.class_map, confidences)
    if isinstance(draft, Instances) and isinstance(stored, Instances) and draft.size == stored.size:
        right = drafts.right_matches(
            draft.ious(stored), draft.class_ids(classes), stored.class_ids(classes)
        )
        return Outcome(np.asarray(confidences, np.float64), right)
    return None


def savings_of(shown: Annotation | None, stored: Annotation, classes: Sequence[str]) -> Savings:
    """How the drafts shown (None: none) became the annotation stored."""
    if isinstance(stored, Boxes):
        boxes = shown if isinstance(shown, Boxes) else Boxes([], [])
        return drafts.box_savings(
            boxes.xyxy, boxes.class_ids(classes), stored.xyxy, stored.class_ids(classes)
        )
    if isinstance(stored, Mask):
        same = isinstance(shown, Mask) and shown.class_map.shape == stored.class_map.shape
        return drafts.mask_savings(shown.class_map if same else None, stored.class_map)  # type: ignore[union-attr]
    if isinstance(stored, Instances):
        objects = _objects_shown(shown, stored)
        return drafts.object_savings(
            objects.ious(stored), objects.class_ids(classes), stored.class_ids(classes)
        )
    return Savings()


def oracle_savings(shown: Annotation | None, truth: Annotation, classes: Sequence[str]) -> Savings:
    """What an oracle that knows `truth` makes of the drafts `shown` (``drafts.oracle_boxes``,
    ``drafts.oracle_mask``: a draft saves its object at IoU >= 0.7 with it)."""
    if isinstance(truth, Boxes):
        boxes = shown if isinstance(shown, Boxes) else Boxes([], [])
        return drafts.oracle_boxes(
            boxes.xyxy, boxes.class_ids(classes), truth.xyxy, truth.class_ids(classes)
        )
    if isinstance(truth, Mask):
        same = isinstance(shown, Mask) and shown.class_map.shape == truth.class_map.shape
        return drafts.oracle_mask(shown.class_map if same else None, truth.class_map)  # type: ignore[union-attr]
    if isinstance(truth, Instances):
        objects = _objects_shown(shown, truth)
        return drafts.oracle_objects(
            objects.ious(truth), objects.class_ids(classes), truth.class_ids(classes)
        )
    return Savings()


def _objects_shown(shown: Annotation | None, stored: Instances) -> Instances:
    """The instance drafts shown on `stored`'s image; none when there were none (or another
    kind, or another size)."""
    if isinstance(shown, Instances) and shown.size == stored.size:
        return shown
    return Instances.empty(stored.size)


class DraftLog:
    """What the drafts of submitted images showed: one record per image (the last submission
    of each), the threshold calibrated on the last ``drafts.WINDOW`` images that had drafts,
    and the savings so far.

    Thread safety: none of its own; the session's lock guards every call.
    """

    def __init__(self) -> None:
        self._records: collections.OrderedDict[int, DraftRecord] = collections.OrderedDict()
        self._threshold = drafts.NO_DRAFTS_YET

    @property
    def threshold(self) -> Threshold:
        """The calibrated threshold."""
        return self._threshold

    @property
    def records(self) -> tuple[DraftRecord, ...]:
        """One record per submitted image, oldest first."""
        return tuple(self._records.values())

    def savings(self, last: int | None = None) -> Savings:
        """The savings of all images, or of the `last` ones."""
        records = list(self._records.values())
        if last is not None:
            records = records[-last:]
        return sum((r.savings for r in records), Savings())

    def add(self, record: DraftRecord) -> None:
        """Record a submitted image (replacing its earlier record) and recalibrate."""
        self._records.pop(record.index, None)
        self._records[record.index] = record
        self._calibrate()

    def remove(self, index: int) -> DraftRecord | None:
        """Forget image `index` (its label was undone or replaced) and recalibrate; the record
        forgotten (None: there was none)."""
        record = self._records.pop(index, None)
        if record is not None:
            self._calibrate()
        return record

    def _calibrate(self) -> None:
        outcomes = [r.outcome for r in self._records.values() if r.outcome is not None]
        self._threshold = drafts.calibrate(outcomes[-drafts.WINDOW :])
