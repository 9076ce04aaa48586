"""Whether the model's drafts save work: which were right, the threshold worth showing, savings.

Pure functions over arrays (numpy only). A draft "object" is one box of a detection draft, one
object of an instance draft, or one class region (a class but the background, 0) of a mask draft;
each has a confidence: the box's or object's score, or for a region the mean probability of its
pixels' class.

- ``right_boxes`` / ``right_matches`` / ``right_regions``: which drafts were right against what the
  labeler stored (IoU >= 0.5 with a stored object of the same class).
- ``calibrate``: the lowest confidence from which drafts were right at least as often as wrong
  (precision >= 0.5) over recent images, or no drafts at all; with the reason in words.
- ``box_savings`` / ``object_savings`` / ``mask_savings``: per image, drafts accepted as is,
  adjusted, deleted, and objects drawn from scratch, from the drafts shown and the annotation
  stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import IGNORE, box_iou, confusion, match

RIGHT_IOU = 0.5  # a draft is right when it overlaps a stored object of its class this much
MIN_PRECISION = 0.5  # drafts are worth showing when right at least this often
WINDOW = 20  # recent images the threshold is calibrated on
SAME_IOU = 0.98  # a stored object this close to its draft was accepted as is
ORACLE_IOU = 0.7  # in simulation, a draft this close to a true object of its class saves it
_CHUNK = 1 << 20  # pixels whose classes `regions` counts at a time


@dataclass(frozen=True)
class Outcome:
    """One submitted image's drafts: the confidence of each and whether it was right."""

    confidences: np.ndarray
    right: np.ndarray

    def __post_init__(self) -> None:
        if np.shape(self.confidences) != np.shape(self.right):
            raise ValueError(
                f"confidences and right must have one entry per draft, got shapes "
                f"{np.shape(self.confidences)} and {np.shape(self.right)}"
            )


@dataclass(frozen=True)
class Threshold:
    """The confidence from which drafts are shown (None: no drafts at all), and why."""

    value: float | None
    reason: str

    def keeps(self, confidences: np.ndarray) -> np.ndarray:
        """Which drafts of these confidences are shown."""
        confidences = np.asarray(confidences, dtype=np.float64)
        if self.value is None:
            return np.zeros(confidences.shape, dtype=bool)
        return confidences >= self.value


NO_DRAFTS_YET = Threshold(None, "no drafts yet: no submitted image has been compared with drafts")


@dataclass(frozen=True)
class Savings:
    """Drafts compared with what was stored: accepted as is, adjusted, deleted; objects drawn."""

    accepted: int = 0
    adjusted: int = 0
    deleted: int = 0
    drawn: int = 0

    @property
    def saved(self) -> int:
        """Objects stored from a draft (accepted as is or adjusted)."""
        return self.accepted + self.adjusted

    @property
    def objects(self) -> int:
        """Objects stored: from drafts or drawn from scratch."""
        return self.saved + self.drawn

    @property
    def clicks(self) -> int:
        """Clicks saved (negative: cost), counted as a box is drawn: 2 clicks place its two
        corners (a mask region counts the same). A draft accepted as is saves both, an adjusted
        one 1 (one corner or edge moved), and a draft deleted costs 1 (a Del; one dropped at
        Submit counts the same): ``2 * accepted + adjusted - deleted``."""
        return 2 * self.accepted + self.adjusted - self.deleted

    @property
    def rate(self) -> float | None:
        """The fraction of stored objects that came from drafts, or None when none was stored."""
        return self.saved / self.objects if self.objects else None

    def __add__(self, other: Savings) -> Savings:
        return Savings(
            self.accepted + other.accepted,
            self.adjusted + other.adjusted,
            self.deleted + other.deleted,
            self.drawn + other.drawn,
        )

    def __str__(self) -> str:
        return (
            f"drafts saved {self.saved} of {self.objects} objects ({self.accepted} accepted, "
            f"{self.adjusted} adjusted, {self.deleted} deleted, {self.drawn} drawn)"
        )


