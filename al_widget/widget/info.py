"""The panel's words and progress bar in one widget, so that one label costs one message for all of them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from .front_end import front_end

_STATIC = Path(__file__).parents[1] / "_static"
_JS = _STATIC if (_STATIC / "info.js").exists() else Path(__file__).parents[2] / "js"

PARTS = ("header", "notice", "error", "status", "stop")
"""The HTML lines the widget shows, top to bottom (the progress bar sits with ``status``)."""


class Info(anywidget.AnyWidget):
    """The header, notice, error, status and stopping lines and the progress bar of a panel.

    Everything lives in one synced dict, ``parts``; changes made inside ``batch()`` reach the
    browser as one message when the outermost batch ends. Each line is also an attribute with a
    ``value`` (``info.header.value = "<b>image 3</b>"``), and the bar one with ``value``,
    ``description`` and ``bar_style``, as ipywidgets' HTML and FloatProgress have.

    Thread safety: none of its own. Its owner (the Panel) calls it on the kernel's thread only
    (in a kernel) and always under the panel's lock, which so guards ``parts``, ``_held`` and
    ``_pending``.

    Parameters
    ----------
    **kwargs
        Initial values of the synced traits.
    """

    _esm = front_end(_JS / "info.js")
    _css = front_end(_JS / "info.css")

    parts = t.Dict().tag(sync=True)
    """``{"header", "notice", "error", "status", "stop": html, "progress": {...}, "ahead": {...}}``.

    ``ahead`` is ``{"key", "header"}``: the header line of the image sent ahead under ``key``
    (``Canvas.ahead_key``). When the canvas shows that image early, the browser shows this
    header with it, in the same frame, and hides the notice and error (which were about the image
    before), until Python's own lines arrive."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "parts",
            {name: "" for name in PARTS}
            | {"progress": {"value": 0.0, "description": "idle", "bar_style": ""}}
            | {"ahead": {"key": "", "header": ""}},
        )
        super().__init__(**kwargs)
        self._held = 0
        self._pending: dict[str, Any] = {}
        self.header, self.notice, self.error, self.status, self.stop = (
            InfoLine(self, name) for name in PARTS
        )
        self.progress = ProgressBar(self)
        self.add_class("alw-info")

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold every change made inside; send them together when the outermost batch ends."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._pending:
                changes, self._pending = self._pending, {}
                self._apply(changes)

    def get(self, name: str) -> Any:
        """A part's value as it will be shown (a pending change included)."""
        return self._pending.get(name, self.parts.get(name))

    def set(self, name: str, value: Any) -> None:
        """Change one part: at once, or at the end of the current batch."""
        if self._held:
            self._pending[name] = value
        else:
            self._apply({name: value})

    def _apply(self, changes: dict[str, Any]) -> None:
        new = {**self.parts, **changes}
        if new != self.parts:
            self.parts = new


class InfoLine:
    """One HTML line of an Info widget, read and written through ``value``."""

    def __init__(self, info: Info, name: str) -> None:
        self._info, self._name = info, name

    @property
    def value(self) -> str:
        return str(self._info.get(self._name) or "")

    @value.setter
    def value(self, html: str) -> None:
        self._info.set(self._name, html)


class ProgressBar:
    """The progress bar of an Info widget: ``value`` in [0, 1], ``description``, ``bar_style``."""

    def __init__(self, info: Info) -> None:
        self._info = info

    def _get(self, field: str) -> Any:
        return dict(self._info.get("progress"))[field]

    def _set(self, field: str, value: Any) -> None:
        self._info.set("progress", {**self._info.get("progress"), field: value})

    @property
    def value(self) -> float:
        return float(self._get("value"))

    @value.setter
    def value(self, fraction: float) -> None:
        self._set("value", min(max(float(fraction), 0.0), 1.0))

    @property
    def description(self) -> str:
        return str(self._get("description"))

    @description.setter
    def description(self, text: str) -> None:
        self._set("description", text)

    @property
    def bar_style(self) -> str:
        return str(self._get("bar_style"))

    @bar_style.setter
    def bar_style(self, style: str) -> None:
        self._set("bar_style", style)
