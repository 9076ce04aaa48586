"""The canvas in a real JupyterLab and Chromium: real mouse and keys, state checked in the kernel."""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
import pytest

from . import harness

pytestmark = pytest.mark.browser

W, H = 200, 100  # the test image in notebooks/canvas.ipynb
TOL = 1.0  # image pixels


class Py(str):
    """Python source passed to the notebook's reset() as it is."""

    def __repr__(self) -> str:
        return str(self)


class CanvasDriver:
    """The canvas of notebooks/canvas.ipynb: reset it, map image to screen points, read state."""

    def __init__(self, page: Any, lab: harness.LabServer) -> None:
        self.page = page
        self.state_file = lab.state_dir / "canvas.json"
        self.canvas = page.locator(".alw-stage canvas").first
        self.stage = page.locator(".alw-stage").first

    def reset(self, **kwargs: Any) -> int:
        """Reload the image with ``kwargs`` for reset(); wait until the browser shows it."""
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        image_id = int(harness.kernel_exec(self.page, f"reset({args})").strip())
        self.page.wait_for_selector(f'.alw-stage[data-image-loaded="{image_id}"]')
        self.canvas.scroll_into_view_if_needed()
        self.page.mouse.move(0, 0)
        self.image_id = image_id
        return image_id

    def view(self) -> tuple[float, float, float]:
        """The fitted view from the canvas's box: (scale, left, top) in page pixels."""
        bb = self.canvas.bounding_box()
        s = min(bb["width"] / W, bb["height"] / H)
        return s, bb["x"] + (bb["width"] - W * s) / 2, bb["y"] + (bb["height"] - H * s) / 2

    def at(self, x: float, y: float) -> tuple[float, float]:
        """The page point over image pixel coordinate (x, y) in the fitted view."""
        s, left, top = self.view()
        return left + x * s, top + y * s

    def drag(self, a: tuple[float, float], b: tuple[float, float], steps: int = 10) -> None:
        """Drag with the left button between two page points."""
        mouse = self.page.mouse
        mouse.move(*a)
        mouse.down()
        mouse.move(*b, steps=steps)
        mouse.up()

    def wait(self, messages: int) -> dict[str, Any]:
        """Wait until Python has accepted ``messages`` messages for the current image."""
        return harness.wait_for_state(
            self.state_file,
            lambda s: s["image_id"] == self.image_id and s["messages"] >= messages,
        )

    def settle(self, messages: int) -> dict[str, Any]:
        """Wait for ``messages`` messages, then check no more arrive."""
        self.wait(messages)
        time.sleep(0.4)
        state = harness.read_state(self.state_file)
        assert state is not None
        assert state["messages"] == messages, state
        assert state["rejected"] == []
        return state

    def mask(self) -> np.ndarray:
        """The class map Python holds."""
        return np.load(self.state_file.with_suffix(".npy"))

    def hear_bubbling(self) -> None:
        """Record afresh the keydowns that bubble out of the canvas widget: what a panel hears."""
        self.page.evaluate(
            """() => {
                window.__bubbled = [];
                const el = document.querySelector('.alw-canvas').parentElement;
                if (!el.dataset.alwHeard) {
                    el.dataset.alwHeard = 'yes';
                    el.addEventListener('keydown', (e) => window.__bubbled.push(e.key));
                }
            }"""
        )

    def bubbled(self) -> list[str]:
        """The keys heard since hear_bubbling()."""
        return list(self.page.evaluate("() => window.__bubbled"))

    def status(self) -> str:
        """The status line under the canvas."""
        return str(self.page.locator(".alw-status").first.inner_text())


@pytest.fixture(scope="module")
def cv(lab: harness.LabServer, new_page: Any) -> CanvasDriver:
    """The canvas notebook, opened and run once for this module."""
    page = new_page()
    harness.open_notebook(page, lab, "canvas.ipynb")
    harness.run_cell(page, 0)
    harness.run_cell(page, 1)
    page.wait_for_selector(".alw-stage canvas")
    return CanvasDriver(page, lab)