def right_boxes(
    drafts: np.ndarray,
    draft_labels: np.ndarray,
    stored: np.ndarray,
    stored_labels: np.ndarray,
    *,
    iou: float = RIGHT_IOU,
) -> np.ndarray:
    """Which draft boxes were right: each matched one to one to a stored box of its class
    overlapping it by at least `iou`.

    Parameters
    ----------
    drafts, stored : numpy.ndarray
        (K, 4) and (M, 4) boxes, x0 y0 x1 y1.
    draft_labels, stored_labels : numpy.ndarray
        (K,) and (M,) class ids.
    iou : float, default 0.5
        The least overlap of a right draft.
    """
    return right_matches(box_iou(drafts, stored), draft_labels, stored_labels, iou=iou)


def right_matches(
    overlap: np.ndarray,
    draft_labels: np.ndarray,
    stored_labels: np.ndarray,
    *,
    iou: float = RIGHT_IOU,
) -> np.ndarray:
    """Which drafts were right: each matched one to one to a stored object of its class
    overlapping it by at least `iou` (boxes, or the objects of an instance draft).

    Parameters
    ----------
    overlap : numpy.ndarray
        (K, M) the IoU of each draft with each stored object.
    draft_labels, stored_labels : numpy.ndarray
        (K,) and (M,) class ids.
    iou : float, default 0.5
        The least overlap of a right draft.
    """
    same = np.asarray(draft_labels)[:, None] == np.asarray(stored_labels)[None, :]
    right = np.zeros(len(same), dtype=bool)
    for k, _ in match(np.asarray(overlap, np.float64).reshape(same.shape), same, iou):
        right[k] = True
    return right


def region_ious(draft: np.ndarray, stored: np.ndarray, ignore: int = IGNORE) -> dict[int, float]:
    """The IoU of each class region of `draft` but the background (0) with the same class in
    `stored`, over every pixel `stored` labels (not `ignore`)."""
    return _compared(draft, stored, ignore)[0]


def _compared(
    draft: np.ndarray, stored: np.ndarray, ignore: int = IGNORE
) -> tuple[dict[int, float], set[int]]:
    """`region_ious`, and the classes `stored` has a region of (``regions``), in one pass."""
    counts = _region_counts(draft, stored, ignore)
    drafted, labeled = counts.sum(axis=0), counts.sum(axis=1)
    hits = np.diag(counts)
    union = drafted + labeled - hits
    ious = {
        int(c): float(hits[c] / union[c])
        for c in np.flatnonzero(drafted).tolist()
        if c not in (0, ignore)
    }
    return ious, {int(c) for c in np.flatnonzero(labeled).tolist()} - {0, ignore}


def regions(class_map: np.ndarray, ignore: int = IGNORE) -> set[int]:
    """The classes `class_map` has a region of, but the background (0) and `ignore`."""
    flat = np.asarray(class_map).ravel()
    found: set[int] = set()
    for start in range(0, flat.size, _CHUNK):  # no image-sized int64 array
        found.update(np.flatnonzero(np.bincount(flat[start : start + _CHUNK])).tolist())
    return found - {0, ignore}


def _largest(class_map: np.ndarray) -> int:
    """The largest value `class_map` may hold: its dtype's for bytes, else its own."""
    if class_map.dtype in (np.uint8, np.bool_):
        return int(np.iinfo(np.uint8).max)
    return int(class_map.max(initial=0))


def _region_counts(draft: np.ndarray, stored: np.ndarray, ignore: int) -> np.ndarray:
    """The confusion of `draft` (columns) against `stored` (rows) over the pixels it labels."""
    draft, stored = np.asarray(draft), np.asarray(stored)
    if draft.shape != stored.shape:
        raise ValueError(
            f"the draft and stored masks must have one size, got {draft.shape} and {stored.shape}"
        )
    n = 1 + max(_largest(draft), _largest(stored), ignore)
    return confusion(draft, stored, n, ignore_index=ignore)


