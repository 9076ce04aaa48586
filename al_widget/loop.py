"""ActiveLoop: the labeling queue, background retraining, rankings, stopping and history."""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

import numpy as np

from . import heuristics, ranking, scoring
from ._threads import Worker
from .annotations import Annotation
from .dataset import Dataset
from .learners import Cancelled, Classifier, Learner
from .ranking import Ranking
from .records import Criterion, RoundRecord
from .rounds import RoundRunner, random_ranking

log = logging.getLogger("al_widget")
Callback = TypeVar("Callback", bound=Callable[..., Any])


_SWITCH_INTERVAL = 0.001
_WORKER_NICENESS = 10
_PROGRESS_EVERY = 0.25  # seconds between progress reports to observers


def _worker_setup() -> None:
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    # The kernel's thread gives up the GIL at every socket call and, with Python's default 5 ms
    # switch interval, can wait that long each time to get it back from a training round: a widget
    # reply makes ~20 such calls. A 1 ms interval keeps replies quick while a round trains.
    if sys.getswitchinterval() > _SWITCH_INTERVAL:
        sys.setswitchinterval(_SWITCH_INTERVAL)
    # A lower CPU priority for this thread only (Linux: a thread id is a process id for
    # setpriority), so the kernel, the Jupyter server and the browser preempt training.
    with contextlib.suppress(AttributeError, OSError):
        thread = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, thread) + _WORKER_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(19, niceness))


