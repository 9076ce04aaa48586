"""Panel: label the loop's most uncertain image, watch the model retrain, steer the loop."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets

from .. import heuristics
from ..loop import ActiveLoop
from . import draftbar, image_notices, keys, status
from .actions import Actions
from .budget import BudgetGate
from .commands import key_command
from .controls import SettingsControls
from .editor import Editor
from .handoff import Handoff
from .layout import MODE_OF_TASK, PanelLayout, held_widgets
from .loop_news import LoopNews
from .navigator import Navigator
from .notices import Notices
from .panel_lock import PanelLock


class Panel(widgets.VBox):
    """A panel to label an ActiveLoop's images: the image to label, its class buttons, the queue,
    a progress bar and the learning curve, and the heuristic and pool-sample pickers.

    Show it as a cell's last line (``alw.Panel(loop)``). Click the panel (or its image) to give
    it the keyboard: a ring shows, and its keys (README, "The panel"; ``widget/keys.py``) act
    wherever the pointer is until focus leaves it. Work left on an image without submitting it
    (boxes, drafts, a mask, the class chosen) comes back with the image; Z undoes a submit and
    shows its annotation to edit, Shift+Z submits it again. In segmentation class 0 is the
    background: the picker offers classes 1 and up, and the eraser paints the background.

    Once ``loop.budget`` labels are stored, submits and label keys are refused (the canvas says
    why) until the budget is raised or ``continue_past_budget`` ("Continue past the budget").

    Thread safety: the loop's news reaches the widgets on the kernel's thread only
    (``Handoff``, ``LoopNews``; README, "Development"). ``_lock`` guards ``_closed`` and every
    part's state (``_navigator``, ``_actions``, ``_notices``, ``_budget``, ``_editor``,
    ``_news``) and the widgets' values: a cell may call the panel while a browser message is
    handled. Each entry point takes it for its whole body; the canvas checks and applies the
    browser's edits under it (``Canvas.guard_edits``). The loop's news is posted to it
    (``PanelLock.post``), never waited for, so another panel's undo or setting, made under
    that panel's lock, never waits for this one's. Lock order: panel → loop (session → round
    worker → dataset), and panel → the canvas's and strip's own locks; one panel's lock →
    another's never (news is posted); the loop calls back outside its locks.

    Parameters
    ----------
    loop : ActiveLoop
        The loop whose queue the panel shows and whose dataset it labels.
    thumbnails : int, default 8
        How many of the next images in the queue to show.
    thumbnail_size : int, default 64
        The longest side of a thumbnail, in screen pixels.
    dwell_ms : int, default 150
        How long an image must have been on screen before it takes a key or click that labels
        or leaves it (class keys, Enter, N, S, Submit, No objects, Skip); a sooner one is
        dropped with a brief cue and counted in ``dropped_keys`` (see ``keys.DWELL_MS``);
        0 turns the check off.
    """

    def __init__(
        self,
        loop: ActiveLoop,
        *,
        thumbnails: int = 8,
        thumbnail_size: int = 64,
        dwell_ms: int = keys.DWELL_MS,
    ) -> None:
        self.loop = loop
        self.dataset = loop.dataset
        self.task = self.dataset.task
        self._lock = PanelLock()
        self._closed = False
        self._handoff = Handoff()  # the kernel's thread, where the loop's callbacks run
        scope = f"alw-panel-{uuid.uuid4().hex[:8]}"  # this panel's CSS class
        ui = PanelLayout(
            self.dataset,
            pool_sample=loop.pool_sample,
            thumbnails=thumbnails,
            thumbnail_size=thumbnail_size,
            dwell_ms=dwell_ms,
            on_open=self.open_image,
            scope=scope,
        )
        self.canvas, self.choices, self.info, self.picker = (
            ui.canvas,
            ui.choices,
            ui.info,
            ui.picker,
        )
        self.submit_button, self.skip_button = ui.submit_button, ui.skip_button
        self.no_objects_button, self.continue_button = ui.no_objects_button, ui.continue_button
        self.undo_button, self.redo_button = ui.undo_button, ui.redo_button
        self.curve, self.queue_strip, self.export = ui.curve, ui.queue_strip, ui.export
        self.auto_chart = ui.auto_chart
        self.heuristic_picker, self.pool_picker = ui.heuristic_picker, ui.pool_picker
        self.void_legend, self.colors_style = ui.void_legend, ui.colors_style
        info = self.info
        self.header, self.error_line, self.notice = info.header, info.error, info.notice
        self.progress, self.status, self.stop_line = info.progress, info.status, info.stop
        self._editor = Editor(
            self.canvas, self.picker, self.task, self.dataset.classes, self.choices
        )
        self._budget = BudgetGate(loop)
        self._notices = Notices(loop, info, self.continue_button, self.curve, self.auto_chart)
        self._navigator = Navigator(
            loop,
            self._editor,
            self.canvas,
            self.queue_strip,
            info,
            self._notices,
            self._budget,
            self._lock,
            lambda: self._closed,
        )
        self._actions = Actions(
            loop,
            self._editor,
            self._navigator,
            self._notices,
            self._budget,
            self.canvas,
            self._refresh_state,
        )
        self._controls = SettingsControls(
            loop, self.heuristic_picker, self.pool_picker, self._notices.say_error, self._lock
        )
        self._controls.show()
        self._news = LoopNews(
            info,
            self._notices,
            self._navigator,
            self._controls,
            self._lock,
            lambda: self._closed,
            self._step,
            self._caught_up,
            self._refresh_state,
            self._actions.ledger,
        )
        self._drafts = self.draft_bar = ui.draft_bar  # detection: the draft threshold's controls
        if self._drafts is not None:
            self._drafts.attach(loop, self._lock)

        self.submit_button.on_click(lambda _: self.submit())
        self.skip_button.on_click(lambda _: self.skip())
        self.no_objects_button.on_click(lambda _: self.submit_no_objects())
        self.undo_button.on_click(lambda _: self.undo())
        self.redo_button.on_click(lambda _: self.redo())
        self.continue_button.on_click(lambda _: self.continue_past_budget())
        self.picker.observe(self._on_pick, "value")

        super().__init__(ui.children)
        self.add_class("alw-panel")
        self.add_class(scope)
        heuristics.watch(self._on_heuristics_changed)  # held weakly: a bound method
        for part in (self.canvas, self.queue_strip):  # the browser's messages: where they arrive
            part.on_msg(lambda *_: self._handoff.adopt())
        self.canvas.on_key(self.handle_key)
        # The browser's edits are checked and applied under the panel's lock, on the image
        # shown; the budget's notice dims the canvas but only submits are refused then.
        self.canvas.guard_edits(self._lock, self._takes_edits)
        self.canvas.on_edit(lambda _kind: self._on_edit())
        self.canvas.on_stale_edit(self._on_stale_edit)
        self._news.listen(loop, self._handoff)  # on the kernel's thread in a kernel
        with self._step():
            self._navigator.advance()
            self._refresh_state()
            # Said once: a class named as a command key (EMNIST's "z") is clicked instead.
            keyless = status.keyless_classes(self._editor.keyless)
            if keyless:
                self._notices.say(keyless)

    @property
    def current(self) -> int | None:
        """The dataset index of the image on the canvas, or None when nothing is left.

        Read under the panel's lock: while a key is handled on the thread of the browser's
        messages, another thread (a cell) reads the image before or after the key, never the
        moment between, when the submitted image is no longer current and the next not yet.
        """
        with self._lock:
            return self._navigator.current

    @property
    def sent_ahead(self) -> tuple[int, ...]:
        """The dataset indices of the images sent to the browser ahead of a key, which it may
        show early (the next images of the queue)."""
        with self._lock:
            return tuple(self._navigator.ahead)

    @property
    def dropped_keys(self) -> int:
        """How many labeling keys and clicks came before their image had been on screen for
        ``dwell_ms`` and were dropped (never applied to any image)."""
        return self.canvas.dropped_keys

    # -- actions (each in actions.Actions, under the lock) ---------------------------------------

    def submit(
        self, *, image_id: int | None = None, shown: str | None = None, picked: int | None = None
    ) -> int | None:
        """Commit what the canvas and picker hold for the current image; returns its index.

        Parameters
        ----------
        image_id : int, optional
            The canvas's ``image_id`` the submit was made on (the browser sends it with a key
            or click); a submit for an image no longer shown is ignored as a double submit, and
            one made on an earlier showing of the image shown (before an undo or a refused edit
            loaded it again) is refused.
        shown : str, optional
            The key (dataset index) of the image on screen when the submit was made, which the
            browser may have shown early, before Python loaded it (its ``image_id`` is then the
            one it was painted from); it must be the image shown.
        picked : int, optional
            In classify mode, the index of the picker's button highlighted in the browser when
            the submit was made (-1: none): refused when the picker holds another class.
        """
        with self._step():
            if self._closed or self._caught_up():
                return None
            return self._actions.submit(image_id, shown, picked)

    def submit_no_objects(
        self, *, image_id: int | None = None, shown: str | None = None
    ) -> int | None:
        """Label the current detection, segmentation or instance segmentation image as holding
        no objects (all background), on purpose; refused while it holds boxes, objects or
        painted pixels.

        Parameters
        ----------
        image_id, shown : optional
            As for ``submit``.
        """
        with self._step():
            if self._closed or self._caught_up():
                return None
            return self._actions.submit_no_objects(image_id, shown)

    def skip(self, *, image_id: int | None = None, shown: str | None = None) -> int | None:
        """Skip the current image; it leaves the queue.

        Parameters
        ----------
        image_id, shown : optional
            As for ``submit``.
        """
        with self._step():
            if self._closed or self._caught_up():
                return None
            return self._actions.skip(image_id, shown)

    def undo(self) -> int | None:
        """Undo the last submit or skip and show that image again, its annotation to edit.

        The undone annotation comes back as unsaved work (boxes to edit, the mask, the class
        preselected); ``redo`` commits it again.
        """
        with self._step():
            return None if self._closed else self._actions.undo()

    def redo(self) -> int | None:
        """Commit (or skip) again what the last ``undo`` took back (``loop.redo``); returns the
        image's index."""
        with self._step():
            return None if self._closed else self._actions.redo()

    def open_image(self, i: int) -> None:
        """Show image `i` (a thumbnail click).

        Parameters
        ----------
        i : int
            A dataset index.
        """
        with self._step():
            if not self._closed:
                self.show(i)

    def continue_past_budget(self) -> None:
        """Go on labeling past the loop's budget, reached; the budget stays as it is."""
        with self._step():
            if not self._closed:
                self._actions.continue_past_budget()

    def pick(self, class_id: int) -> None:
        """Choose the class for the image (classify) or for new boxes and strokes.

        Parameters
        ----------
        class_id : int
            The class's index in the dataset's classes.
        """
        with self._lock:
            if not self._closed:
                self.picker.value = class_id

    def handle_key(self, event: dict[str, Any]) -> None:
        """Act on a key pressed over the panel, as the key table (``widget/keys.py``) binds it.

        Parameters
        ----------
        event
            The keydown's fields (``key``, ``ctrlKey``, ...); keys with Ctrl, Meta or Alt are
            left to the canvas.
        """
        if keys.has_command_modifier(event):
            return
        with self._lock:
            if self._closed:
                return
            # The image the browser painted early for this key, kept on screen if still to label.
            self._navigator.painted = event.get("painted")
            self._navigator.painted_on = event.get("image_id")
            try:
                with self._step():
                    caught_up = self._caught_up()
                if not caught_up:  # else the key was meant for the image labeled elsewhere
                    self._act_on_key(event)
            finally:
                self._navigator.answered_painted()

    def _act_on_key(self, event: dict[str, Any]) -> None:
        image_id, shown = event.get("image_id"), event.get("shown")
        mode = MODE_OF_TASK[self.task]
        command, class_id = key_command(event, mode, self._editor.class_for_key)
        moving = {"no_objects": self.submit_no_objects, "skip": self.skip}
        if command == "label" and class_id is not None:
            with self._step():
                self._actions.submit_class(class_id, image_id, shown)
        elif command == "pick" and class_id is not None:
            self.pick(class_id)
        elif command == "submit":
            self.submit(image_id=image_id, shown=shown, picked=event.get("picked"))
        elif command in moving:
            moving[command](image_id=image_id, shown=shown)
        elif command == "undo_submit":
            self.undo()
        elif command == "redo_submit":
            self.redo()
        elif command in ("lower_drafts", "raise_drafts") and self._drafts is not None:
            with self._step():
                self._drafts.nudge(draftbar.STEP if command == "raise_drafts" else -draftbar.STEP)

    def close(self) -> None:
        """Close the panel and every widget in it (the loop goes on)."""
        with self._lock:
            self._closed = True
            news = getattr(self, "_news", None)  # None: closed as __init__ failed before it
            if news is not None:
                news.stop()  # the loop no longer holds the panel
            for widget in held_widgets(self):  # ipywidgets keeps each until it is closed
                widget.close()
        super().close()

    # -- showing ---------------------------------------------------------------------------------

    def show(self, i: int) -> None:
        """Load image `i` on the canvas, with its annotation or the model's prediction.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        with self._lock:
            if not self._closed:
                self._navigator.show(i)

    @contextlib.contextmanager
    def _step(self) -> Iterator[None]:
        """One user action or loop event: under the lock, the words and bar sent once at the end,
        and then the next images sent ahead."""
        with self._lock, self.info.batch():
            yield
        with self._lock:
            self._navigator.send_ahead()

    def _caught_up(self) -> bool:
        """Move on, and say why, when the image shown was labeled, skipped or left out outside
        the panel since it was shown (``Navigator.catch_up``); True if so. Caller holds the
        lock, in a step."""
        shown = self._navigator.current
        words = self._navigator.catch_up()
        if words:
            assert shown is not None  # it moves on only from an image shown
            self._actions.forget(shown)  # its work went with it
            self._notices.say(words)
            self._refresh_state()
        return bool(words)

    def _takes_edits(self) -> bool:
        """Whether the canvas takes the browser's edits now: while it shows an image to label.
        Caller holds the lock."""
        return not self._closed and self._navigator.current is not None

    def _refresh_state(self) -> None:
        budget = self._budget.reached()
        self._notices.show_state(budget)
        if self._drafts is not None:
            self._drafts.refresh()
        if self._navigator.current is not None:
            self.canvas.finished = status.budget_notice(budget)

    # -- controls --------------------------------------------------------------------------------

    def _on_pick(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.canvas.active_class = change["new"]
        self._on_edit()

    def _on_edit(self) -> None:
        """An edit on the canvas or in the picker: the loop hears of an edit of an image
        an undo brought back (``Actions.note_edit``)."""
        with self._lock:
            if not self._closed:
                self._actions.note_edit()

    def _on_stale_edit(self, kind: str, made_on: str) -> None:
        """An edit refused as made on an earlier load of the canvas: the labeler is told."""
        with self._lock:
            if not self._closed:
                current = self._navigator.current
                self._notices.say_error(image_notices.stale_edit(kind, made_on, current))

    def _on_heuristics_changed(self) -> None:
        """A heuristic was registered or removed, on any thread (``heuristics.watch``)."""
        self._handoff.call_latest(self.refresh_heuristics)

    def refresh_heuristics(self) -> None:
        """Offer the heuristics registered so far; runs by itself when one is registered.

        The loop's heuristic stays as it is, and shown.
        """
        with self._lock:
            if not self._closed:
                self._controls.show()
