"""Hand calls from other threads to the kernel's thread, so that widgets are touched on one."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("al_widget")


class Handoff:
    """Runs calls on the thread where the browser's messages arrive, through its event loop.

    Built in a notebook cell, that is first the kernel's main thread (its asyncio loop, the one
    ipykernel runs); ``adopt``, called as each browser message arrives, moves it once to the
    first other thread a message came on that runs an event loop (with JupyterLab 4.4+ and
    ipykernel 7, comm messages go to a kernel subshell, whose thread runs its own event loop
    even while a cell runs), and there it stays. ``call`` made on that thread runs at once;
    made on any other thread (the loop's worker) it is queued on that event loop
    (``call_soon_threadsafe``) and returns at once: calls run one at a time, in the order
    made, between messages.

    ``call_latest`` is ``call`` for news where only the newest counts (a ranking, progress): a
    call still waiting on the event loop when a newer call of the same function is made does
    not run, and the newer one runs in its own place in the order. While the kernel's thread is
    busy (a long cell, a slow refresh) a worker that publishes faster than the panel refreshes
    so leaves one refresh waiting, not a backlog that grows as long as it publishes.

    Built with no running event loop (plain Python: a script, the tests), there is no thread to
    hand to: ``call`` runs at once on the calling thread, and the caller's lock guards it.

    Thread safety: ``_lock`` guards ``_loop``, ``thread`` and ``_moved``, which ``adopt``
    changes, and ``_latest``; it is never held while a call runs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop = _running_loop()
        self._moved = False
        self._latest: dict[Callable[..., Any], int] = {}  # call_latest: the newest call's number
        self.thread = threading.get_ident()
        """The thread calls are handed to: the builder's, or the last that ``adopt`` ran on."""

    def adopt(self) -> None:
        """Hand calls from now on to this thread's event loop, if it runs one and calls were not
        moved before (called as each browser message arrives, on the thread it arrived on)."""
        if self._moved or threading.get_ident() == self.thread or self._loop is None:
            return
        loop = _running_loop()
        if loop is not None:
            with self._lock:
                self._loop, self.thread, self._moved = loop, threading.get_ident(), True

    @property
    def deferred(self) -> bool:
        """True when calls from other threads are handed to the event loop (in a kernel)."""
        return self._loop is not None

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the builder's thread: now if on it (or no event loop), else soon.

        Parameters
        ----------
        fn : callable
            What to run; its return value is dropped.
        *args
            Its arguments.
        """
        self._hand(fn, args, latest=False)

    def call_latest(self, fn: Callable[..., Any], *args: Any) -> None:
        """As ``call``, but a call of `fn` still waiting on the event loop is dropped when this
        one is made: of the calls of `fn` waiting, only the newest runs.

        Parameters
        ----------
        fn : callable
            What to run; its return value is dropped. Calls are matched by ``==`` (a bound
            method matches the same method of the same object).
        *args
            Its arguments.
        """
        self._hand(fn, args, latest=True)

    def _hand(self, fn: Callable[..., Any], args: tuple[Any, ...], *, latest: bool) -> None:
        with self._lock:
            loop, thread = self._loop, self.thread
            now = loop is None or threading.get_ident() == thread
            number = self._latest.get(fn, 0) + 1
            if latest:
                self._latest[fn] = number  # a call of fn still waiting is older: it will not run
        if loop is None or now:
            fn(*args)
            return
        try:
            if latest:
                loop.call_soon_threadsafe(self._run_if_newest, fn, number, args)
            else:
                loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the event loop is closed: the kernel is shutting down
            log.debug("dropped %r: the kernel's event loop is closed", fn)

    def _run_if_newest(self, fn: Callable[..., Any], number: int, args: tuple[Any, ...]) -> None:
        """Run a waiting ``call_latest`` on the event loop, unless a newer call of `fn` was made."""
        with self._lock:
            if self._latest.get(fn) != number:
                return
        fn(*args)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """This thread's running event loop, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
