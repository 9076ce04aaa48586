"""The heuristic and pool-sample pickers: they show the loop's settings, and a choice sets them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .. import heuristics, selectors
from ..loop import ActiveLoop
from . import status
from .layout import pool_sample_options
from .panel_lock import PanelLock


class SettingsControls:
    """Keeps the heuristic and pool-sample pickers showing the loop's settings (also those set
    in code), and sets the loop's heuristic and pool sample when the labeler picks one.

    Thread safety: ``lock`` (the panel's) guards ``_showing`` and the pickers' values; ``show``
    is called with it held, the pickers' changes (on the kernel's thread) take it.

    Parameters
    ----------
    loop : ActiveLoop
        The loop whose settings are shown and set.
    heuristic_picker, pool_picker : ipywidgets.Dropdown
        The pickers.
    say_error : callable
        Shows an error line (a heuristic the loop refused).
    lock : PanelLock
        The panel's lock.
    """

    def __init__(
        self,
        loop: ActiveLoop,
        heuristic_picker: widgets.Dropdown,
        pool_picker: widgets.Dropdown,
        say_error: Callable[[str], None],
        lock: PanelLock,
    ) -> None:
        self.loop, self.heuristic_picker, self.pool_picker = loop, heuristic_picker, pool_picker
        self._say_error, self._lock = say_error, lock
        self._showing = False  # the picker is being set to the loop's heuristic
        heuristic_picker.observe(self._on_heuristic, "value")
        pool_picker.observe(self._on_pool_sample, "value")

    def show(self) -> None:
        """Offer the registered heuristics that work for this loop (``selectors.usable_names``)
        and show the loop's own: a function of the user's that is not registered is offered
        under its name; and show the loop's pool sample. Never changes the loop's settings.
        Caller holds the lock."""
        loop, picker = self.loop, self.heuristic_picker
        usable = selectors.usable_names(loop.dataset.task, loop.learner)
        shown, value = status.heuristic_options(loop.heuristic, usable)
        # New options reset the value to the first one: the guard keeps that from the loop, and
        # the browser gets options and value together.
        self._showing = True
        try:
            with picker.hold_sync():
                if shown != tuple(picker.options):
                    picker.options = shown
                if picker.value is not value:
                    picker.value = value
            self._show_pool_sample()
        finally:
            self._showing = False

    def _show_pool_sample(self) -> None:
        """Show the loop's pool sample, offered first if the picker had no such option."""
        picker, sample = self.pool_picker, self.loop.pool_sample or 0
        with picker.hold_sync():
            if sample not in [v for _, v in picker.options]:
                picker.options = pool_sample_options(sample or None)
            if picker.value != sample:
                picker.value = sample

    def _on_heuristic(self, change: dict[str, Any]) -> None:
        new, chosen = change["new"], self.loop.heuristic
        if self._showing or new is None or new is chosen:
            return
        if isinstance(new, str) and new == heuristics.name_of(chosen):
            return
        try:
            self.loop.heuristic = new
        except ValueError as error:
            with self._lock:
                self._say_error(str(error))
                self.show()

    def _on_pool_sample(self, change: dict[str, Any]) -> None:
        if self._showing or change["new"] is None:
            return
        if (change["new"] or None) != self.loop.pool_sample:
            self.loop.pool_sample = change["new"] or None
