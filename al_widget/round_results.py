"""What a loop's worker shows of its rounds, read on any thread, and who observes them: the base
class of ``RoundWorker``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .bandit import State as BanditState
from .ranking import Ranking
from .records import RoundRecord
from .rounds import RoundRunner
from .settings import Settings

Callback = TypeVar("Callback", bound=Callable[..., Any])

EVENTS = ("round_start", "progress", "ranking", "error", "settings", "undo")


class RoundResults:
    """The base class of ``RoundWorker``: what it shows of its rounds (the settings the next
    round uses, the learner, the latest ranking, the history, the model version, the bandit's
    state, the state and progress of the running round), ``observe``, which adds an observer
    of one of ``EVENTS``, and ``unobserve``, which drops one.

    Thread safety: as ``RoundWorker``'s thread note says: ``_lock`` guards the fields read here,
    ``_runner`` aside.
    """

    # RoundWorker's, set in its __init__
    _lock: threading.RLock
    _runner: RoundRunner
    _settings: Settings
    _ranking: Ranking
    _history: list[RoundRecord]
    _model_version: int
    _bandit: BanditState | None
    _state: str
    _progress: float
    _observers: dict[str, list[Callable[..., Any]]]

    # -- reading (any thread) ------------------------------------------------------------------

    @property
    def learner(self) -> Any:
        """The model the worker trains, or None."""
        return self._runner.learner

    @property
    def settings(self) -> Settings:
        """The settings the next round uses."""
        with self._lock:
            return self._settings

    @property
    def ranking(self) -> Ranking:
        """The latest published ranking."""
        with self._lock:
            return self._ranking

    @property
    def history(self) -> tuple[RoundRecord, ...]:
        """One record per finished round, oldest first."""
        with self._lock:
            return tuple(self._history)

    @property
    def model_version(self) -> int:
        """How many times the learner was trained successfully."""
        with self._lock:
            return self._model_version

    @property
    def bandit(self) -> BanditState | None:
        """What heuristic "auto" learned so far (None before its first ranking)."""
        with self._lock:
            return self._bandit

    @property
    def state(self) -> str:
        """'idle', 'training' or 'scoring'."""
        with self._lock:
            return self._state

    @property
    def progress(self) -> float:
        """Training progress of the running round, in [0, 1]."""
        with self._lock:
            return self._progress

    def observe(self, event: str, fn: Callback) -> Callback:
        """Call `fn` on `event` (one of EVENTS), on the worker thread ("settings" and "undo": on
        the thread that changed them, or undid); returns `fn`."""
        if event not in EVENTS:
            raise ValueError(f"event must be one of {', '.join(EVENTS)}, got {event!r}")
        with self._lock:
            self._observers[event].append(fn)
        return fn

    def unobserve(self, fn: Callable[..., Any]) -> None:
        """Stop calling `fn` on any event it observes (``observe``); nothing happens when it
        observes none.

        Parameters
        ----------
        fn : callable
            An observer ``observe`` was given.
        """
        with self._lock:
            for observers in self._observers.values():
                observers[:] = [each for each in observers if each is not fn]
