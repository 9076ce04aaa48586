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
    """One queued image: its index, pixels, score and the model version that ranked it."""

    index: int
    image: np.ndarray
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


class QueueStrip(widgets.HBox):
    """A row of thumbnails; clicking one calls `on_open(index)`."""

    def __init__(self, count: int, size: int, on_open: Callable[[int], None]) -> None:
        self._indices: list[int | None] = [None] * count
        self._on_open = on_open
        self.images = [
            widgets.Image(
                format="png", layout=widgets.Layout(width=f"{size}px", height=f"{size}px")
            )
            for _ in range(count)
        ]
        self.captions = [
            widgets.HTML(layout=widgets.Layout(width=f"{size + 8}px")) for _ in range(count)
        ]
        self._events = []
        for k, image in enumerate(self.images):
            event = Event(source=image, watched_events=["click"])
            event.on_dom_event(lambda _event, k=k: self.open_slot(k))
            self._events.append(event)
        cells = [
            widgets.VBox(
                [image, caption], layout=widgets.Layout(align_items="center", margin="0 2px")
            )
            for image, caption in zip(self.images, self.captions, strict=True)
        ]
        super().__init__(cells, layout=widgets.Layout(overflow="auto"))
        self.add_class("alw-queue")
        self.size = size

    @property
    def indices(self) -> list[int]:
        """The dataset indices shown, left to right."""
        return [i for i in self._indices if i is not None]

    def open_slot(self, slot: int) -> None:
        """Open the image in thumbnail `slot`."""
        index = self._indices[slot]
        if index is not None:
            self._on_open(index)

    def update(self, entries: list[Entry]) -> None:
        """Show `entries` (at most as many as there are slots); empty the other slots."""
        for k, image in enumerate(self.images):
            if k < len(entries):
                entry = entries[k]
                if self._indices[k] != entry.index:
                    image.value = thumbnail_png(entry.image, self.size)
                score = (
                    "random"
                    if entry.score is None or entry.model_version == 0
                    else f"{entry.score:.3f}"
                )
                self.captions[
                    k
                ].value = f"<div style='font-size:11px;text-align:center'>#{entry.index}<br>{score} · v{entry.model_version}</div>"
                self._indices[k] = entry.index
                image.layout.visibility = "visible"
            else:
                self._indices[k] = None
                self.captions[k].value = ""
                image.layout.visibility = "hidden"
