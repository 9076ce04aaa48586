"""What the panel says about the loop: notices, errors, unreadable images, rounds and curves."""

from __future__ import annotations

import ipywidgets as widgets

from ..loop import ActiveLoop
from ..records import RoundRecord
from . import status
from .info import Info


class Notices:
    """Writes the panel's words: the notice and error lines, the images that could not be read,
    the status and stop lines, the progress bar of a round, the learning curves.

    The words come from ``status`` (pure functions from the loop's state to HTML); this class
    only puts them in the panel's widgets.

    Thread safety: none of its own; its owner (the Panel) calls it under the panel's lock on
    the kernel's thread, which so guards ``told_broken`` and ``round_error``.

    Parameters
    ----------
    loop : ActiveLoop
        The loop whose state is told.
    info : Info
        The panel's header, error, notice, progress, status and stop lines.
    continue_button : ipywidgets.Button
        "Continue past the budget": shown only while the budget stops labeling.
    curve, auto_chart : ipywidgets.HTML
        The learning curve, and heuristic "auto"'s chart (hidden while empty).
    """

    def __init__(
        self,
        loop: ActiveLoop,
        info: Info,
        continue_button: widgets.Button,
        curve: widgets.HTML,
        auto_chart: widgets.HTML,
    ) -> None:
        self.loop = loop
        self.info = info
        self.continue_button, self.curve, self.auto_chart = continue_button, curve, auto_chart
        self.told_broken: set[int] = set()  # unreadable images the panel has named
        self.round_error = ""  # the error line a failed round left, cleared by a good one

    def say(self, message: str) -> None:
        """Show a notice (not an error): unsaved work restored, an undo, a redo.

        Parameters
        ----------
        message : str
            The notice, plain text; "" clears it.
        """
        self.info.notice.value = status.notice_html(message)

    def say_error(self, message: str) -> None:
        """Show an error line (what was refused, and why).

        Parameters
        ----------
        message : str
            The error, plain text; "" clears it.
        """
        self.info.error.value = status.error_html(message)

    def clear_error(self) -> None:
        """Clear the error line, unless it says that the last round failed (it stays until a
        round works): another image is shown, and an error about the one before is stale."""
        if not self.round_error or self.info.error.value != self.round_error:
            self.say_error("")

    def tell_broken(self) -> None:
        """Say once which images could not be read since the last time: how many, the first ones."""
        broken = self.loop.broken
        new = [i for i in broken if i not in self.told_broken]
        if not new:
            return
        self.told_broken.update(new)
        self.add_error(status.broken_line(broken, new))

    def add_error(self, message: str) -> None:
        """Add an error to the error line, below what it says already.

        Parameters
        ----------
        message : str
            The error, plain text.
        """
        error_line = self.info.error
        earlier = error_line.value
        self.say_error(message)
        if earlier:
            error_line.value = f"{earlier}<br>{error_line.value}"

    def show_state(self, budget: int | None) -> None:
        """Show the loop's state: the status and stop lines, the images that could not be read,
        the curves, and the "Continue past the budget" button while `budget` stops labeling.

        Parameters
        ----------
        budget : int or None
            The budget that stops labeling now (``BudgetGate.reached``), or None.
        """
        loop = self.loop
        history = loop.history
        self.info.status.value = status.status_line(
            history,
            len(loop.dataset.labeled),
            loop.model_version,
            "closed" if loop.closed else loop.state,
            loop.ranking.pending,
        )
        # Empty, and hidden, when no criterion is set.
        self.info.stop.value = status.stop_line(loop.criteria(), budget, loop.stop_reason)
        self.continue_button.layout.display = None if budget is not None else "none"
        self.tell_broken()
        self.curve.value = status.curve(history)
        chart = status.auto_chart(history)
        self.auto_chart.value = chart
        self.auto_chart.layout.display = None if chart else "none"

    def round_started(self, number: int) -> None:
        """A round started: the progress bar says so, from 0.

        Parameters
        ----------
        number : int
            The round's number.
        """
        progress = self.info.progress
        progress.description = f"round {number}"
        progress.bar_style = "info"
        progress.value = 0.0

    def round_ranked(self) -> None:
        """A round published its ranking: the bar goes idle, and a failed round's error goes."""
        progress = self.info.progress
        progress.value, progress.description = 0.0, "idle"
        if self.round_error and self.info.error.value == self.round_error:
            self.say_error("")  # the failed round's error: this one worked
        self.round_error = ""
        progress.bar_style = ""

    def round_failed(self, record: RoundRecord) -> None:
        """A round failed: the bar and the error line say so, until a round works.

        Parameters
        ----------
        record : RoundRecord
            The failed round's record, with its error.
        """
        progress = self.info.progress
        progress.value, progress.description = 0.0, "failed"
        progress.bar_style = "danger"
        self.say_error(status.round_failed(record))
        self.round_error = self.info.error.value