class ActiveLoop:
    """Pool-based active learning over a Dataset, retraining in one background thread."""

    def __init__(
        self,
        dataset: Dataset,
        learner: Learner | None = None,
        heuristic: str | heuristics.Heuristic = "margin",
        pool_sample: int | None = 100,
        query_size: int = 10,
        budget: int | None = None,
        rounds: int | None = None,
        target: float | None = None,
        *,
        mc_samples: int | None = None,
        temperature: float | None = None,
        eval_set: tuple[Any, Any] | None = None,
        executor: Executor | None = None,
        chunk_size: int = 2048,
        seed: int = 0,
        start: bool = True,
    ) -> None:
        heuristics.get(heuristic)
        ranking.check_pool_sample(pool_sample)
        if query_size < 1:
            raise ValueError(f"query_size must be >= 1, got {query_size}")
        self.dataset = dataset
        if learner is None and dataset.task == "classify":
            learner = Classifier(len(dataset.classes), seed=seed)
        self._heuristic = heuristic
        self._pool_sample = pool_sample
        self.query_size, self.budget, self.rounds, self.target = query_size, budget, rounds, target
        self.mc_samples, self.temperature = mc_samples, temperature
        self._runner = RoundRunner(
            dataset,
            learner,
            executor=executor or scoring.Inline(),
            chunk_size=chunk_size,
            eval_set=scoring.eval_arrays(eval_set, dataset.classes)
            if eval_set is not None
            else None,
            rng=np.random.default_rng(seed),
        )
        self._main_rng = np.random.default_rng([seed, 1])
        self._lock = threading.RLock()
        self._settled = threading.Condition(self._lock)
        self._observers: dict[str, list[Callable[..., Any]]] = collections.defaultdict(list)
        self._skipped: set[int] = set()
        self._broken: dict[int, str] = {}
        self._front: list[int] = []
        self._undo: list[tuple[str, int, Annotation | None]] = []
        self._agreement: collections.deque[bool] = collections.deque(maxlen=50)
        self._history: list[RoundRecord] = []
        self._since_round = 0
        self._want_fit = False
        self._want_rank = False
        self._asked = 0  # bumped by every change a round must reflect
        self._settled_at = 0  # the last `_asked` a finished round covered
        self._covering = 0  # the `_asked` the running round covers
        self._state = "idle"
        self._progress = 0.0
        self._progress_sent = 0.0
        self._cancel = False
        self._ranking = random_ranking(
            self._candidates(), pool_sample, dataset.version, self._main_rng
        )
        self._worker = Worker(self._round, name="al_widget-loop", setup=_worker_setup)
        if start:
            self.start()

    # -- reading -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"ActiveLoop({self.dataset!r}, heuristic={heuristics.name_of(self._heuristic)!r}, "
            f"pool_sample={self._pool_sample}, model_version={self._runner.model_version}, state={self._state!r})"
        )

    @property
    def ranking(self) -> Ranking:
        """The latest published ranking (immutable)."""
        return self._ranking

    @property
    def queue(self) -> np.ndarray:
        """Dataset indices still to label, most uncertain first."""
        with self._lock:
            ranked = self._ranking.indices
            keep = ~self.dataset.is_labeled(ranked)
            hidden = self._hidden()
            if hidden:
                keep &= ~np.isin(ranked, list(hidden))
            front = self._pending_front()
            rest = ranked[keep]
            return np.concatenate([np.array(front, dtype=np.int64), rest[~np.isin(rest, front)]])

    def next(self) -> int | None:
        """The index to label next: the head of the queue, or a random unlabeled one when it ran dry."""
        with self._lock:
            front = self._pending_front()
            if front:
                return front[0]
            hidden = self._hidden()
            labeled_at = self.dataset.is_labeled(self._ranking.indices)
            for i, done in zip(self._ranking.indices, labeled_at, strict=True):
                if not done and int(i) not in hidden:
                    return int(i)
            pool = self._candidates()
            return int(self._main_rng.choice(pool)) if len(pool) else None

    @property
    def model_version(self) -> int:
        """How many times the learner was trained successfully (0: no model yet)."""
        return self._runner.model_version

    @property
    def learner(self) -> Learner | None:
        """The model the worker trains (None: the task has no learner; the pool is ranked at random)."""
        return self._runner.learner

    @property
    def history(self) -> tuple[RoundRecord, ...]:
        """One record per round, oldest first."""
        with self._lock:
            return tuple(self._history)

    @property
    def state(self) -> str:
        """'idle', 'training' or 'scoring'."""
        return self._state

    @property
    def progress(self) -> float:
        """Training progress of the running round, in [0, 1]."""
        return self._progress

    @property
    def skipped(self) -> frozenset[int]:
        """Indices the user skipped; they stay out of the queue."""
        return frozenset(self._skipped)

    @property
    def broken(self) -> dict[int, str]:
        """Indices whose image could not be read, with the reason; they stay out of the queue."""
        return dict(self._broken)

    @property
    def has_learner(self) -> bool:
        """False when the task has no learner: the pool is ranked at random."""
        return self.learner is not None

    def criteria(self) -> list[Criterion]:
        """The stopping criteria that were set, each with where the loop stands."""
        found = []
        if self.budget is not None:
            found.append(Criterion("budget", len(self.dataset.labeled), self.budget))
        if self.rounds is not None:
            found.append(
                Criterion("rounds", sum(r.ok and r.retrained for r in self._history), self.rounds)
            )
        if self.target is not None:
            found.append(Criterion("target", self.metric or 0.0, self.target))
        return found

    @property
    def metric(self) -> float | None:
        """The latest metric: accuracy on eval_set, else agreement of the model with recent labels."""
        for record in reversed(self.history):
            if record.metric is not None:
                return record.metric
        return None

    @property
    def stop_reason(self) -> str | None:
        """Why the loop is done, or None."""
        for criterion in self.criteria():
            if criterion.met:
                return f"{criterion.name} reached ({criterion})"
        if not len(self._candidates()):
            return "no unlabeled images left"
        return None

    @property
    def is_done(self) -> bool:
        """True when a stopping criterion is met or the pool is empty."""
        return self.stop_reason is not None

    # -- settings ------------------------------------------------------------------------------

    @property
    def heuristic(self) -> str | heuristics.Heuristic:
        """The acquisition heuristic (a registered name or a function); setting it re-ranks."""
        return self._heuristic

    @heuristic.setter
    def heuristic(self, value: str | heuristics.Heuristic) -> None:
        heuristics.get(value)
        with self._lock:
            self._heuristic = value
            self._request(fit=False)

    @property
    def pool_sample(self) -> int | None:
        """How many unlabeled images each round scores (None: all); setting it re-ranks."""
        return self._pool_sample

    @pool_sample.setter
    def pool_sample(self, value: int | None) -> None:
        ranking.check_pool_sample(value)
        with self._lock:
            self._pool_sample = value
            self._request(fit=False)

    # -- acting --------------------------------------------------------------------------------

    def commit(self, i: int, annotation: Annotation, *, replace: bool = False) -> Annotation:
        """Label image `i`; returns at once, retraining happens in the background."""
        with self._lock:
            previous = self.dataset.annotation(i)
            if previous is not None and not replace:
                raise ValueError(
                    f"image {i} is already labeled ({previous!r}); pass replace=True to change it, or undo() first"
                )
            stored = self.dataset.annotate(i, annotation)
            self._undo.append(("commit", int(i), previous))
            if int(i) in self._front:
                self._front.remove(int(i))
            self._skipped.discard(int(i))
            self._record_agreement(int(i), stored)
            self._since_round += 1
            if self._since_round >= self.query_size:
                self._request(fit=True)
            else:
                self._asked += 1
        return stored

    def skip(self, i: int) -> None:
        """Leave image `i` out of the queue."""
        with self._lock:
            i = self.dataset.check_index(i)
            self._skipped.add(i)
            self._undo.append(("skip", i, None))
            if i in self._front:
                self._front.remove(i)

    def undo(self) -> int | None:
        """Undo the last commit or skip; that image goes back to the head of the queue."""
        with self._lock:
            if not self._undo:
                return None
            action, i, previous = self._undo.pop()
            if action == "commit":
                if previous is None:
                    self.dataset.remove(i)
                else:
                    self.dataset.annotate(i, previous)
                self._since_round = max(0, self._since_round - 1)
                self._asked += 1
            else:
                self._skipped.discard(i)
            self._front.insert(0, i)
            return i

    def mark_broken(self, i: int, reason: str) -> None:
        """Leave image `i` out of the queue because it cannot be shown or read."""
        with self._lock:
            self._broken[int(i)] = reason
            if int(i) in self._front:
                self._front.remove(int(i))

    def retrain(self) -> None:
        """Start a round (train and re-rank) now, whatever the number of new labels."""
        with self._lock:
            self._request(fit=True)

    def cancel(self) -> None:
        """Stop the running round's training at its next batch; nothing labeled is lost."""
        self._cancel = True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a finished round reflects every label and setting so far; False on timeout."""
        with self._lock:
            covered = max(self._settled_at, self._covering)
            if covered < self._asked and not (self._want_fit or self._want_rank):
                self._request(fit=True)
            goal = self._asked
            return self._settled.wait_for(
                lambda: self._settled_at >= goal or self._worker.closing, timeout
            )

    def start(self) -> None:
        """Start the background worker (done by the constructor unless start=False)."""
        self._worker.start()
        with self._lock:
            if self._want_fit or self._want_rank:
                self._worker.wake()

    def close(self, timeout: float = 10.0) -> bool:
        """Stop the worker: the running round is cancelled; safe to call twice."""
        self._cancel = True
        done = self._worker.close(timeout)
        with self._lock:
            self._settled.notify_all()
        return done

    def __enter__(self) -> ActiveLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- observers -----------------------------------------------------------------------------

    def on_round_start(self, fn: Callback) -> Callback:
        """Call fn(round_number) when a round starts; runs on the worker thread."""
        self._observers["round_start"].append(fn)
        return fn

    def on_progress(self, fn: Callback) -> Callback:
        """Call fn(fraction) as training advances; runs on the worker thread."""
        self._observers["progress"].append(fn)
        return fn

    def on_ranking(self, fn: Callback) -> Callback:
        """Call fn(ranking) when a new ranking is published; runs on the worker thread."""
        self._observers["ranking"].append(fn)
        return fn

    def on_error(self, fn: Callback) -> Callback:
        """Call fn(record) when a round fails; runs on the worker thread."""
        self._observers["error"].append(fn)
        return fn

    def _notify(self, event: str, *args: Any) -> None:
        for fn in list(self._observers[event]):
            try:
                fn(*args)
            except Exception:
                log.exception("al_widget: a %s observer raised", event)

    # -- the round (worker thread) -------------------------------------------------------------

    def _request(self, *, fit: bool) -> None:
        self._asked += 1
        if fit:
            self._want_fit = True
        self._want_rank = True
        self._worker.wake()

    def _round(self) -> None:
        with self._lock:
            if not (self._want_fit or self._want_rank):
                return
            fit = self._want_fit and self.learner is not None
            self._want_fit = self._want_rank = False
            self._since_round = 0
            self._cancel = False
            covered = self._covering = self._asked
            snapshot = self.dataset.snapshot()
            heuristic, pool_sample = self._heuristic, self._pool_sample
            number = len(self._history) + 1
            self._state, self._progress = (
                ("training" if fit and len(snapshot.indices) else "scoring"),
                0.0,
            )
        self._notify("round_start", number)
        measured: dict[str, Any] = {"train_seconds": 0.0, "score_seconds": 0.0, "n_scored": 0}

        def record(**outcome: Any) -> RoundRecord:
            return RoundRecord(
                round=number,
                model_version=self._runner.model_version,
                data_version=snapshot.version,
                n_labels=len(snapshot.indices),
                heuristic=heuristics.name_of(heuristic),
                retrained=fit,
                **measured,
                **outcome,
            )

        try:
            started = time.perf_counter()
            if fit and len(snapshot.indices):
                self._mark_broken(
                    self._runner.train(snapshot, self._on_fit_progress, self._should_stop)
                )
            measured["train_seconds"] = time.perf_counter() - started
            self._state, started = "scoring", time.perf_counter()
            published, broken = self._runner.rank(
                self._candidates(),
                heuristic=heuristic,
                pool_sample=pool_sample,
                mc_samples=self.mc_samples,
                temperature=self.temperature,
                data_version=snapshot.version,
                should_stop=self._should_stop,
            )
            self._mark_broken(broken)
            measured["n_scored"] = len(published)
            measured["score_seconds"] = time.perf_counter() - started
            metric, metric_name = self._measure()
            done = record(metric=metric, metric_name=metric_name)
            with self._lock:
                self._ranking = published
                self._history.append(done)
                self._state, self._progress = "idle", 0.0
            self._notify("ranking", published)
        except Exception as error:
            cancelled = isinstance(error, Cancelled)
            failed = record(error="cancelled" if cancelled else f"{type(error).__name__}: {error}")
            with self._lock:
                self._history.append(failed)
                self._state, self._progress = "idle", 0.0
            if not cancelled:
                log.warning("al_widget: round %d failed: %s", number, failed.error)
                self._notify("error", failed)
        finally:
            self._state, self._progress = "idle", 0.0
            with self._lock:
                self._settled_at = max(self._settled_at, covered)
                self._settled.notify_all()

    def _on_fit_progress(self, fraction: float) -> None:
        self._progress = float(fraction)
        now = time.monotonic()
        if fraction >= 1.0 or now - self._progress_sent >= _PROGRESS_EVERY:
            self._progress_sent = now
            self._notify("progress", self._progress)

    def _should_stop(self) -> bool:
        return self._cancel or self._worker.closing

    def _mark_broken(self, broken: dict[int, str]) -> None:
        if broken:
            with self._lock:
                self._broken.update(broken)

    def _measure(self) -> tuple[float | None, str | None]:
        accuracy = self._runner.accuracy()
        if accuracy is not None:
            return accuracy, "accuracy"
        if len(self._agreement) >= 5:
            return float(np.mean(self._agreement)), "agreement"
        return None, None

    # -- helpers -------------------------------------------------------------------------------

    def _hidden(self) -> set[int]:
        return self._skipped | set(self._broken)

    def _pending_front(self) -> list[int]:
        if not self._front:
            return []
        labeled = self.dataset.is_labeled(self._front)
        return [i for i, done in zip(self._front, labeled, strict=True) if not done]

    def _candidates(self) -> np.ndarray:
        unlabeled = self.dataset.unlabeled
        hidden = self._hidden()
        return unlabeled[~np.isin(unlabeled, list(hidden))] if hidden else unlabeled

    def _record_agreement(self, i: int, annotation: Annotation) -> None:
        predicted = self._ranking.predicted_of(i)
        if predicted is not None and hasattr(annotation, "class_id"):
            self._agreement.append(predicted == annotation.class_id(self.dataset.classes))  # type: ignore[union-attr]
