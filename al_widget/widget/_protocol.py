"""Parse and validate the messages the canvas sends from the browser.

``{"kind": "boxes", "image_id", "boxes", "drafts"}``: the boxes and drafts after an edit.
``{"kind": "mask", "image_id", "width", "height"}`` with one buffer: the whole class map after an
edit (H*W bytes; only for small images: the browser sends patches).
``{"kind": "mask_patch", "image_id", "rect": [x0, y0, x1, y1], "encoding"}`` with one buffer: the
class values inside the rect (x1 and y1 excluded, row by row) after a stroke, fill, undo or redo;
``"encoding"`` is ``"raw"`` ((x1-x0)*(y1-y0) bytes, the default) or ``"zlib"`` (those bytes
compressed, for a large rect).
``{"kind": "instance", "image_id", "id", "label", "draft", "rect": [x0, y0, x1, y1], "encoding"}``
with one buffer: instance mode's object `id` (a positive int) after an edit made or changed it,
its mask as the rect's pixels (1: the object's, 0: not; encoded as a mask patch's values);
``{"kind": "instance_delete", "image_id", "id"}``: the object was removed;
``{"kind": "instance_order", "image_id", "order": [id, ...]}``: the objects' order, bottom first
(else an object made is put on top, and those removed leave the others' order as it was).
``{"kind": "fetch"}``: a view just displayed asks for the current state; Python answers with
``{"kind": "state", "image_id", "boxes", "drafts", "instances"}`` and the mask, packed by
``_encoding.compress_mask`` (empty when all background), as one buffer.
``{"kind": "key", "key", "shiftKey", "ctrlKey", "altKey", "metaKey", "image_id", "shown",
"early"}`` (and in classify mode ``"picked"``, the picker's button highlighted, -1: none): a key
pressed over the panel; ``{"kind": "action", "action", ...}`` the same for a
button of an action in ``keys.IDENTIFIED_ACTIONS``; ``{"kind": "need", "key"}``: a view asks for
an image sent ahead before it was displayed. The queue strip sends ``{"kind": "fetch"}`` and
``{"kind": "open", "index"}`` (``parse_strip_message``).

Every message from the browser goes through ``parse_message`` (the canvas) or
``parse_strip_message`` (the queue strip) before anything acts on it: a malformed one, however
forged (a list where a string belongs, JSON nested hundreds deep), is refused with a
``ProtocolError`` whose text is short and safe to build (``_refusal.shown``). The boxes are
checked in ``_box_messages``, a mask's, patch's or object's pixels in ``_mask_messages``.

An edit must match the canvas's mode (boxes in ``"box"`` mode, a mask in ``"mask"`` mode, objects
in ``"instance"`` mode), and an image holds at most `MAX_BOXES` boxes and drafts together (or
objects, ``objects.applied``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._box_messages import MAX_BOXES, check_box_count, parse_boxes
from ._mask_messages import MaskPatch, one_buffer, parse_mask, parse_mask_patch, rect_values
from ._refusal import ProtocolError, StaleEdit, as_list
from ._refusal import shown as _shown
from .keys import IDENTIFIED_ACTIONS

INSTANCE_KINDS = ("instance", "instance_delete", "instance_order")
KINDS = (
    "boxes",
    "mask",
    "mask_patch",
    "mask_accept",
    *INSTANCE_KINDS,
    "fetch",
    "key",
    "action",
    "need",
    "dropped",
)
EDIT_KINDS = ("boxes", "mask", "mask_patch", "mask_accept", *INSTANCE_KINDS)
"""The kinds that change the annotation (refused while the canvas is finished)."""
STRIP_KINDS = ("fetch", "open")
MAX_KEY_CHARS = 32
"""The longest ``KeyboardEvent.key`` a key message may carry."""
MODE_OF_KIND = {
    "boxes": "box",
    "mask": "mask",
    "mask_patch": "mask",
    "mask_accept": "mask",
} | dict.fromkeys(INSTANCE_KINDS, "instance")
"""The canvas mode in which each kind of edit is accepted."""
"""The most boxes and drafts, together, that one image may hold."""
MAX_OBJECT_ID = 2**31 - 1
"""The largest id an object of instance mode may have."""


@dataclass(frozen=True)
class BoxesEdit:
    """The boxes and drafts after an edit in the browser."""

    boxes: list[dict[str, Any]]
    drafts: list[dict[str, Any]]


@dataclass(frozen=True)
class MaskEdit:
    """The whole class map after a stroke, fill, undo or redo in the browser."""

    mask: bytes


@dataclass(frozen=True)
class ObjectEdit:
    """One object of instance mode as an edit left it: made, repainted, recoloured or accepted.

    ``rect`` is ``(x0, y0, x1, y1)`` in image pixels, x1 and y1 excluded; ``bits`` holds its
    ``(y1 - y0) * (x1 - x0)`` pixels row by row, 1 where the object is (at least one), else 0.
    ``score`` is a model draft's confidence, shown on its tag; the browser never sends one.
    """

    id: int
    label: int
    draft: bool
    rect: tuple[int, int, int, int]
    bits: bytes
    score: float | None = None

    def mask(self, *, width: int, height: int) -> np.ndarray:
        """The object's (height, width) bool mask in a `width` x `height` image."""
        out = np.zeros((height, width), dtype=bool)
        x0, y0, x1, y1 = self.rect
        out[y0:y1, x0:x1] = np.frombuffer(self.bits, np.uint8).reshape(y1 - y0, x1 - x0) == 1
        return out


