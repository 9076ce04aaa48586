"""The panel's widgets and CSS, built once: what goes where, nothing of what they do."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets

from ..dataset import Dataset
from . import keys
from .canvas import Canvas
from .draftbar import DraftBar
from .export import ExportControl
from .info import Info
from .thumbnails import QueueStrip

MODE_OF_TASK = {"classify": "classify", "detect": "box", "segment": "mask", "instances": "instance"}
"""The canvas's mode (one of ``keys.CANVAS_MODES``) for each task."""
POOL_SAMPLES: list[tuple[str, int | None]] = [
    ("50", 50),
    ("100", 100),
    ("500", 500),
    ("1,000", 1000),
    ("10,000", 10000),
    ("whole pool", 0),  # 0 stands for None: a Dropdown shows a None value as no selection
]


def pool_sample_options(pool_sample: int | None) -> list[tuple[str, int | None]]:
    """The pool-sample picker's options: ``POOL_SAMPLES``, and `pool_sample` first when it is
    not one of them (a value set in code), so the picker shows the loop's own.

    Parameters
    ----------
    pool_sample : int or None
        The loop's pool sample (None: the whole pool).
    """
    samples = list(POOL_SAMPLES)
    if (pool_sample or 0) not in [v for _, v in samples]:
        samples.insert(0, (f"{pool_sample:,}", pool_sample))
    return samples


