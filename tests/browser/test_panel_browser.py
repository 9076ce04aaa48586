"""The labeling panel in a real JupyterLab and Chromium: real mouse and keys, state read in the kernel."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from . import harness
from .panel_driver import SCENE_H, SCENE_W, SETTLE, TOL, PanelDriver

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    """The panel notebook, opened and run once for this module."""
    page = new_page(height=1100)
    harness.open_notebook_in_workspace(page, lab, "panel.ipynb", "panel")
    for index in range(8):
        harness.run_cell(page, index)
    page.wait_for_selector(".alw-test-broken .alw-stage canvas")
    return page


def test_digit_key_labels_the_shown_image_and_loads_another(page: Any) -> None:
    panel = PanelDriver(page, "classify")
    shown = panel.ready()
    page.keyboard.press("7")
    # The kernel answers info() beside widget messages: wait for the next image too.
    state = panel.wait(
        lambda s: (
            str(shown["current"]) in s["labels"] and s["current"] not in (None, shown["current"])
        )
    )
    assert state["labels"][str(shown["current"])] == "7"
    assert state["current"] not in (None, shown["current"])
    assert state["image_id"] > shown["image_id"]
    panel.wait_drawn(state["image_id"])
    assert panel.error_text() == ""
    harness.screenshot(page, "panel_classify_after_digit", panel.root)


def test_z_undoes_the_last_submit_and_shows_that_image_again(page: Any) -> None:
    panel = PanelDriver(page, "classify")
    shown = panel.ready()
    page.keyboard.press("4")
    panel.wait(lambda s: str(shown["current"]) in s["labels"])
    page.keyboard.press("z")
    state = panel.wait(lambda s: s["current"] == shown["current"])
    assert str(shown["current"]) not in state["labels"]
    panel.wait_drawn(state["image_id"])
    assert state["image_id"] > shown["image_id"]


def test_clicking_a_thumbnail_opens_that_image(page: Any) -> None:
    panel = PanelDriver(page, "classify")
    shown = panel.ready()
    third = panel.root.locator(".alw-queue img").nth(2)
    index = shown["queue"][2]
    assert panel.captions()[2].startswith(f"#{index}\n")
    third.click()
    state = panel.wait(lambda s: s["current"] == index)
    panel.wait_drawn(state["image_id"])
    assert state["labels"].get(str(index)) is None


def test_box_drawn_then_enter_stores_it_in_image_pixels(page: Any) -> None:
    panel = PanelDriver(page, "detect")
    shown = panel.ready()
    page.keyboard.press("2")  # class "cat"
    panel.drag((20, 15), (70, 55))
    harness.screenshot(page, "panel_detect_box_drawn", panel.root)
    page.keyboard.press("Enter")
    state = panel.wait(lambda s: str(shown["current"]) in s["labels"])
    stored = state["labels"][str(shown["current"])]
    assert stored["labels"] == [1]
    assert stored["xyxy"][0] == pytest.approx([20, 15, 70, 55], abs=TOL)
    assert state["current"] != shown["current"]


def test_brush_stroke_submitted_is_stored_as_the_mask(page: Any, lab: harness.LabServer) -> None:
    panel = PanelDriver(page, "segment")
    shown = panel.ready()
    page.keyboard.press("2")  # class "dog": digits count the paint classes, from class 1
    panel.drag((20, 40), (80, 40), steps=25)
    harness.screenshot(page, "panel_segment_stroke", panel.root)
    panel.root.locator("button[title=Submit]").click()
    i = shown["current"]
    panel.wait(lambda s: s["labels"].get(str(i)) == "mask")
    harness.kernel_exec(page, f"save_mask('segment', {i})")
    mask = np.load(lab.state_dir / "segment.npy")
    assert mask.shape == (SCENE_H, SCENE_W)
    assert set(np.unique(mask)) == {0, 2}
    assert (mask[38:43, 22:79] == 2).all()
    assert (mask[:34] == 0).all()
    assert (mask[47:] == 0).all()
    assert (mask[:, :14] == 0).all()
    assert (mask[:, 86:] == 0).all()


def test_submit_while_a_round_trains_is_kept_and_the_queue_refreshes_after(page: Any) -> None:
    panel = PanelDriver(page, "train")
    harness.kernel_exec(page, "TRAIN.gate.clear()")
    try:
        first = panel.ready()
        page.keyboard.press("1")  # query_size=1: this commit starts a round, held in fit()
        panel.wait(lambda s: s["state"] == "training")
        during = panel.wait(lambda s: s["current"] != first["current"])
        panel.wait_drawn(during["image_id"])
        time.sleep(0.2)  # the image has been on screen past the dwell (150 ms): it takes keys
        page.keyboard.press("2")
        state = panel.wait(lambda s: str(during["current"]) in s["labels"])
        assert state["labels"][str(during["current"])] == "2"
        assert state["state"] == "training"
        assert state["model_version"] == 0
        labeling = state["current"]
        assert labeling != during["current"]
        assert all(c.endswith("v0") for c in panel.captions())
        harness.screenshot(page, "panel_training", panel.root)
    finally:
        harness.kernel_exec(page, "TRAIN.gate.set()")
    harness.kernel_exec(page, "assert train.loop.wait(20)")
    after = panel.info()
    version = after["model_version"]
    assert version >= 1
    page.wait_for_function(
        """([sel, v]) => {
            const caps = [...document.querySelectorAll(sel + ' .alw-queue .alw-caption')]
                .map((e) => e.innerText.trim()).filter((t) => t);
            return caps.length > 0 && caps.every((t) => t.endsWith(' · v' + v));
        }""",
        arg=[".alw-test-train", version],
    )
    assert after["current"] == labeling
    assert after["image_id"] == state["image_id"]
    panel.root.get_by_text(f"model v{version} · idle").wait_for()
    harness.screenshot(page, "panel_after_round", panel.root)


def test_image_that_fails_to_decode_shows_an_error_and_the_next_loads(page: Any) -> None:
    panel = PanelDriver(page, "broken")
    bad = int(harness.kernel_exec(page, "print(BAD)"))
    state = panel.ready()
    assert str(bad) in state["broken"]
    assert state["current"] not in (None, bad)
    panel.wait_drawn(state["image_id"])
    shown = panel.error_text()
    assert f"image {bad}" in shown
    assert "could not be decoded" in shown
    assert "next image loaded" in shown
    harness.screenshot(page, "panel_broken_image", panel.root)


def test_keys_over_the_panel_reach_it_and_leave_the_notebook_alone(page: Any) -> None:
    panel = PanelDriver(page, "keys")
    panel.ready()
    heard = len(panel.info()["keys"])
    before = harness.notebook_summary(page)
    pressed = ["1", "Enter", "s", "z", "5"]
    for key in pressed:
        page.keyboard.press(key)
    panel.root.locator("button[title=Skip]").focus()
    for key in pressed:
        page.keyboard.press(key)
    state = panel.wait(lambda s: len(s["keys"]) >= heard + 2 * len(pressed))
    assert state["keys"][heard:] == pressed * 2
    assert harness.notebook_summary(page) == before


def test_keys_on_a_focused_panel_button_leave_the_notebook_alone(page: Any) -> None:
    panel = PanelDriver(page, "keys")
    panel.ready()
    panel.root.locator("button[title=Skip]").focus()
    page.mouse.move(5, 5)  # away from the panel: JupyterLab's shortcuts would hear the keys
    before = harness.notebook_summary(page)
    for key in ["1", "2", "m", "y", "a", "b", "d", "x"]:
        page.keyboard.press(key)
    time.sleep(0.3)
    assert harness.notebook_summary(page) == before


def test_enter_on_the_focused_submit_button_submits_exactly_once(page: Any) -> None:
    panel = PanelDriver(page, "keys")
    shown = panel.ready()
    before = len(shown["labels"])
    panel.root.locator(".widget-toggle-buttons button", has_text="6").click()
    panel.root.locator("button[title=Submit]").focus()
    page.keyboard.press("Enter")
    state = panel.wait(lambda s: len(s["labels"]) > before)
    time.sleep(SETTLE)  # a second submit, if any, would land by now
    state = panel.info()
    assert state["labels"] == {**shown["labels"], str(shown["current"]): "6"}
    assert state["error"] == ""
    assert panel.error_text() == ""


def test_thirty_digits_pressed_300_ms_apart_are_all_stored_in_order(page: Any) -> None:
    # 300 ms a label: a fast human; a key sooner than the dwell (150 ms) after its image was
    # painted is dropped (tests/browser/test_keys_browser.py).
    panel = PanelDriver(page, "fast")
    panel.ready()
    pressed = list("1234567890" * 3)
    for key in pressed:
        page.keyboard.press(key)
        page.wait_for_timeout(300)
    panel.wait(lambda s: len(s["labels"]) >= len(pressed))
    time.sleep(SETTLE)  # a key taken twice would land by now
    stored = harness.kernel_exec(
        page,
        "ds = fast.dataset; print(''.join(ds.annotation(int(i)).cls "
        "for i in sorted(ds.labeled, key=ds.labeled_at)))",
    )
    assert stored.strip() == "".join(pressed)


def test_a_double_click_on_submit_stores_one_label_and_leaves_the_next_image_alone(
    page: Any,
) -> None:
    panel = PanelDriver(page, "fast")
    shown = panel.ready()
    panel.root.locator(".widget-toggle-buttons button", has_text="3").first.click()
    panel.root.locator("button[title=Submit]").dblclick()
    state = panel.wait(lambda s: str(shown["current"]) in s["labels"])
    time.sleep(SETTLE)  # the second click, if it were taken, would land by now
    state = panel.info()
    assert len(state["labels"]) == len(shown["labels"]) + 1
    assert state["labels"][str(shown["current"])] == "3"
    assert str(state["current"]) not in state["labels"]


def test_labeling_leaves_no_closed_widget_for_the_page_to_talk_to(
    page: Any, lab: harness.LabServer
) -> None:
    panel = PanelDriver(page, "fast")
    panel.ready()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    logged = lab.log.read_text(errors="replace").count("No such comm")
    start = len(panel.info()["labels"])
    for key in "12345678901234567890":
        page.keyboard.press(key)
        page.wait_for_timeout(300)  # past the dwell
    panel.wait(lambda s: len(s["labels"]) >= start + 20)
    time.sleep(1.0)  # late messages to a closed comm would land by now
    assert lab.log.read_text(errors="replace").count("No such comm") == logged
    assert not [m for m in messages if "No such comm" in m or "not found" in m.lower()]


def test_a_digit_key_paints_the_next_image_before_the_kernel_answers(page: Any) -> None:
    panel = PanelDriver(page, "fast")
    shown = panel.ready()
    ahead = harness.kernel_exec(page, "print(fast.canvas.ahead_key)").strip()
    page.evaluate(
        """(sel) => {
            const stage = document.querySelector(sel + ' .alw-stage');
            window.__marks = [];
            new MutationObserver(() => window.__marks.push(stage.dataset.imageLoaded))
                .observe(stage, {attributes: true, attributeFilter: ['data-image-loaded']});
        }""",
        ".alw-test-fast",
    )
    page.keyboard.press("4")
    state = panel.wait(lambda s: s["image_id"] > shown["image_id"])
    panel.wait_drawn(state["image_id"])
    marks = [m for m in page.evaluate("window.__marks") if m]
    assert marks[0] == f"early-{ahead}"  # painted from what was sent ahead, Python not asked
    assert marks[-1] == str(state["image_id"])  # then Python's own load of that image
    assert state["current"] == int(ahead)
    assert state["labels"][str(shown["current"])] == "4"
