"""The numbers of the commits and skips on a loop's undo stack: who made one can tell, later,
whether it still stands or was undone (by anyone), though the image was labeled again since."""

from __future__ import annotations

import bisect
import itertools
import threading


class UndoNumbers:
    """Numbers each commit or skip put on the undo stack, once, in the order made (a redo
    makes it again under a new number), and keeps those still on the stack.

    Thread safety: ``_lock`` guards ``_stack`` and ``_count``; ``_made`` is thread-local, each
    thread's own. The session calls ``push`` and ``pop`` under its lock, as it changes its undo
    stack; ``in_force`` and ``made_here`` take no other lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # The numbers of the undo stack's records, the latest last: ascending, as each is
        # numbered when it is put on top
        self._stack: list[int] = []
        self._count = itertools.count(1)
        self._made = threading.local()  # .number: the last record the calling thread made

    def push(self) -> None:
        """A commit or skip was put on the undo stack, by the calling thread."""
        with self._lock:
            self._made.number = number = next(self._count)
            self._stack.append(number)

    def pop(self) -> None:
        """The latest commit or skip was taken off the undo stack (undone)."""
        with self._lock:
            self._stack.pop()

    def made_here(self) -> int | None:
        """The number of the last commit or skip the calling thread made; None if none."""
        return getattr(self._made, "number", None)

    def in_force(self, number: int) -> bool:
        """Whether the commit or skip numbered `number` is still on the undo stack (not undone).

        Parameters
        ----------
        number : int
            A number ``made_here`` gave.
        """
        with self._lock:
            at = bisect.bisect_left(self._stack, number)
            return at < len(self._stack) and self._stack[at] == number
