"""The loop's news shown in the panel: a round started, its progress, a new ranking, a setting
changed, a round failed, the panel's label or skip undone outside it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from ..loop import ActiveLoop
from ..ranking import Ranking
from ..records import RoundRecord
from . import undo_notices
from .controls import SettingsControls
from .handoff import Handoff
from .info import Info
from .ledger import Ledger
from .navigator import Navigator
from .notices import Notices
from .panel_lock import PanelLock


class LoopNews:
    """Shows the loop's news in the panel as it comes: the round started and its progress, a
    new ranking (the next image when none is shown, a move on when the image shown was labeled
    from a cell since), a setting changed, a round failed, a label or skip the panel made undone
    outside it.

    Thread safety: the loop calls back on its worker's thread, or on the thread that changed a
    setting or undid (a cell's, another panel's, this panel's own). ``listen`` hands each call
    to the kernel's thread (``Handoff``; in plain Python it runs at once), where it is posted
    to the panel's `lock` (``PanelLock.post``), never waited for: it runs under the lock, as
    ``step`` does, at once when the lock is free, else when the thread holding it lets it go,
    and a thread that holds another panel's lock (its undo, its setting) leaves it for when it
    holds none. So no panel's lock is taken while another's is held, and two panels undoing on
    two threads at once do not wait for each other. Lock order: panel → loop (session → round
    worker → dataset); one panel's lock → another's never. ``heard_undo`` reads the ledger's
    undoing thread on any thread (``Ledger.undoing_here``); ``_heard`` is set once, in
    ``listen``, and cleared in ``stop``, under the lock.

    Parameters
    ----------
    info : Info
        The panel's words and progress bar; one batch per piece of news.
    notices : Notices
        Says what the news is.
    navigator : Navigator
        The image shown, the header and the queue.
    controls : SettingsControls
        The heuristic and pool-sample pickers, shown again when a setting changed.
    lock : PanelLock
        The panel's lock.
    is_closed : callable
        True once the panel is closed: the news is dropped.
    step : callable
        The panel's context for one event (under the lock, the words sent once at the end,
        then the next images sent ahead).
    caught_up : callable
        Moves on, and says why, when the image shown was labeled outside the panel; True if so.
    refresh_state : callable
        Shows the loop's state again.
    ledger : Ledger
        The commits and skips the panel made (``Actions.ledger``).
    """

    def __init__(
        self,
        info: Info,
        notices: Notices,
        navigator: Navigator,
        controls: SettingsControls,
        lock: PanelLock,
        is_closed: Callable[[], bool],
        step: Callable[[], AbstractContextManager[None]],
        caught_up: Callable[[], bool],
        refresh_state: Callable[[], None],
        ledger: Ledger,
    ) -> None:
        self.info, self.notices, self.navigator, self.controls = info, notices, navigator, controls
        self.lock, self.is_closed, self.step = lock, is_closed, step
        self.caught_up, self.refresh_state, self.ledger = caught_up, refresh_state, ledger
        # The loop heard and the observers given to it, dropped by ``stop``
        self._heard: tuple[ActiveLoop, list[Callable[..., Any]]] | None = None

    def listen(self, loop: ActiveLoop, handoff: Handoff) -> None:
        """Hear `loop`'s news from now on, on the thread `handoff` hands calls to.

        Parameters
        ----------
        loop : ActiveLoop
            The loop whose news is shown.
        handoff : Handoff
            The panel's: hands each call to the kernel's thread.
        """
        # Only the newest of each kind of news counts (a refresh reads the loop's state now),
        # but every error is told; each is posted to the panel's lock (the thread note)
        latest, post = handoff.call_latest, self.lock.post

        def hand(kind: Callable[..., None], fn: Callable[..., None]) -> Callable[..., None]:
            return functools.partial(kind, functools.partial(post, fn))

        self._undone = hand(handoff.call, self.undone)
        observers = [
            (loop.on_round_start, hand(latest, self.round_started)),
            (loop.on_progress, hand(latest, self.progressed)),
            (loop.on_ranking, hand(latest, self.ranked)),
            (loop.on_error, hand(handoff.call, self.round_failed)),
            (loop.on_settings, hand(latest, self.settings_changed)),
            (loop.on_undo, self.heard_undo),
        ]
        with self.lock:
            self._heard = (loop, [register(fn) for register, fn in observers])

    def stop(self) -> None:
        """Hear no more of the loop's news (the panel is closed): the loop no longer holds the
        panel through its observers."""
        with self.lock:
            if self._heard is not None:
                loop, observers = self._heard
                for fn in observers:
                    loop.remove_observer(fn)
                self._heard = None

    def heard_undo(self, action: str, i: int) -> None:
        """The loop undid the `action` of image `i` (any thread): news, unless this panel's
        own undo, on this thread, made it (``Actions.undo`` says it).

        Parameters
        ----------
        action : str
            "commit" or "skip".
        i : int
            The image brought back.
        """
        if not self.ledger.undoing_here():
            self._undone(action, i)

    def round_started(self, number: int) -> None:
        """A training round started.

        Parameters
        ----------
        number : int
            The round's number.
        """
        with self.lock, self.info.batch():
            if self.is_closed():
                return
            self.notices.round_started(number)
            self.refresh_state()

    def progressed(self, fraction: float) -> None:
        """The round in progress got on.

        Parameters
        ----------
        fraction : float
            How much of it is done, 0 to 1.
        """
        with self.lock:
            if not self.is_closed():
                self.info.progress.value = fraction

    def ranked(self, ranking: Ranking) -> None:
        """A new ranking was published.

        Parameters
        ----------
        ranking : Ranking
            The ranking (the panel reads the loop's newest).
        """
        with self.step():
            if self.is_closed():
                return
            self.notices.round_ranked()
            if self.navigator.current is None:
                self.navigator.advance()
            elif not self.caught_up():  # a label from a cell starts a round: heard here
                self.navigator.refresh_header()
                self.navigator.refresh_queue()
            self.refresh_state()

    def settings_changed(self, _settings: object) -> None:
        """A setting changed (the picker, or ``loop.budget = …`` in a cell).

        Parameters
        ----------
        _settings : Settings
            The settings now (the pickers read the loop's).
        """
        with self.step():
            if self.is_closed():
                return
            self.controls.show()
            self.refresh_state()

    def undone(self, action: str, i: int) -> None:
        """A commit or skip of image `i` was undone outside this panel (another panel's Z, a
        cell's ``loop.undo``): when it was this panel's, or one made over this panel's, the
        labeler is told what the image holds now, and the strip shows it.

        Parameters
        ----------
        action : str
            "commit" or "skip".
        i : int
            The image brought back.
        """
        with self.lock:
            if self.is_closed():
                return
            words = self.undo_words(action, i)
            if not words:
                return
            with self.step():
                self.notices.say(words)
                self.navigator.refresh_queue()
                self.refresh_state()

    def undo_words(self, action: str, i: int) -> str:
        """What this panel says of an undo outside it of the `action` of image `i`, as the
        loop stands now (the news may come late): this panel's label or skip undone, and where
        the image stands; its label stored again, the one stored over it undone; its skip
        lifted, a label or skip made since undone; else nothing (""). Caller holds the lock.

        Parameters
        ----------
        action : str
            "commit" or "skip".
        i : int
            The image brought back.
        """
        loop = self.navigator.loop
        labeled, skipped = loop.dataset.annotation(i), i in loop.skipped
        taken = self.ledger.taken_back(i, loop.in_force)
        if taken is not None:
            now = undo_notices.image_now(labeled, skipped, i in loop.broken)
            return undo_notices.undone_outside(taken.action, i, now)
        mine = self.ledger.standing(i)
        if mine is None:
            return ""
        if mine.action == "commit":
            if action == "commit" and labeled is not None and labeled == mine.annotation:
                return undo_notices.label_restored(i, labeled)
            return ""
        if labeled is None and not skipped and i not in loop.broken:
            return undo_notices.skip_lifted(i, action)
        return ""

    def round_failed(self, record: RoundRecord) -> None:
        """A training round failed.

        Parameters
        ----------
        record : RoundRecord
            The round's record, with its error.
        """
        with self.lock, self.info.batch():
            if self.is_closed():
                return
            self.notices.round_failed(record)
            self.refresh_state()
