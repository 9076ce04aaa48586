"""A daemon worker thread that runs one job each time it is woken."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("al_widget")


class Worker:
    """Owns one daemon thread and one Event; `start()` and `close()` are safe to call twice.

    Thread safety: ``_wake`` is an Event; ``_closing`` only ever goes from False to True (set by
    ``close`` on any thread, read by the worker); ``_thread`` is set once by ``start`` on the
    owner's thread. No lock is needed beyond these.
    """

    def __init__(
        self,
        job: Callable[[], None],
        *,
        name: str,
        setup: Callable[[], None] | None = None,
        on_exit: Callable[[], None] | None = None,
    ) -> None:
        self._job = job
        self._setup = setup
        self._on_exit = on_exit
        self._name = name
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None

    @property
    def closing(self) -> bool:
        """True once close() was called."""
        return self._closing

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def started(self) -> bool:
        """True once start() started the thread."""
        return self._thread is not None

    @property
    def current(self) -> bool:
        """True when called on the worker thread itself."""
        return self._thread is threading.current_thread()

    @property
    def dead(self) -> bool:
        """True when the thread was started and has ended."""
        return self._thread is not None and not self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None and not self._closing:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Ask for one more run of the job; several wakes before it starts make one run."""
        self._wake.set()

    def close(self, timeout: float = 10.0) -> bool:
        """Stop the thread after its current job; True if it ended within `timeout` seconds."""
        self._closing = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _run(self) -> None:
        try:
            if self._setup is not None:
                self._setup()
            while True:
                self._wake.wait()
                if self._closing:
                    return
                # Cleared before the job runs, so a wake during the job schedules exactly one more run.
                self._wake.clear()
                try:
                    self._job()
                except BaseException:
                    log.exception("al_widget worker %s: job failed", self._name)
        except BaseException:
            log.exception("al_widget worker %s: the thread stopped", self._name)
        finally:
            if self._on_exit is not None:
                self._on_exit()