def right_regions(
    draft: np.ndarray, stored: np.ndarray, confidences: np.ndarray, *, iou: float = RIGHT_IOU
) -> Outcome:
    """A mask draft's class regions (but the background), each with its confidence and whether
    it was right: its IoU with the stored class map's region of that class is at least `iou`.

    Parameters
    ----------
    draft, stored : numpy.ndarray
        (H, W) class maps: the model's draft and the labeler's mask.
    confidences : numpy.ndarray
        (C,) the confidence of each class's region in the draft.
    iou : float, default 0.5
        The least overlap of a right region.
    """
    ious = region_ious(draft, stored)
    classes = sorted(ious)
    return Outcome(
        np.array([confidences[c] for c in classes], dtype=np.float64),
        np.array([ious[c] >= iou for c in classes], dtype=bool),
    )


def calibrate(outcomes: Sequence[Outcome], min_precision: float = MIN_PRECISION) -> Threshold:
    """The lowest confidence from which the drafts of `outcomes` were right at least
    `min_precision` of the time; no drafts at all when no confidence gets there.

    Parameters
    ----------
    outcomes : sequence of Outcome
        Recent submitted images' drafts (``WINDOW`` of them, say).
    min_precision : float, default 0.5
        The least fraction of drafts shown that must have been right.
    """
    if not outcomes:
        return NO_DRAFTS_YET
    confidences = np.concatenate([np.asarray(o.confidences, np.float64) for o in outcomes])
    right = np.concatenate([np.asarray(o.right, bool) for o in outcomes])
    images = f"{len(outcomes)} image{'s' if len(outcomes) != 1 else ''}"
    if not len(confidences):
        return Threshold(None, f"no drafts: the model drafted nothing on the last {images}")
    order = np.argsort(-confidences, kind="stable")
    confidences, right = confidences[order], right[order]
    precision = np.cumsum(right) / np.arange(1, len(right) + 1)
    # A threshold at a confidence shows every draft of that confidence: only the last of ties.
    last = np.r_[confidences[1:] != confidences[:-1], True]
    good = np.flatnonzero(last & (precision >= min_precision))
    if not len(good):
        best = float(precision[last].max())
        return Threshold(
            None,
            f"no drafts: at best {best:.0%} of the model's drafts were kept lately "
            f"({int(right.sum())} of {len(right)} on the last {images})".replace("%", " %"),
        )
    k = int(good[-1])
    value = float(confidences[k])
    return Threshold(
        value,
        f"drafts from {value:.2f}: {precision[k]:.0%} of those kept lately "
        f"({int(right[: k + 1].sum())} of {k + 1} on the last {images})".replace("%", " %"),
    )


def box_savings(
    shown: np.ndarray,
    shown_labels: np.ndarray,
    stored: np.ndarray,
    stored_labels: np.ndarray,
    *,
    iou: float = RIGHT_IOU,
) -> Savings:
    """How the drafts shown became the boxes stored (``object_savings`` on the boxes' IoU).

    Parameters
    ----------
    shown, stored : numpy.ndarray
        (K, 4) and (M, 4) boxes, x0 y0 x1 y1: the drafts shown and the boxes stored.
    shown_labels, stored_labels : numpy.ndarray
        (K,) and (M,) class ids.
    iou : float, default 0.5
        The least overlap of a draft with the box made from it.
    """
    return object_savings(box_iou(shown, stored), shown_labels, stored_labels, iou=iou)


def object_savings(
    overlap: np.ndarray,
    shown_labels: np.ndarray,
    stored_labels: np.ndarray,
    *,
    iou: float = RIGHT_IOU,
) -> Savings:
    """How the drafts shown became the objects stored (boxes, or instances): a stored object
    matched to a draft (one to one, overlap at least `iou`) is accepted as is when the same
    (class, IoU >= 0.98), else adjusted (moved, resized, reshaped or reclassed); drafts left
    unmatched were deleted, stored objects left unmatched were drawn.

    Parameters
    ----------
    overlap : numpy.ndarray
        (K, M) the IoU of each draft shown with each object stored.
    shown_labels, stored_labels : numpy.ndarray
        (K,) and (M,) class ids.
    iou : float, default 0.5
        The least overlap of a draft with the object made from it.
    """
    shown_labels, stored_labels = np.asarray(shown_labels), np.asarray(stored_labels)
    overlap = np.asarray(overlap, np.float64).reshape(len(shown_labels), len(stored_labels))
    pairs = match(overlap, np.ones(overlap.shape, dtype=bool), iou)
    same = sum(overlap[k, m] >= SAME_IOU and shown_labels[k] == stored_labels[m] for k, m in pairs)
    return Savings(
        accepted=int(same),
        adjusted=len(pairs) - int(same),
        deleted=len(shown_labels) - len(pairs),
        drawn=len(stored_labels) - len(pairs),
    )


