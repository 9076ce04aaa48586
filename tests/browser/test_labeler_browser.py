"""The labeler's panel as a new user meets it: no drawing lost, keys by focus, fits the screen.

notebooks/labeler.ipynb holds one panel per case, each with an instant learner: ``boxes``
(detection), ``paint`` (segmentation whose first class is not a background), ``last`` (one image),
``curve`` (two rounds trained), ``keyed`` (classification) and ``photo`` (two real photos).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from . import harness
from .panel_driver import TOL, PanelDriver

pytestmark = pytest.mark.browser

DOCS = harness.REPO / "docs"
PHOTO = W, H = 640, 427  # scikit-learn's sample images


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    """The labeler notebook at 1280 x 800 with the file browser open, run once for this module."""
    page = new_page(width=1280, height=800)
    harness.open_notebook_in_workspace(page, lab, "labeler.ipynb", "labeler")
    for index in range(7):
        harness.run_cell(page, index, timeout=120)
    page.wait_for_selector(".alw-test-photo .alw-stage canvas")
    return page


def box_at(state: dict[str, Any], xyxy: list[float]) -> bool:
    return any(np.allclose(b["xyxy"], xyxy, atol=TOL) for b in state["boxes"])


# -- 1. unsaved work ---------------------------------------------------------------------------


def test_a_box_drawn_then_skipped_comes_back_with_z(page: Any) -> None:
    panel = PanelDriver(page, "boxes")
    shown = panel.ready()
    i = shown["current"]
    panel.drag((20, 15), (70, 55))
    panel.wait(lambda s: len(s["boxes"]) == len(shown["boxes"]) + 1)
    page.keyboard.press("s")
    panel.wait(lambda s: s["current"] != i)
    page.keyboard.press("z")
    state = panel.wait(lambda s: s["current"] == i)
    assert box_at(state, [20, 15, 70, 55])
    assert f"{len(state['boxes'])} unsaved box" in state["notice"]
    assert "restored" in state["notice"]
    panel.wait_drawn(state["image_id"])
    n = len(state["boxes"])
    assert f"· {n} {'box' if n == 1 else 'boxes'} ·" in panel.status()


def test_a_box_drawn_survives_opening_another_image_and_coming_back(page: Any) -> None:
    panel = PanelDriver(page, "boxes")
    shown = panel.ready()
    i = shown["current"]
    page.keyboard.press("3")  # class "dog"
    panel.drag((10, 10), (40, 30))
    left = panel.wait(lambda s: len(s["boxes"]) == len(shown["boxes"]) + 1)["boxes"]
    other = shown["queue"][0]
    panel.root.locator(".alw-queue img").nth(0).click()
    state = panel.wait(lambda s: s["current"] == other)
    panel.wait_drawn(state["image_id"])
    slot = panel.wait(lambda s: i in s["queue"])["queue"].index(i)
    panel.root.locator(".alw-queue img").nth(slot).click()
    state = panel.wait(lambda s: s["current"] == i)
    assert state["boxes"] == left
    assert left[-1] == {"xyxy": pytest.approx([10, 10, 40, 30], abs=TOL), "label": 2}
    assert state["picked"] == 2
    assert "restored" in state["notice"]


# -- 2. undo and redo of submits ---------------------------------------------------------------


def test_an_undone_submit_comes_back_as_boxes_to_edit_and_shift_z_redoes_it(page: Any) -> None:
    panel = PanelDriver(page, "boxes")
    first = panel.ready()
    page.keyboard.press("2")
    panel.drag((80, 5), (115, 35))  # clear of the boxes left by the tests above
    panel.wait(lambda s: len(s["boxes"]) == len(first["boxes"]) + 1)
    page.keyboard.press("Enter")
    # The kernel answers `info` beside widget messages: wait until the next image is shown.
    second = panel.wait(
        lambda s: (
            str(first["current"]) in s["labels"] and s["current"] not in (None, first["current"])
        )
    )
    panel.wait_drawn(second["image_id"])
    panel.drag((30, 30), (90, 70))
    panel.wait(lambda s: len(s["boxes"]) == len(second["boxes"]) + 1)
    page.keyboard.press("Enter")
    stored = panel.wait(lambda s: str(second["current"]) in s["labels"])["labels"]

    page.keyboard.press("z")
    page.keyboard.press("z")
    state = panel.wait(
        lambda s: (
            s["current"] == first["current"]
            and not s["labels"].keys() & {str(first["current"]), str(second["current"])}
            and "undid the submit" in s["notice"]
        )
    )
    # The undone submit is back as boxes to edit, in their classes.
    undone = stored[str(first["current"])]
    assert [b["xyxy"] for b in state["boxes"]] == undone["xyxy"]
    assert [b["label"] for b in state["boxes"]] == undone["labels"]
    assert box_at(state, [80, 5, 115, 35])
    assert "undid the submit" in state["notice"]

    page.keyboard.press("Shift+Z")
    page.keyboard.press("Shift+Z")
    state = panel.wait(
        lambda s: (
            {str(first["current"]), str(second["current"])} <= s["labels"].keys()
            and s["current"] not in (first["current"], second["current"])
        )
    )
    for i in (first["current"], second["current"]):
        assert state["labels"][str(i)] == stored[str(i)]
    assert state["current"] not in (first["current"], second["current"])
    assert state["error"] == ""


# -- 3. the learning curve ---------------------------------------------------------------------


def test_the_learning_curve_fits_its_column_at_1280_by_800(page: Any) -> None:
    panel = PanelDriver(page, "curve")
    panel.ready()
    svg = panel.root.locator(".alw-right svg")
    column = panel.root.locator(".alw-right").bounding_box()
    chart = svg.bounding_box()
    assert chart["x"] >= column["x"] - 1
    assert chart["x"] + chart["width"] <= column["x"] + column["width"] + 1
    assert chart["height"] > 100  # scaled, not squashed
    ticks = svg.locator("text[text-anchor=middle]").all_text_contents()
    assert all("." not in t for t in ticks)  # label counts: whole numbers


# -- 6. nothing left to label ------------------------------------------------------------------


def test_after_the_last_image_the_canvas_is_finished_and_the_panel_says_what_next(
    page: Any,
) -> None:
    panel = PanelDriver(page, "last")
    shown = panel.ready()
    panel.drag((20, 15), (70, 55))
    panel.wait(lambda s: len(s["boxes"]) == 1)
    page.keyboard.press("Enter")
    state = panel.wait(lambda s: s["current"] is None)
    assert str(shown["current"]) in state["labels"]
    panel.root.locator('.alw-stage[data-finished="true"]').wait_for()
    assert "Nothing left to label" in state["header"]
    assert "raise the budget" in state["header"]
    assert "loop.history" in state["header"]
    assert "Nothing left to label" in panel.status()
    received = state["boxes_received"]

    panel.drag((80, 20), (110, 60))  # draws nothing
    page.keyboard.press("Enter")  # after the drag: its message, if any, came first
    state = panel.wait(lambda s: "nothing to submit" in s["error"])
    assert state["boxes_received"] == received
    assert state["rejected"] == []
    harness.screenshot(page, "panel_finished", panel.root)


# -- 7. segmentation paints what it says -------------------------------------------------------


def test_segmentation_offers_no_background_class_and_paints_the_first_one_offered(
    page: Any, lab: harness.LabServer
) -> None:
    panel = PanelDriver(page, "paint")
    shown = panel.ready()
    offered = panel.root.locator(".alw-picker button").all_inner_texts()
    assert [t.strip() for t in offered] == ["flower"]
    assert "class flower" in panel.status()
    assert "building" not in panel.status()
    panel.drag((20, 40), (80, 40), steps=25)
    panel.wait(lambda s: s["masks_received"] == 1)
    page.keyboard.press("Enter")
    i = shown["current"]
    panel.wait(lambda s: str(i) in s["labels"])
    harness.kernel_exec(page, f"save_mask('paint', {i})")
    mask = np.load(lab.state_dir / "paint.npy")
    assert set(np.unique(mask)) == {0, 1}
    assert (mask[38:43, 22:79] == 1).all()


# -- 9. the keyboard goes by focus -------------------------------------------------------------


def test_keys_go_to_the_clicked_panel_wherever_the_pointer_is(page: Any) -> None:
    panel = PanelDriver(page, "keyed")
    shown = panel.ready()
    page.mouse.move(5, 5)  # far from the panel
    page.keyboard.press("3")
    state = panel.wait(lambda s: str(shown["current"]) in s["labels"])
    assert state["labels"][str(shown["current"])] == "3"  # the class named "3"
    ring = panel.root.evaluate("(el) => getComputedStyle(el).boxShadow")
    assert ring != "none"


def test_a_focused_dropdown_keeps_no_label_key(page: Any) -> None:
    panel = PanelDriver(page, "keyed")
    shown = panel.ready()
    panel.root.locator("select").first.focus()
    page.keyboard.press("r")  # would pick "random" in a plain dropdown
    page.keyboard.press("4")
    state = panel.wait(lambda s: str(shown["current"]) in s["labels"])
    assert state["labels"][str(shown["current"])] == "4"
    assert state["heuristic"] == shown["heuristic"]


def test_keys_leave_the_panel_with_the_focus(page: Any) -> None:
    panel = PanelDriver(page, "keyed")
    panel.ready()
    page.locator(".jp-DirListing-content").click(position={"x": 100, "y": 300})
    page.wait_for_function(
        "() => !document.querySelector('.alw-test-keyed').matches(':focus-within')"
    )
    heard = len(panel.info()["keys"])
    page.keyboard.press("5")
    panel.focus()
    page.keyboard.press("s")
    state = panel.wait(lambda s: len(s["keys"]) > heard)
    assert state["keys"][heard:] == ["s"]


# -- 10. the layout ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["boxes", "paint", "curve"])
def test_the_panel_fits_1280_by_800_with_no_control_cut_off(page: Any, name: str) -> None:
    panel = PanelDriver(page, name)
    panel.ready()
    area = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").bounding_box()
    box = panel.root.bounding_box()
    assert box["height"] <= area["height"], f"panel {box['height']} px in {area['height']} px"
    assert panel.cut_off() == []


@pytest.mark.parametrize("name", ["boxes", "paint", "curve"])
def test_the_panel_at_900_px_cuts_off_no_control(page: Any, name: str) -> None:
    page.set_viewport_size({"width": 900, "height": 800})
    try:
        panel = PanelDriver(page, name)
        panel.ready()
        page.wait_for_function(  # the page has laid out at the new width
            "(sel) => document.querySelector(sel).getBoundingClientRect().right <= 900",
            arg=f".alw-test-{name}",
        )
        assert panel.cut_off() == []
        harness.screenshot(page, f"panel_900_{name}", panel.root)
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})


# -- 11. colours -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["boxes", "paint", "keyed"])
def test_class_buttons_carry_their_drawing_colour_and_the_active_one_shows(
    page: Any, name: str
) -> None:
    panel = PanelDriver(page, name)
    state = panel.ready()
    buttons = panel.root.locator(".alw-picker button")
    for k in range(buttons.count()):
        button = buttons.nth(k)
        value = state["classes"].index(button.get_attribute("data-value"))
        edge = button.evaluate("(b) => getComputedStyle(b).borderLeftColor")
        assert edge == css_rgb(state["colors"][value])
    if name != "keyed":  # drawing tasks: a class is active from the start
        active = panel.root.locator(".alw-picker button.mod-active")
        assert state["classes"].index(active.get_attribute("data-value")) == state["active_class"]
        fill = active.evaluate("(b) => getComputedStyle(b).backgroundColor")
        assert fill == css_rgb(state["colors"][state["active_class"]])


def css_rgb(color: str) -> str:
    r, g, b = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


# -- 14. text ----------------------------------------------------------------------------------


def test_classification_status_shows_no_zoom_or_undo(page: Any) -> None:
    panel = PanelDriver(page, "keyed")
    panel.ready()
    status = panel.status()
    assert "zoom" not in status
    assert "undo" not in status


# -- the README's screenshot -------------------------------------------------------------------


def test_the_readme_screenshot_shows_boxes_on_a_real_photo(page: Any) -> None:
    panel = PanelDriver(page, "photo", PHOTO)
    shown = panel.ready()
    assert shown["current"] == 0  # china.jpg
    for key, a, b in [
        ("1", (62, 28), (372, 420)),
        ("2", (538, 140), (638, 420)),
        ("3", (425, 220), (502, 247)),
    ]:
        page.keyboard.press(key)
        panel.drag(a, b)
    state = panel.wait(lambda s: len(s["boxes"]) == 3)
    assert [b["label"] for b in state["boxes"]] == [0, 1, 2]
    page.mouse.click(*panel.at(250, 10))  # deselect: click the sky... that draws nothing
    page.keyboard.press("Escape")
    page.mouse.move(5, 5)
    DOCS.mkdir(exist_ok=True)
    path = Path(DOCS / "panel.png")
    panel.root.screenshot(path=str(path))
    assert path.stat().st_size > 50_000
