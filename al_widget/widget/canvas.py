"""The drawing canvas: an anywidget that shows one image and edits its boxes or mask.

Its synced traits are declared in ``canvas_traits.py``, its messages with the browser handled in
``canvas_messages.py`` (its base classes), images sent ahead (``prefetch``) included;
``palette``, ``SWAP_ACTIONS`` and ``PREFETCH_KEEP`` live there too.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._file_stamps import PixelStamp
from ._box_messages import MAX_BOXES, check_box_count, parse_boxes
from ._encoding import as_rgb, compress_mask, encode_display
from ._mask_messages import parse_mask
from ._protocol import ObjectEdit
from .canvas_messages import PREFETCH_KEEP as PREFETCH_KEEP
from .canvas_messages import CanvasMessages, Encoded
from .canvas_traits import SWAP_ACTIONS as SWAP_ACTIONS
from .canvas_traits import palette as palette
from .front_end import front_end
from .objects import Objects, object_json
from .panel_lock import PanelLock

logger = logging.getLogger("al_widget")

_STATIC = Path(__file__).parents[1] / "_static"
_JS = _STATIC if (_STATIC / "canvas.js").exists() else Path(__file__).parents[2] / "js"


class Canvas(CanvasMessages):
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
    ``image_id``, ``_orientation`` and what an edit changes (``boxes``, ``drafts``, ``mask``,
    ``mask_draft``, ``_objects``, the ``loaded_*`` traits): ``load`` takes it, and a browser edit
    (``CanvasMessages``) is checked against the image shown (its ``image_id``, again after
    parsing) and applied under it in one step, so an edit drawn on one image never lands on
    the next. ``_encoded_lock`` guards
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

    _esm = front_end(_JS / "canvas.js")
    _css = front_end(_JS / "canvas.css")

    def __init__(self, **kwargs: Any) -> None:
        # Set first: the base classes' __init__ ends by taking the browser's messages, which
        # read them.
        self._encoded: OrderedDict[str, Encoded] = OrderedDict()
        self._encoded_lock = threading.RLock()  # see the class's thread note
        # The owner's, else its own: guard_edits
        self._edit_lock: threading.RLock | PanelLock = threading.RLock()
        self._takes_edits: Callable[[], bool] = lambda: not self.finished
        self.messages_received = 0
        self.received_by_kind: dict[str, int] = {"boxes": 0, "mask": 0}  # "instance" from the first
        self._objects: Objects = ()
        self._orientation: int | None = None  # the image shown's (``load``)
        self._stamp: PixelStamp | None = None  # its file's (``load``), guarded as ``_orientation``
        self.rejected: list[str] = []
        self._edit_observers: list[Callable[[str], None]] = []
        self._key_observers: list[Callable[[dict[str, Any]], None]] = []
        self._stale_observers: list[Callable[[str, str], None]] = []
        self._showings: OrderedDict[int, str] = OrderedDict()  # image_id -> image_key
        super().__init__(**kwargs)

    def guard_edits(
        self, lock: threading.RLock | PanelLock, takes_edits: Callable[[], bool]
    ) -> None:
        """Check and apply the browser's edits under the owner's `lock`, while `takes_edits()`.

        Parameters
        ----------
        lock : threading.RLock or PanelLock
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

    def on_stale_edit(self, fn: Callable[[str, str], None]) -> Callable[[str, str], None]:
        """Call ``fn(kind, key)`` for each edit refused as made on another load than the one
        shown (an earlier ``image_id``: before the edit arrived, the image was loaded again, with
        new drafts or by an undo, or another was shown); it runs on the kernel's main/comm
        thread.

        Parameters
        ----------
        fn
            Takes the edit's kind (``"mask_accept"``, ``"instance"``, ``"boxes"``...) and the
            key of the image it was made on (``load``'s `key`; "" when unknown).
        """
        self._stale_observers.append(fn)
        return fn

    def on_key(self, fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        """Call ``fn(event)`` for each key of ``panel_keys`` the browser sends.

        Parameters
        ----------
        fn
            Takes ``{"key", "shiftKey", "ctrlKey", "altKey", "metaKey"}`` and, when the browser
            says them, ``"image_id"`` (the load of the canvas the browser had when the key was
            pressed), ``"shown"`` (the key of the image on screen then, which may be the one
            shown early, see ``ahead_key``: its ``image_id`` is then the load it was painted
            from) and ``"painted"`` (the key of the image the browser painted early in answer
            to this key: the panel keeps that one on screen). A click on one of the panel's
            buttons of ``keys.IDENTIFIED_ACTIONS`` comes the same way, with ``"action"`` and an
            empty ``"key"``. Runs on the kernel's main/comm thread; when the browser showed the
            next image early and no observer loaded one, the canvas tells it to go back
            (``stay``).
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
        orientation: int | None = None,
        stamp: PixelStamp | None = None,
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
            again (the browser has them decoded), unless they were sent of another size or
            `orientation`. Any other key, or None, sends them now. A very large image is sent
            as a smaller display copy either way (see the class).
        mask_draft
            `mask` is the model's draft: drawn hatched until accepted (A) or painted over
            (``mask_draft``).
        orientation
            The EXIF orientation `image` was turned upright by, read with its pixels
            (``OrientedImage``), or None: what ``orientation`` says of the image shown. A copy
            sent ahead under `key` in another orientation (its photo turned since) is not
            shown for it.
        stamp
            The stamp of `image`'s file when its pixels were read, with their digest
            (``OrientedImage``), or None: what ``stamp`` says of the image shown.

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
            same = sent is not None and sent[2:] == (w, h, orientation)
            if same:
                self._encoded.move_to_end(str(key))
        if same and sent is not None:
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
            self._orientation, self._stamp = orientation, stamp
            self.set_trait("boxes", new_boxes)
            self.set_trait("drafts", new_drafts)
            self.set_trait("mask", new_mask)
            self.set_trait("mask_draft", bool(mask_draft and mask is not None))
            self.image_id += 1

    def box_array(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the current boxes as ``(xyxy (K,4) float, labels (K,) int)``."""
        xyxy = np.array([b["xyxy"] for b in self.boxes], dtype=float).reshape(-1, 4)
        labels = np.array([b["label"] for b in self.boxes], dtype=int)
        return xyxy, labels

    @property
    def orientation(self) -> int | None:
        """The EXIF orientation the pixels shown were turned upright by, as ``load`` was told
        (None: not told); what is drawn on them is drawn in it."""
        return self._orientation

    @property
    def stamp(self) -> PixelStamp | None:
        """The stamp of the image shown's file when its pixels were read, with their digest
        (``PixelStamp``), as ``load`` was told (None: not told, or an image in memory): another
        file stamp now says the file may no longer hold the pixels drawn on, and their digest
        whether it does."""
        return self._stamp

    @property
    def objects(self) -> Objects:
        """Instance mode's objects after the latest accepted edit (or as loaded), bottom first."""
        return self._objects

    def mask_array(self) -> np.ndarray:
        """Return the current class map as an (H, W) uint8 array (zeros when unpainted)."""
        if not self.mask:
            return np.zeros((self.height, self.width), dtype=np.uint8)
        return np.frombuffer(self.mask, dtype=np.uint8).reshape(self.height, self.width).copy()


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