def oracle_boxes(
    shown: np.ndarray,
    shown_labels: np.ndarray,
    truth: np.ndarray,
    true_labels: np.ndarray,
    *,
    iou: float = ORACLE_IOU,
) -> Savings:
    """What an oracle makes of the box drafts shown (``oracle_objects`` on the boxes' IoU).

    Parameters
    ----------
    shown, truth : numpy.ndarray
        (K, 4) and (M, 4) boxes, x0 y0 x1 y1.
    shown_labels, true_labels : numpy.ndarray
        (K,) and (M,) class ids.
    iou : float, default 0.7
        The least overlap of a draft that saves drawing its object.
    """
    return oracle_objects(box_iou(shown, truth), shown_labels, true_labels, iou=iou)


def oracle_objects(
    overlap: np.ndarray,
    shown_labels: np.ndarray,
    true_labels: np.ndarray,
    *,
    iou: float = ORACLE_IOU,
) -> Savings:
    """What an oracle makes of the drafts shown: one overlapping a true object of its class by
    at least `iou` (one to one) is accepted, the others deleted; the true objects left are drawn.

    Parameters
    ----------
    overlap : numpy.ndarray
        (K, M) the IoU of each draft shown with each true object.
    shown_labels, true_labels : numpy.ndarray
        (K,) and (M,) class ids.
    iou : float, default 0.7
        The least overlap of a draft that saves drawing its object.
    """
    saved = int(right_matches(overlap, shown_labels, true_labels, iou=iou).sum())
    return Savings(
        accepted=saved, deleted=len(shown_labels) - saved, drawn=len(true_labels) - saved
    )


def oracle_mask(shown: np.ndarray | None, truth: np.ndarray, *, iou: float = ORACLE_IOU) -> Savings:
    """What an oracle makes of a mask draft shown, region by class region (but the background):
    one overlapping the true region of its class by at least `iou` is accepted, the others
    deleted; the true regions left are drawn.

    Parameters
    ----------
    shown : numpy.ndarray or None
        (H, W) the draft's class map, or None when no draft was shown.
    truth : numpy.ndarray
        (H, W) the true class map.
    iou : float, default 0.7
        The least overlap of a draft region that saves painting its region.
    """
    ious, present = ({}, regions(truth)) if shown is None else _compared(shown, truth)
    saved = sum(v >= iou for v in ious.values())
    return Savings(accepted=saved, deleted=len(ious) - saved, drawn=len(present) - saved)


def mask_savings(
    shown: np.ndarray | None, stored: np.ndarray, *, iou: float = RIGHT_IOU
) -> Savings:
    """How the mask draft shown became the mask stored, region by class region (but the
    background): a stored region whose draft region overlaps it by at least `iou` is accepted
    (IoU >= 0.98) or adjusted; other draft regions were deleted, other stored regions drawn.

    Parameters
    ----------
    shown : numpy.ndarray or None
        (H, W) the draft's class map, or None when no draft was shown.
    stored : numpy.ndarray
        (H, W) the stored class map.
    iou : float, default 0.5
        The least overlap of a draft region with the region made from it.
    """
    ious, present = ({}, regions(stored)) if shown is None else _compared(shown, stored)
    kept = {c for c, v in ious.items() if v >= iou}
    same = sum(ious[c] >= SAME_IOU for c in kept)
    return Savings(
        accepted=same,
        adjusted=len(kept) - same,
        deleted=len(ious) - len(kept),
        drawn=len(present - kept),
    )
