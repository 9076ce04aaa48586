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

    Built with no running event loop (plain Python: a script, the tests), there is no thread to
    hand to: ``call`` runs at once on the calling thread, and the caller's lock guards it.

    Thread safety: ``_lock`` guards ``_loop``, ``thread`` and ``_moved``, which ``adopt``
    changes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop = _running_loop()
        self._moved = False
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
        with self._lock:
            loop, thread = self._loop, self.thread
        if loop is None or threading.get_ident() == thread:
            fn(*args)
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the event loop is closed: the kernel is shutting down
            log.debug("dropped %r: the kernel's event loop is closed", fn)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """This thread's running event loop, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
