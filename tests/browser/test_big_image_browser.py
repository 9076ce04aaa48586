"""A 6000x8000 photo in a real JupyterLab and Chromium: it opens, and a mask stroke is one small message.

The notebook (notebooks/big_image.ipynb) generates the photo. Python holds the whole 48 MB class map;
the browser sends each stroke as the patch of the rect it changed, so a stroke stays far below the
Jupyter server's 10 MiB websocket message limit. The time to open is printed, never asserted
(benchmarks/big_image.py measures it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from . import harness

pytestmark = pytest.mark.browser

W, H = 8000, 6000  # the photo in notebooks/big_image.ipynb
MB = 1_000_000
BRUSH = 150  # image pixels: 10 screen pixels at the fitted scale


class BigImage:
    """The canvas of notebooks/big_image.ipynb and the websocket frames its page sends."""

    def __init__(self, page: Any, lab: harness.LabServer, frames: list[int]) -> None:
        self.page = page
        self.state_file = lab.state_dir / "big_image.json"
        self.canvas = page.locator(".alw-stage canvas").first
        self.stage = page.locator(".alw-stage").first
        self.frames = frames

    def reset(self, **kwargs: str) -> float:
        """Load the photo with reset(**kwargs) (Python source each); ms until it is drawn."""
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        opened = self.page.evaluate(harness.TIME_TO_DRAWN, f"reset({args})")
        assert opened["ms"] is not None, f"image {opened['id']} was never drawn"
        self.image_id = int(opened["id"])
        self.canvas.scroll_into_view_if_needed()
        self.page.mouse.move(0, 0)
        return float(opened["ms"])

    def scale(self) -> float:
        """Screen pixels per image pixel in the fitted view."""
        bb = self.canvas.bounding_box()
        return float(min(bb["width"] / W, bb["height"] / H))

    def at(self, x: float, y: float) -> tuple[float, float]:
        """The page point over image point (x, y) in the fitted view."""
        bb = self.canvas.bounding_box()
        s = self.scale()
        left, top = bb["x"] + (bb["width"] - W * s) / 2, bb["y"] + (bb["height"] - H * s) / 2
        return left + x * s, top + y * s

    def stroke(self, a: tuple[float, float], b: tuple[float, float]) -> list[int]:
        """Paint from image point a to b with the real mouse; the websocket frames sent meanwhile."""
        self.frames.clear()
        mouse = self.page.mouse
        mouse.move(*self.at(*a))
        mouse.down()
        mouse.move(*self.at(*b), steps=25)
        mouse.up()
        return self.frames

    def settle(self, messages: int) -> dict[str, Any]:
        """Wait until Python has accepted ``messages`` edits of this image, then that no more come."""
        harness.wait_for_state(
            self.state_file,
            lambda s: s["image_id"] == self.image_id and s["messages"] >= messages,
            timeout=30,
        )
        self.page.wait_for_timeout(500)  # Playwright hands over the frame events while it waits
        state = harness.read_state(self.state_file)
        assert state is not None
        assert state["messages"] == messages, state
        assert state["rejected"] == []
        return state

    def mask(self) -> np.ndarray:
        """The class map Python holds."""
        return np.load(self.state_file.with_suffix(".npy"))


@pytest.fixture(scope="module")
def big(lab: harness.LabServer, new_page: Any) -> BigImage:
    """The big-image notebook, opened and run once; frames sent on its websockets are counted."""
    page = new_page()
    frames: list[int] = []

    def on_socket(socket: Any) -> None:
        if "/api/kernels/" in socket.url:
            socket.on("framesent", lambda payload: frames.append(len(payload)))

    page.on("websocket", on_socket)
    harness.open_notebook_in_workspace(page, lab, "big_image.ipynb", "big-image")
    harness.run_cell(page, 0, timeout=120)
    harness.run_cell(page, 1)
    page.wait_for_selector(".alw-stage[data-image-loaded]:not([data-image-loaded=''])")
    return BigImage(page, lab, frames)


class Stroke:
    """Where a brush stroke from image point a to b paints: pixels by their distance from it."""

    def __init__(self, a: tuple[float, float], b: tuple[float, float], radius: float) -> None:
        pad = radius + 50
        x0, x1 = int(max(0, min(a[0], b[0]) - pad)), int(min(W, max(a[0], b[0]) + pad))
        y0, y1 = int(max(0, min(a[1], b[1]) - pad)), int(min(H, max(a[1], b[1]) + pad))
        self.around = np.s_[y0:y1, x0:x1]
        """The part of the image the checks look at; the stroke leaves the rest alone."""
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
        (ax, ay), (bx, by) = a, b
        vx, vy = bx - ax, by - ay
        t = np.clip(((xx - ax) * vx + (yy - ay) * vy) / (vx * vx + vy * vy), 0, 1)
        self.distance = np.hypot(xx - (ax + t * vx), yy - (ay + t * vy)) - radius
        """Each pixel's distance from segment a-b, less the radius: <= 0 in the brush's capsule."""

    def check(self, mask: np.ndarray, value: int, rest: np.ndarray, slack: float) -> None:
        """Inside the stroke (less `slack`) the mask holds `value`; elsewhere it equals `rest`."""
        got, before = mask[self.around], rest[self.around]
        assert (got[self.distance <= -slack] == value).all()
        far = self.distance > slack
        np.testing.assert_array_equal(got[far], before[far])
        outside = mask.copy()
        outside[self.around] = rest[self.around]
        np.testing.assert_array_equal(outside, rest)


def test_a_6000x8000_photo_opens_and_prints_its_time(big: BigImage) -> None:
    times = [big.reset(tool="'brush'") for _ in range(3)]
    state = harness.read_state(big.state_file)
    assert state is not None
    python_ms = [round(1000 * s) for s in state["load_seconds"][-3:]]
    print(
        f"\n6000x8000 photo, load() to drawn: {[round(t) for t in times]} ms "
        f"(of which Python's load(): {python_ms} ms)"
    )
    shown = big.page.evaluate("() => document.querySelector('.alw-status').innerText")
    assert "zoom" in shown
    harness.screenshot(big.page, "big_image_opened", big.stage)


def test_a_brush_stroke_is_one_message_under_1_mb_painted_in_image_pixels(big: BigImage) -> None:
    big.reset(tool="'brush'", brush_size=str(BRUSH), active_class="2")
    a, b = (1000.0, 3000.0), (7000.0, 3800.0)
    frames = big.stroke(a, b)
    state = big.settle(1)
    edits = [m for m in state["received"] if m[0] in ("mask", "mask_patch")]
    assert len(edits) == 1, edits
    kind, json_bytes, buffer_bytes = edits[0]
    print(f"\nstroke: {kind}, {json_bytes} B JSON + {buffer_bytes} B buffer; frames sent {frames}")
    assert kind == "mask_patch"
    assert json_bytes + buffer_bytes < MB
    assert len(frames) == 1  # the whole stroke went to the kernel as one websocket frame
    assert frames[0] < MB
    mask = big.mask()
    # The mouse lands on whole screen pixels: image points are known to one screen pixel.
    Stroke(a, b, BRUSH / 2).check(mask, 2, np.zeros_like(mask), slack=1 / big.scale() + 1)
    harness.screenshot(big.page, "big_image_stroke", big.stage)


def test_a_stroke_over_a_loaded_mask_keeps_the_rest_of_it(big: BigImage) -> None:
    loaded = "np.pad(np.ones((2000, 4000), np.uint8), ((2000, 2000), (2000, 2000)))"
    big.reset(mask=loaded, tool="'eraser'", brush_size=str(BRUSH))
    a, b = (4000.0, 1000.0), (4000.0, 5000.0)
    big.stroke(a, b)
    big.settle(1)
    loaded_map = np.zeros((H, W), np.uint8)
    loaded_map[2000:4000, 2000:6000] = 1
    Stroke(a, b, BRUSH / 2).check(big.mask(), 0, loaded_map, slack=1 / big.scale() + 1)
    harness.screenshot(big.page, "big_image_erased", big.stage)


def test_undo_of_a_stroke_is_one_message_that_restores_the_mask(big: BigImage) -> None:
    big.reset(tool="'brush'", brush_size=str(BRUSH), active_class="1")
    big.stroke((500.0, 500.0), (7500.0, 5500.0))  # the whole image's diagonal
    big.settle(1)
    assert big.mask().any()
    big.frames.clear()
    big.stage.focus()
    big.page.keyboard.press("Control+z")
    state = big.settle(2)
    assert not big.mask().any()
    assert len(big.frames) == 1
    assert max(big.frames) < MB
    assert [m[0] for m in state["received"] if m[0] != "fetch"] == ["mask_patch"] * 2


def test_a_key_pressed_right_after_a_stroke_reaches_python_after_its_patch(big: BigImage) -> None:
    big.reset(tool="'brush'", brush_size=str(BRUSH), active_class="1", panel_keys="['Enter']")
    big.stroke((500.0, 500.0), (7500.0, 5500.0))  # a 48 MB rect: its patch is compressed first
    big.page.keyboard.press("Enter")  # a panel key: a submit, in the labeling panel
    state = harness.wait_for_state(
        big.state_file, lambda s: any(m[0] == "key" for m in s["received"]), timeout=30
    )
    assert [m[0] for m in state["received"] if m[0] != "fetch"] == ["mask_patch", "key"]