@dataclass(frozen=True)
class ObjectDelete:
    """Instance mode's object `id` was removed."""

    id: int


@dataclass(frozen=True)
class ObjectOrder:
    """The ids of instance mode's objects, bottom first."""

    order: tuple[int, ...]


@dataclass(frozen=True)
class Fetch:
    """A view just displayed asks for the current boxes, drafts and mask."""


@dataclass(frozen=True)
class MaskAccept:
    """The model's mask draft, loaded as the mask, is accepted as it is (A)."""


@dataclass(frozen=True)
class KeyPress:
    """A key pressed, or an action's button clicked, over the panel.

    ``event`` holds ``key`` (a str), the four modifiers (bools), and where sent ``action`` (one
    of ``keys.IDENTIFIED_ACTIONS``), ``image_id`` (an int), ``shown`` (a str), ``picked`` (the
    index of the picker's button highlighted, -1 for none: an int) and, for an early key,
    ``painted`` (the key of the image the browser painted for it); ``early`` is True when the
    browser showed the next image before this key was answered.
    """

    event: dict[str, Any]
    early: bool


@dataclass(frozen=True)
class Dropped:
    """A labeling key or click the browser dropped: its image was not on screen for the dwell."""


@dataclass(frozen=True)
class Need:
    """A view asks for the image sent ahead under `key`."""

    key: str


@dataclass(frozen=True)
class Open:
    """A click on the queue strip's thumbnail of dataset index `index`."""

    index: int


