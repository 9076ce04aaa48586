"""Which labels and skips on the loop this panel made: a loop's undo takes back the last one,
whichever panel or cell made it, and the panel says whose."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class Ledger:
    """The commits and skips this panel made that are still in force, as far as it heard: the
    loop's undo stack is shared by every panel on the loop and every cell, so a Z in one panel
    may take back another's label (``Actions.undo`` says so), and a panel hears of an undo
    made outside it (``loop.on_undo``: ``undone_outside``).

    Thread safety: none of its own; its owner (the panel's ``Actions``) calls it under the
    panel's lock.
    """

    def __init__(self) -> None:
        self._made: dict[int, str] = {}  # image index -> "commit" or "skip"
        self._undoing = False

    def add(self, action: str, i: int) -> None:
        """This panel committed or skipped image `i` (or redid that).

        Parameters
        ----------
        action : str
            "commit" or "skip".
        i : int
            A dataset index.
        """
        self._made[i] = action

    @contextlib.contextmanager
    def undoing(self) -> Iterator[None]:
        """While this panel undoes: the loop's news of that undo is not news to it."""
        self._undoing = True
        try:
            yield
        finally:
            self._undoing = False

    def undone_here(self, action: str, i: int) -> bool:
        """This panel's undo took back the `action` of image `i`: whether this panel made it
        (else another panel or a cell did).

        Parameters
        ----------
        action : str
            "commit" or "skip", as ``loop.undone`` names it.
        i : int
            The image brought back.
        """
        return self._made.pop(i, None) == action

    def undone_outside(self, action: str, i: int) -> bool:
        """The loop took back the `action` of image `i` (``loop.on_undo``): whether it was this
        panel's and undone outside it (another panel's Z, a cell's ``loop.undo()``).

        Parameters
        ----------
        action : str
            "commit" or "skip".
        i : int
            The image brought back.
        """
        if self._undoing or self._made.get(i) != action:
            return False
        del self._made[i]
        return True
