"""The panel's controls in a real JupyterLab and Chromium: the budget, the heuristic picker."""

from __future__ import annotations

import time
from typing import Any

import pytest

from . import harness
from .panel_driver import SETTLE, PanelDriver

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    """The controls notebook (a digits panel with budget=2, one with heuristic="entropy"), run once."""
    page = new_page(height=1100)
    harness.open_notebook_in_workspace(page, lab, "controls.ipynb", "controls")
    for index in range(3):
        harness.run_cell(page, index)
    page.wait_for_selector(".alw-test-picker .alw-stage canvas")
    return page


def label_with(panel: PanelDriver, key: str) -> dict[str, Any]:
    """Press `key` over the image shown, once it has been on screen a while; the kernel's state."""
    shown = panel.info()
    panel.wait_drawn(shown["image_id"])
    time.sleep(0.4)  # longer than any minimum time an image must be on screen
    panel.page.keyboard.press(key)
    return panel.wait(lambda s: str(shown["current"]) in s["labels"])


def test_at_the_budget_a_key_labels_nothing_replaces_no_image_and_says_why(page: Any) -> None:
    panel = PanelDriver(page, "budget", size=(8, 8))
    panel.ready()
    label_with(panel, "3")
    state = label_with(panel, "5")
    assert len(state["labels"]) == 2
    panel.wait(lambda s: s["finished"] != "")
    panel.wait_drawn(state["image_id"])
    time.sleep(0.4)
    page.keyboard.press("7")
    after = panel.wait(lambda s: "budget" in s["error"])
    time.sleep(SETTLE)
    after = panel.info()
    assert len(after["labels"]) == 2
    assert (after["current"], after["image_id"]) == (state["current"], state["image_id"])
    assert "the budget of 2 labels is reached" in panel.error_text()
    assert panel.stage.get_attribute("data-finished") == "true"  # dimmed, the reason over it
    harness.screenshot(page, "panel_budget_reached", panel.root)

    panel.root.get_by_role("button", name="Continue past the budget").click()
    panel.focus()
    state = label_with(panel, "7")
    assert len(state["labels"]) == 3
    assert panel.stage.get_attribute("data-finished") != "true"


def test_registering_a_heuristic_leaves_the_picker_and_the_loop_on_theirs(page: Any) -> None:
    panel = PanelDriver(page, "picker", size=(8, 8))
    panel.ready()
    select = panel.root.locator("select").first
    assert select.evaluate("(s) => s.options[s.selectedIndex].text") == "entropy"
    harness.kernel_exec(
        page,
        "alw.heuristics.register('aaa_first')(lambda p: p.mean(axis=2)[:, 0]);picked.loop.wait(10)",
    )
    page.wait_for_function(
        "(s) => [...s.options].some((o) => o.text === 'aaa_first')", arg=select.element_handle()
    )
    time.sleep(SETTLE)  # what the browser would send back has reached the kernel
    said = harness.kernel_exec(
        page, "print(picked.loop.heuristic, [r.heuristic for r in picked.loop.history])"
    )
    assert said.strip() == "entropy []"
    assert select.evaluate("(s) => s.options[s.selectedIndex].text") == "entropy"
    harness.kernel_exec(page, "alw.heuristics.unregister('aaa_first')")
