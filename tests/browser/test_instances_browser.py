"""Instance mode in a real JupyterLab and Chromium: objects drawn with the real mouse and keys,
drafts accepted, edited and deleted, and the Instances the kernel then holds.

Expected masks are computed here from the page points the mouse went to, through the canvas's
fitted view (js/src/view.js), by the rules js/src/raster.js documents: the brush paints the
pixels whose centre lies within half the brush size of the stroke's segment; a polygon fills the
pixels whose centre lies inside it (even-odd). Both sides compute in double precision in the
same order, so the masks must be equal pixel for pixel.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from . import harness

pytestmark = pytest.mark.browser

W, H = 200, 100  # the test image in notebooks/instances.ipynb
STEPS = 10  # mouse moves of a drag; its page distance is a multiple, so each point is whole


class Py(str):
    """Python source passed to the notebook's reset() as it is."""

    def __repr__(self) -> str:
        return str(self)


class InstanceDriver:
    """The canvas and class picker of notebooks/instances.ipynb."""

    def __init__(self, page: Any, lab: harness.LabServer) -> None:
        self.page = page
        self.state_dir = lab.state_dir
        self.state_file = lab.state_dir / "instances.json"
        self.stage = page.locator(".alw-stage").first
        self.size = (W, H)

    def reset(self, size: tuple[int, int] = (W, H), **kwargs: Any) -> None:
        """Load the image afresh with ``kwargs`` for reset(); `size` is the image's (W, H)."""
        self.size = size
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        self.image_id = int(harness.kernel_exec(self.page, f"reset({args})").strip())
        self.page.wait_for_selector(f'.alw-stage[data-image-loaded="{self.image_id}"]')
        self.stage.scroll_into_view_if_needed()
        self.page.mouse.move(0, 0)

    def _view(self) -> tuple[float, float, float, float, float]:
        """The fitted view as js/src/view.js computes it: scale, offsets, the canvas's corner."""
        sw, sh, left, top = self.page.evaluate(
            """() => {
                const s = document.querySelector('.alw-stage').getBoundingClientRect();
                const c = document.querySelector('.alw-stage canvas').getBoundingClientRect();
                return [s.width, s.height, c.left, c.top];
            }"""
        )
        width, height = self.size
        s = min(sw / width, sh / height)
        return s, (sw - width * s) / 2, (sh - height * s) / 2, left, top

    def page_point(self, x: float, y: float) -> tuple[int, int]:
        """The whole page point nearest image point (x, y)."""
        s, ox, oy, left, top = self._view()
        return round(left + ox + x * s), round(top + oy + y * s)

    def image_point(self, px: int, py: int) -> tuple[float, float]:
        """The image point the canvas reads at page point (px, py) (view.js's toImage)."""
        s, ox, oy, left, top = self._view()
        return ((px - left) - ox) / s, ((py - top) - oy) / s

    def click(self, x: float, y: float) -> None:
        self.page.mouse.click(*self.page_point(x, y))

    def stroke(self, x0: float, x1: float, y: float) -> tuple[tuple[float, float], ...]:
        """A horizontal brush drag between image points; returns its ends as the canvas read them."""
        a = self.page_point(x0, y)
        dx = round((self.page_point(x1, y)[0] - a[0]) / STEPS) * STEPS
        b = (a[0] + dx, a[1])
        mouse = self.page.mouse
        mouse.move(*a)
        mouse.down()
        mouse.move(*b, steps=STEPS)
        mouse.up()
        return self.image_point(*a), self.image_point(*b)

    def wait(self, messages: int) -> dict[str, Any]:
        return harness.wait_for_state(
            self.state_file,
            lambda s: s["image_id"] == self.image_id and s["messages"] >= messages,
        )

    def submit(self) -> tuple[list[str], np.ndarray]:
        """The editor's annotation, as the panel's submit commits it: classes and masks."""
        classes = json.loads(harness.kernel_exec(self.page, "submit()"))
        return classes, np.load(self.state_dir / "instances_submitted.npy")


