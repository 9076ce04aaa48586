"""Panel: label the loop's most uncertain image, watch the model retrain, steer the loop."""

from __future__ import annotations

import contextlib
import functools
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import numpy as np

from .. import heuristics
from .._images import ImageError
from ..annotations import Annotation, Boxes, Label
from ..loop import ActiveLoop
from ..ranking import Ranking
from ..records import RoundRecord
from . import ahead, keys, status
from .controls import SettingsControls
from .editor import Editor
from .handoff import Handoff
from .layout import MODES, PanelLayout
from .unsaved import from_annotation


class Panel(widgets.VBox):
    """An ipywidgets panel over an ActiveLoop: canvas, class picker, queue, progress and learning curve.

    Keys: clicking the panel (or its canvas) gives it keyboard focus (a ring shows); its keys
    (``widget/keys.py``) then act wherever the pointer is, until focus leaves the panel.

    Unsaved work (boxes, drafts, mask, the class chosen) is kept per image for the session and
    shown again with the image; an undone submit comes back as such work, to edit, and Shift+Z
    commits it again (``loop.redo``). In segmentation class 0 is the background: the picker
    offers classes 1 and up, and the eraser paints the background.

    Speed: the next images are sent ahead (``ahead.PREFETCH``) and may be painted by the
    browser before Python answers, with the header, strip and picker that go with them; a
    submit or skip names its image, and a labeling key sooner than ``dwell_ms`` is dropped
    (README, "The panel").

    One widget thread for the loop's news: the panel's widgets (canvas, strip, words,
    controls) are never touched on the loop's worker, only where the browser's messages arrive
    and by code run in cells. The loop's callbacks (``_on_round_start``, ``_on_progress``,
    ``_on_ranking``, ``_on_error``; ``_on_settings`` and ``refresh_heuristics`` when another
    thread changed a setting or registered a heuristic) are handed to that thread's event loop
    (``Handoff``: the main thread's, then a kernel subshell's once JupyterLab sends comm
    messages to one) and run there, in order, between messages. Built outside a kernel (plain
    Python, no running event loop), they run at once on the thread that made them, under the
    lock.

    Thread safety: ``_lock`` guards ``current``, ``_editor``, ``_ahead``, ``_queue``,
    ``_closed``, ``_past_budget``, ``_told_broken``, ``_round_error``, ``_painted``,
    ``_ahead_picker`` and every widget value the panel sets: a cell may call the panel while a
    browser message is handled (on a subshell), and outside a kernel the loop's threads call
    it. Each entry point takes it for its whole body. Lock order: panel → loop (session →
    round worker → dataset), and panel → the canvas's and strip's own locks; the loop calls back
    outside its locks.

    Budget: once ``loop.budget`` labels are stored, submits and label keys are refused (the
    canvas says why and shows no next image early) until the budget is raised or
    ``continue_past_budget`` (the "Continue past the budget" button) is used.

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
        self.current: int | None = None
        self._ahead: dict[int, np.ndarray] = {}  # the images sent ahead, by index
        self._queue = np.zeros(0, np.int64)  # the loop's queue as the strip last showed it
        self._restored = ""  # what the last image shown came back with, in words
        self._lock = threading.RLock()
        self._closed = False
        self._past_budget: int | None = None  # the budget the labeler chose to label past
        self._told_broken: set[int] = set()  # unreadable images the panel has named
        self._round_error = ""  # the error line a failed round left, cleared by a good one
        self._painted: str | None = None  # the image the browser painted for the key handled
        self._ahead_picker: int | None = None  # the picker's button with the next image
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
        self._controls = SettingsControls(
            loop, self.heuristic_picker, self.pool_picker, self._say_error, self._lock
        )
        self._controls.show()

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
        hand = self._handoff.call
        loop.on_round_start(functools.partial(hand, self._on_round_start))
        loop.on_progress(functools.partial(hand, self._on_progress))
        loop.on_ranking(functools.partial(hand, self._on_ranking))
        loop.on_error(functools.partial(hand, self._on_error))
        loop.on_settings(functools.partial(hand, self._on_settings))
        with self._step():
            self._advance()
            self._refresh_state()

    @property
    def dropped_keys(self) -> int:
        """How many labeling keys and clicks came before their image had been on screen for
        ``dwell_ms`` and were dropped (never applied to any image)."""
        return self.canvas.dropped_keys

    # -- actions -------------------------------------------------------------------------------

    def submit(self, *, image_id: int | None = None, shown: str | None = None) -> int | None:
        """Commit what the canvas and picker hold for the current image; returns its index.

        Parameters
        ----------
        image_id : int, optional
            The canvas's ``image_id`` the submit was made on (the browser sends it with a key
            or click); a submit for an image no longer shown is ignored as a double submit.
        shown : str, optional
            The key (dataset index) of the image on screen when the submit was made, which the
            browser may have shown before Python loaded it; when given, it decides instead of
            `image_id`.
        """
        with self._step():
            if self._not_current("submit", image_id, shown):
                return None
            try:
                annotation = self._editor.annotation()
            except ValueError as error:
                self._say_error(f"not submitted: {error}")
                return None
            return self._commit(annotation)

    def _not_current(self, what: str, image_id: int | None, shown: str | None = None) -> bool:
        """True (and said) when there is no image to act on, or the action was made on another."""
        if self.current is None:
            self._say_error(f"nothing to {what}: {status.FINISHED_HINT}")
            return True
        stale = (
            shown != str(self.current)
            if shown is not None
            else image_id is not None and image_id != self.canvas.image_id
        )
        if stale:
            self._say(f"ignored a second {what} for the image before this one (a double click?)")
            return True
        return False

    @contextlib.contextmanager
    def _step(self) -> Iterator[None]:
        """One user action or loop event: under the lock, the words and bar sent once at the end,
        and then the next images sent ahead."""
        with self._lock, self.info.batch():
            yield
        with self._lock:
            self._send_ahead()

    def _commit(self, annotation: Annotation) -> int | None:
        # Caller holds the lock and has a current image.
        i = self.current
        assert i is not None
        budget = self._budget_reached()
        if budget is not None:
            self._say_error(f"not submitted: {status.budget_words(budget)}")
            return None
        try:
            self.loop.commit(i, annotation)
        except (ValueError, IndexError, OSError, RuntimeError) as error:
            # Bad input, a full disk, a closed loop: the label was not kept, and the panel says why.
            self._say_error(f"not submitted: {error}")
            return None
        self._editor.unsaved.pop(i, None)
        self.current = None  # submitted: nothing on the canvas is left unsaved
        self._say_error("")
        self._advance()
        self._refresh_state()
        return i

    def submit_no_objects(
        self, *, image_id: int | None = None, shown: str | None = None
    ) -> int | None:
        """Label the current detection image as holding no objects (an empty box list), on purpose.

        Parameters
        ----------
        image_id, shown : optional
            As for ``submit``.
        """
        with self._step():
            if self.task != "detect" or self._not_current("submit", image_id, shown):
                return None
            if len(self.canvas.boxes) or len(self.canvas.drafts):
                self._say_error(
                    "not submitted as no objects: the image has boxes; delete them first"
                )
                return None
            return self._commit(Boxes(np.zeros((0, 4)), []))

    def skip(self, *, image_id: int | None = None, shown: str | None = None) -> int | None:
        """Skip the current image; it leaves the queue.

        Parameters
        ----------
        image_id, shown : optional
            As for ``submit``.
        """
        with self._step():
            i = self.current
            if i is None or self._not_current("skip", image_id, shown):
                return None
            self.loop.skip(i)
            self._advance()
            return i

    def undo(self) -> int | None:
        """Undo the last submit or skip and show that image again, its annotation to edit.

        The undone annotation comes back as unsaved work (boxes to edit, the mask, the class
        preselected); ``redo`` commits it again.
        """
        with self._step():
            try:
                i = self.loop.undo()
            except (ValueError, IndexError, OSError, RuntimeError) as error:
                # A full disk (JournalError), a closed dataset: nothing was undone, and the
                # panel says why.
                self._say_error(f"not undone: {error}")
                return None
            if i is None:
                self._say_error("nothing to undo")
                return None
            self._say_error("")
            undone, what = self.loop.undone, "skip"
            if undone is not None and undone.action == "commit" and undone.annotation is not None:
                what = "submit"
                self._editor.unsaved[i] = from_annotation(undone.annotation, self.dataset.classes)
            self.show(i)
            self._say(status.undid(what, i, self._restored))
            self._refresh_state()
            return i

    def redo(self) -> int | None:
        """Commit (or skip) again what the last ``undo`` took back (``loop.redo``); returns the
        image's index."""
        with self._step():
            undone = self.loop.undone
            if undone is None:
                self._say_error("nothing to redo")
                return None
            budget = self._budget_reached()
            if undone.action == "commit" and budget is not None:
                self._say_error(f"not redone: {status.budget_words(budget)}")
                return None
            try:
                i = self.loop.redo()
            except (ValueError, IndexError, OSError, RuntimeError) as error:
                self._say_error(f"not redone: {error}")  # nothing was redone (all or nothing)
                return None
            if i is None:
                self._say_error("nothing to redo")
                return None
            self._editor.unsaved.pop(i, None)
            self._say_error("")
            if self.current == i:
                self.current = None
                self._advance()
            else:
                self._refresh_queue()
            self._say(f"redid the {'submit' if undone.action == 'commit' else 'skip'} of image {i}")
            self._refresh_state()
            return i

    def open_image(self, i: int) -> None:
        """Show image `i` (a thumbnail click)."""
        with self._step():
            self.show(i)

    def continue_past_budget(self) -> None:
        """Go on labeling past the loop's budget, reached; the budget stays as it is."""
        with self._step():
            budget = self._budget_reached()
            if budget is None:
                return
            self._past_budget = budget
            self._say_error("")
            self._say(f"labeling goes on past the budget of {budget} labels")
            self._refresh_state()

    def _budget_reached(self) -> int | None:
        """The loop's budget when it is reached and the labeler has not chosen to go past it."""
        budget = self.loop.budget
        if budget is None or len(self.dataset.labeled) < budget or self._past_budget == budget:
            return None
        return int(budget)

    def pick(self, class_id: int) -> None:
        """Choose the class for the image (classify) or for new boxes and strokes."""
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
            # The image the browser painted early for this key, kept on screen if still to label.
            self._painted = event.get("painted")
            try:
                self._act_on_key(event)
            finally:
                self._painted = None

    def _act_on_key(self, event: dict[str, Any]) -> None:
        image_id, shown = event.get("image_id"), event.get("shown")
        class_id = (
            None if event.get("shiftKey") else self._editor.class_for_key(str(event.get("key", "")))
        )
        if class_id is not None and self.task == "classify":
            with self._step():
                if not self._not_current("submit", image_id, shown):
                    self._commit(Label(self.dataset.classes[class_id]))
            return
        if class_id is not None:
            self.pick(class_id)
            return
        moving = {"submit": self.submit, "no_objects": self.submit_no_objects, "skip": self.skip}
        action = event.get("action") or keys.action_for(event, "panel", MODES[self.task])
        if action in moving:
            moving[action](image_id=image_id, shown=shown)
        elif action == "undo_submit":
            self.undo()
        elif action == "redo_submit":
            self.redo()

    def close(self) -> None:
        """Close the panel and every widget in it (the loop goes on)."""
        with self._lock:
            self._closed = True
            for widget in _descendants(self):
                widget.close()
        super().close()

    # -- showing -------------------------------------------------------------------------------

    def show(self, i: int) -> None:
        """Load image `i` on the canvas, with its annotation or the model's prediction."""
        with self._lock:
            self._show(i)

    def _show(self, i: int) -> None:
        if self.current is not None and self.current != i:
            self._editor.keep_unsaved(self.current)
        try:
            image = self._ahead[i] if i in self._ahead else self.dataset.image(i)
        except ImageError as error:
            self.loop.mark_broken(i, str(error))
            self._told_broken.add(i)
            self._say_error(f"{error}; it was left out and the next image loaded")
            if self.current == i:
                self.current = None
            self._advance(exclude=i)
            return
        described = self.loop.describe(i)
        queue = self.loop.queue  # once per image shown: a million-image queue takes ~8 ms
        known = self.dataset.annotation(i)
        draft = self.loop.prediction(i) if known is None else None
        # The image, the key of the one after it and "not finished" go in one message.
        with self.canvas.hold_sync():
            self._restored = self._editor.open(image, i, known, draft, described.predicted)
            following = [int(k) for k in queue[:2] if int(k) != i][:1]
            self.canvas.ahead_key = str(following[0]) if following else ""
            self.canvas.finished = status.budget_notice(self._budget_reached())
        self._ahead = {k: v for k, v in self._ahead.items() if k != i}
        self._say(self._restored)
        self.current = i
        self._refresh_header()
        self._refresh_queue(queue)

    def _advance(self, exclude: int | None = None) -> None:
        painted = self._still_to_label(self._painted)
        if painted is not None and painted != exclude:
            # The browser already shows it (painted early): a newer ranking does not replace it.
            self.show(painted)
            return
        for _ in range(len(self.dataset)):
            i = self.loop.next()
            if i is None or i != exclude:
                break
        if i is None:
            if self.current is not None:
                self._editor.keep_unsaved(self.current)
            self.current = None
            self.header.value = status.nothing_left(self.loop.stop_reason, len(self.loop.broken))
            self.canvas.finished = "Nothing left to label"
            self._refresh_queue()
            return
        self.show(i)

    def _still_to_label(self, key: str | None) -> int | None:
        """The dataset index `key` names, if that image is unlabeled, not skipped nor broken."""
        if not isinstance(key, str) or not key.isdigit() or int(key) >= len(self.dataset):
            return None
        i = int(key)
        if self.dataset.is_labeled([i])[0] or i in self.loop.skipped or i in self.loop.broken:
            return None
        return i

    def _send_ahead(self) -> None:
        """Send the browser the next images of the queue (as the strip last showed it), to decode
        before they are due; the first is the one the browser may show at once after a key that
        moves on."""
        if self._closed or self.current is None:
            return
        unsaved = self._editor.unsaved
        order, sent = ahead.images_ahead(self.loop, self._queue, self.current, unsaved, self._ahead)
        for i, image in sent.items():
            self.canvas.prefetch(str(i), image)
        self._ahead = sent
        with self.canvas.hold_sync():  # the key and the picker with it, in one message
            self.canvas.ahead_key = str(order[0]) if order and order[0] in sent else ""
            self.canvas.ahead_picker = self._ahead_picker

    # -- refreshing ----------------------------------------------------------------------------

    def _refresh_header(self) -> None:
        i = self.current
        if i is None:
            return
        self.header.value = status.header(i, self.loop.describe(i).why)

    def _refresh_queue(self, queue: np.ndarray | None = None) -> None:
        """Show the head of `queue` (default: the loop's queue now) in the strip, and keep it for
        sending the next images ahead.

        With it goes what the whole panel shows once the next image (the first of the strip,
        the one ``_send_ahead`` names as ``ahead_key``) is shown: its header line (``Info``'s
        ``ahead`` part), the strip's row then and the picker's class; the browser moves them
        all in the frame that shows the image early, before Python answers.
        """
        if self._closed:
            return
        with self._lock:
            self._queue = self.loop.queue if queue is None else queue
            strip = self.queue_strip
            row = ahead.strip_row(self.loop, self._queue, self.current, strip.count, strip.has)
            key = row.key
            strip.update(row.entries, (key, row.entries[1:]))
            header = status.header(int(key), row.why) if key else ""
            self.info.set("ahead", {"key": key, "header": header})
            self._ahead_picker = self._editor.picker_with(row.predicted) if key else None
            self._tell_broken()

    def _refresh_state(self) -> None:
        loop = self.loop
        history = loop.history
        self.status.value = status.status_line(
            history, len(self.dataset.labeled), loop.model_version, loop.state, loop.ranking.pending
        )
        budget = self._budget_reached()
        # Empty, and hidden, when no criterion is set.
        self.stop_line.value = status.stop_line(loop.criteria(), budget, loop.stop_reason)
        self.continue_button.layout.display = None if budget is not None else "none"
        if self.current is not None:
            self.canvas.finished = status.budget_notice(budget)
        self._tell_broken()
        self.curve.value = status.curve(history)
        chart = status.auto_chart(history)
        self.auto_chart.value = chart
        self.auto_chart.layout.display = None if chart else "none"

    def _tell_broken(self) -> None:
        """Say once which images could not be read since the last time: how many, the first ones."""
        broken = self.loop.broken
        new = [i for i in broken if i not in self._told_broken]
        if not new:
            return
        self._told_broken.update(new)
        earlier = self.error_line.value
        self._say_error(status.broken_line(broken, new))
        if earlier:
            self.error_line.value = f"{earlier}<br>{self.error_line.value}"

    def _say(self, message: str) -> None:
        """Show a notice (not an error): unsaved work restored, an undo, a redo."""
        self.notice.value = status.notice_html(message)

    def _say_error(self, message: str) -> None:
        self.error_line.value = status.error_html(message)

    # -- loop callbacks (on the kernel's thread in a kernel: see the class) ----------------------

    def _on_round_start(self, number: int) -> None:
        with self._lock, self.info.batch():
            if self._closed:
                return
            self.progress.description = f"round {number}"
            self.progress.bar_style = "info"
            self.progress.value = 0.0
            self._refresh_state()

    def _on_progress(self, fraction: float) -> None:
        with self._lock:
            if not self._closed:
                self.progress.value = fraction

    def _on_ranking(self, ranking: Ranking) -> None:
        with self._step():
            if self._closed:
                return
            self.progress.value, self.progress.description = 0.0, "idle"
            if self._round_error and self.error_line.value == self._round_error:
                self._say_error("")  # the failed round's error: this one worked
            self._round_error = ""
            self.progress.bar_style = ""
            if self.current is None:
                self._advance()
            else:
                self._refresh_header()
                self._refresh_queue()
            self._refresh_state()

    def _on_settings(self, _settings: object) -> None:
        """A setting changed (the picker, or ``loop.budget = …`` in a cell)."""
        with self._step():
            if self._closed:
                return
            self._controls.show()
            self._refresh_state()

    def _on_error(self, record: RoundRecord) -> None:
        with self._lock, self.info.batch():
            if self._closed:
                return
            self.progress.value, self.progress.description = 0.0, "failed"
            self.progress.bar_style = "danger"
            self._say_error(status.round_failed(record))
            self._round_error = self.error_line.value
            self._refresh_state()

    # -- controls ------------------------------------------------------------------------------

    def _on_pick(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.canvas.active_class = change["new"]

    def _on_heuristics_changed(self) -> None:
        """A heuristic was registered or removed, on any thread (``heuristics.watch``)."""
        self._handoff.call(self.refresh_heuristics)

    def refresh_heuristics(self) -> None:
        """Offer the heuristics registered so far; runs by itself when one is registered.

        The loop's heuristic stays as it is, and shown.
        """
        with self._lock:
            if not self._closed:
                self._controls.show()


def _descendants(widget: widgets.Widget) -> list[widgets.Widget]:
    """Every widget inside `widget` (children, their layouts and styles), deepest first."""
    found: list[widgets.Widget] = []
    for child in getattr(widget, "children", ()):
        found += _descendants(child)
        found.append(child)
    for part in ("layout", "style"):
        value = getattr(widget, part, None)
        if isinstance(value, widgets.Widget):
            found.append(value)
    return found
