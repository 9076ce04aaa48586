"""The worker side of a loop: when a round is due, running it, and publishing what it found."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import heuristics
from ._threads import Worker
from ._worker_setup import worker_setup
from .annotations import Boxes
from .bandit import State as BanditState
from .dataset import Dataset, Snapshot
from .learners import Cancelled
from .ranking import Ranking
from .records import RoundRecord
from .round_results import EVENTS as EVENTS
from .round_results import Callback as Callback
from .round_results import RoundResults
from .rounds import RoundRunner
from .settings import RERANK_NOW, Settings
from .tasks.strategies import Hooks

log = logging.getLogger("al_widget")

_PROGRESS_EVERY = 0.25  # seconds between progress reports to observers


@dataclasses.dataclass(frozen=True)
class _Covers:
    """Counts of the changes a round reflects: label changes, re-ranking changes."""

    labels: int
    reranks: int


class RoundWorker(RoundResults):
    """Runs rounds on one worker thread and publishes rankings, records, state and progress.

    When a round is due: a setting that re-ranks changed (``heuristic``, ``pool_sample``: a round
    that only ranks), ``retrain()`` or ``wait()`` asked for one, or ``query_size`` labels arrived
    since the last training round started. A training round covers every change counted before it
    starts: it trains on the dataset's snapshot taken then. A round that only ranks covers the
    re-ranking changes, never labels: their count toward ``query_size`` goes on. Requests made while
    a round runs make exactly one more round. A round that fails covers its changes too (its error
    is in the history); a cancelled one covers none. While a round fills an embedding cache it
    publishes a ranking of the embedded part every second or so, and it ends early (the next round
    goes on embedding) as soon as another round is due.

    Thread safety: ``_lock`` guards ``_settings``, ``_labels``, ``_reranks``, ``_new_labels``,
    ``_due``, ``_running``, ``_trained``, ``_ranked``, ``_cancelled``, ``_ranking``,
    ``_history``, ``_model_version``, ``_bandit``, ``_state``, ``_progress`` and ``_observers``;
    ``_settled`` is its condition (the properties of ``RoundResults``, the base class, read
    under it). ``_runner`` (the learner) is used on the worker thread only;
    ``_cancel`` is an Event. Lock order: panel → session → round worker → dataset. Observers run
    on the worker thread ("settings" ones on the thread changing them), outside the lock; one
    that raises is logged, and one raising a BaseException that is no Exception (``SystemExit``)
    also fails its round.

    Parameters
    ----------
    dataset : Dataset
        The images and annotations to train on.
    runner : RoundRunner
        Computes a round's steps; owns the learner.
    settings : Settings
        The settings the first round uses.
    initial : Ranking
        The ranking to publish before any round (random order).
    candidates : callable
        Returns the unlabeled, unskipped, readable indices (called on the worker thread).
    report_broken : callable
        Receives ``{index: reason}`` for images a round could not read.
    agreement : callable
        The model's agreement with recent labels, the metric when there is no eval set.
    """

    def __init__(
        self,
        dataset: Dataset,
        runner: RoundRunner,
        settings: Settings,
        initial: Ranking,
        *,
        candidates: Callable[[], np.ndarray],
        report_broken: Callable[[dict[int, str]], None],
        agreement: Callable[[], float | None],
    ) -> None:
        self.dataset = dataset
        self._runner = runner
        self._candidates, self._report_broken, self._agreement = (
            candidates,
            report_broken,
            agreement,
        )
        self._lock = threading.RLock()
        self._settled = threading.Condition(self._lock)
        self._settings = settings
        # What wait() waits for, as counts of changes: `_labels` (labels, undos, retrain()) only a
        # training round covers; `_reranks` (re-ranking settings, rerank()) any round covers.
        self._labels = 0
        self._reranks = 0
        self._new_labels = 0  # labels since the last training round started, toward query_size
        self._due: str | None = None  # "fit" or "rank": what the next round must do
        self._running: _Covers | None = None  # what the running round covers
        self._trained = 0  # the `_labels` the last finished training round covered
        self._ranked = 0  # the `_reranks` the last finished round covered
        self._cancelled = _Covers(-1, -1)  # the changes so far when cancel() stopped a round
        self._ranking = initial
        self._history: list[RoundRecord] = []
        self._model_version = 0
        self._bandit: BanditState | None = None  # heuristic "auto": the runner's, as published
        self._state = "idle"
        self._progress = 0.0
        self._progress_sent = 0.0  # worker thread only
        self._cancel = threading.Event()
        self._observers: dict[str, list[Callable[..., Any]]] = collections.defaultdict(list)
        self._worker = Worker(
            self._round, name="al_widget-loop", setup=worker_setup, on_exit=self._on_exit
        )

    # -- requests (any thread) -----------------------------------------------------------------

    def change(self, **values: Any) -> None:
        """Change settings; a re-ranking one makes a round due at once. The "settings"
        observers hear of it on the calling thread."""
        with self._lock:
            self._settings = settings = self._settings.changed(**values)
            if RERANK_NOW & values.keys():
                self._reranks += 1
                self._ask("rank")
        self._notify("settings", settings)

    def labels_changed(self, added: int) -> None:
        """Count `added` labels (negative: undone); a round is due after query_size new ones."""
        with self._lock:
            self._labels += 1
            self._new_labels = max(0, self._new_labels + added)
            if self._new_labels >= self._settings.query_size:
                self._ask("fit")

    def undone(self, action: str, i: int) -> None:
        """A commit (one label less) or skip of image `i` was undone; the "undo" observers hear
        of it on the calling thread."""
        if action == "commit":
            self.labels_changed(-1)
        self._notify("undo", action, i)

    def retrain(self) -> None:
        """Make a training round due now."""
        with self._lock:
            self._labels += 1
            self._ask("fit")

    def rerank(self) -> None:
        """Make a round due that ranks the pool again without training (e.g. the cold start's)."""
        with self._lock:
            self._reranks += 1
            self._ask("rank")

    def cancel(self) -> None:
        """Stop the running round's training at its next batch (if one runs).

        The round covers none of its changes, and ``wait()`` no longer trains or ranks for the
        changes made so far: it returns False for them until another change or ``retrain()``.
        """
        with self._lock:
            if self._running is not None:
                self._cancelled = _Covers(self._labels, self._reranks)
                self._cancel.set()

    @property
    def closed(self) -> bool:
        """True once closed: no round can run."""
        return self._worker.closing

    def check_open(self) -> None:
        """Refuse to go on once closed: no round can run."""
        if self._worker.closing:
            raise RuntimeError(
                "the loop is closed: no round can run. Make a new ActiveLoop on the same dataset "
                "to go on (its labels are kept)"
            )

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished rounds cover every change so far: a training round every label,
        and a round every re-ranking setting. Asks for the round that is missing, if none is due.

        False on timeout or close, and when the round that was to cover the changes was
        cancelled (``cancel()``, before or during the wait): a wait does not start again what
        ``cancel()`` stopped; after another change or ``retrain()`` it does.
        """
        self.check_open()
        if self._worker.current:
            raise RuntimeError(
                "wait() was called on the loop's worker thread, from an observer (such as "
                "on_ranking): an observer runs on the loop's worker, so waiting there would wait "
                "for itself. Commit or retrain() in the observer and wait on another thread"
            )
        if not self._worker.started:
            raise RuntimeError(
                "wait() before the loop's worker was started would wait for good: call "
                "loop.start() first (the loop was made with start=False)"
            )
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            goal = _Covers(self._labels, self._reranks)
            while True:
                if self._trained >= goal.labels and self._ranked >= goal.reranks:
                    return True
                if self._worker.closing or self._worker.dead:
                    return False
                missing = self._missing(goal)
                if missing is not None:
                    cancelled = self._cancelled
                    if goal.labels <= cancelled.labels and goal.reranks <= cancelled.reranks:
                        return False  # cancel() stopped the round that was to cover them
                    self._ask(missing)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._settled.wait(left)

    def start(self) -> None:
        """Start the worker thread; a round already due runs."""
        self._worker.start()
        with self._lock:
            if self._due is not None:
                self._worker.wake()

    def close(self, timeout: float = 10.0) -> bool:
        """Cancel the running round and stop the worker; safe to call twice."""
        self._cancel.set()
        done = self._worker.close(timeout)
        self._wake_waiters()
        return done

    # -- the round (worker thread) -------------------------------------------------------------

    def _on_exit(self) -> None:
        # The thread's last act: the runner lets go of its embedding cache's folder (another
        # loop may open it once close() returns), then waiters learn the worker is gone.
        try:
            self._runner.close()
        finally:
            self._wake_waiters()

    def _ask(self, what: str) -> None:
        # Caller holds the lock. A fit also re-ranks, so "fit" wins over "rank".
        self._due = "fit" if "fit" in (what, self._due) else "rank"
        self._worker.wake()

    def _missing(self, goal: _Covers) -> str | None:
        """The round `goal` needs that neither runs nor is due: "fit", "rank" or None."""
        running = self._running or _Covers(-1, -1)
        if self._trained < goal.labels and self._due != "fit" and running.labels < goal.labels:
            return "fit"
        if self._ranked < goal.reranks and self._due is None and running.reranks < goal.reranks:
            return "rank"
        return None

    def _round(self) -> None:
        with self._lock:
            if self._due is None:
                return
            fit = self._due == "fit"
            self._due = None
            if fit:
                self._new_labels = 0
            self._cancel.clear()
            # A round that only ranks covers no label (-1: below any count of them).
            covers = self._running = _Covers(self._labels if fit else -1, self._reranks)
            snapshot = self.dataset.snapshot()
            settings = self._settings
            number = len(self._history) + 1
            self._state = "training" if fit and len(snapshot.indices) else "scoring"
            self._progress = 0.0
        cancelled = False
        try:
            cancelled = self._run_round(number, fit, snapshot, settings)
        finally:
            # Whatever happened (an observer's SystemExit included), the round is over: a wait()
            # for the changes it covers must return; one it was to cover if cancelled, too.
            with self._lock:
                if not cancelled:
                    self._trained = max(self._trained, covers.labels)
                    self._ranked = max(self._ranked, covers.reranks)
                self._running = None
                self._state, self._progress = "idle", 0.0
                self._settled.notify_all()

    def _run_round(self, number: int, fit: bool, snapshot: Snapshot, settings: Settings) -> bool:
        """Train, rank and publish one round; record it in the history, failed or not; True if
        it was cancelled."""
        measured: dict[str, Any] = {"train_seconds": 0.0, "score_seconds": 0.0, "n_scored": 0}
        n_boxes = sum(len(a) for a in snapshot.annotations if isinstance(a, Boxes))

        def record(**outcome: Any) -> RoundRecord:
            return RoundRecord(
                round=number,
                model_version=self._runner.model_version,
                data_version=snapshot.version,
                n_labels=len(snapshot.indices),
                n_boxes=n_boxes,
                heuristic=heuristics.name_of(settings.heuristic),
                retrained=fit,
                **measured,
                **outcome,
            )

        published: Ranking | None = None
        try:
            self.dataset.checkpoint()  # journal_sync="round": the labels this round sees are on disk
            self._notify("round_start", number)
            started = time.perf_counter()
            if fit and len(snapshot.indices):
                self._report_broken(
                    self._runner.train(
                        snapshot, self._on_progress, self._stop, pool=self._candidates()
                    )
                )
                measured.update(self._runner.semi_supervised)
                with self._lock:
                    self._model_version = self._runner.model_version
            measured["train_seconds"] = time.perf_counter() - started
            with self._lock:
                self._state = "scoring"
            started = time.perf_counter()
            published, scored = self._runner.rank(
                self._candidates(),
                settings,
                Hooks(self._stop, publish=self._publish_early, should_yield=self._round_due),
                data_version=snapshot.version,
                previous=self.ranking,
            )
            self._report_broken(scored.broken)
            measured["n_scored"] = len(published)
            measured["n_dropped"] = scored.dropped
            measured["score_seconds"] = time.perf_counter() - started
            done = record(**self._measure(), auto=self._runner.choice)
        except BaseException as error:
            published = None
            cancelled = isinstance(error, Cancelled)
            done = record(error="cancelled" if cancelled else f"{type(error).__name__}: {error}")
            if not cancelled:
                log.warning("al_widget: round %d failed: %s", number, done.error)
        with self._lock:
            if published is not None:
                self._ranking = published
            self._bandit = self._runner.chooser.state
            self._history.append(done)
            position = len(self._history) - 1
            self._state, self._progress = "idle", 0.0
        event = "ranking" if published is not None else "error"
        try:
            if published is not None:
                self._notify("ranking", published)
            elif done.error != "cancelled":
                self._notify("error", done)
        except BaseException as error:  # SystemExit & co. from an observer; _notify logged it
            why = f"{type(error).__name__} in {'an' if event == 'error' else 'a'} {event} observer"
            why += f": {error}" if done.error is None else f" (after {done.error}): {error}"
            failed = dataclasses.replace(done, error=why)
            with self._lock:
                self._history[position] = failed
            log.warning("al_widget: round %d failed: %s", number, failed.error)
            if event == "ranking":
                with contextlib.suppress(BaseException):
                    self._notify("error", failed)
        # The caller marks the round covered: a wait() meanwhile knows this round covers its changes.
        return done.error == "cancelled"

    def _publish_early(self, ranking: Ranking) -> None:
        """Publish a ranking of what is embedded so far, while the round goes on embedding."""
        with self._lock:
            self._ranking = ranking
        self._notify("ranking", ranking)

    def _round_due(self) -> bool:
        """Whether another round waits: a long embedding pass then ends, to go on in that round."""
        with self._lock:
            return self._due is not None

    def _wake_waiters(self) -> None:
        with self._lock:
            self._settled.notify_all()

    def _on_progress(self, fraction: float) -> None:
        with self._lock:
            self._progress = float(fraction)
        now = time.monotonic()
        if fraction >= 1.0 or now - self._progress_sent >= _PROGRESS_EVERY:
            self._progress_sent = now
            self._notify("progress", float(fraction))

    def _stop(self) -> bool:
        return self._cancel.is_set() or self._worker.closing

    def _measure(self) -> dict[str, Any]:
        measured = self._runner.measure()
        if measured is not None:
            return {
                "metric": measured.value,
                "metric_name": measured.name,
                "details": measured.details,
            }
        agreement = self._agreement()
        return {"metric": agreement, "metric_name": None if agreement is None else "agreement"}

    def _notify(self, event: str, *args: Any) -> None:
        with self._lock:
            observers = list(self._observers[event])
        stopped: BaseException | None = None
        for fn in observers:
            try:
                fn(*args)
            except Exception:
                log.exception("al_widget: a %s observer raised", event)
            except BaseException as error:
                # SystemExit or KeyboardInterrupt: the other observers still hear the event,
                # then it fails the round (a worker thread has nothing else to exit).
                log.error("al_widget: a %s observer raised", event, exc_info=True)
                stopped = stopped or error
        if stopped is not None:
            raise stopped