@pytest.fixture(scope="module")
def inst(lab: harness.LabServer, new_page: Any) -> InstanceDriver:
    page = new_page()
    harness.open_notebook_in_workspace(page, lab, "instances.ipynb", "instances")
    harness.run_cell(page, 0, timeout=120)
    harness.run_cell(page, 1, timeout=120)  # under load a first widget view takes a while
    page.wait_for_selector(".alw-stage canvas")
    return InstanceDriver(page, lab)


def capsule(
    a: tuple[float, float], b: tuple[float, float], r: float, size: tuple[int, int] = (W, H)
) -> np.ndarray:
    """The pixels a brush of radius r paints along segment a-b (js/src/raster.js's capsule) in
    an image of `size` (width, height)."""
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]]
    cx, cy = xx + 0.5, yy + 0.5
    vx, vy = b[0] - a[0], b[1] - a[1]
    len2 = vx * vx + vy * vy
    t = np.clip(((cx - a[0]) * vx + (cy - a[1]) * vy) / len2, 0, 1) if len2 > 0 else 0.0
    dx, dy = cx - (a[0] + t * vx), cy - (a[1] + t * vy)
    out = dx * dx + dy * dy <= r * r
    for p in (a, b):  # the pixel under each pointer position (inside the capsule here)
        out[math.floor(p[1]), math.floor(p[0])] = True
    return out


def polygon(pts: list[tuple[float, float]]) -> np.ndarray:
    """The pixels whose centre lies inside the closed polygon (js/src/raster.js's polygonSpans)."""
    out = np.zeros((H, W), bool)
    for y in range(H):
        cy = y + 0.5
        xs = []
        for i, (ax, ay) in enumerate(pts):
            bx, by = pts[(i + 1) % len(pts)]
            if (ay <= cy < by) or (by <= cy < ay):
                xs.append(ax + ((cy - ay) / (by - ay)) * (bx - ax))
        xs.sort()
        for j in range(0, len(xs) - 1, 2):
            lo = min(max(math.ceil(xs[j] - 0.5), 0), W)
            hi = min(max(math.ceil(xs[j + 1] - 0.5), 0), W)
            out[y, lo:hi] = True
    return out


