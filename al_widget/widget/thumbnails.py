"""The queue strip: the next images as clickable thumbnails with their scores."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from ipyevents import Event
from PIL import Image


@dataclass(frozen=True)
class Entry:
    """One queued image: its index, pixels (None when already shown), score and ranking model version."""

    index: int
    image: np.ndarray | None
    score: float | None
    model_version: int


def thumbnail_png(image: np.ndarray, size: int) -> bytes:
    """A PNG of `image` scaled to fit `size` pixels, crisp (nearest) when enlarged."""
    pil = Image.fromarray(image)
    scale = size / max(pil.width, pil.height)
    shape = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
    pil = pil.resize(shape, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BILINEAR)
    out = io.BytesIO()
    pil.save(out, format="PNG")
    return out.getvalue()


class _Cell(widgets.VBox):
    """One thumbnail and its caption; clicking the image opens it."""

    def __init__(self, index: int, png: bytes, size: int, on_open: Callable[[int], None]) -> None:
        self.index = index
        self.image = widgets.Image(
            value=png, format="png", layout=widgets.Layout(width=f"{size}px", height=f"{size}px")
        )
        self.caption = widgets.HTML(layout=widgets.Layout(width=f"{size + 8}px"))
        self.click = Event(source=self.image, watched_events=["click"])
        self.click.on_dom_event(lambda _event: on_open(index))
        super().__init__(
            [self.image, self.caption], layout=widgets.Layout(align_items="center", margin="0 2px")
        )

    def close(self) -> None:
        self.click.close()
        self.image.close()
        self.caption.close()
        super().close()


def caption_html(entry: Entry) -> str:
    """The caption under a thumbnail: index, score (or 'random') and the model version."""
    score = "random" if entry.score is None or entry.model_version == 0 else f"{entry.score:.3f}"
    return (
        "<div style='font-size:11px;text-align:center'>"
        f"#{entry.index}<br>{score} · v{entry.model_version}</div>"
    )


class QueueStrip(widgets.HBox):
    """A row of thumbnails; clicking one calls `on_open(index)`.

    One widget per queued image, kept while it stays in the queue: when the queue moves on, the
    row is reordered and only new images are encoded and sent.
    """

    def __init__(self, count: int, size: int, on_open: Callable[[int], None]) -> None:
        self.count, self.size = count, size
        self._on_open = on_open
        self._cells: dict[int, _Cell] = {}
        super().__init__([], layout=widgets.Layout(overflow="auto"))
        self.add_class("alw-queue")

    @property
    def indices(self) -> list[int]:
        """The dataset indices shown, left to right."""
        return [cell.index for cell in self.children]  # type: ignore[attr-defined]

    @property
    def captions(self) -> list[widgets.HTML]:
        """The caption widgets, left to right."""
        return [cell.caption for cell in self.children]  # type: ignore[attr-defined]

    def has(self, index: int) -> bool:
        """True when `index` already has a thumbnail (its pixels need not be loaded again)."""
        return index in self._cells

    def open_slot(self, slot: int) -> None:
        """Open the image in thumbnail `slot` (0 is the leftmost)."""
        indices = self.indices
        if slot < len(indices):
            self._on_open(indices[slot])

    def update(self, entries: list[Entry]) -> None:
        """Show `entries`, left to right, at most `count` of them."""
        entries = [
            e for e in entries[: self.count] if e.index in self._cells or e.image is not None
        ]
        cells = []
        for entry in entries:
            cell = self._cells.get(entry.index)
            if cell is None:
                assert entry.image is not None
                png = thumbnail_png(entry.image, self.size)
                cell = self._cells[entry.index] = _Cell(entry.index, png, self.size, self._on_open)
            text = caption_html(entry)
            if cell.caption.value != text:
                cell.caption.value = text
            cells.append(cell)
        if [c.index for c in cells] != self.indices:
            self.children = cells
        keep = {c.index for c in cells}
        for index in [i for i in self._cells if i not in keep]:
            self._cells.pop(index).close()
