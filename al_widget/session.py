"""The labeling session: queue, skip / broken / undo, the pending front, and what the panel shows
of an image (``describe``; its words in description.py)."""

from __future__ import annotations

import heapq
import threading
from typing import Literal, NamedTuple

import numpy as np

from . import description
from ._undo_numbers import UndoNumbers
from .agreement import agreement
from .annotations import Annotation, Label
from .dataset import Dataset
from .description import Description
from .draft_log import DraftLog, DraftRecord, outcome_of, savings_of, shown_draft
from .drafts import Savings, Threshold
from .ranking import Ranking

_AGREEMENT_WINDOW = 50  # recent labels the agreement metric looks at
_DRAFTS_KEPT = 10  # recent commits whose drafts shown the undo stack keeps (a mask each)
_AGREEMENT_MIN = 5  # labels before agreement means anything
_FIRST_WINDOW = 64  # ranked indices `next` looks at first
SHOWN_AT_THRESHOLD = object()  # `commit`'s default: the drafts the calibrated threshold shows
_Agreed = tuple[int, float]  # a stored label's agreement entry: (its commit's number, agreement)


class Undone(NamedTuple):
    """A commit or skip that ``undo`` took back and ``redo`` would make again."""

    action: str
    """``"commit"`` or ``"skip"``."""
    image_index: int
    annotation: Annotation | None
    """The annotation the commit stored (None for a skip)."""


