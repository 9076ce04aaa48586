"""The drawing canvas: an anywidget that shows one image and edits its boxes or mask."""

from __future__ import annotations

import colorsys
import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets as t

from . import keys
from ._box_messages import MAX_BOXES, check_box_count, parse_boxes
from ._encoding import as_rgb, compress_mask, encode_display
from ._mask_messages import MaskPatch, parse_mask
from ._protocol import (
    EDIT_KINDS,
    BoxesEdit,
    Dropped,
    Fetch,
    KeyPress,
    MaskAccept,
    MaskEdit,
    Need,
    ObjectDelete,
    ObjectEdit,
    ObjectOrder,
    parse_message,
)
from ._refusal import ProtocolError
from .objects import Objects, applied, object_json

logger = logging.getLogger("al_widget")

_STATIC = Path(__file__).parents[1] / "_static"
_JS = _STATIC if (_STATIC / "canvas.js").exists() else Path(__file__).parents[2] / "js"

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
PREFETCH_KEEP = 4
"""How many encoded images (sent ahead or shown) the canvas keeps for views that ask again."""


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


class Canvas(anywidget.AnyWidget):
    """Show an image and let the user draw boxes or paint a class mask on it.

    Alone: ``canvas = Canvas(classes=["cat", "dog"], mode="box")`` as a cell's last line, then
    ``canvas.load(image, boxes=..., drafts=...)``. What the user drew is in ``boxes``,
    ``drafts`` and ``mask`` (``box_array()``, ``mask_array()``), updated after each finished
    edit (``on_edit``). Its keys act while it has focus (click the image); the README's table
    lists them ("The panel"). In mask mode class 0 is the background: what is left unpainted,
    and what the eraser paints; the brush never paints it (``active_class`` 0 becomes 1). In
    instance mode each object has its own mask and class (``objects``). While
    ``finished`` holds a message, the canvas shows it over the dimmed image and takes no edits
    (an owner may decide otherwise: ``guard_edits``). An edit the canvas refuses on the image
    shown sends the browser back to what the canvas holds (``resync``).
    How images and edits travel to and from the browser: README, "Development".

    Thread safety: in a kernel the browser's messages arrive on the main thread or on a
    subshell's, and a cell may call the canvas (or its panel) meanwhile. ``_edit_lock`` (the
    owner's lock given to ``guard_edits``, a Panel's; else the canvas's own) guards
    ``image_id`` and what an edit changes (``boxes``, ``drafts``, ``mask``, ``mask_draft``,
    ``_objects``, the ``loaded_*`` traits): ``load`` takes it, and a browser edit is checked
    against the image shown (its ``image_id``, again after parsing) and applied under it in
    one step, so an edit drawn on one image never lands on the next. ``_encoded_lock`` guards
    ``_encoded`` (the images sent ahead), which the owner changes (``load``, ``prefetch``)
    while a browser message may read it (``fetch``, ``need``). Lock order: ``_edit_lock`` →
    ``_encoded_lock``; neither is held while an observer runs (``on_edit``, ``on_key``), and no
    other lock is taken under ``_encoded_lock``. The other traits are the owner's to set on one
    thread at a time (a Panel sets them under its lock, never on the loop's worker).

    Parameters
    ----------
    **kwargs
        Initial values of the synced traits (``classes``, ``mode``, ``colors``, ``tool``, ...).
    """

    _esm = _JS / "canvas.js"
    _css = _JS / "canvas.css"

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
        super().__init__(**kwargs)
        self._encoded: OrderedDict[str, tuple[bytes, str, int, int]] = OrderedDict()
        self._encoded_lock = threading.RLock()  # see the class's thread note
        self._edit_lock: threading.RLock = threading.RLock()  # or the owner's: guard_edits
        self._takes_edits: Callable[[], bool] = lambda: not self.finished
        self.messages_received = 0
        self.received_by_kind: dict[str, int] = {"boxes": 0, "mask": 0}  # "instance" from the first
        self._objects: Objects = ()
        self.rejected: list[str] = []
        self._edit_observers: list[Callable[[str], None]] = []
        self._key_observers: list[Callable[[dict[str, Any]], None]] = []
        self._fill_colors()
        self._paintable_class()
        self.on_msg(self._on_browser_msg)

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

    def guard_edits(self, lock: threading.RLock, takes_edits: Callable[[], bool]) -> None:
        """Check and apply the browser's edits under the owner's `lock`, while `takes_edits()`.

        Parameters
        ----------
        lock : threading.RLock
            The lock under which the owner loads images and reads the edits (a Panel's): an edit
            is checked against the image shown and applied while holding it, and ``load`` takes
            it, so the owner's lock order must put it before the canvas's ``_encoded_lock``.
        takes_edits : callable
            Called under `lock` for each edit of the image shown: False refuses it (and sends
            the browser back to what the canvas holds). By default edits are taken while
            ``finished`` is empty.
        """
        self._edit_lock, self._takes_edits = lock, takes_edits

    def on_edit(self, fn: Callable[[str], None]) -> Callable[[str], None]:
        """Call ``fn(kind)`` after each accepted edit; it runs on the kernel's main/comm thread.

        Parameters
        ----------
        fn
            Takes the edit's kind (``"boxes"`` or ``"mask"``); returned, so this works as
            a decorator.
        """
        self._edit_observers.append(fn)
        return fn

    def on_key(self, fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        """Call ``fn(event)`` for each key of ``panel_keys`` the browser sends.

        Parameters
        ----------
        fn
            Takes ``{"key", "shiftKey", "ctrlKey", "altKey", "metaKey"}`` and, when the browser
            says them, ``"image_id"`` (the image Python had loaded when the key was pressed) and
            ``"shown"`` (the key of the image on screen then, which may be the one shown early,
            see ``ahead_key``) and ``"painted"`` (the key of the image the browser painted
            early in answer to this key: the panel keeps that one on screen). A click on one of the panel's buttons of
            ``keys.IDENTIFIED_ACTIONS`` comes the same way, with ``"action"`` and an empty
            ``"key"``. Runs on the kernel's main/comm thread; when the browser showed the next
            image early and no observer loaded one, the canvas tells it to go back (``stay``).
        """
        self._key_observers.append(fn)
        return fn

    def load(
        self,
        image: np.ndarray,
        *,
        mode: str | None = None,
        boxes: Sequence[dict[str, Any]] | tuple[np.ndarray, np.ndarray] | None = None,
        drafts: Sequence[dict[str, Any]] | tuple[np.ndarray, np.ndarray] | None = None,
        mask: np.ndarray | None = None,
        objects: Sequence[ObjectEdit] | None = None,
        key: str | None = None,
        mask_draft: bool = False,
    ) -> None:
        """Show a new image, replacing boxes, drafts and mask, in one sync.

        Parameters
        ----------
        image
            An HxW, HxWx3 or HxWx4 uint8 array.
        mode
            The canvas mode to switch to; None keeps the current one.
        boxes, drafts
            Boxes and predicted boxes: dicts ``{"xyxy": [x0, y0, x1, y1], "label": int}`` in image
            pixels, or a pair ``(xyxy (K, 4), labels (K,))``. An image holds at most
            ``_box_messages.MAX_BOXES`` of them together: the drafts past that are left out (the
            first ones kept; a model usually lists its surest first), with a warning.
        mask
            An (H, W) class map with values below ``len(classes)``, or ``Mask.IGNORE`` (255)
            where a pixel is not labeled: drawn striped, kept until painted over.
        objects
            Instance mode's objects, bottom first (``objects.objects_from_masks`` makes them
            from masks), with distinct ids; each must lie inside the image.
        key
            The key `image` was sent ahead under with ``prefetch``: its pixels are not sent
            again (the browser has them decoded). Any other key, or None, sends them now. A
            very large image is sent as a smaller display copy either way (see the class).
        mask_draft
            `mask` is the model's draft: drawn hatched until accepted (A) or painted over
            (``mask_draft``).

        Raises
        ------
        ValueError
            If a box lies outside the image or names no class, if there are more than
            ``_box_messages.MAX_BOXES`` boxes, or if the mask does not fit.
        """
        rgb = as_rgb(image)
        h, w = rgb.shape[:2]
        new_mode = self.mode if mode is None else mode
        n = len(self.classes)
        box_dicts, draft_dicts = _box_dicts(boxes), _box_dicts(drafts)
        check_box_count(len(box_dicts), 0)
        room = MAX_BOXES - len(box_dicts)
        if len(draft_dicts) > room:
            logger.warning(
                "canvas shows the first %d of %d drafts: an image holds at most %d boxes and "
                "drafts together",
                room,
                len(draft_dicts),
                MAX_BOXES,
            )
            draft_dicts = draft_dicts[:room]
        new_boxes = parse_boxes(box_dicts, width=w, height=h, n_classes=n)
        new_drafts = parse_boxes(draft_dicts, width=w, height=h, n_classes=n, name="drafts")
        new_mask = b""
        if mask is not None:
            arr = np.asarray(mask)
            if arr.shape != (h, w):
                raise ValueError(f"mask must have shape {(h, w)}, got {arr.shape}")
            if arr.dtype != np.uint8 and arr.size and (arr.min() < 0 or arr.max() > 255):
                # Out of uint8's range: the conversion below would wrap it into a class id.
                bad = arr.min() if arr.min() < 0 else arr.max()
                raise ValueError(f"mask values must be class ids in [0, {max(n, 1)}), got {bad}")
            new_mask = parse_mask(  # which checks the values against the classes
                np.ascontiguousarray(arr, dtype=np.uint8).tobytes(),
                width=w,
                height=h,
                n_classes=n,
            )
        new_objects = tuple(objects or ())
        if len({o.id for o in new_objects}) != len(new_objects):
            raise ValueError(f"objects must have distinct ids, got {[o.id for o in new_objects]}")
        for o in new_objects:
            if not (0 <= o.rect[0] < o.rect[2] <= w and 0 <= o.rect[1] < o.rect[3] <= h):
                raise ValueError(f"object {o.id}: rect must lie inside the {w}x{h} image")
        with self._encoded_lock:
            sent = self._encoded.get(key) if key is not None else None
            if sent is not None and sent[2:] == (w, h):
                self._encoded.move_to_end(str(key))
        if sent is not None and sent[2:] == (w, h):
            data, fmt = b"", sent[1]
        else:
            data, fmt = encode_display(rgb, new_mode)
        with self._edit_lock, self.hold_sync():
            self.image = data
            self.image_key = key or ""
            self.image_format = fmt
            self.width, self.height = w, h
            self.mode = new_mode
            # The browser never changes the loaded_* traits, so its copies equal these even when
            # traitlets sees no change and sends none; the new image_id makes it start from them.
            self.set_trait("loaded_boxes", copy.deepcopy(new_boxes))
            self.set_trait("loaded_drafts", copy.deepcopy(new_drafts))
            self.set_trait("loaded_mask", compress_mask(new_mask))
            self.set_trait("loaded_instances", [object_json(o) for o in new_objects])
            self._objects = new_objects
            self.set_trait("boxes", new_boxes)
            self.set_trait("drafts", new_drafts)
            self.set_trait("mask", new_mask)
            self.set_trait("mask_draft", bool(mask_draft and mask is not None))
            self.image_id += 1

    def prefetch(self, key: str, image: np.ndarray) -> None:
        """Send `image` to the browser ahead, to be decoded there and shown by ``load(key=key)``.

        Parameters
        ----------
        key
            A name for the image, unique for its pixels (e.g. its dataset index).
        image
            An HxW, HxWx3 or HxWx4 uint8 array; a very large one is sent as a smaller display
            copy, as ``load`` sends it.
        """
        with self._encoded_lock:
            if key in self._encoded:
                return
            rgb = as_rgb(image)
            h, w = rgb.shape[:2]
            self._keep(key, (*encode_display(rgb, self.mode), w, h))
            self._send_image(key)

    def _keep(self, key: str, encoded: tuple[bytes, str, int, int]) -> None:
        # Caller holds _encoded_lock.
        self._encoded[key] = encoded
        while len(self._encoded) > PREFETCH_KEEP:
            oldest = next(k for k in self._encoded if k != self.image_key)
            del self._encoded[oldest]

    def _send_image(self, key: str) -> None:
        with self._encoded_lock:
            data, fmt, w, h = self._encoded[key]
        self.send({"kind": "image", "key": key, "format": fmt, "width": w, "height": h}, [data])

    def box_array(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the current boxes as ``(xyxy (K,4) float, labels (K,) int)``."""
        xyxy = np.array([b["xyxy"] for b in self.boxes], dtype=float).reshape(-1, 4)
        labels = np.array([b["label"] for b in self.boxes], dtype=int)
        return xyxy, labels

    @property
    def objects(self) -> Objects:
        """Instance mode's objects after the latest accepted edit (or as loaded), bottom first."""
        return self._objects

    def mask_array(self) -> np.ndarray:
        """Return the current class map as an (H, W) uint8 array (zeros when unpainted)."""
        if not self.mask:
            return np.zeros((self.height, self.width), dtype=np.uint8)
        return np.frombuffer(self.mask, dtype=np.uint8).reshape(self.height, self.width).copy()

    def _on_browser_msg(self, _widget: object, content: object, buffers: Sequence[object]) -> None:
        # Every message is parsed (checked) before anything acts on it; a refused one is
        # logged with a short reason and changes nothing. An edit is parsed against the image
        # shown then, outside the lock (a large patch takes a while), and applied only if that
        # image is still shown (see the class's thread note).
        with self._edit_lock:
            image_id, mode, width, height = self.image_id, self.mode, self.width, self.height
            n_classes = len(self.classes)
        try:
            message = parse_message(
                content,
                buffers,
                image_id=image_id,
                mode=mode,
                width=width,
                height=height,
                n_classes=n_classes,
            )
        except ProtocolError as err:
            self._refuse(str(err), made_on=_edit_image_id(content))
            if _early_key(content):  # the browser shows the next image early for it
                self.stay()
            return
        if isinstance(message, KeyPress):
            self._on_key(message)
            return
        if isinstance(message, Dropped):
            # A labeling key or click the browser dropped (its image was not on screen for
            # dwell_ms): only counted; it acts on nothing.
            self.set_trait("dropped_keys", self.dropped_keys + 1)
            return
        if isinstance(message, Need):
            # A view without the image sent ahead (displayed after it was sent) asks for it.
            with self._encoded_lock:
                if message.key in self._encoded:
                    self._send_image(message.key)
            return
        if isinstance(message, Fetch):
            self._send_current()
            return
        kind = self._apply(message, image_id)
        if kind is None:
            return
        for fn in list(self._edit_observers):
            fn(kind)

    def _apply(
        self,
        message: BoxesEdit
        | MaskEdit
        | MaskPatch
        | MaskAccept
        | ObjectEdit
        | ObjectDelete
        | ObjectOrder,
        image_id: int,
    ) -> str | None:
        """Apply an edit parsed for image `image_id`, if still shown and edits are taken; its
        kind, or None if refused."""
        with self._edit_lock:
            if self.image_id != image_id:  # the image changed while the edit was parsed
                self._refuse(f"stale message: image_id must be {self.image_id}, got {image_id}")
                return None
            if not self._takes_edits():
                self._refuse(f"an edit while the canvas takes none ({self.finished!r})", image_id)
                return None
            if isinstance(message, BoxesEdit):
                kind = "boxes"
                with self.hold_trait_notifications():
                    self.set_trait("boxes", message.boxes)
                    self.set_trait("drafts", message.drafts)
            elif isinstance(message, MaskEdit):
                kind = "mask"
                self.set_trait("mask", message.mask)
                self.set_trait("mask_draft", False)  # painted over: accepted
            elif isinstance(message, MaskAccept):
                kind = "mask"
                self.set_trait("mask_draft", False)
            elif isinstance(message, (ObjectEdit, ObjectDelete, ObjectOrder)):
                kind = "instance"
                try:
                    self._objects = applied(self._objects, message)
                except ProtocolError as err:
                    self._refuse(str(err), image_id)
                    return None
            else:
                kind = "mask"
                mask = message.applied(self.mask, width=self.width, height=self.height)
                self.set_trait("mask", mask)
                self.set_trait("mask_draft", False)  # painted over: accepted
            self.messages_received += 1
            self.received_by_kind[kind] = self.received_by_kind.get(kind, 0) + 1
            return kind

    def _refuse(self, reason: str, made_on: int | None = None) -> None:
        """Log a refused message; when it was an edit of the image shown (`made_on` its
        ``image_id``), the browser, which shows that edit, is sent back to what the canvas holds."""
        self.rejected.append(reason)
        logger.warning("canvas refused a message from the browser: %s", reason)
        with self._edit_lock:
            if made_on is not None and made_on == self.image_id:
                self.resync()

    def resync(self) -> None:
        """Start the browser afresh from the image's boxes, drafts, mask and objects as the
        canvas holds them (a new ``image_id``, the same pixels): its view drops the edits the
        canvas does not have, and their undo history."""
        with self._edit_lock, self.hold_sync():
            self.set_trait("loaded_boxes", copy.deepcopy(self.boxes))
            self.set_trait("loaded_drafts", copy.deepcopy(self.drafts))
            self.set_trait("loaded_mask", compress_mask(self.mask))
            self.set_trait("loaded_instances", [object_json(o) for o in self._objects])
            self.image_id += 1

    def _on_key(self, press: KeyPress) -> None:
        moved = self.image_id
        try:
            for fn in list(self._key_observers):
                fn(press.event)
        finally:  # an observer that failed leaves the browser on the image it showed early
            if press.early and self.image_id == moved:
                self.stay()

    def stay(self) -> None:
        """Tell the browser to go back to the image loaded last: a key it showed the next image
        for, early, did not move on (refused, ignored, or nothing left to label)."""
        self.send({"kind": "stay", "image_id": self.image_id})

    def _send_current(self) -> None:
        """Answer a view's ``fetch``: the current boxes, drafts and mask of this image, and the
        images sent ahead before the view was there to keep them."""
        with self._edit_lock:  # one image's state
            content = {
                "kind": "state",
                "image_id": self.image_id,
                "boxes": self.boxes,
                "drafts": self.drafts,
                "instances": [object_json(o) for o in self._objects],
            }
            mask = compress_mask(self.mask)
        self.send(content, buffers=[mask])
        with self._encoded_lock:
            for key in [k for k in self._encoded if k != self.image_key]:
                self._send_image(key)


def _edit_image_id(content: object) -> int | None:
    """The ``image_id`` an edit message says it was made on; None for other messages."""
    if not isinstance(content, Mapping) or content.get("kind") not in EDIT_KINDS:
        return None
    made_on = content.get("image_id")
    return made_on if type(made_on) is int else None


def _early_key(content: object) -> bool:
    """Whether a message is a key or click the browser showed the next image early for."""
    return (
        isinstance(content, Mapping)
        and content.get("kind") in ("key", "action")
        and content.get("early") is True
    )


def _box_dicts(
    value: Sequence[dict[str, Any]] | tuple[np.ndarray, np.ndarray] | None,
) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, tuple) and len(value) == 2 and not isinstance(value[0], dict):
        xyxy = np.asarray(value[0], dtype=float).reshape(-1, 4)
        labels = np.asarray(value[1]).reshape(-1)
        if len(xyxy) != len(labels):
            raise ValueError(f"got {len(xyxy)} boxes but {len(labels)} labels")
        return [
            {"xyxy": [float(c) for c in row], "label": int(lab)}
            for row, lab in zip(xyxy, labels, strict=True)
        ]
    return [dict(b) for b in value]
