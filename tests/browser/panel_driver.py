"""Drive one panel of a test notebook in the page: its state, its canvas, the mouse over it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from . import harness

SETTLE = 0.35  # seconds in which a message the page sent would have reached the kernel
SCENE_W, SCENE_H = 120, 80  # scene() in notebooks/panel.ipynb
TOL = 1.0  # image pixels


class PanelDriver:
    """One panel of a test notebook, found by its class alw-test-<name>.

    The notebook defines ``info(name)``, which prints what the kernel holds for the panel as JSON
    (``current`` and ``image_id`` at least); ``size`` is the (width, height) of its images.
    """

    def __init__(self, page: Any, name: str, size: tuple[int, int] = (SCENE_W, SCENE_H)) -> None:
        self.page = page
        self.name = name
        self.width, self.height = size
        self.root = page.locator(f".alw-test-{name}")
        self.stage = self.root.locator(".alw-stage")
        self.canvas = self.root.locator(".alw-stage canvas")

    def info(self) -> dict[str, Any]:
        """What the kernel holds for this panel (see info() in the notebook)."""
        return dict(json.loads(harness.kernel_exec(self.page, f"info({self.name!r})")))

    def wait(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Poll info() until ``predicate`` holds; raise on timeout."""
        deadline = time.monotonic() + timeout
        state = self.info()
        while not predicate(state):
            if time.monotonic() > deadline:
                raise TimeoutError(f"panel {self.name} never matched; last: {state}")
            time.sleep(0.05)
            state = self.info()
        return state

    def wait_drawn(self, image_id: int) -> None:
        """Wait until the canvas has drawn the image with ``image_id``."""
        self.root.locator(f'.alw-stage[data-image-loaded="{image_id}"]').wait_for()

    def ready(self) -> dict[str, Any]:
        """Scroll the panel into view, wait for its image, click it (keys go to it); return info()."""
        self.root.scroll_into_view_if_needed()
        state = self.info()
        self.wait_drawn(state["image_id"])
        self.focus()
        return state

    def focus(self) -> None:
        """Click the panel's header line (the panel, not the canvas): it takes the keyboard."""
        header = self.root.locator(".alw-left .alw-info").first
        header.scroll_into_view_if_needed()
        header.click(position={"x": 4, "y": 4})
        self.page.wait_for_function(
            "(sel) => document.querySelector(sel).matches(':focus-within')",
            arg=f".alw-test-{self.name}",
        )

    def drawn_labels(self) -> list[dict[str, Any]]:
        """The labels the canvas drew last (box labels, or instance tags): their words and
        screen rect [x, y, w, h] (the stage's data-labels)."""
        return list(json.loads(self.stage.get_attribute("data-labels") or "[]"))

    def wait_labels(self, n: int) -> None:
        """Wait until the canvas has drawn `n` labels."""
        self.page.wait_for_function(
            f"(el) => JSON.parse(el.dataset.labels || '[]').length === {int(n)}",
            arg=self.stage.element_handle(),
        )

    def has_focus(self) -> bool:
        """Whether keyboard focus is inside the panel."""
        return bool(self.root.evaluate("(el) => el.matches(':focus-within')"))

    def cut_off(self) -> list[str]:
        """The controls that stick out of the panel's box or of their column, as 'what: how'."""
        return list(
            self.root.evaluate(
                """(panel) => {
                    const box = panel.getBoundingClientRect();
                    const out = [];
                    const sel = 'button, select, input, .widget-slider, .alw-progress, '
                        + '.alw-stage, .alw-status, svg, .widget-toggle-buttons';
                    for (const el of panel.querySelectorAll(sel)) {
                        const r = el.getBoundingClientRect();
                        if (r.width === 0 && r.height === 0) continue;  // folded away
                        const name = (el.className.baseVal ?? el.className) + ' '
                            + (el.innerText || el.title || el.tagName).slice(0, 20);
                        if (r.left < box.left - 1 || r.right > box.right + 1)
                            out.push(`${name}: ${r.left}..${r.right} outside the panel's ${box.left}..${box.right}`);
                        const col = el.closest('.alw-left, .alw-right');
                        if (col) {
                            const c = col.getBoundingClientRect();
                            if (r.right > c.right + 1)
                                out.push(`${name}: right ${r.right} past its column's ${c.right}`);
                        }
                    }
                    if (panel.scrollWidth > panel.clientWidth + 1)
                        out.push(`the panel scrolls sideways: ${panel.scrollWidth} > ${panel.clientWidth}`);
                    return out;
                }"""
            )
        )

    def scale(self) -> float:
        """Page pixels per image pixel in the fitted view."""
        bb = self.canvas.bounding_box()
        return float(min(bb["width"] / self.width, bb["height"] / self.height))

    def at(self, x: float, y: float) -> tuple[float, float]:
        """The page point over image pixel (x, y) in the fitted view."""
        bb = self.canvas.bounding_box()
        s = self.scale()
        left = bb["x"] + (bb["width"] - self.width * s) / 2
        top = bb["y"] + (bb["height"] - self.height * s) / 2
        return left + x * s, top + y * s

    def drag(self, a: tuple[float, float], b: tuple[float, float], steps: int = 15) -> None:
        """Drag with the left button from image point ``a`` to ``b``."""
        mouse = self.page.mouse
        mouse.move(*self.at(*a))
        mouse.down()
        mouse.move(*self.at(*b), steps=steps)
        mouse.up()

    def captions(self) -> list[str]:
        """The thumbnail captions, as shown."""
        return list(
            self.root.locator(".alw-queue .alw-caption").evaluate_all(
                "(els) => els.map((e) => e.innerText.trim()).filter((t) => t)"
            )
        )

    def status(self) -> str:
        """The canvas's status line, as shown."""
        return str(self.root.locator(".alw-status").inner_text())

    def error_text(self) -> str:
        """The panel's error line, as shown (empty when there is none)."""
        return "\n".join(self.root.locator("span[style*='#b00']").all_inner_texts())