class PanelLayout:
    """Every widget of a panel, laid out in ``children``; the panel wires them to the loop.

    Parameters
    ----------
    dataset : Dataset
        The dataset labeled: its task and classes decide the canvas mode, the picker and tools.
    pool_sample : int or None
        The loop's pool sample, shown (and offered if not among ``POOL_SAMPLES``).
    thumbnails, thumbnail_size : int
        The queue strip's count and size.
    dwell_ms : int
        The canvas's ``dwell_ms``.
    on_open : callable
        Called with a dataset index when a thumbnail is clicked.
    scope : str
        This panel's CSS class, which scopes the picker's colours.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        pool_sample: int | None,
        thumbnails: int,
        thumbnail_size: int,
        dwell_ms: int,
        on_open: Callable[[int], None],
        scope: str,
    ) -> None:
        task, classes = dataset.task, list(dataset.classes)
        self.canvas = canvas = Canvas(classes=classes, mode=MODE_OF_TASK[task], dwell_ms=dwell_ms)
        # Mask mode never paints class 0, the background: the picker offers the others.
        first = 1 if task == "segment" and len(classes) > 1 else 0
        self.choices = list(range(first, len(classes)))
        named, _ = keys.named_class_keys(classes, self.choices, MODE_OF_TASK[task])
        class_chords = [c for c, k in named.items() if len(classes[k]) == 1]
        canvas.panel_keys = keys.panel_chords() + class_chords
        canvas.swap_keys = keys.swap_chords(MODE_OF_TASK[task]) | (
            {c: "label" for c in class_chords + keys.digit_chords(len(self.choices))}
            if task == "classify"
            else {}
        )
        self.info = Info()
        self.picker = widgets.ToggleButtons(
            options=[(classes[k], k) for k in self.choices],
            value=None if task == "classify" or not self.choices else self.choices[0],
            tooltips=[_key_hint(n) for n in range(len(self.choices))],
            style={"button_width": "auto"},
        )
        self.picker.add_class("alw-picker")
        if self.choices and self.picker.value is not None:
            canvas.active_class = self.picker.value
        self.submit_button = widgets.Button(
            description="Submit", button_style="success", icon="check"
        )
        self.skip_button = widgets.Button(description="Skip", icon="forward")
        self.no_objects_button = widgets.Button(
            description="No objects", icon="ban", tooltip="no objects in this image (N)"
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
        self.curve = widgets.HTML()
        self.auto_chart = widgets.HTML(layout=widgets.Layout(display="none"))
        self.queue_strip = QueueStrip(thumbnails, thumbnail_size, on_open)
        self.heuristic_picker = widgets.Dropdown(description="heuristic", layout=_fill())
        self.pool_picker = widgets.Dropdown(
            description="pool sample",
            options=pool_sample_options(pool_sample),
            value=pool_sample or 0,
            layout=_fill(),
        )
        self.export = ExportControl(dataset)
        self.void_legend: widgets.HTML | None = None
        # Drafts of boxes, masks and objects: the threshold they are shown from, what they saved.
        self.draft_bar = DraftBar(canvas) if task != "classify" else None
        tools = self._tools(task, classes[0] if classes else "")
        self.colors_style = widgets.HTML(colors_css(scope, self.choices, canvas.colors))
        self.children: list[widgets.Widget] = [self.colors_style, *self._parts(task, tools)]

    def _tools(self, task: str, background: str) -> list[widgets.Widget]:
        """The drawing tools of the task: brush, eraser and polygon for masks, opacity."""
        canvas, tools = self.canvas, []
        if task == "segment":
            # Plain text: ToggleButtons escapes its labels itself and tooltips are attributes.
            tool = widgets.ToggleButtons(
                options=[
                    ("brush", "brush"),
                    (f"eraser ({background})", "eraser"),
                    ("polygon", "polygon"),
                ],
                tooltips=["B", f"E: paints {background}, the background", "P"],
                style={"button_width": "auto"},
            )
            canvas.brush_screen = True  # usable at any zoom, on any size of photo
            size = widgets.IntSlider(
                description="brush",
                min=1,
                max=64,
                value=canvas.brush_size,
                layout=_slider(),
                tooltip="brush size in screen pixels ([ smaller · ] larger)",
            )
            widgets.link((tool, "value"), (canvas, "tool"))
            widgets.link((size, "value"), (canvas, "brush_size"))
            self.void_legend = widgets.HTML(_VOID_LEGEND)
            tools += [tool, size, self.void_legend]
        if task in ("segment", "detect"):
            opacity = widgets.FloatSlider(
                description="opacity",
                min=0,
                max=1,
                step=0.05,
                value=canvas.opacity,
                layout=_slider(),
            )
            widgets.link((opacity, "value"), (canvas, "opacity"))
            tools.append(opacity)
        return tools

    def _parts(self, task: str, tools: Sequence[widgets.Widget]) -> list[widgets.Widget]:
        """The canvas column and the controls column side by side, then the strip and the keys."""
        deliberate = [self.no_objects_button] if task in ("detect", "segment", "instances") else []
        if task == "segment":
            self.no_objects_button.description = "All background"
            self.no_objects_button.tooltip = "nothing but the background in this image (N)"
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
                widgets.HBox(list(tools), layout=widgets.Layout(flex_flow="row wrap")),
                buttons,
            ],
            layout=widgets.Layout(flex="3 1 360px", min_width="0"),
        )
        export_box = widgets.Accordion([self.export], titles=("export the labels",))
        export_box.add_class("alw-fold")
        right = widgets.VBox(
            [
                self.curve,
                self.auto_chart,
                *([self.draft_bar.box] if self.draft_bar is not None else []),
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
        return [main, queue, help_box]


def colors_css(scope: str, choices: Sequence[int], colors: Sequence[str]) -> str:
    """The picker's buttons in their classes' drawing colours (the canvas's), active filled.

    Parameters
    ----------
    scope : str
        The panel's CSS class.
    choices : sequence of int
        The class of each picker button, in order.
    colors : sequence of str
        Each class's colour (``#rrggbb``).
    """
    button = f".{scope} .alw-picker button"
    rules = []
    for n, k in enumerate(choices, start=1):
        color = colors[k]
        rules.append(
            f"{button}:nth-of-type({n}) {{ border-left: 6px solid {color}; }}"
            f"{button}.mod-active:nth-of-type({n}) {{ background: {color}; "
            f"color: {_ink(color)}; box-shadow: 0 0 0 2px {color}; }}"
        )
    return f"<style>{''.join(rules)}</style>"


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


def descendants(widget: widgets.Widget) -> list[widgets.Widget]:
    """Every widget inside `widget` (children, their layouts and styles), deepest first.

    Parameters
    ----------
    widget : ipywidgets.Widget
        The widget to look inside (a box's children are looked inside too).
    """
    found: list[widgets.Widget] = []
    for child in getattr(widget, "children", ()):
        found += descendants(child)
        found.append(child)
    for part in ("layout", "style"):
        value = getattr(widget, part, None)
        if isinstance(value, widgets.Widget):
            found.append(value)
    return found


def held_widgets(owner: widgets.Widget) -> list[widgets.Widget]:
    """Every widget inside `owner` (``descendants``) and every widget it holds as an attribute,
    shown or not (classify's No objects button), with what is inside each: those to close
    with it, as ipywidgets keeps each widget until it is closed, and the handlers of one left
    open would keep `owner` in memory.

    Parameters
    ----------
    owner : ipywidgets.Widget
        The widget (a Panel).
    """
    held = [part for part in vars(owner).values() if isinstance(part, widgets.Widget)]
    return [*descendants(owner), *(w for part in held for w in (*descendants(part), part))]