def touch(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a pixel of `a` is, or is next to, a pixel of `b`."""
    grown = a.copy()
    grown[1:] |= a[:-1]
    grown[:-1] |= a[1:]
    grown[:, 1:] |= a[:, :-1]
    grown[:, :-1] |= a[:, 1:]
    return bool((grown & b).any())


def test_two_touching_objects_of_one_class_drawn_as_polygon_and_brush_submit_as_drawn(
    inst: InstanceDriver,
) -> None:
    inst.reset(tool="polygon", brush_size=12, active_class=0)
    corners = [(30, 20), (100, 15), (100, 85), (25, 80)]
    points = [inst.page_point(x, y) for x, y in corners]
    for p in points:
        inst.page.mouse.click(*p)
    inst.page.keyboard.press("Enter")  # closes the polygon: the first object
    inst.wait(1)
    inst.page.keyboard.press("b")  # the brush
    inst.page.keyboard.press("o")  # a new object: the next stroke starts one
    a, b = inst.stroke(106, 160, 50)
    state = inst.wait(2)
    assert state["objects"] == [[1, 0, False], [2, 0, False]]
    assert state["rejected"] == []

    classes, masks = inst.submit()
    assert classes == ["cat", "cat"]
    settled = harness.read_state(inst.state_file)
    assert settled is not None
    assert settled["messages"] == 2  # one per object: the polygon, the whole stroke
    drawn_polygon = polygon([inst.image_point(*p) for p in points])
    drawn_stroke = capsule(a, b, 12 / 2)
    assert masks.shape == (2, H, W)
    assert np.array_equal(masks[0], drawn_polygon)
    assert np.array_equal(masks[1], drawn_stroke)
    assert touch(masks[0], masks[1])  # two objects, though one class and touching
    status = inst.page.locator(".alw-status").first.inner_text()
    assert "instance · brush 12px · class cat · 2 objects · object 2 selected" in status
    harness.screenshot(inst.page, "instances_drawn", inst.page.locator(".alw-canvas").first)


def test_drafts_accepted_edited_recoloured_and_deleted_submit_as_left(
    inst: InstanceDriver,
) -> None:
    inst.reset(drafts=Py("DRAFTS"), tool="brush", brush_size=8, active_class=0)
    state = inst.wait(0)
    assert state["objects"] == [[1, 0, True], [2, 0, True], [3, 1, True]]
    harness.screenshot(inst.page, "instances_drafts", inst.stage)

    inst.click(40, 40)  # selects the first draft
    inst.page.keyboard.press("a")  # accepts it
    inst.wait(1)
    inst.click(80, 40)  # selects the second draft
    a, b = inst.stroke(80, 120, 40)  # paints into it past its right edge: edited, accepted
    inst.wait(2)
    inst.page.locator(".alw-picker button", has_text="cup").click()  # recolours it
    inst.wait(3)
    inst.click(150, 50)  # selects the third draft: the picker shows its class
    harness.wait_for_state(inst.state_file, lambda s: s["picker"] == 1)
    inst.page.keyboard.press("Delete")
    state = inst.wait(4)
    assert state["objects"] == [[1, 0, False], [2, 2, False]]
    assert state["rejected"] == []

    classes, masks = inst.submit()
    assert classes == ["cat", "cup"]
    first, second = np.zeros((2, H, W), bool)
    first[20:60, 20:60] = True
    second[20:60, 60:100] = True
    assert np.array_equal(masks[0], first)
    assert np.array_equal(masks[1], second | capsule(a, b, 8 / 2))
    harness.screenshot(inst.page, "instances_drafts_edited", inst.stage)


def held(inst: InstanceDriver) -> np.ndarray:
    """The masks of the objects the kernel holds, bottom first."""
    return np.load(inst.state_file.with_suffix(".npy"))


def test_clicks_cycle_through_overlapping_objects_and_ctrl_brackets_restack(
    inst: InstanceDriver,
) -> None:
    inst.reset(drafts=Py("OVERLAP"), tool="brush", active_class=0)
    inst.click(60, 50)  # both objects are here: the top one first
    harness.wait_for_state(inst.state_file, lambda s: s["picker"] == 1)
    inst.click(60, 50)  # again: the one under it
    harness.wait_for_state(inst.state_file, lambda s: s["picker"] == 0)
    inst.page.keyboard.press("Control+]")  # brings the cat forward, over the dog
    state = inst.wait(1)
    assert state["objects"] == [[2, 1, True], [1, 0, True]]
    inst.page.keyboard.press("Control+[")  # and back
    state = inst.wait(2)
    assert state["objects"] == [[1, 0, True], [2, 1, True]]
    assert state["rejected"] == []


def test_the_eraser_erases_from_the_selected_object_only_and_undo_redo_follow(
    inst: InstanceDriver,
) -> None:
    inst.reset(drafts=Py("OVERLAP"), tool="eraser", brush_size=6, active_class=0)
    before = held(inst)
    inst.click(30, 50)  # the cat alone is here
    a, b = inst.stroke(30, 110, 50)  # across both objects
    state = inst.wait(1)
    assert state["objects"] == [[1, 0, False], [2, 1, True]]  # erasing in a draft accepts it
    after = held(inst)
    assert np.array_equal(after[0], before[0] & ~capsule(a, b, 6 / 2))
    assert np.array_equal(after[1], before[1])  # the dog is untouched
    harness.screenshot(inst.page, "instances_erased", inst.stage)

    inst.page.keyboard.press("Control+z")
    state = inst.wait(2)
    assert state["objects"] == [[1, 0, True], [2, 1, True]]
    assert np.array_equal(held(inst), before)
    inst.page.keyboard.press("Control+y")
    state = inst.wait(3)
    assert np.array_equal(held(inst), after)
    assert state["rejected"] == []


def test_an_object_larger_than_its_drawing_is_selected_and_painted_into_at_full_resolution(
    inst: InstanceDriver,
) -> None:
    size = (3000, 2000)
    inst.reset(size=size, image=Py("BIG"), drafts=Py("BIG_DRAFTS"), tool="brush", brush_size=40)
    before = held(inst)
    inst.click(1500, 1000)  # selects the draft
    a, b = inst.stroke(2700, 2950, 1000)  # from inside it out to the right
    state = inst.wait(1)
    assert state["objects"] == [[1, 1, False]]
    assert state["rejected"] == []
    assert np.array_equal(held(inst)[0], before[0] | capsule(a, b, 40 / 2, size))
    harness.screenshot(inst.page, "instances_large", inst.stage)


def test_shift_a_accepts_every_draft_in_one_step(inst: InstanceDriver) -> None:
    inst.reset(drafts=Py("DRAFTS"), tool="brush", active_class=0)
    inst.click(110, 90)  # on no object: gives the canvas the keyboard, selects nothing
    inst.page.keyboard.press("Shift+A")
    state = inst.wait(3)  # one message per object it changed
    assert state["objects"] == [[1, 0, False], [2, 0, False], [3, 1, False]]
    inst.page.keyboard.press("Control+z")  # one undo takes all three back
    state = inst.wait(6)
    assert state["objects"] == [[1, 0, True], [2, 0, True], [3, 1, True]]
    assert state["rejected"] == []


def test_a_box_drawn_with_the_polygon_tool_is_refined_then_closed_as_an_object(
    inst: InstanceDriver,
) -> None:
    inst.reset(tool="polygon", active_class=2)
    mouse = inst.page.mouse

    def drag(a: tuple[int, int], b: tuple[int, int]) -> None:
        mouse.move(*a)
        mouse.down()
        mouse.move(*b, steps=STEPS)
        mouse.up()

    start, end = inst.page_point(30, 20), inst.page_point(90, 80)
    drag(start, end)  # a box: its corners are the polygon under way
    corner = inst.page_point(110, 90)
    drag(end, corner)  # its lower right corner moved
    top, peak = inst.page_point(60, 20), inst.page_point(60, 5)
    drag(top, peak)  # a point added on its top edge, pulled up
    inst.page.keyboard.press("Enter")
    state = inst.wait(1)
    assert state["objects"] == [[1, 2, False]]
    (x0, y0), (x1, y1) = inst.image_point(*start), inst.image_point(*end)
    refined = [(x0, y0), inst.image_point(*peak), (x1, y0), inst.image_point(*corner), (x0, y1)]
    assert np.array_equal(held(inst)[0], polygon(refined))
    harness.screenshot(inst.page, "instances_refined", inst.stage)


def test_a_polygon_begun_off_the_image_closes_where_it_began(inst: InstanceDriver) -> None:
    """As in mask mode: corners clicked in the margin lie clamped on the image's edge, the first
    10 page px from where the labeler clicked (past the 8 px that close a polygon); clicking that
    spot again closes the polygon: an object covering the whole image."""
    size = (W, 40)  # wide: the image fills the canvas's width
    inst.reset(size=size, image=Py("IMG[:40]"), tool="polygon", active_class=1)
    (left, top), (right, bottom) = inst.page_point(0, 0), inst.page_point(*size)
    left, right, top, bottom = left + 1, right - 1, top - 10, bottom + 10
    stage = inst.stage.bounding_box()
    assert stage["y"] < top  # in the margin
    assert bottom < stage["y"] + stage["height"]
    for point in [(left, top), (right, top), (right, bottom), (left, bottom), (left, top)]:
        inst.page.mouse.click(*point)
    state = inst.wait(1)
    assert state["objects"] == [[1, 1, False]]
    assert held(inst)[0].all()
    harness.screenshot(inst.page, "instances_polygon_closed_off_the_image", inst.stage)
