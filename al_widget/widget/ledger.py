"""Which labels and skips on the loop this panel made: a loop's undo takes back the last one,
whichever panel or cell made it, and the panel says whose."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import NamedTuple

from ..annotations import Annotation


class Made(NamedTuple):
    """A commit or skip this panel made."""

    action: str
    """``"commit"`` or ``"skip"``."""
    number: int | None
    """Its number on the loop's undo stack (``loop.made_here``)."""
    annotation: Annotation | None
    """The label it stored (None for a skip)."""


class Ledger:
    """The commits and skips this panel made that still stand, as far as it heard, each with
    its number on the loop's undo stack: the stack is shared by every panel on the loop and
    every cell, so a Z in one panel may take back another's label (``Actions.undo`` says so),
    and a panel hears of an undo made outside it (``loop.on_undo``: ``LoopNews.undone``). A
    label a cell stored over this panel's (``replace=True``) is the cell's: an undo of it takes
    back the cell's commit, and this panel's label, under it, stands again.

    Thread safety: none of its own; its owner (the panel's ``Actions``) calls it under the
    panel's lock, but ``undoing_here``, which reads ``_undoing`` (the thread undoing in this
    panel, set under the lock), is called on any thread.
    """

    def __init__(self) -> None:
        self._made: dict[int, Made] = {}  # image index -> the panel's latest commit or skip
        self._undoing: int | None = None

    def add(self, i: int, made: Made) -> None:
        """This panel committed or skipped image `i` (or redid that).

        Parameters
        ----------
        i : int
            A dataset index.
        made : Made
            What it made, numbered as the loop numbered it.
        """
        self._made[i] = made

    @contextlib.contextmanager
    def undoing(self) -> Iterator[None]:
        """While this panel undoes, on this thread: the loop's news of that undo is not news
        to it (``undoing_here``)."""
        self._undoing = threading.get_ident()
        try:
            yield
        finally:
            self._undoing = None

    def undoing_here(self) -> bool:
        """Whether the calling thread is undoing in this panel: the loop's news of an undo on
        it is of this panel's own (any thread)."""
        return self._undoing == threading.get_ident()

    def undone_here(self, i: int, in_force: Callable[[int], bool]) -> bool:
        """This panel's undo took back a commit or skip of image `i`: whether it was this
        panel's own (else another panel's or a cell's, such as a label stored over this
        panel's, which stands again).

        Parameters
        ----------
        i : int
            The image brought back.
        in_force : callable
            ``loop.in_force``.
        """
        return self.taken_back(i, in_force) is not None

    def taken_back(self, i: int, in_force: Callable[[int], bool]) -> Made | None:
        """This panel's commit or skip of image `i` if an undo took it back since the panel last
        heard (it is then forgotten), else None.

        Parameters
        ----------
        i : int
            A dataset index.
        in_force : callable
            ``loop.in_force``.
        """
        made = self._made.get(i)
        if made is None or (made.number is not None and in_force(made.number)):
            return None
        del self._made[i]
        return made

    def standing(self, i: int) -> Made | None:
        """This panel's commit or skip of image `i` that still stands, as far as it heard
        (``taken_back`` first), or None.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        return self._made.get(i)
