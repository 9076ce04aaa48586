"""Hand calls from other threads to the kernel's thread, so that widgets are touched on one."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("al_widget")


class Handoff:
    """Runs calls on the thread that built it, through that thread's running event loop.

    Built in a notebook cell, that thread is the kernel's: its asyncio loop (the one ipykernel
    runs, under tornado's ``IOLoop``) handles the browser's messages too. ``call`` made there
    runs at once; made on any other thread (the loop's worker) it is queued on the event loop
    (``call_soon_threadsafe``) and returns at once: calls run one at a time, in the order made.

    Built with no running event loop (plain Python: a script, the tests), there is no thread to
    hand to: ``call`` runs at once on the calling thread, and the caller's lock guards it.

    Thread safety: every field is set in the constructor and only read after.
    """

    def __init__(self) -> None:
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self.thread = threading.get_ident()
        """The thread calls are handed to (the builder's)."""

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
        if self._loop is None or threading.get_ident() == self.thread:
            fn(*args)
            return
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the event loop is closed: the kernel is shutting down
            log.debug("dropped %r: the kernel's event loop is closed", fn)