def assert_box(box: dict[str, Any], xyxy: list[float], label: int) -> None:
    assert box["label"] == label
    assert box["xyxy"] == pytest.approx(xyxy, abs=TOL)


def test_drawn_box_reaches_python_in_image_pixels(cv: CanvasDriver) -> None:
    cv.reset(mode="box", active_class=2)
    cv.drag(cv.at(30, 20), cv.at(90, 70))
    state = cv.settle(1)
    assert len(state["boxes"]) == 1
    assert_box(state["boxes"][0], [30, 20, 90, 70], 2)
    harness.screenshot(cv.page, "box_drawn", cv.stage)


def test_the_status_line_counts_one_box_in_the_singular(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    cv.drag(cv.at(30, 20), cv.at(90, 70))
    cv.settle(1)
    assert re.search(r"· 1 box ·", cv.status())
    cv.drag(cv.at(100, 20), cv.at(150, 70))
    cv.settle(2)
    assert re.search(r"· 2 boxes ·", cv.status())


def test_box_drag_sends_exactly_one_message(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    cv.drag(cv.at(10, 10), cv.at(50, 40), steps=40)
    state = cv.settle(1)
    assert state["by_kind"] == {"boxes": 1, "mask": 0}


def test_tiny_drag_and_click_draw_nothing(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    x, y = cv.at(50, 50)
    cv.drag((x, y), (x + 1.5, y + 1))
    cv.page.mouse.click(x + 30, y + 30)
    cv.drag(cv.at(10, 10), cv.at(20, 20))
    state = cv.settle(1)
    assert len(state["boxes"]) == 1


def test_box_drawn_past_the_edge_is_clamped_to_the_image(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    s, left, top = cv.view()
    cv.drag(cv.at(150, 50), (left + W * s + 40, top + H * s + 40))
    state = cv.settle(1)
    assert_box(state["boxes"][0], [150, 50, 200, 100], 1)


def test_box_moves_then_resizes(cv: CanvasDriver) -> None:
    cv.reset(mode="box", boxes=[{"xyxy": [50, 30, 100, 70], "label": 1}])
    cv.page.mouse.click(*cv.at(75, 50))  # only the selected box moves
    cv.drag(cv.at(75, 50), cv.at(95, 60))
    state = cv.wait(1)
    assert_box(state["boxes"][0], [70, 40, 120, 80], 1)
    cv.drag(cv.at(120, 80), cv.at(140, 90))
    state = cv.settle(2)
    assert len(state["boxes"]) == 1
    assert_box(state["boxes"][0], [70, 40, 140, 90], 1)
    harness.screenshot(cv.page, "box_moved_resized", cv.stage)


def test_delete_key_removes_selected_box(cv: CanvasDriver) -> None:
    cv.reset(mode="box", boxes=[{"xyxy": [50, 30, 100, 70], "label": 1}])
    cv.page.mouse.click(*cv.at(60, 40))
    cv.page.keyboard.press("Delete")
    state = cv.settle(1)
    assert state["boxes"] == []


def test_undo_then_redo_restores_box(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    cv.drag(cv.at(30, 20), cv.at(90, 70))
    cv.wait(1)
    cv.page.keyboard.press("Control+z")
    assert cv.wait(2)["boxes"] == []
    cv.page.keyboard.press("Control+Shift+z")
    state = cv.settle(3)
    assert_box(state["boxes"][0], [30, 20, 90, 70], 1)


def test_draft_accepted_with_a_becomes_box(cv: CanvasDriver) -> None:
    drafts = [{"xyxy": [20, 20, 60, 60], "label": 2}, {"xyxy": [120, 20, 180, 80], "label": 1}]
    cv.reset(mode="box", drafts=drafts)
    harness.screenshot(cv.page, "drafts", cv.stage)
    cv.page.mouse.click(*cv.at(40, 40))
    cv.page.keyboard.press("a")
    state = cv.settle(1)
    assert state["boxes"] == [{"xyxy": [20, 20, 60, 60], "label": 2}]
    assert state["drafts"] == [drafts[1]]


def test_double_click_accepts_draft(cv: CanvasDriver) -> None:
    cv.reset(mode="box", drafts=[{"xyxy": [120, 20, 180, 80], "label": 1}])
    cv.page.mouse.dblclick(*cv.at(150, 50))
    state = cv.settle(1)
    assert state["boxes"] == [{"xyxy": [120, 20, 180, 80], "label": 1}]
    assert state["drafts"] == []


def test_moving_a_draft_accepts_it_at_the_new_place(cv: CanvasDriver) -> None:
    cv.reset(mode="box", drafts=[{"xyxy": [120, 20, 180, 80], "label": 2}])
    cv.page.mouse.click(*cv.at(150, 50))
    cv.drag(cv.at(150, 50), cv.at(140, 60))
    state = cv.settle(1)
    assert state["drafts"] == []
    assert_box(state["boxes"][0], [110, 30, 170, 90], 2)


OUTER = {"xyxy": [20, 10, 180, 90], "label": 2}  # a person...
INNER = {"xyxy": [60, 30, 100, 70], "label": 1}  # ...holding a camera


@pytest.mark.parametrize("holder", ["boxes", "drafts"])
def test_a_drag_inside_a_box_or_draft_not_selected_draws_a_box_in_it(
    cv: CanvasDriver, holder: str
) -> None:
    cv.reset(mode="box", **{holder: [OUTER]})
    cv.drag(cv.at(60, 30), cv.at(100, 70))
    state = cv.settle(1)
    assert state[holder][0] == OUTER
    drawn = state["boxes"][-1]
    assert_box(drawn, INNER["xyxy"], 1)
    assert len(state["boxes"]) + len(state["drafts"]) == 2


def test_a_box_drawn_inside_the_box_just_drawn_is_a_second_box(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    cv.drag(cv.at(20, 10), cv.at(180, 90))
    cv.wait(1)
    cv.drag(cv.at(60, 30), cv.at(100, 70))
    state = cv.settle(2)
    assert len(state["boxes"]) == 2
    assert_box(state["boxes"][0], OUTER["xyxy"], 1)
    assert_box(state["boxes"][1], INNER["xyxy"], 1)
    harness.screenshot(cv.page, "box_in_box", cv.stage)


def test_a_second_click_selects_the_draft_under_a_box(cv: CanvasDriver) -> None:
    cv.reset(mode="box", boxes=[INNER], drafts=[OUTER])
    cv.page.mouse.click(*cv.at(80, 50))  # the box first
    cv.page.mouse.click(*cv.at(80, 50))  # then the draft under it
    harness.screenshot(cv.page, "draft_selected_under_a_box", cv.stage)
    cv.page.keyboard.press("a")
    state = cv.settle(1)
    assert state["boxes"] == [INNER, OUTER]
    assert state["drafts"] == []


def test_held_delete_removes_only_the_selected_draft_under_a_box(cv: CanvasDriver) -> None:
    cv.reset(mode="box", boxes=[INNER], drafts=[OUTER, {"xyxy": [5, 5, 15, 15], "label": 1}])
    cv.page.mouse.click(*cv.at(80, 50))
    cv.page.mouse.click(*cv.at(80, 50))
    for _ in range(4):  # the key held down: the browser repeats it
        cv.page.keyboard.down("Delete")
    cv.page.keyboard.up("Delete")
    state = cv.settle(1)
    assert state["boxes"] == [INNER]
    assert state["drafts"] == [{"xyxy": [5, 5, 15, 15], "label": 1}]


def test_a_drag_on_the_selected_box_moves_it_over_a_box_inside_it(cv: CanvasDriver) -> None:
    cv.reset(mode="box", boxes=[OUTER, INNER])
    cv.page.mouse.click(*cv.at(30, 20))  # only the outer box is there
    cv.drag(cv.at(80, 50), cv.at(90, 55))  # starts on the inner box too
    state = cv.settle(1)
    assert_box(state["boxes"][0], [30, 15, 190, 95], 2)
    assert state["boxes"][1] == INNER


def test_a_drag_on_the_selected_inner_box_moves_it_alone(cv: CanvasDriver) -> None:
    cv.reset(mode="box", boxes=[OUTER, INNER])
    cv.page.mouse.click(*cv.at(80, 50))  # the smaller box under the pointer first
    cv.drag(cv.at(80, 50), cv.at(90, 55))
    state = cv.settle(1)
    assert state["boxes"][0] == OUTER
    assert_box(state["boxes"][1], [70, 35, 110, 75], 1)


def test_the_cursor_shows_where_a_drag_moves_or_resizes_the_selected_box(cv: CanvasDriver) -> None:
    cv.reset(mode="box", boxes=[OUTER, INNER])

    def cursor_at(x: float, y: float) -> str:
        cv.page.mouse.move(*cv.at(x, y))
        return str(cv.canvas.evaluate("(c) => getComputedStyle(c).cursor"))

    assert cursor_at(80, 50) == "crosshair"  # nothing selected: a drag draws
    cv.page.mouse.click(*cv.at(80, 50))  # selects the inner box
    assert cursor_at(80, 50) == "move"
    assert cursor_at(100, 70) == "nwse-resize"  # its bottom right handle
    assert cursor_at(30, 20) == "crosshair"  # in the outer box, not selected
    cv.page.keyboard.press("Escape")
    assert cursor_at(80, 50) == "crosshair"


def test_wheel_zoom_keeps_point_under_cursor_and_coordinates_right(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    s0, _, _ = cv.view()
    x, y = cv.at(100, 50)
    cv.page.mouse.move(x, y)
    cv.page.mouse.wheel(0, -400)
    cv.page.wait_for_function(
        "() => !document.querySelector('.alw-status').innerText.includes('zoom 100%') "
    )
    cv.drag((x, y), (x + 60, y + 30))
    state = cv.settle(1)
    (x0, y0, x1, y1) = state["boxes"][0]["xyxy"]
    assert [x0, y0] == pytest.approx([100, 50], abs=TOL)
    zoomed = 60 / (x1 - x0)
    assert zoomed > 1.5 * s0
    assert 30 / (y1 - y0) == pytest.approx(zoomed, rel=0.05)
    shown = int(re.search(r"zoom (\d+)%", cv.status()).group(1))  # type: ignore[union-attr]
    assert shown == pytest.approx(100 * zoomed, rel=0.05)
    harness.screenshot(cv.page, "zoomed_box", cv.stage)


def test_r_resets_view_after_zoom(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    cv.page.mouse.move(*cv.at(20, 20))
    cv.page.mouse.wheel(0, -400)
    cv.stage.focus()
    cv.page.keyboard.press("r")
    cv.drag(cv.at(30, 20), cv.at(90, 70))
    assert_box(cv.settle(1)["boxes"][0], [30, 20, 90, 70], 1)


def test_space_drag_pans_without_drawing(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    cv.stage.focus()
    cv.page.keyboard.down(" ")
    cv.drag(cv.at(100, 50), cv.at(60, 30))
    cv.page.keyboard.up(" ")
    # The image moved by (-40, -20) image pixels on screen: (100, 50) now shows under (60, 30).
    cv.drag(cv.at(60, 30), cv.at(80, 40))
    state = cv.settle(1)
    assert_box(state["boxes"][0], [100, 50, 120, 60], 1)


def test_brush_stroke_paints_mask_at_the_right_pixels(cv: CanvasDriver) -> None:
    cv.reset(mode="mask", tool="brush", brush_size=10, active_class=2)
    cv.drag(cv.at(40, 50), cv.at(120, 50), steps=20)
    cv.settle(1)
    mask = cv.mask()
    assert set(np.unique(mask)) == {0, 2}
    assert (mask[47:54, 42:119] == 2).all()
    assert (mask[:43] == 0).all()
    assert (mask[58:] == 0).all()
    assert (mask[:, :33] == 0).all()
    assert (mask[:, 127:] == 0).all()
    assert mask.sum() / 2 == pytest.approx(80 * 10 + np.pi * 25, rel=0.1)
    harness.screenshot(cv.page, "brush_stroke", cv.stage)


def test_escape_during_a_stroke_takes_it_back_and_sends_nothing(cv: CanvasDriver) -> None:
    mask = Py("np.pad(np.full((60, 160), 2, np.uint8), ((20, 20), (20, 20)))")
    cv.reset(mode="mask", mask=mask, tool="brush", brush_size=10, active_class=1)
    mouse = cv.page.mouse
    mouse.move(*cv.at(10, 50))
    mouse.down()
    mouse.move(*cv.at(190, 50), steps=20)
    cv.page.keyboard.press("Escape")
    mouse.up()
    cv.drag(cv.at(100, 10), cv.at(100, 90))  # a stroke after it is sent as usual
    cv.settle(1)
    got = cv.mask()
    assert (got[20:80, 20:90] == 2).all()  # the taken-back stroke crossed here
    assert (got[20:80, 98:102] == 1).all()
    harness.screenshot(cv.page, "stroke_taken_back", cv.stage)


def test_eraser_paints_background(cv: CanvasDriver) -> None:
    mask = Py("np.pad(np.ones((60, 160), np.uint8), ((20, 20), (20, 20)))")
    cv.reset(mode="mask", mask=mask, tool="eraser", brush_size=6)
    cv.drag(cv.at(100, 10), cv.at(100, 90))
    cv.settle(1)
    got = cv.mask()
    assert (got[20:80, 98:102] == 0).all()
    assert (got[20:80, 20:90] == 1).all()


def test_polygon_fills_with_active_class(cv: CanvasDriver) -> None:
    cv.reset(mode="mask", tool="polygon", active_class=1)
    for point in [(20, 20), (60, 20), (60, 60), (20, 60), (20, 20)]:
        cv.page.mouse.click(*cv.at(*point))
    cv.settle(1)
    mask = cv.mask()
    assert (mask[21:59, 21:59] == 1).all()
    assert mask[:19].sum() == 0
    assert mask[:, 61:].sum() == 0
    assert mask.sum() == pytest.approx(40 * 40, abs=2 * 4 * 40)
    harness.screenshot(cv.page, "polygon", cv.stage)


def test_polygon_escape_cancels_and_double_click_closes(cv: CanvasDriver) -> None:
    cv.reset(mode="mask", tool="polygon", active_class=2)
    for point in [(120, 20), (180, 20), (180, 80)]:
        cv.page.mouse.click(*cv.at(*point))
    cv.page.keyboard.press("Escape")
    for point in [(120, 20), (180, 20)]:
        cv.page.mouse.click(*cv.at(*point))
    cv.page.mouse.dblclick(*cv.at(180, 80))
    cv.settle(1)
    mask = cv.mask()
    assert mask[30, 170] == 2
    assert mask[70, 130] == 0


def test_polygon_begun_off_the_image_closes_where_it_began(
    cv: CanvasDriver, lab: harness.LabServer, new_page: Any
) -> None:
    """Corners clicked in the margin lie clamped on the image's edge, the first 10 page px from
    where the labeler clicked (past the 8 px that close a polygon): clicking that spot again
    closes the polygon all the same."""
    cv.reset(mode="mask", tool="polygon", active_class=2)
    page = new_page(width=800, scale=2)  # narrow: the image fills the canvas's width
    try:
        harness.open_notebook(page, lab, "canvas.ipynb")
        harness.run_cell(page, 1)
        narrow = CanvasDriver(page, lab)
        narrow.image_id = cv.image_id
        page.wait_for_selector(f'.alw-stage[data-image-loaded="{cv.image_id}"]')
        narrow.canvas.scroll_into_view_if_needed()
        bb = narrow.canvas.bounding_box()
        left, right = bb["x"] + 0.5, bb["x"] + bb["width"] - 0.5
        top, bottom = narrow.at(0, 0)[1] - 10, narrow.at(0, H)[1] + 10  # margin above, below
        assert bb["y"] < top
        assert bottom < bb["y"] + bb["height"]
        for point in [(left, top), (right, top), (right, bottom), (left, bottom), (left, top)]:
            page.mouse.click(*point)
        narrow.settle(1)
        assert (narrow.mask() == 2).all()
        harness.screenshot(page, "polygon_closed_off_the_image", narrow.stage)
    finally:
        page.close()


def test_mask_undo_then_redo_restores(cv: CanvasDriver) -> None:
    cv.reset(mode="mask", tool="brush", brush_size=8, active_class=1)
    cv.drag(cv.at(40, 50), cv.at(120, 50))
    cv.wait(1)
    painted = cv.mask()
    assert painted.sum() > 0
    cv.page.keyboard.press("Control+z")
    cv.wait(2)
    assert cv.mask().sum() == 0
    cv.page.keyboard.press("Control+y")
    cv.settle(3)
    np.testing.assert_array_equal(cv.mask(), painted)


def test_keys_change_tool_and_brush_size_in_python(cv: CanvasDriver) -> None:
    cv.reset(mode="mask", tool="polygon", brush_size=10)
    cv.stage.focus()
    cv.page.keyboard.press("b")
    harness.wait_for_state(cv.state_file, lambda s: s["tool"] == "brush")
    cv.page.keyboard.press("]")
    harness.wait_for_state(cv.state_file, lambda s: s["brush_size"] > 10)
    cv.page.keyboard.press("e")
    harness.wait_for_state(cv.state_file, lambda s: s["tool"] == "eraser")


def test_canvas_keys_stay_in_canvas_and_digits_bubble(cv: CanvasDriver) -> None:
    cv.reset(mode="box", boxes=[{"xyxy": [50, 30, 100, 70], "label": 1}])
    cv.page.mouse.click(*cv.at(60, 40))
    before = harness.notebook_summary(cv.page)
    cv.hear_bubbling()
    for key in ["b", "Delete", "r", "a", "Escape", "1", "Enter", "s", "z"]:
        cv.page.keyboard.press(key)
    assert cv.bubbled() == ["1", "Enter", "s", "z"]
    assert harness.notebook_summary(cv.page) == before
    assert cv.settle(1)["boxes"] == []


def test_hidpi_page_renders_sharp_and_maps_coordinates(
    cv: CanvasDriver, lab: harness.LabServer, new_page: Any
) -> None:
    cv.reset(mode="box", boxes=[{"xyxy": [10, 10, 40, 40], "label": 2}])
    page = new_page(scale=2)
    try:
        harness.open_notebook(page, lab, "canvas.ipynb")
        harness.run_cell(page, 1)
        hi = CanvasDriver(page, lab)
        hi.image_id = cv.image_id
        page.wait_for_selector(f'.alw-stage[data-image-loaded="{cv.image_id}"]')
        hi.canvas.scroll_into_view_if_needed()
        css_w, backing_w = page.evaluate(
            "() => { const c = document.querySelector('.alw-stage canvas');"
            " return [c.getBoundingClientRect().width, c.width]; }"
        )
        assert backing_w == round(2 * css_w)
        hi.drag(hi.at(100, 50), hi.at(150, 90))
        state = hi.settle(1)
        assert state["boxes"][0] == {"xyxy": [10, 10, 40, 40], "label": 2}
        assert_box(state["boxes"][1], [100, 50, 150, 90], 1)
        harness.screenshot(page, "hidpi", hi.stage)
    finally:
        page.close()


def test_displaying_again_keeps_shapes_drawn_before(cv: CanvasDriver) -> None:
    cv.reset(mode="box", tool="brush")
    cv.drag(cv.at(10, 10), cv.at(40, 40))
    cv.wait(1)
    harness.run_cell(cv.page, 1)
    cv.page.wait_for_selector(f'.alw-stage[data-image-loaded="{cv.image_id}"]')
    cv.drag(cv.at(100, 50), cv.at(150, 90))
    state = cv.wait(2)
    assert len(state["boxes"]) == 2
    assert_box(state["boxes"][0], [10, 10, 40, 40], 1)
    cv.stage.focus()
    cv.page.keyboard.press("e")  # in box mode a mask key stays in the canvas and does nothing
    cv.drag(cv.at(160, 10), cv.at(190, 30))
    state = cv.settle(3)
    assert len(state["boxes"]) == 3
    assert state["tool"] == "brush"


def test_load_after_edits_shows_exactly_what_python_loaded(cv: CanvasDriver) -> None:
    cv.reset(mode="box")
    cv.drag(cv.at(10, 10), cv.at(40, 40))
    cv.wait(1)
    cv.reset(mode="box")  # no boxes, as the load before: Python sees no change to send
    assert re.search(r"\b0 boxes\b", cv.status())
    cv.drag(cv.at(100, 50), cv.at(150, 90))
    state = cv.settle(1)
    assert len(state["boxes"]) == 1
    assert_box(state["boxes"][0], [100, 50, 150, 90], 1)


def test_a_key_acts_only_in_the_modes_the_keymap_lists(cv: CanvasDriver) -> None:
    cv.reset(mode="box", tool="polygon")
    cv.stage.focus()
    cv.hear_bubbling()
    cv.page.keyboard.press("b")  # brush: a mask-mode key
    cv.drag(cv.at(30, 20), cv.at(90, 70))  # its message reaches Python after any from "b"
    state = cv.settle(1)
    assert state["tool"] == "polygon"
    assert cv.bubbled() == []


def test_the_canvas_takes_its_keys_from_the_keymap_trait(cv: CanvasDriver) -> None:
    cv.reset(mode="mask", tool="polygon")
    rebind = (
        "from al_widget.widget import keys\n"
        "canvas.keymap = [dict(b, keys=['x']) if b['action'] == 'eraser' else b"
        " for b in keys.canvas_keymap()]"
    )
    harness.kernel_exec(cv.page, rebind)
    try:
        cv.stage.focus()
        for _ in range(50):  # until the new keymap has reached the page
            cv.page.keyboard.press("x")
            state = harness.read_state(cv.state_file)
            if state is not None and state["tool"] == "eraser":
                break
            time.sleep(0.1)
        cv.hear_bubbling()
        cv.page.keyboard.press("e")  # unbound now: it leaves the canvas
        cv.page.keyboard.press("b")
        harness.wait_for_state(cv.state_file, lambda s: s["tool"] == "brush")
        cv.page.keyboard.press("x")
        harness.wait_for_state(cv.state_file, lambda s: s["tool"] == "eraser")
        assert cv.bubbled() == ["e"]
    finally:
        harness.kernel_exec(cv.page, "canvas.keymap = keys.canvas_keymap()")


def test_a_full_canvas_draws_no_box_until_one_is_deleted(cv: CanvasDriver) -> None:
    cv.reset(mode="box", drafts=Py("[{'xyxy': [1, 1, 9, 9], 'label': 2}] * canvas.max_boxes"))
    cv.drag(cv.at(100, 50), cv.at(150, 90))
    cv.settle(0)  # Python would refuse one box more than MAX_BOXES: none is sent
    assert re.search(r"full: at most \d+, delete one to draw", cv.status())
    cv.page.mouse.click(*cv.at(5, 5))
    cv.page.keyboard.press("Delete")
    cv.drag(cv.at(100, 50), cv.at(150, 90))
    state = cv.settle(2)
    assert_box(state["boxes"][0], [100, 50, 150, 90], 1)