class Session:
    """The labeling state of one loop; the user's thread changes it, the worker reads it.

    Thread safety: ``_lock`` guards ``_skipped``, ``_broken``, ``_front``, ``_undo``, ``_redo``,
    ``_edited``, ``_agreement``, ``_commits``, ``_drafts`` and ``_rng``; no field is written without it. Lock order:
    panel → loop's session → round worker → dataset; this class takes the dataset's lock and
    ``numbers``' (inside its own) and no other.
    ``candidates``, ``report_broken`` and ``agreement`` are also called on the worker thread.

    Parameters
    ----------
    dataset : Dataset
        The images and their annotations.
    rng : numpy.random.Generator
        Picks an image at random when the ranking has run dry.
    """

    def __init__(self, dataset: Dataset, rng: np.random.Generator) -> None:
        self.dataset = dataset
        self._lock = threading.RLock()
        self._rng = rng
        self._skipped: set[int] = set()
        self._broken: dict[int, str] = {}
        self._front: list[int] = []
        # (action, index, the annotation before and the EXIF orientation it was journaled with
        # (``Dataset.drawn_in``; undo journals it again with it), the drafts shown, for a commit
        # the agreement entries of image `index` before and after it, and the draft record of
        # the label it replaced), the latest last
        self._undo: list[
            tuple[
                str,
                int,
                Annotation | None,
                int | None,
                Annotation | None,
                tuple[_Agreed | None, ...],
                DraftRecord | None,
            ]
        ] = []
        # What undo took back, the latest last, with the drafts shown when it was committed, its
        # agreement entry and the EXIF orientation its label was journaled with (redo journals
        # it again with it); a new action clears it
        self._redo: list[tuple[Undone, Annotation | None, _Agreed | None, int | None]] = []
        # The images of `_redo` edited since their undo (in any panel on the loop): redo of a
        # commit is refused for them, whichever panel asks (a skip keeps the edit); undoing or
        # redoing a skip of one keeps its edit
        self._edited: set[int] = set()
        # The model's agreement with each stored label it offered a prediction for, by image;
        # only stored labels have one (undo takes its commit's entry away, redo puts it back)
        self._agreement: dict[int, _Agreed] = {}
        self._commits = 0  # numbers the agreement entries, the latest highest
        self.numbers = UndoNumbers()  # of the `_undo` records (its own lock)
        self._drafts = DraftLog()

    # -- reading -------------------------------------------------------------------------------

    @property
    def skipped(self) -> frozenset[int]:
        """Indices the user skipped."""
        with self._lock:
            return frozenset(self._skipped)

    @property
    def broken(self) -> dict[int, str]:
        """Indices whose image could not be read, with the reason."""
        with self._lock:
            return dict(self._broken)

    def candidates(self) -> np.ndarray:
        """Unlabeled indices that are neither skipped nor broken (any thread)."""
        with self._lock:
            unlabeled = self.dataset.unlabeled
            hidden = self._hidden()
            return unlabeled[~np.isin(unlabeled, list(hidden))] if hidden else unlabeled

    def queue(self, ranking: Ranking) -> np.ndarray:
        """Indices still to label, most uncertain first: images brought back by undo lead."""
        with self._lock:
            ranked = ranking.indices
            keep = ~self.dataset.is_labeled(ranked)
            hidden = self._hidden()
            if hidden:
                keep &= ~np.isin(ranked, list(hidden))
            front = self._pending_front()
            rest = ranked[keep]
            return np.concatenate([np.array(front, dtype=np.int64), rest[~np.isin(rest, front)]])

    def next(self, ranking: Ranking) -> int | None:
        """The head of the queue, or a random unlabeled image when the ranking ran dry."""
        with self._lock:
            front = self._pending_front()
            if front:
                return front[0]
            hidden = self._hidden()
            # The head is almost always free: look at a growing window, not a million indices.
            start, width = 0, _FIRST_WINDOW
            while start < len(ranking.indices):
                head = ranking.indices[start : start + width]
                for i, done in zip(head, self.dataset.is_labeled(head), strict=True):
                    if not done and int(i) not in hidden:
                        return int(i)
                start, width = start + width, width * 16
            pool = self.candidates()
            return int(self._rng.choice(pool)) if len(pool) else None

    def agreement(self) -> float | None:
        """How often the model's prediction matched the user's recent labels, of those stored
        (any thread)."""
        with self._lock:
            recent = heapq.nlargest(_AGREEMENT_WINDOW, self._agreement.values())
        if len(recent) < _AGREEMENT_MIN:
            return None
        return float(np.mean([agreed for _, agreed in recent]))

    @property
    def draft_threshold(self) -> Threshold:
        """The draft threshold calibrated on the submitted images, with its reason."""
        with self._lock:
            return self._drafts.threshold

    def draft_savings(self, last: int | None = None) -> Savings:
        """The drafts' savings over every submitted image, or over the `last` ones."""
        with self._lock:
            return self._drafts.savings(last)

    @property
    def draft_records(self) -> tuple[DraftRecord, ...]:
        """Per submitted image (its last submission), oldest first: its drafts' outcome and
        savings."""
        with self._lock:
            return self._drafts.records

    def draft(self, i: int, ranking: Ranking) -> Annotation | None:
        """The model's draft for image `i` under `ranking`, as the calibrated threshold shows it."""
        with self._lock:
            threshold = self._drafts.threshold
        return shown_draft(ranking.drafts.get(i), ranking.confidences.get(i), threshold)

    def to_undo(self) -> tuple[str, int] | None:
        """What ``undo`` would take back: (``"commit"`` or ``"skip"``, index), or None."""
        with self._lock:
            return self._undo[-1][:2] if self._undo else None

    def undone(self) -> Undone | None:
        """What ``redo`` would make again (the latest undo's commit or skip), or None."""
        with self._lock:
            return self._redo[-1][0] if self._redo else None

    def undone_drafts(self) -> Annotation | None:
        """The model's drafts the labeler was shown when the commit ``redo`` would make again
        was made (None: none were, or there is no such commit)."""
        with self._lock:
            return self._redo[-1][1] if self._redo else None

    def undone_drawn_in(self) -> int | None:
        """The EXIF orientation the label of the commit ``redo`` would make again was journaled
        with (``Dataset.drawn_in``), or None: none was, or there is no such commit."""
        with self._lock:
            return self._redo[-1][3] if self._redo else None

    def edited_since_undo(self, i: int) -> bool:
        """Whether image `i`, brought back by an undo ``redo`` would make again, was edited
        since (``note_edited``)."""
        with self._lock:
            return i in self._edited

    def note_edited(self, i: int) -> None:
        """Image `i` was edited (in a panel) since the undo that brought it back: ``redo``
        would overwrite the edit, so the panels refuse it. Nothing is noted for an image no undo
        brought back."""
        with self._lock:
            if any(undone.image_index == i for undone, *_ in self._redo):
                self._edited.add(i)

    def describe(self, i: int, ranking: Ranking) -> Description:
        """What is known about image `i` under `ranking`, with why it is in the queue in words."""
        i = self.dataset.check_index(i)
        annotation = self.dataset.annotation(i)
        with self._lock:
            skipped, broken, front = i in self._skipped, self._broken.get(i), i in self._front
        return description.describe(
            i, annotation, ranking, skipped=skipped, broken=broken, front=front
        )

    # -- acting --------------------------------------------------------------------------------

    def commit(
        self,
        i: int,
        annotation: Annotation,
        ranking: Ranking,
        *,
        replace: bool = False,
        shown: Annotation | object | None = SHOWN_AT_THRESHOLD,
        orientation: int | Literal["file"] | None = "file",
    ) -> Annotation:
        """Label image `i`; the model's agreement with it is recorded from `ranking`, and its
        drafts are compared with it: which were right (the draft threshold is recalibrated) and
        how the drafts `shown` (by default those the threshold showed) became it. The label
        is journaled with the EXIF `orientation` it was drawn in (``Dataset.annotate``).

        What undo took back can no longer be redone.
        """
        with self._lock:
            stored = self._commit(
                i, annotation, ranking, replace=replace, shown=shown, orientation=orientation
            )
            self._redo.clear()
            self._edited.clear()
            return stored

    def _commit(
        self,
        i: int,
        annotation: Annotation,
        ranking: Ranking,
        *,
        replace: bool,
        shown: Annotation | object | None = SHOWN_AT_THRESHOLD,
        redone: bool = False,
        entry: _Agreed | None = None,
        orientation: int | Literal["file"] | None = "file",
    ) -> Annotation:
        # Caller holds the lock. All or nothing: what can fail (the checks, the agreement, the
        # drafts' comparison) runs before the dataset takes the label, and when the dataset
        # refuses it nothing has changed; after it, only this session's own fields change.
        # A redo (`redone`) gives the agreement `entry` the commit had, and the `orientation`
        # its label was journaled with; else the agreement is measured, and the orientation is
        # the one the label was drawn in ("file": the file's now).
        with self._lock:
            previous = self.dataset.annotation(i)
            previous_drawn_in = self.dataset.drawn_in(i)
            if previous is not None and not replace:
                raise ValueError(
                    f"image {i} is already labeled ({previous!r}); pass replace=True to change it, or undo() first"
                )
            i, bound = self.dataset.checked(i, annotation)
            agreed = None if redone else agreement(ranking, i, bound, self.dataset.classes)
            record, drafts_shown = self._drafts_record(i, bound, ranking, shown)
            stored = self.dataset.annotate(i, bound, orientation=orientation)
            if i in self._front:
                self._front.remove(i)
            self._skipped.discard(i)
            if not redone:  # a redo puts back the entry its commit had
                self._commits += 1
                entry = None if agreed is None else (self._commits, agreed)
            replaced = self._agreement.pop(i, None)  # the label replaced is no longer stored
            if entry is not None:
                self._agreement[i] = entry
            # the label replaced gives its draft record up; undo puts it back
            replaced_record = self._drafts.remove(i) if previous is not None else None
            if record is not None:
                self._drafts.add(record)
            # the drafts shown are kept for a redo, or a resubmit
            self._undo.append(
                (
                    "commit",
                    i,
                    previous,
                    previous_drawn_in,
                    drafts_shown,
                    (replaced, entry),
                    replaced_record,
                )
            )
            self.numbers.push()
            if len(self._undo) > _DRAFTS_KEPT:  # older commits keep their labels, not drafts
                action, j, before, turn, _, entries, old = self._undo[-_DRAFTS_KEPT - 1]
                self._undo[-_DRAFTS_KEPT - 1] = (action, j, before, turn, None, entries, old)
            return stored

    def skip(self, i: int) -> None:
        """Leave image `i` out of the queue; what undo took back can no longer be redone."""
        with self._lock:
            self._skip(i)
            self._redo.clear()
            self._edited.clear()

    def _skip(self, i: int) -> None:
        with self._lock:
            i = self.dataset.check_index(i)
            labeled = self.dataset.annotation(i)
            if labeled is not None:
                raise ValueError(
                    f"image {i} is already labeled ({labeled!r}): only an image still to label "
                    "can be skipped; undo() or replace its label instead"
                )
            self._skipped.add(i)
            self._undo.append(("skip", i, None, None, None, (), None))
            self.numbers.push()
            if i in self._front:
                self._front.remove(i)

    def undo(self) -> tuple[str, int] | None:
        """Undo the last commit or skip: (what was undone, index), or None when nothing is left.

        All or nothing, like a commit: when the dataset refuses the change (a journal that
        cannot be written raises ``JournalError``), the label, the journal and the undo stack
        stay as they were, and undo can be tried again.
        """
        with self._lock:
            if not self._undo:
                return None
            action, i, previous, previous_drawn_in, shown, entries, replaced_record = self._undo[-1]
            stored = self.dataset.annotation(i) if action == "commit" else None
            stored_drawn_in = self.dataset.drawn_in(i)
            if action == "commit":
                if previous is None:
                    self.dataset.remove(i)
                else:  # drawn in the orientation it was first journaled with, not the file's now
                    self.dataset.annotate(i, previous, orientation=previous_drawn_in)
            self._undo.pop()  # only once the dataset took the change
            self.numbers.pop()
            self._redo.append(
                (
                    Undone(action, i, stored),
                    shown,
                    entries[1] if entries else None,
                    stored_drawn_in,
                )
            )
            if action == "commit":
                self._edited.discard(i)  # it comes back as it was stored
                self._drafts.remove(i)
                if replaced_record is not None:  # the label stored before: its drafts' record
                    self._drafts.add(replaced_record)
                replaced, _ = entries  # the label stored before gets its own entry back
                self._agreement.pop(i, None)
                if replaced is not None:
                    self._agreement[i] = replaced
            else:
                self._skipped.discard(i)
            if i in self._front:
                self._front.remove(i)
            self._front.insert(0, i)
            return action, i

    def redo(self, ranking: Ranking) -> tuple[str, int] | None:
        """Make again the commit or skip the latest undo took back: (what was redone, index), or
        None when there is nothing to redo (nothing undone, or a commit or skip since).

        All or nothing, like undo: when the dataset refuses the label (``JournalError``), the
        label, the journal and both stacks stay as they were, and redo can be tried again.
        """
        with self._lock:
            if not self._redo:
                return None
            (action, i, annotation), shown, entry, drawn_in = self._redo[-1]
            if action == "commit":
                assert annotation is not None
                self._commit(
                    i,
                    annotation,
                    ranking,
                    replace=True,
                    shown=shown,
                    redone=True,
                    entry=entry,
                    orientation=drawn_in,
                )
            else:
                self._skip(i)
            self._redo.pop()  # only once the dataset took the change
            if action == "commit" or all(u.image_index != i for u, *_ in self._redo):
                # a redone skip keeps the edit: a commit of the image still to redo would not
                self._edited.discard(i)
            return action, i

    def report_broken(self, broken: dict[int, str]) -> None:
        """Leave the images in `broken` out of the queue, each with its reason (any thread)."""
        if not broken:
            return
        with self._lock:
            self._broken.update(broken)
            self._front = [i for i in self._front if i not in broken]

    # -- helpers (callers hold the lock) --------------------------------------------------------

    def _drafts_record(
        self, i: int, stored: Annotation, ranking: Ranking, shown: object
    ) -> tuple[DraftRecord | None, Annotation | None]:
        """How image `i`'s drafts compare with `stored` (None for a class label, which has no
        drafts), and the drafts shown (None: none); nothing is recorded."""
        if isinstance(stored, Label):
            return None, None
        draft, confidences = ranking.drafts.get(i), ranking.confidences.get(i)
        if shown is SHOWN_AT_THRESHOLD:
            shown = shown_draft(draft, confidences, self._drafts.threshold)
        classes = self.dataset.classes
        outcome = outcome_of(draft, confidences, stored, classes)
        savings = savings_of(shown, stored, classes)  # type: ignore[arg-type]
        return DraftRecord(i, outcome, savings), shown  # type: ignore[return-value]

    def _hidden(self) -> set[int]:
        return self._skipped | set(self._broken)

    def _pending_front(self) -> list[int]:
        if not self._front:
            return []
        labeled = self.dataset.is_labeled(self._front)
        return [i for i, done in zip(self._front, labeled, strict=True) if not done]
