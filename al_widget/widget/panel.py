"""Panel: label the loop's most uncertain image, watch the model retrain, steer the loop."""

from __future__ import annotations

import contextlib
import html
import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import numpy as np

from .. import heuristics, selectors
from .._images import ImageError
from .._svg import line_chart
from ..annotations import Annotation, Boxes, Label, Mask
from ..loop import ActiveLoop
from ..ranking import Ranking
from ..records import RoundRecord, semi_supervised_note
from . import keys
from .canvas import Canvas
from .export import ExportControl
from .info import Info
from .thumbnails import Entry, QueueStrip
from .unsaved import Work, from_annotation

log = logging.getLogger("al_widget")

MODES = {"classify": "classify", "detect": "box", "segment": "mask"}
PREFETCH = 2
"""How many of the next images in the queue the browser gets ahead, decoded before they are due."""
METRIC_NAMES = {"accuracy": "test accuracy", "agreement": "agreement with your recent labels"}
"""How the learning curve names a round's metric (``RoundRecord.metric_name``); others as named."""
POOL_SAMPLES = [
    ("50", 50),
    ("100", 100),
    ("500", 500),
    ("1,000", 1000),
    ("10,000", 10000),
    ("whole pool", 0),  # 0 stands for None: a Dropdown shows a None value as no selection
]


