"""The canvas's synced state, the base class of ``Canvas``: the traits the browser reads and
edits, their checks and defaults, and the classes' colours (``palette``)."""

from __future__ import annotations

import colorsys
from typing import Any

import anywidget
import traitlets as t

from . import keys
from ._box_messages import MAX_BOXES

# Well-separated colors first (Tableau 10 + a few), then golden-angle hues.
_BASE_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#ffd700",
    "#00ff7f",
)
SWAP_ACTIONS = ("label", "skip", "no_objects", "submit")
"""Actions after which the browser may show the next image before Python answers: a class key in
classify mode and a skip always; "no objects" on an image without boxes; a submit in mask mode
with something painted (not the model's untouched draft), in box mode with boxes (undecided
drafts are dropped), and in classify mode while the panel's picker shows a class. Keys and the
panel's buttons alike, once the image has been on screen for ``dwell_ms``."""


def palette(n: int) -> list[str]:
    """Return ``n`` distinguishable CSS colors."""
    colors = list(_BASE_PALETTE[:n])
    for i in range(len(colors), n):
        r, g, b = colorsys.hls_to_rgb((i * 0.618034) % 1.0, 0.55, 0.75)
        colors.append(f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return colors


def _bytes_from_json(value: Any, widget: Any) -> bytes:
    # A binary trait set from the browser arrives as a memoryview, which Bytes() refuses.
    return bytes(value) if value is not None else b""


class CanvasTraits(anywidget.AnyWidget):
    """The traits of ``Canvas`` (its base class), with their checks and defaults.

    Which lock guards which trait, and who sets the others: ``Canvas``'s thread note.
    """

    image = t.Bytes(b"").tag(sync=True, from_json=_bytes_from_json)
    image_format = t.Enum(["png", "jpeg"], default_value="png").tag(sync=True)
    image_id = t.Int(0).tag(sync=True)
    image_key = t.Unicode("").tag(sync=True)
    """The key ``load`` was given for the image; when it was sent ahead under it (see
    ``prefetch``), ``image`` is empty and the browser shows what it decoded then."""
    ahead_key = t.Unicode("").tag(sync=True)
    """The key of the image sent ahead that comes next: after a key of ``swap_keys`` the browser
    shows it at once, before Python answers (with ``load``, or ``stay`` when it did not move on)."""
    swap_keys = t.Dict(value_trait=t.Enum(list(SWAP_ACTIONS))).tag(sync=True)
    """Panel chords after which the browser shows ``ahead_key`` at once, and the action each is
    (see ``SWAP_ACTIONS``); the browser swaps only where that action cannot be refused."""
    ahead_picker = t.Int(None, allow_none=True).tag(sync=True)
    """Inside a panel: which of its class picker's buttons (``.alw-picker``, from 0) is active
    with the image ``ahead_key`` names, -1 for none; None leaves the picker as it is. The browser
    sets it with that image, in the same frame, before Python answers."""
    shown_picker = t.Int(None, allow_none=True).tag(sync=True)
    """Inside a panel: which of its class picker's buttons is active with the image loaded, as
    ``ahead_picker`` says for the next one. When Python's load answers an image the browser
    showed early, the browser sets the picker's buttons from it: a picker given the class it
    held already sends nothing, and would go on showing the one ``ahead_picker`` set."""
    dwell_ms = t.Int(keys.DWELL_MS).tag(sync=True)
    """How long, in ms, an image is on screen (painted) before the browser lets a key or click
    that labels or leaves it through: the chords of ``swap_keys`` and the buttons of
    ``keys.IDENTIFIED_ACTIONS``; a sooner one is dropped, shown, and counted (``dropped_keys``).
    Auto-repeated keydowns never label. 0 turns the check off. See ``keys.DWELL_MS``."""
    dropped_keys = t.Int(0, read_only=True)
    """How many labeling keys and clicks the browser dropped because their image had not been on
    screen for ``dwell_ms`` (the browser reports each one)."""
    width = t.Int(0).tag(sync=True)
    height = t.Int(0).tag(sync=True)
    mode = t.Enum(list(keys.CANVAS_MODES), default_value="box").tag(sync=True)
    classes = t.List(t.Unicode()).tag(sync=True)
    colors = t.List(t.Unicode()).tag(sync=True)
    active_class = t.Int(0).tag(sync=True)
    tool = t.Enum(["brush", "eraser", "polygon"], default_value="brush").tag(sync=True)
    brush_size = t.Int(12).tag(sync=True)
    brush_screen = t.Bool(False).tag(sync=True)
    """Whether ``brush_size`` counts screen pixels, at the zoom of each stroke (a panel's
    brush: as usable on a 4000 x 3000 photo at fit zoom as on a small image), or image pixels.
    The cursor circle shows the brush either way."""
    opacity = t.Float(0.5).tag(sync=True)
    draft_threshold = t.Float(0.0, allow_none=True).tag(sync=True)
    """The confidence from which drafts are shown (a draft's ``"score"``); those below are hidden:
    not drawn, selected, nor accepted by Shift+A. None hides every draft with a score; a draft
    without one is always shown (``draftbar.shown``)."""
    max_boxes = t.Int(MAX_BOXES, read_only=True).tag(sync=True)
    """The most boxes and drafts together the browser lets one image hold (the protocol's bound)."""
    panel_keys = t.List(t.Unicode()).tag(sync=True)
    """The chords (see ``keys.chord``) of the panel around the canvas; empty outside a panel."""
    finished = t.Unicode("").tag(sync=True)
    """A message shown over the dimmed image when there is nothing to edit; empty otherwise."""
    keymap = t.List(t.Dict()).tag(sync=True)
    """The canvas's keys: ``{"action", "keys", "modes", "label"}`` each (see ``keys.py``)."""
    loaded_boxes = t.List(t.Dict(), read_only=True).tag(sync=True)
    loaded_drafts = t.List(t.Dict(), read_only=True).tag(sync=True)
    loaded_mask = t.Bytes(b"", read_only=True).tag(sync=True, from_json=_bytes_from_json)
    """The loaded class map, packed by ``_encoding.compress_mask``; empty if all background."""
    loaded_instances = t.List(t.Dict(), read_only=True).tag(sync=True)
    """Instance mode's loaded objects, bottom first, as ``objects.object_json`` writes them."""
    mask_draft = t.Bool(False, read_only=True).tag(sync=True)
    """The mask is the model's draft, loaded so (``load(mask_draft=True)``) and neither accepted
    (A: a ``mask_accept`` message) nor painted over (any mask edit accepts it): the browser
    draws it hatched, and a panel does not store it."""
    boxes = t.List(t.Dict(), read_only=True)
    """The boxes after the latest accepted edit (or as loaded)."""
    drafts = t.List(t.Dict(), read_only=True)
    """The predicted boxes not yet accepted, after the latest accepted edit (or as loaded)."""
    mask = t.Bytes(b"", read_only=True)
    """The H*W uint8 class map after the latest accepted edit (or as loaded); empty if none."""

    def __init__(self, **kwargs: Any) -> None:
        """Set the traits from `kwargs`, then fill in the colours and the class to paint.

        Parameters
        ----------
        **kwargs
            Initial values of the synced traits (see ``Canvas``).
        """
        super().__init__(**kwargs)
        self._fill_colors()
        self._paintable_class()

    @t.default("keymap")
    def _default_keymap(self) -> list[dict[str, Any]]:
        return keys.canvas_keymap()

    @t.validate("brush_size")
    def _check_brush_size(self, proposal: Any) -> int:
        if proposal["value"] < 1:
            raise t.TraitError(f"brush_size must be >= 1, got {proposal['value']}")
        return proposal["value"]

    @t.validate("dwell_ms")
    def _check_dwell(self, proposal: Any) -> int:
        if not 0 <= proposal["value"] <= 2000:
            raise t.TraitError(f"dwell_ms must be in [0, 2000] ms, got {proposal['value']}")
        return proposal["value"]

    @t.validate("opacity")
    def _check_opacity(self, proposal: Any) -> float:
        if not 0.0 <= proposal["value"] <= 1.0:
            raise t.TraitError(f"opacity must be in [0, 1], got {proposal['value']}")
        return proposal["value"]

    @t.observe("classes")
    def _on_classes(self, change: Any) -> None:
        self._fill_colors()
        self._paintable_class()

    @t.observe("mode", "active_class")
    def _on_mode_or_class(self, change: Any) -> None:
        self._paintable_class()

    def _paintable_class(self) -> None:
        # Mask mode paints classes 1 and up; class 0 is the background (the eraser's).
        if self.mode == "mask" and self.active_class == 0 and len(self.classes) > 1:
            self.active_class = 1

    def _fill_colors(self) -> None:
        if len(self.colors) < len(self.classes):
            self.colors = list(self.colors) + palette(len(self.classes))[len(self.colors) :]
