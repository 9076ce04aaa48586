"""What an ActiveLoop shows, on any thread: the ranking and queue, what is known about an image,
the model's predictions and drafts, the rounds and where the loop stands; the base class of
``ActiveLoop``."""

from __future__ import annotations

import numpy as np

from . import drafts
from .annotations import Annotation, Label
from .bandit import State as BanditState
from .dataset import Dataset
from .description import Description
from .draft_log import DraftRecord
from .learners import Learner
from .ranking import Ranking
from .records import Criterion, RoundRecord, criteria, latest_metric
from .round_worker import RoundWorker
from .session import Session


class LoopViews:
    """The base class of ``ActiveLoop``: what it shows (the ranking and queue, ``describe``, the
    model's predictions and drafts, the rounds, the stopping criteria and where the loop stands).

    Thread safety: no lock of its own; each view reads the session, the round worker or the
    dataset, which lock their own fields, in the lock order of ``ActiveLoop``'s note.
    """

    # ActiveLoop's, set in its __init__
    dataset: Dataset
    _session: Session
    _worker: RoundWorker

    # -- reading -------------------------------------------------------------------------------

    @property
    def ranking(self) -> Ranking:
        """The latest published ranking (immutable)."""
        return self._worker.ranking

    @property
    def queue(self) -> np.ndarray:
        """Dataset indices still to label, most uncertain first."""
        return self._session.queue(self.ranking)

    def next(self) -> int | None:
        """The index to label next: the head of the queue, or a random unlabeled one when it ran dry."""
        return self._session.next(self.ranking)

    def describe(self, i: int) -> Description:
        """What the panel shows about image `i`: score and rank, prediction, model, why it is queued.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        return self._session.describe(i, self.ranking)

    def prediction(self, i: int, *, calibrated: bool = False) -> Annotation | None:
        """The latest model's annotation for image `i`, or None (no model yet, or `i` not scored).

        Parameters
        ----------
        i : int
            A dataset index.
        calibrated : bool, default False
            Detection, segmentation and instances: only the drafts at or above
            ``draft_threshold`` (boxes or objects; a mask's class regions, the others not
            labeled), None when none is; False gives every draft of the model.
        """
        i = self.dataset.check_index(i)
        ranked = self.ranking
        if i in ranked.drafts:
            if calibrated:
                return self._session.draft(i, ranked)
            return ranked.drafts[i]  # type: ignore[no-any-return]
        predicted = ranked.predicted_of(i)
        return None if predicted is None else Label(self.dataset.classes[predicted])

    def draft_confidences(self, i: int) -> np.ndarray | None:
        """The confidence of each draft of image `i` (a copy): (K,) per box or object of
        ``prediction(i)``, or (C,) per class region of its mask (NaN: a class drafted nowhere);
        None when the model drafted nothing for `i`.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        found = self.ranking.confidences.get(self.dataset.check_index(i))
        return None if found is None else np.array(found, dtype=np.float64)

    @property
    def draft_threshold(self) -> float | None:
        """The confidence from which drafts are shown (``prediction(i, calibrated=True)``),
        calibrated after each submitted image: the lowest at which the model's drafts were right
        (IoU >= 0.5 with a stored object of their class) at least half the time over the last
        20 images; None (no drafts at all) until there is one. ``draft_reason`` says why."""
        return self._session.draft_threshold.value

    @property
    def draft_reason(self) -> str:
        """Why ``draft_threshold`` is what it is, e.g. "drafts from 0.62: 70 % of those kept
        lately (7 of 10 on the last 4 images)"."""
        return self._session.draft_threshold.reason

    @property
    def draft_savings(self) -> drafts.Savings:
        """Over every submitted image: drafts accepted as is, adjusted, deleted, and objects
        drawn from scratch; ``str()`` reads "drafts saved N of M objects (...)"."""
        return self._session.draft_savings()

    @property
    def draft_history(self) -> tuple[DraftRecord, ...]:
        """Per submitted image (its last submission), oldest first: which of the model's
        drafts were right, with their confidences, and the image's savings."""
        return self._session.draft_records

    @property
    def draft_status(self) -> str:
        """One line on drafts: the savings, the rate over the last 20 images, the threshold."""
        total = self._session.draft_savings()
        recent = self._session.draft_savings(drafts.WINDOW).rate
        lately = "" if recent is None else f", {recent:.0%} lately".replace("%", " %")
        return (
            f"drafts saved {total.saved} of {total.objects} objects{lately}; "
            f"{self._session.draft_threshold.reason}"
        )

    @property
    def model_version(self) -> int:
        """How many times the learner was trained successfully (0: no model yet)."""
        return self._worker.model_version

    @property
    def bandit(self) -> BanditState | None:
        """What heuristic "auto" learned: each arm's weight and gain per label (None before it ran).

        It stays when the heuristic is changed, and goes on from there when "auto" is set again.
        """
        return self._worker.bandit

    @property
    def learner(self) -> Learner:
        """The model the worker trains."""
        return self._worker.learner  # type: ignore[no-any-return]

    @property
    def history(self) -> tuple[RoundRecord, ...]:
        """One record per round, oldest first."""
        return self._worker.history

    @property
    def state(self) -> str:
        """'idle', 'training' or 'scoring'."""
        return self._worker.state

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called: no round runs, and labels are refused."""
        return self._worker.closed

    @property
    def progress(self) -> float:
        """Training progress of the running round, in [0, 1]."""
        return self._worker.progress

    @property
    def skipped(self) -> frozenset[int]:
        """Indices the user skipped; they stay out of the queue."""
        return self._session.skipped

    @property
    def broken(self) -> dict[int, str]:
        """Indices whose image could not be read, with the reason; they stay out of the queue."""
        return self._session.broken

    @property
    def made_here(self) -> int | None:
        """The number of the last commit or skip (or redo of one) made on the calling thread,
        for ``in_force``; None if it made none. A panel reads it after its own, so as to tell
        later whether an undo, anywhere, took that one back or another label of the image."""
        return self._session.numbers.made_here()

    def in_force(self, number: int) -> bool:
        """Whether the commit or skip numbered `number` (``made_here``) still stands: no undo
        took it back (a redo makes it again under a new number).

        Parameters
        ----------
        number : int
            A number ``made_here`` gave.
        """
        return self._session.numbers.in_force(number)

    def criteria(self) -> list[Criterion]:
        """The stopping criteria that were set, each with where the loop stands."""
        return criteria(self._worker.settings, len(self.dataset.labeled), self.history)

    @property
    def metric(self) -> float | None:
        """The latest metric: accuracy on eval_set, else agreement of the model with recent labels."""
        return latest_metric(self.history)

    @property
    def stop_reason(self) -> str | None:
        """Why the loop is done, or None."""
        for criterion in self.criteria():
            if criterion.met:
                return f"{criterion.name} reached ({criterion})"
        if not len(self._session.candidates()):
            return "no unlabeled images left"
        return None

    @property
    def is_done(self) -> bool:
        """True when a stopping criterion is met or the pool is empty."""
        return self.stop_reason is not None