class Panel(widgets.VBox):
    """An ipywidgets panel over an ActiveLoop: canvas, class picker, queue, progress and learning curve.

    Keys: clicking the panel (or its canvas) gives it keyboard focus (a ring shows); its keys
    (``widget/keys.py``) then act wherever the pointer is, until focus leaves the panel.

    Unsaved work (boxes, drafts, mask, the class chosen) is kept per image for the session and
    shown again with the image; an undone submit comes back as such work, to edit, and Shift+Z
    commits it again. In segmentation class 0 is the background: the picker offers classes 1 and
    up, and the eraser paints the background.

    Speed: the next images are sent ahead (``PREFETCH``) and decoded in the browser before they
    are due; a label then costs one message for the canvas, one for the words and progress
    (``Info``), one for the queue strip and, in classification, one for the picker, the next
    image's first. With the next image goes what the rest of the panel shows with it (its
    header, the strip's next row, the picker's class), which the browser moves in the frame that
    paints the image early; the panel then keeps the image painted (``painted`` in the key
    event), even if a ranking published meanwhile put another first. A submit or skip names the
    image it was made on (``image_id``): a second one for the same image (a double click) is
    ignored; a labeling key or click sooner than ``dwell_ms`` after its image was painted never
    reaches Python as a label (see ``keys.DWELL_MS``).

    Thread safety: ``_lock`` guards ``current``, ``_done``, ``_redo``, ``_unsaved``,
    ``_loaded``, ``_ahead``, ``_queue``, ``_closed``, ``_showing_heuristic``, ``_past_budget``,
    ``_told_broken``, ``_round_error``, ``_painted``, ``_ahead_picker`` and every widget value
    the panel sets. The user's actions run on the kernel's
    thread; the loop's callbacks (``_on_round_start``, ``_on_progress``, ``_on_ranking``,
    ``_on_error``) run on the loop's worker thread, ``_on_settings`` on the thread that changed a
    setting; each takes the lock for its whole body. Lock
    order: panel → loop (session → trainer → dataset); the loop calls back outside its locks.

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
        self._done: list[tuple[str, int, Annotation | None]] = []  # this panel's commits, skips
        self._redo: list[tuple[str, int, Annotation | None]] = []
        self._unsaved: dict[int, Work] = {}
        self._loaded = Work()
        self._restored = ""  # what the last image shown came back with, in words
        self._lock = threading.RLock()
        self._closed = False
        self._showing_heuristic = False  # the picker is being set to the loop's heuristic
        self._past_budget: int | None = None  # the budget the labeler chose to label past
        self._told_broken: set[int] = set()  # unreadable images the panel has named
        self._round_error = ""  # the error line a failed round left, cleared by a good one
        self._painted: str | None = None  # the image the browser painted for the key handled
        self._ahead_picker: int | None = None  # the picker's button with the next image
        self._scope = f"alw-panel-{uuid.uuid4().hex[:8]}"  # this panel's CSS class

        classes = list(self.dataset.classes)
        self.canvas = Canvas(classes=classes, mode=MODES[self.task], dwell_ms=dwell_ms)
        # Mask mode never paints class 0, the background: the picker offers the others.
        first = 1 if self.task == "segment" and len(classes) > 1 else 0
        self.choices = list(range(first, len(classes)))
        class_chords = [
            keys.chord({"key": classes[k]}) for k in self.choices if len(classes[k]) == 1
        ]
        self.canvas.panel_keys = keys.panel_chords() + class_chords
        self.canvas.swap_keys = keys.swap_chords(MODES[self.task]) | (
            {c: "label" for c in class_chords + keys.digit_chords(len(self.choices))}
            if self.task == "classify"
            else {}
        )
        self.info = Info()
        self.header = self.info.header
        self.picker = widgets.ToggleButtons(
            options=[(classes[k], k) for k in self.choices],
            value=None if self.task == "classify" or not self.choices else self.choices[0],
            tooltips=[_key_hint(n) for n in range(len(self.choices))],
            style={"button_width": "auto"},
        )
        self.picker.add_class("alw-picker")
        if self.choices and self.picker.value is not None:
            self.canvas.active_class = self.picker.value
        self.submit_button = widgets.Button(
            description="Submit", button_style="success", icon="check"
        )
        self.skip_button = widgets.Button(description="Skip", icon="forward")
        self.no_objects_button = widgets.Button(
            description="No objects", icon="ban", tooltip="nothing to box in this image (N)"
        )
        for button, action in (
            (self.submit_button, "submit"),
            (self.skip_button, "skip"),
            (self.no_objects_button, "no_objects"),
        ):
            button.add_class(f"alw-act-{action}")  # its clicks name the image (keys.py)
        self.undo_button = widgets.Button(
            description="Undo", icon="undo", tooltip="undo the last submit or skip (Z)"
        )
        self.redo_button = widgets.Button(
            description="Redo", icon="repeat", tooltip="redo the submit or skip undone (Shift+Z)"
        )
        self.continue_button = widgets.Button(
            description="Continue past the budget",
            icon="forward",
            tooltip="go on labeling past loop.budget (it stays as it is)",
            layout=widgets.Layout(display="none"),
        )
        self.continue_button.add_class("alw-continue")
        self.error_line = self.info.error
        self.notice = self.info.notice
        self.progress = self.info.progress
        self.status = self.info.status
        self.stop_line = self.info.stop
        self.curve = widgets.HTML()
        self.queue_strip = QueueStrip(thumbnails, thumbnail_size, self.open_image)
        self.heuristic_picker = widgets.Dropdown(description="heuristic", layout=_fill())
        self._show_heuristic()
        samples = list(POOL_SAMPLES)
        if (loop.pool_sample or 0) not in [v for _, v in samples]:
            samples.insert(0, (f"{loop.pool_sample:,}", loop.pool_sample))
        self.pool_picker = widgets.Dropdown(
            description="pool sample", options=samples, value=loop.pool_sample or 0, layout=_fill()
        )

        self.submit_button.on_click(lambda _: self.submit())
        self.skip_button.on_click(lambda _: self.skip())
        self.no_objects_button.on_click(lambda _: self.submit_no_objects())
        self.undo_button.on_click(lambda _: self.undo())
        self.redo_button.on_click(lambda _: self.redo())
        self.continue_button.on_click(lambda _: self.continue_past_budget())
        self.picker.observe(self._on_pick, "value")
        self.heuristic_picker.observe(self._on_heuristic, "value")
        self.pool_picker.observe(self._on_pool_sample, "value")

        super().__init__(self._layout())
        self.add_class("alw-panel")
        self.add_class(self._scope)
        heuristics.watch(self.refresh_heuristics)
        self.canvas.on_key(self.handle_key)
        loop.on_round_start(self._on_round_start)
        loop.on_progress(self._on_progress)
        loop.on_ranking(self._on_ranking)
        loop.on_error(self._on_error)
        loop.on_settings(self._on_settings)
        with self._step():
            self._advance()
            self._refresh_state()

    def _layout(self) -> list[widgets.Widget]:
        tools: list[widgets.Widget] = []
        if self.task == "segment":
            # Plain text: ToggleButtons escapes its labels itself and tooltips are attributes.
            background = self.dataset.classes[0]
            tool = widgets.ToggleButtons(
                options=[
                    ("brush", "brush"),
                    (f"eraser ({background})", "eraser"),
                    ("polygon", "polygon"),
                ],
                tooltips=["B", f"E: paints {background}, the background", "P"],
                style={"button_width": "auto"},
            )
            size = widgets.IntSlider(
                description="brush", min=1, max=64, value=self.canvas.brush_size, layout=_slider()
            )
            widgets.link((tool, "value"), (self.canvas, "tool"))
            widgets.link((size, "value"), (self.canvas, "brush_size"))
            self.void_legend = widgets.HTML(_VOID_LEGEND)
            tools += [tool, size, self.void_legend]
        if self.task in ("segment", "detect"):
            opacity = widgets.FloatSlider(
                description="opacity",
                min=0,
                max=1,
                step=0.05,
                value=self.canvas.opacity,
                layout=_slider(),
            )
            widgets.link((opacity, "value"), (self.canvas, "opacity"))
            tools.append(opacity)
        deliberate = [self.no_objects_button] if self.task == "detect" else []
        row = [
            self.submit_button,
            *deliberate,
            self.skip_button,
            self.undo_button,
            self.redo_button,
            self.continue_button,
        ]
        for button in row:
            button.layout.width = "auto"
        buttons = widgets.HBox(row, layout=widgets.Layout(flex_flow="row wrap"))
        left = widgets.VBox(
            [
                self.info,
                self.canvas,
                self.picker,
                widgets.HBox(tools, layout=widgets.Layout(flex_flow="row wrap")),
                buttons,
            ],
            layout=widgets.Layout(flex="3 1 360px", min_width="0"),
        )
        self.export = ExportControl(self.dataset)
        export_box = widgets.Accordion([self.export], titles=("export the labels",))
        export_box.add_class("alw-fold")
        right = widgets.VBox(
            [
                self.curve,
                self.heuristic_picker,
                self.pool_picker,
                export_box,
            ],
            layout=widgets.Layout(flex="2 1 240px", min_width="0"),
        )
        left.add_class("alw-left")
        right.add_class("alw-right")
        help_text = keys.help_html(self.canvas.mode)
        help_line = widgets.HTML(f"<div style='font-size:11px;color:#666'>{help_text}</div>")
        queue = widgets.Accordion([self.queue_strip], titles=("next in the queue",))
        queue.selected_index = 0
        help_box = widgets.Accordion([help_line], titles=("keys",))
        for part in (queue, help_box):
            part.add_class("alw-fold")
        main = widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap"))
        main.add_class("alw-main")
        self.colors_style = widgets.HTML(self._colors_css())
        return [self.colors_style, main, queue, help_box]

    def _colors_css(self) -> str:
        """The picker's buttons in their classes' drawing colours (the canvas's), active filled."""
        scope = f".{self._scope} .alw-picker button"
        rules = []
        for n, k in enumerate(self.choices, start=1):
            color = self.canvas.colors[k]
            rules.append(
                f"{scope}:nth-of-type({n}) {{ border-left: 6px solid {color}; }}"
                f"{scope}.mod-active:nth-of-type({n}) {{ background: {color}; "
                f"color: {_ink(color)}; box-shadow: 0 0 0 2px {color}; }}"
            )
        return f"<style>{''.join(rules)}</style>"

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
                annotation = self._annotation()
            except ValueError as error:
                self._say_error(f"not submitted: {error}")
                return None
            return self._commit(annotation)

    def _not_current(self, what: str, image_id: int | None, shown: str | None = None) -> bool:
        """True (and said) when there is no image to act on, or the action was made on another."""
        if self.current is None:
            self._say_error(f"nothing to {what}: {self._finished_hint()}")
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
            self._say_error(f"not submitted: {_budget_words(budget)}")
            return None
        try:
            stored = self.loop.commit(i, annotation)
        except (ValueError, IndexError, OSError, RuntimeError) as error:
            # Bad input, a full disk, a closed loop: the label was not kept, and the panel says why.
            self._say_error(f"not submitted: {error}")
            return None
        self._done.append(("commit", i, stored))
        self._redo.clear()
        self._unsaved.pop(i, None)
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
            self._done.append(("skip", i, None))
            self._redo.clear()
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
            what = "skip"
            if self._done and self._done[-1][1] == i:
                kind, _, annotation = self._done.pop()
                self._redo.append((kind, i, annotation))
                if kind == "commit" and annotation is not None:
                    what = "submit"
                    self._unsaved[i] = from_annotation(annotation, self.dataset.classes)
            self.show(i)
            restored = f" ({self._restored})" if self._restored else ""
            self._say(
                f"undid the {what} of image {i}: it is back to edit{restored}; Shift+Z redoes"
            )
            self._refresh_state()
            return i

    def redo(self) -> int | None:
        """Commit (or skip) again what the last ``undo`` took back; returns the image's index."""
        with self._step():
            if not self._redo:
                self._say_error("nothing to redo")
                return None
            budget = self._budget_reached()
            if self._redo[-1][0] == "commit" and budget is not None:
                self._say_error(f"not redone: {_budget_words(budget)}")
                return None
            kind, i, annotation = self._redo.pop()
            try:
                if kind == "commit":
                    assert annotation is not None
                    annotation = self.loop.commit(i, annotation)
                else:
                    self.loop.skip(i)
            except (ValueError, IndexError, OSError, RuntimeError) as error:
                self._redo.append((kind, i, annotation))
                self._say_error(f"not redone: {error}")
                return None
            self._done.append((kind, i, annotation))
            self._unsaved.pop(i, None)
            self._say_error("")
            if self.current == i:
                self.current = None
                self._advance()
            else:
                self._refresh_queue()
            self._say(f"redid the {'submit' if kind == 'commit' else 'skip'} of image {i}")
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

    def _budget_notice(self) -> str:
        """What the canvas says over an image at the budget (it then takes no key); else ""."""
        budget = self._budget_reached()
        return "" if budget is None else f"The budget of {_count(budget, 'label')} is reached"

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
        class_id = None if event.get("shiftKey") else self._class_for_key(str(event.get("key", "")))
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
            self._keep_unsaved(self.current)
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
        work = self._unsaved.get(i)
        queue = self.loop.queue  # once per image shown: a million-image queue takes ~8 ms
        self._restored = ""
        # The image, the key of the one after it and "not finished" go in one message.
        with self.canvas.hold_sync():
            if work is not None:
                self._load_work(image, i, work)
                self._restored = f"{work.summary()} restored" if work.summary() else ""
            else:
                self._load_known(image, i, described.predicted)
            following = [int(k) for k in queue[:2] if int(k) != i][:1]
            self.canvas.ahead_key = str(following[0]) if following else ""
            self.canvas.finished = self._budget_notice()
        self._ahead = {k: v for k, v in self._ahead.items() if k != i}
        self._say(self._restored)
        self.current = i
        self._loaded = self._work()
        self._refresh_header()
        self._refresh_queue(queue)

    def _load_known(self, image: np.ndarray, i: int, predicted: int | None) -> None:
        """Load image `i` with its annotation, else the model's boxes or mask as drafts."""
        known = self.dataset.annotation(i)
        classes = self.dataset.classes
        boxes = drafts = mask = None
        draft = self.loop.prediction(i) if known is None else None
        if isinstance(known, Boxes):
            boxes = (known.xyxy, known.class_ids(classes))
        elif isinstance(draft, Boxes):
            drafts = (draft.xyxy, draft.class_ids(classes))  # the model's boxes, to accept or fix
        if isinstance(known, Mask):
            mask = known.class_map
        elif isinstance(draft, Mask):
            mask = draft.class_map  # the model's mask, to paint over
        self.canvas.load(image, boxes=boxes, drafts=drafts, mask=mask, key=str(i))
        if self.task == "classify":
            self.picker.value = known.class_id(classes) if isinstance(known, Label) else predicted

    def _load_work(self, image: np.ndarray, i: int, work: Work) -> None:
        """Load image `i` with the work left on it earlier."""
        h, w = image.shape[:2]
        self.canvas.load(
            image,
            boxes=work.box_dicts(),
            drafts=work.draft_dicts(),
            mask=work.mask_array(h, w),
            key=str(i),
        )
        if work.class_id is not None and (work.class_id in self.choices):
            self.picker.value = work.class_id
        elif self.task == "classify":
            self.picker.value = None

    def _work(self) -> Work:
        """What the canvas and the picker hold now."""
        canvas = self.canvas
        return Work.of(canvas.boxes, canvas.drafts, canvas.mask, self.picker.value)

    def _keep_unsaved(self, i: int) -> None:
        """Keep the work on image `i`, which is being left unsubmitted, if there is any."""
        work = self._work()
        if i in self._unsaved or work != self._loaded:
            self._unsaved[i] = work

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
                self._keep_unsaved(self.current)
            self.current = None
            reason = html.escape(self.loop.stop_reason or "no image left to show")
            unreadable = len(self.loop.broken)
            if unreadable:
                reason += f"; {_count(unreadable, 'unreadable image')} left out, see loop.broken"
            self.header.value = (
                f"<b>Nothing left to label</b> ({reason}). Next: export the labels (on the right), "
                "add images, raise the budget (<code>loop.budget = …</code>) or the target, or "
                "look at <code>loop.history</code>; Z brings back the last image."
            )
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
        order = [int(i) for i in self._queue[: PREFETCH + 1] if int(i) != self.current]
        ahead: dict[int, np.ndarray] = {}
        for i in order[:PREFETCH]:
            if i in self._unsaved:
                continue  # shown with its work, which only Python holds
            try:
                ahead[i] = self._ahead[i] if i in self._ahead else self.dataset.image(i)
            except ImageError:
                continue  # marked broken when it is due
            self.canvas.prefetch(str(i), ahead[i])
        self._ahead = ahead
        with self.canvas.hold_sync():  # the key and the picker with it, in one message
            self.canvas.ahead_key = str(order[0]) if order and order[0] in ahead else ""
            self.canvas.ahead_picker = self._ahead_picker

    def _finished_hint(self) -> str:
        return "nothing left to label (see the line above the image)"

    def _annotation(self) -> Annotation:
        if self.task == "classify":
            if self.picker.value is None:
                raise ValueError("pick a class first (click it, or press its digit)")
            return Label(self.dataset.classes[self.picker.value])
        if self.task == "detect":
            xyxy, labels = self.canvas.box_array()
            open_drafts = len(self.canvas.drafts)
            if open_drafts:
                raise ValueError(
                    f"{_count(open_drafts, 'model draft')} "
                    f"{'is' if open_drafts == 1 else 'are'} neither accepted nor deleted: "
                    "accept them (A, or Shift+A for all) or delete them (Del) first"
                )
            if not len(xyxy):
                raise ValueError(
                    "no boxes: draw some, or press N (No objects) if there is nothing to box here"
                )
            return Boxes(xyxy, [int(v) for v in labels])
        return Mask(self.canvas.mask_array())

    def _class_for_key(self, key: str) -> int | None:
        """The class a key picks: a class named as the key, else the digit's (see keys.DIGITS).

        Digits count the classes the picker offers (in segmentation, from class 1).
        """
        classes = self.dataset.classes
        if key in classes and classes.index(key) in self.choices:
            return classes.index(key)
        k = keys.class_index(key)
        return self.choices[k] if k is not None and k < len(self.choices) else None

    # -- refreshing ----------------------------------------------------------------------------

    def _refresh_header(self) -> None:
        i = self.current
        if i is None:
            return
        self.header.value = self._header_for(i)

    def _header_for(self, i: int) -> str:
        """The header line shown with image `i`."""
        return f"<b>image {i}</b> · {html.escape(self.loop.describe(i).why)}"

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
            entries: list[Entry] = []
            predicted: int | None = None
            for i in self._queue:
                if len(entries) == self.queue_strip.count + 1:  # the row after the next image
                    break
                if int(i) == self.current:
                    continue
                image = None
                if not self.queue_strip.has(int(i)):
                    try:
                        image = self.dataset.image(int(i))
                    except ImageError as error:
                        self.loop.mark_broken(int(i), str(error))
                        continue
                described = self.loop.describe(int(i))
                if not entries:
                    predicted = described.predicted
                entries.append(Entry(int(i), image, described.score, described.model_version))
            key = str(entries[0].index) if entries else ""
            self.queue_strip.update(entries, (key, entries[1:]))
            self.info.set(
                "ahead", {"key": key, "header": self._header_for(entries[0].index) if key else ""}
            )
            self._ahead_picker = self._picker_with(predicted) if key else None
            self._tell_broken()

    def _picker_with(self, predicted: int | None) -> int | None:
        """The picker's button active with a fresh image the model predicts `predicted` for
        (-1: none), as ``_load_known`` sets it; None where the picker keeps its class (boxes
        and masks)."""
        if self.task != "classify":
            return None
        return self.choices.index(predicted) if predicted in self.choices else -1

    def _refresh_state(self) -> None:
        loop = self.loop
        history = loop.history
        rounds = [r for r in history if r.ok and r.retrained]
        failed = sum(not r.ok and r.error != "cancelled" for r in history)
        state = loop.state
        # Rounds done count the trainings that worked; the progress bar numbers every round.
        done = f"{_count(len(rounds), 'round')} done" + (f" ({failed} failed)" if failed else "")
        doing = state if state == "idle" else f"round {len(history) + 1} {state}"
        pending = loop.ranking.pending  # a big pool is ranked part by part, embedded first
        still = f" · {pending:,} images still to rank" if pending else ""
        semi = semi_supervised_note(history)  # pseudo-labels the last round trained on, if any
        still += f" · {html.escape(semi)}" if semi else ""
        self.status.value = (
            f"{done} · {_count(len(self.dataset.labeled), 'label')} · "
            f"model v{loop.model_version} · {doing}{still}"
        )
        lines = [f"{c} ({c.fraction:.0%})" for c in loop.criteria()]
        budget = self._budget_reached()
        if budget is not None:
            lines.append(f"<b>{html.escape(_budget_words(budget))}</b>")
        elif loop.is_done:
            lines.append(f"<b>done: {html.escape(loop.stop_reason or '')}</b>")
        self.stop_line.value = " · ".join(lines)  # empty, and hidden, when no criterion is set
        self.continue_button.layout.display = None if budget is not None else "none"
        if self.current is not None:
            self.canvas.finished = self._budget_notice()
        self._tell_broken()
        points = [(r.n_labels, r.metric) for r in rounds if r.metric is not None]
        if len(points) >= 1:
            name = next(r.metric_name for r in reversed(rounds) if r.metric is not None)
            label = METRIC_NAMES.get(name or "", name or "metric")
            xs, ys = zip(*points, strict=True)
            self.curve.value = line_chart(
                {label: (xs, ys, None)}, x_label="labels", y_label=label, width=360, height=200
            )
        else:
            self.curve.value = "<i>the learning curve appears after the first rounds</i>"

    def _tell_broken(self) -> None:
        """Say once which images could not be read since the last time: how many, the first ones."""
        broken = self.loop.broken
        new = [i for i in broken if i not in self._told_broken]
        if not new:
            return
        self._told_broken.update(new)
        first = "; ".join(broken[i] for i in new[:3])
        more = f"; and {len(new) - 3:,} more" if len(new) > 3 else ""
        message = (
            f"{_count(len(new), 'image')} could not be read and "
            f"{'was' if len(new) == 1 else 'were'} left out of the queue: {first}{more} "
            "(loop.broken lists them all)"
        )
        earlier = self.error_line.value
        self._say_error(message)
        if earlier:
            self.error_line.value = f"{earlier}<br>{self.error_line.value}"

    def _say(self, message: str) -> None:
        """Show a notice (not an error): unsaved work restored, an undo, a redo."""
        self.notice.value = (
            f"<span class='alw-notice' style='color:#05a'>{html.escape(message)}</span>"
            if message
            else ""
        )

    def _say_error(self, message: str) -> None:
        self.error_line.value = (
            f"<span style='color:#b00'>{html.escape(message)}</span>" if message else ""
        )

    # -- loop callbacks (worker thread) --------------------------------------------------------

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
        """A setting changed (the picker, or ``loop.budget = …`` in a cell); on that thread."""
        with self._step():
            if self._closed:
                return
            self._show_heuristic()
            self._refresh_state()

    def _on_error(self, record: RoundRecord) -> None:
        with self._lock, self.info.batch():
            if self._closed:
                return
            self.progress.value, self.progress.description = 0.0, "failed"
            self.progress.bar_style = "danger"
            self._say_error(
                f"round {record.round} failed: {record.error} (labels are kept; labeling goes on)"
            )
            self._round_error = self.error_line.value
            self._refresh_state()

    # -- controls ------------------------------------------------------------------------------

    def _on_pick(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.canvas.active_class = change["new"]

    def _on_heuristic(self, change: dict[str, Any]) -> None:
        new, chosen = change["new"], self.loop.heuristic
        if self._showing_heuristic or new is None or new is chosen:
            return
        if isinstance(new, str) and new == heuristics.name_of(chosen):
            return
        try:
            self.loop.heuristic = new
        except ValueError as error:
            with self._lock:
                self._say_error(str(error))
                self._show_heuristic()

    def _on_pool_sample(self, change: dict[str, Any]) -> None:
        self.loop.pool_sample = change["new"] or None

    def refresh_heuristics(self) -> None:
        """Offer the heuristics registered so far; runs by itself when one is registered.

        The loop's heuristic stays as it is, and shown.
        """
        with self._lock:
            if not self._closed:
                self._show_heuristic()

    def _show_heuristic(self) -> None:
        """Offer the registered heuristics that work for this loop (``selectors.usable_names``)
        and show the loop's own: a function of the user's that is not registered is offered
        under its name. Never changes the loop's heuristic. Caller holds the lock."""
        chosen = self.loop.heuristic
        name = heuristics.name_of(chosen)
        options: list[tuple[str, Any]] = [
            (n, n) for n in selectors.usable_names(self.task, self.loop.learner)
        ]
        registered = name in heuristics.names() and (
            isinstance(chosen, str) or heuristics.get(name) is chosen
        )
        value: Any = name if registered or isinstance(chosen, str) else chosen
        if all(v is not value and v != value for _, v in options):
            label = name if all(n != name for n, _ in options) else f"{name} (your function)"
            options.append((label, value))
        picker = self.heuristic_picker
        plain = all(label == v for label, v in options)
        shown = tuple(n for n, _ in options) if plain else tuple(options)  # names, when only those
        # New options reset the value to the first one: the guard keeps that from the loop, and
        # the browser gets options and value together.
        self._showing_heuristic = True
        try:
            with picker.hold_sync():
                if shown != tuple(picker.options):
                    picker.options = shown
                if picker.value is not value:
                    picker.value = value
        finally:
            self._showing_heuristic = False


def _count(n: int, thing: str) -> str:
    """``"1 label"``, ``"3 labels"``: `n` and `thing`, plural unless one."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def _budget_words(budget: int) -> str:
    """Why labeling stopped at `budget`, and the two ways on."""
    return (
        f"the budget of {_count(budget, 'label')} is reached: raise it (loop.budget = …) "
        "or click “Continue past the budget”"
    )


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


def _key_hint(n: int) -> str:
    """The tooltip of the picker's n-th button: the digit that picks it."""
    return f"key {keys.DIGITS[n]}" if n < len(keys.DIGITS) else ""


_VOID_LEGEND = (
    "<span title='mask value 255 (Mask.IGNORE): kept, not trained on; the brush and the "
    "eraser paint over it' style='font-size:12px'><span style='display:inline-block;"
    "width:14px;height:14px;vertical-align:middle;border:1px solid #999;background:"
    "repeating-linear-gradient(45deg,#e0e0c0 0 3px,#404040 3px 6px)'></span> "
    "void / not labeled</span>"
)
"""The legend of the mask pixels not labeled, striped as the canvas draws them."""


def _fill() -> widgets.Layout:
    """A control as wide as its column, never wider."""
    return widgets.Layout(width="auto", max_width="100%")


def _slider() -> widgets.Layout:
    return widgets.Layout(width="220px", max_width="100%")


def _ink(color: str) -> str:
    """Black or white, whichever reads better on `color` (``#rrggbb``)."""
    r, g, b = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    return "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"
