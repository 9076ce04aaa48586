"""The queue strip: the next images as clickable thumbnails with their scores, in one widget."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import anywidget
import numpy as np
from PIL import Image

from ._protocol import Fetch, parse_strip_message
from ._refusal import ProtocolError
from .front_end import front_end

logger = logging.getLogger("al_widget")

_STATIC = Path(__file__).parents[1] / "_static"
_JS = _STATIC if (_STATIC / "strip.js").exists() else Path(__file__).parents[2] / "js"


@dataclass(frozen=True)
class Entry:
    """One queued image: its index, pixels (None when already shown), score and ranking model version.

    ``arm`` names the heuristic that drew it when the loop's heuristic is "auto".
    """

    index: int
    image: np.ndarray | None
    score: float | None
    model_version: int
    arm: str | None = None


def thumbnail_png(image: np.ndarray, size: int) -> bytes:
    """A PNG of `image` scaled to fit `size` pixels, crisp (nearest) when enlarged."""
    pil = Image.fromarray(image)
    scale = size / max(pil.width, pil.height)
    shape = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
    if scale > 1:
        pil = pil.resize(shape, Image.Resampling.NEAREST)
    else:  # a box reduction first, then bilinear: twice as fast on photos, as sharp
        pil = pil.resize(shape, Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    pil.save(out, format="PNG")
    return out.getvalue()


def caption(entry: Entry) -> str:
    """The caption under a thumbnail: index (and the heuristic "auto" drew it with), then score
    (or 'random') and the model version."""
    score = "random" if entry.score is None or entry.model_version == 0 else f"{entry.score:.3f}"
    arm = "" if entry.arm is None else f" · {entry.arm}"
    return f"#{entry.index}{arm}\n{score} · v{entry.model_version}"


class QueueStrip(anywidget.AnyWidget):
    """A row of thumbnails; clicking one calls `on_open(index)`.

    One widget for the whole row: each change of the queue is one message to the browser, with
    the row's order and captions and the PNGs of the images it had not shown yet; no widget is
    created or closed when the queue moves on. A view displayed later asks for the whole row.

    The same message carries the row as it will be once the image sent ahead under a key
    (``Canvas.ahead_key``) is shown, with the PNGs it needs: when the canvas shows that image
    early, the browser moves the row to it in the same frame, before Python answers.

    Thread safety: ``_lock`` guards ``_shown``, ``_thumbs`` and ``_ahead``: the owner (the
    Panel, under its own lock, never on the loop's worker) updates the row while a browser
    message may read it (in a kernel they arrive on the main thread or a subshell's). It is
    never held while ``on_open`` runs; lock order: panel → strip.

    Parameters
    ----------
    count : int
        How many thumbnails the row shows at most.
    size : int
        The longest side of a thumbnail, in screen pixels.
    on_open : callable
        Called with a dataset index when its thumbnail is clicked.
    """

    _esm = front_end(_JS / "strip.js")
    _css = front_end(_JS / "strip.css")

    def __init__(self, count: int, size: int, on_open: Callable[[int], None]) -> None:
        super().__init__()
        self.count, self.size = count, size
        self._on_open = on_open
        self._shown: list[tuple[int, str]] = []  # (index, caption), left to right
        self._thumbs: dict[int, bytes] = {}  # the PNG of every index shown (or in the row ahead)
        self._ahead: tuple[str, list[tuple[int, str]]] = ("", [])  # key, the row after it
        self.rejected: list[str] = []  # why each refused browser message was refused
        self._lock = threading.RLock()
        self.add_class("alw-queue")
        self.on_msg(self._on_browser_msg)

    @property
    def indices(self) -> list[int]:
        """The dataset indices shown, left to right."""
        with self._lock:
            return [i for i, _ in self._shown]

    @property
    def captions(self) -> list[str]:
        """The captions, left to right (index, then score and model version)."""
        with self._lock:
            return [text for _, text in self._shown]

    def has(self, index: int) -> bool:
        """True when `index` already has a thumbnail (its pixels need not be loaded again)."""
        with self._lock:
            return index in self._thumbs

    def open_slot(self, slot: int) -> None:
        """Open the image in thumbnail `slot` (0 is the leftmost)."""
        if 0 <= slot < len(self._shown):
            self._on_open(self._shown[slot][0])

    def update(
        self, entries: Sequence[Entry], ahead: tuple[str, Sequence[Entry]] = ("", ())
    ) -> None:
        """Show `entries`, left to right, at most `count` of them; one message if anything changed.

        Parameters
        ----------
        entries
            The images to show, left to right.
        ahead
            ``(key, entries)``: the row to show once the image sent ahead under ``key`` is
            shown early (see the class); ``("", ())`` for none.
        """
        with self._lock:
            self._update(entries, ahead)

    def _update(self, entries: Sequence[Entry], ahead: tuple[str, Sequence[Entry]]) -> None:
        new: list[int] = []
        row = self._known(entries, new)
        ahead_key, ahead_entries = ahead
        ahead_row = self._known(ahead_entries, new) if ahead_key else []
        keep = {i for i, _ in row + ahead_row}
        for index in [i for i in self._thumbs if i not in keep]:
            del self._thumbs[index]
        if row == self._shown and (ahead_key, ahead_row) == self._ahead and not new:
            return
        self._shown = row
        self._ahead = (ahead_key, ahead_row)
        self._send_row(new)

    def _known(self, entries: Sequence[Entry], new: list[int]) -> list[tuple[int, str]]:
        """The first `count` of `entries` that have pixels (or a thumbnail), as (index, caption);
        the thumbnails made for them are added to `new`."""
        row: list[tuple[int, str]] = []
        for entry in entries:
            if len(row) == self.count:
                break
            if entry.index not in self._thumbs:
                if entry.image is None:
                    continue
                self._thumbs[entry.index] = thumbnail_png(entry.image, self.size)
                new.append(entry.index)
            row.append((entry.index, caption(entry)))
        return row

    def _send_row(self, new: list[int]) -> None:
        """The row to every view: order and captions, the row ahead, with the PNGs of `new`."""
        key, ahead = self._ahead
        content = {
            "kind": "row",
            "size": self.size,
            "items": [{"index": i, "caption": text} for i, text in self._shown],
            "ahead": {"key": key, "items": [{"index": i, "caption": text} for i, text in ahead]},
            "thumbs": new,
        }
        self.send(content, buffers=[self._thumbs[i] for i in new])

    def _on_browser_msg(self, _widget: object, content: object, buffers: object) -> None:
        try:
            message = parse_strip_message(content)
        except ProtocolError as err:
            self.rejected.append(str(err))
            logger.warning("queue strip refused a message from the browser: %s", err)
            return
        if isinstance(message, Fetch):
            with self._lock:
                self._send_row(sorted({i for i, _ in self._shown + self._ahead[1]}))
        elif message.index in self.indices:
            self._on_open(message.index)
        else:
            self.rejected.append(f"open index {message.index} is not a thumbnail shown")
            logger.warning("queue strip refused to open %d: not a thumbnail shown", message.index)