def parse_message(
    content: object,
    buffers: Sequence[object] | None,
    *,
    image_id: int,
    mode: str,
    width: int,
    height: int,
    n_classes: int,
) -> (
    BoxesEdit
    | MaskEdit
    | MaskPatch
    | MaskAccept
    | ObjectEdit
    | ObjectDelete
    | ObjectOrder
    | Fetch
    | KeyPress
    | Need
    | Dropped
):
    """Validate one custom message to the canvas; raise ProtocolError if refused.

    Parameters
    ----------
    content
        The message's JSON content, as the browser sent it.
    buffers
        Its binary buffers (one for a mask or a mask patch).
    image_id
        The id of the image shown now; an edit of another image is stale.
    mode
        The canvas's mode; an edit of another mode's kind is refused.
    width, height
        The image's size in pixels.
    n_classes
        How many classes a label or mask value may name.
    """
    if not isinstance(content, Mapping):
        raise ProtocolError(f"message must be a dict, got {type(content).__name__}")
    kind = _kind(content, KINDS)
    if kind == "fetch":
        return Fetch()
    if kind == "dropped":
        return Dropped()
    if kind in ("key", "action"):
        return parse_key(content)
    if kind == "need":
        key = content.get("key")
        if not isinstance(key, str):
            raise ProtocolError(f"need key must be a str, got {_shown(key)}")
        return Need(key)
    got_id = content.get("image_id")
    if type(got_id) is not int:
        raise ProtocolError(f"stale message: image_id must be {image_id}, got {_shown(got_id)}")
    if got_id != image_id:
        raise StaleEdit(f"stale message: image_id must be {image_id}, got {_shown(got_id)}", got_id)
    if MODE_OF_KIND[kind] != mode:
        raise ProtocolError(
            f"a {kind} message needs the canvas in {MODE_OF_KIND[kind]!r} mode; it is in {mode!r}"
        )
    if kind == "mask_accept":
        return MaskAccept()
    if kind == "boxes":
        boxes = as_list(content.get("boxes"), "boxes")
        drafts = as_list(content.get("drafts", []), "drafts")
        check_box_count(len(boxes), len(drafts))  # before a single box is parsed
        return BoxesEdit(
            boxes=parse_boxes(boxes, width=width, height=height, n_classes=n_classes),
            drafts=parse_boxes(
                drafts, width=width, height=height, n_classes=n_classes, name="drafts"
            ),
        )
    if kind == "mask_patch":
        return parse_mask_patch(content, buffers, width=width, height=height, n_classes=n_classes)
    if kind == "instance":
        return parse_object(content, buffers, width=width, height=height, n_classes=n_classes)
    if kind == "instance_delete":
        return ObjectDelete(_object_id(content.get("id"), "instance_delete id"))
    if kind == "instance_order":
        order = as_list(content.get("order"), "instance_order order")
        if len(order) > MAX_BOXES:
            raise ProtocolError(
                f"instance_order holds at most {MAX_BOXES} objects, got {len(order)}"
            )
        ids = tuple(_object_id(v, f"instance_order order[{i}]") for i, v in enumerate(order))
        if len(set(ids)) != len(ids):
            raise ProtocolError(f"instance_order must name each object once, got {list(ids)}")
        return ObjectOrder(ids)
    if content.get("width") != width or content.get("height") != height:
        raise ProtocolError(
            f"mask size must be {width}x{height}, "
            f"got {_shown(content.get('width'))}x{_shown(content.get('height'))}"
        )
    buffer = one_buffer(buffers, "mask")
    return MaskEdit(parse_mask(buffer, width=width, height=height, n_classes=n_classes))


def parse_key(content: Mapping[str, Any]) -> KeyPress:
    """Check a ``key`` or ``action`` message; raise ProtocolError if refused.

    Parameters
    ----------
    content
        The message's JSON content. ``key`` must be a str of 1 to `MAX_KEY_CHARS` characters
        (of at most that many for an action, whose key may be empty); ``action`` one of
        ``keys.IDENTIFIED_ACTIONS``; ``shown`` and ``painted``, when not empty, image keys
        (``image_key``); ``picked`` an int from -1. Other fields are kept only when of their
        type.
    """
    key, action = content.get("key", ""), content.get("action")
    if content.get("kind") == "action":
        if not isinstance(action, str) or action not in IDENTIFIED_ACTIONS:
            raise ProtocolError(
                f"an action message without a known action ({', '.join(IDENTIFIED_ACTIONS)}): "
                f"got {_shown(action)}"
            )
        if not isinstance(key, str) or len(key) > MAX_KEY_CHARS:
            raise ProtocolError(
                f"an action message's key must be a str of at most {MAX_KEY_CHARS} "
                f"characters, got {_shown(key)}"
            )
    elif not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_CHARS:
        raise ProtocolError(
            f"a key message without a key (a str of 1 to {MAX_KEY_CHARS} characters): "
            f"got {_shown(key)}"
        )
    event: dict[str, Any] = {"key": key} | {
        name: content.get(name) is True for name in ("shiftKey", "ctrlKey", "altKey", "metaKey")
    }
    if action is not None:
        event["action"] = action
    if type(content.get("image_id")) is int:
        event["image_id"] = content["image_id"]
    picked = content.get("picked")  # the picker's button highlighted: -1 for none
    if type(picked) is int and picked >= -1:
        event["picked"] = picked
    shown = image_key(content.get("shown"), "shown")
    if shown is not None:
        event["shown"] = shown
    early = content.get("early") is True
    painted = image_key(content.get("painted"), "painted")
    if early and painted is not None:
        event["painted"] = painted  # the image the browser painted for this key
    return KeyPress(event, early=early)


