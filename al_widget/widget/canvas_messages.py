"""The canvas's messages with the browser, the base class of ``Canvas``: those it receives,
checked, then applied or refused; and those it sends (an image sent ahead: ``prefetch``,
``stay``, the ``state`` a view fetches)."""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import traitlets as t

from ._encoding import as_rgb, compress_mask, encode_display
from ._mask_messages import MaskPatch
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
from ._refusal import ProtocolError, StaleEdit
from .canvas_traits import CanvasTraits
from .objects import Objects, applied, object_json
from .panel_lock import PanelLock

logger = logging.getLogger("al_widget")
PREFETCH_KEEP = 4
"""How many encoded images (sent ahead or shown) the canvas keeps for views that ask again."""
SHOWINGS_KEPT = 16
"""How many recent loads (``image_id``) the canvas remembers the image key of, to name the image
a stale edit was made on (``on_stale_edit``)."""
Encoded = tuple[bytes, str, int, int, int | None]
"""An image sent ahead: its display copy's bytes and format, its width and height, and the EXIF
orientation it was read in (``prefetch``)."""


class CanvasMessages(CanvasTraits):
    """The browser's messages to ``Canvas`` (its base class), and the canvas's to the browser.

    Thread safety: as ``Canvas``'s thread note says. ``_edit_lock`` guards ``image_id`` and
    what an edit changes: an edit is parsed against the image shown, outside the lock, then
    applied under it only if that image is still shown. ``_encoded_lock`` guards ``_encoded``:
    the owner changes it (``load``, and ``prefetch`` here) while a browser message reads it
    (``need``, ``fetch``). Lock order: ``_edit_lock`` → ``_encoded_lock``; neither is held while
    an observer runs.
    """

    # Set by Canvas.__init__, before this class's __init__ takes the browser's messages.
    _encoded: OrderedDict[str, Encoded]
    _encoded_lock: threading.RLock
    _edit_lock: threading.RLock | PanelLock
    _takes_edits: Callable[[], bool]
    messages_received: int
    received_by_kind: dict[str, int]
    _objects: Objects
    rejected: list[str]
    _edit_observers: list[Callable[[str], None]]
    _key_observers: list[Callable[[dict[str, Any]], None]]
    _stale_observers: list[Callable[[str, str], None]]
    _showings: OrderedDict[int, str]

    def __init__(self, **kwargs: Any) -> None:
        """Set the traits, then take the browser's messages.

        Parameters
        ----------
        **kwargs
            Initial values of the synced traits (see ``Canvas``).
        """
        super().__init__(**kwargs)
        self.on_msg(self._on_browser_msg)

    def prefetch(self, key: str, image: np.ndarray, orientation: int | None = None) -> None:
        """Send `image` to the browser ahead, to be decoded there and shown by ``load(key=key)``.

        Parameters
        ----------
        key
            A name for the image, unique for its pixels (e.g. its dataset index).
        image
            An HxW, HxWx3 or HxWx4 uint8 array; a very large one is sent as a smaller display
            copy, as ``load`` sends it.
        orientation
            The EXIF orientation `image` was read in (see ``load``): an image sent ahead under
            `key` in another one (its photo turned since) is replaced.
        """
        with self._encoded_lock:
            sent = self._encoded.get(key)
            if sent is not None and sent[4] == orientation:
                return
            rgb = as_rgb(image)
            h, w = rgb.shape[:2]
            self._keep(key, (*encode_display(rgb, self.mode), w, h, orientation))
            self._send_image(key)

    def _keep(self, key: str, encoded: Encoded) -> None:
        # Caller holds _encoded_lock. A key sent again (its photo turned) is the newest.
        self._encoded.pop(key, None)
        self._encoded[key] = encoded
        while len(self._encoded) > PREFETCH_KEEP:
            oldest = next(k for k in self._encoded if k != self.image_key)
            del self._encoded[oldest]

    def _send_image(self, key: str) -> None:
        with self._encoded_lock:
            data, fmt, w, h, _ = self._encoded[key]
        self.send({"kind": "image", "key": key, "format": fmt, "width": w, "height": h}, [data])

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
            if isinstance(err, StaleEdit):
                self._tell_stale(content, err.made_on)
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
        try:
            kind = self._apply(message, image_id)
        except StaleEdit as err:  # the image changed while the edit was parsed
            self._refuse(str(err))
            self._tell_stale(content, err.made_on)
            return
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
        kind, or None if refused. Raises StaleEdit when that image is no longer shown."""
        with self._edit_lock:
            if self.image_id != image_id:
                raise StaleEdit(
                    f"stale message: image_id must be {self.image_id}, got {image_id}", image_id
                )
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

    def _tell_stale(self, content: object, made_on: int) -> None:
        """Tell the ``on_stale_edit`` observers of an edit refused as made on load `made_on`,
        with the key of the image shown then ("" unknown: an image without a key, or too old)."""
        kind = content.get("kind") if isinstance(content, Mapping) else None
        with self._edit_lock:
            key = self._showings.get(made_on, "")
        for fn in list(self._stale_observers):
            fn(str(kind), key)

    @t.observe("image_id")
    def _remember_showing(self, change: dict[str, Any]) -> None:
        # A new load (``load``, ``resync``, under ``_edit_lock``): kept with its image's key
        self._showings[change["new"]] = self.image_key
        while len(self._showings) > SHOWINGS_KEPT:
            self._showings.popitem(last=False)

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
