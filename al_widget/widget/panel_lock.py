"""A panel's lock, to which news from other threads is posted, never waited for: the loop's
news (a round, a ranking, a setting changed, an undo) runs under it as soon as it is free."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

log = logging.getLogger("al_widget")

_thread = threading.local()
"""The calling thread's ``held`` (the PanelLocks it holds) and ``outbox`` (those it posted to
while it held another, to deliver once it holds none)."""


def _held() -> set[PanelLock]:
    if not hasattr(_thread, "held"):
        _thread.held, _thread.outbox = set(), []
    return _thread.held  # type: ignore[no-any-return]


def _outbox() -> list[PanelLock]:
    _held()
    return _thread.outbox  # type: ignore[no-any-return]


class PanelLock:
    """A reentrant lock, as ``threading.RLock``, with a mailbox: ``post`` queues a call to run
    under the lock and returns at once. The call runs on the posting thread when the lock is
    free (or held by that thread), else on the thread holding it, as it lets the lock go; and
    a thread that holds another PanelLock (another panel's) leaves it for when it holds none.
    So no thread ever waits for, or takes, one panel's lock while it holds another's: two
    panels on one loop, each undoing on its own thread, each hear of the other's undo once
    their own is done, and never wait for each other.

    Thread safety: ``_lock`` is the lock itself; ``_depth`` is its owner's to change (how
    many times it holds it); ``_mail`` is a deque, appended and popped from any thread. Calls
    posted run one at a time, in the order posted.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._mail: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = (
            collections.deque()
        )

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock, as ``threading.RLock.acquire``; returns whether it was taken.

        Parameters
        ----------
        blocking : bool, default True
            Wait for it (else return False at once when another thread holds it).
        timeout : float, default -1
            The most seconds to wait; -1 for no limit.
        """
        taken = self._lock.acquire(blocking, timeout)
        if taken:
            self._depth += 1
            if self._depth == 1:
                _held().add(self)
        return taken

    def release(self) -> None:
        """Let the lock go, as ``threading.RLock.release``; when this thread lets it go for the
        last time, the calls posted meanwhile run (``post``)."""
        self._depth -= 1
        if self._depth:
            self._lock.release()
            return
        _held().discard(self)
        self._lock.release()
        self._deliver()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` under this lock: now, on this thread, when the lock is free or
        this thread holds it; else once the thread holding it lets it go. A thread that holds
        another PanelLock runs it once it holds none. An exception it raises is logged.

        Parameters
        ----------
        fn : callable
            What to run; its return value is dropped.
        *args
            Its arguments.
        """
        self._mail.append((fn, args))
        self._deliver()

    def _deliver(self) -> None:
        """Run the calls posted, under the lock, unless another thread holds it (it runs them
        as it lets go) or this thread holds another PanelLock (it runs them once it holds
        none)."""
        held = _held()
        if held and self not in held:
            if self._mail and self not in _outbox():
                _outbox().append(self)
            return
        # A call posted as this thread lets go finds the lock still held: the loop runs it
        while self._mail and self._lock.acquire(blocking=False):
            self._depth += 1
            held.add(self)
            try:
                while self._mail:
                    fn, args = self._mail.popleft()
                    try:
                        fn(*args)
                    except Exception:
                        log.exception("al_widget: the panel's news raised")
            finally:
                self._depth -= 1
                if not self._depth:
                    held.discard(self)
                self._lock.release()
        if not held:  # the calls posted to other panels while this thread held one
            outbox = _outbox()
            while outbox:
                outbox.pop(0)._deliver()