def image_key(value: object, name: str) -> str | None:
    """Check the key of an image a key message names (``shown``, ``painted``): None when absent
    or empty; refused (ProtocolError) unless a str of at most `MAX_KEY_CHARS` printable ASCII
    characters, as ``Canvas.load`` names images (a panel: the dataset index, in digits).

    Parameters
    ----------
    value
        The field's value, as the browser sent it.
    name
        The field's name, for the error.
    """
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_KEY_CHARS
        or not (value.isascii() and value.isprintable())
    ):
        raise ProtocolError(
            f"a key message's {name} must be an image key (a str of 1 to {MAX_KEY_CHARS} "
            f"printable ASCII characters), got {_shown(value)}"
        )
    return value


def parse_strip_message(content: object) -> Fetch | Open:
    """Validate one custom message to the queue strip; raise ProtocolError if refused.

    Parameters
    ----------
    content
        ``{"kind": "fetch"}``, or ``{"kind": "open", "index": int}`` (whether the index is
        shown is the strip's to check).
    """
    if not isinstance(content, Mapping):
        raise ProtocolError(f"message must be a dict, got {type(content).__name__}")
    if _kind(content, STRIP_KINDS) == "fetch":
        return Fetch()
    index = content.get("index")
    if type(index) is not int:
        raise ProtocolError(f"open index must be an int, got {_shown(index)}")
    return Open(index)


def _kind(content: Mapping[str, Any], kinds: Sequence[str]) -> str:
    kind = content.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        raise ProtocolError(f"kind must be one of {', '.join(kinds)}, got {_shown(kind)}")
    return kind


def parse_object(
    content: Mapping[str, Any],
    buffers: Sequence[object] | None,
    *,
    width: int,
    height: int,
    n_classes: int,
) -> ObjectEdit:
    """Check an ``instance`` message (one object); raise ProtocolError naming the object if refused.

    Parameters
    ----------
    content
        The message's JSON content: ``id``, ``label``, ``draft``, ``rect`` and, optionally,
        ``encoding`` (as a mask patch's).
    buffers
        Its binary buffers: exactly one, the rect's pixels (0 or 1, at least one 1).
    width, height
        The image's size; the rect must lie inside it.
    n_classes
        The label must be a class id below this.
    """
    obj = _object_id(content.get("id"), "instance id")
    where = f"instance {obj}"
    label = content.get("label")
    if label is None:
        raise ProtocolError(f"{where} has no class: label must be a class id in [0, {n_classes})")
    if type(label) is not int or not 0 <= label < n_classes:
        raise ProtocolError(
            f"{where}: label must be a class id in [0, {n_classes}), got {_shown(label)}"
        )
    draft = content.get("draft", False)
    if not isinstance(draft, bool):
        raise ProtocolError(f"{where}: draft must be true or false, got {_shown(draft)}")
    rect, data = rect_values(content, buffers, where, width=width, height=height)
    values = np.frombuffer(data, dtype=np.uint8)
    if values.size and values.max() > 1:
        raise ProtocolError(
            f"{where}: mask values must be 0 or 1, got {int(values[values > 1][0])}"
        )
    if not values.any():
        raise ProtocolError(f"{where}: its mask is empty (an object has pixels; delete it instead)")
    return ObjectEdit(id=obj, label=label, draft=draft, rect=rect, bits=data)


def _object_id(value: object, name: str) -> int:
    if type(value) is not int or not 0 < value <= MAX_OBJECT_ID:
        raise ProtocolError(f"{name} must be an int in [1, {MAX_OBJECT_ID}], got {_shown(value)}")
    return value
