"""The budget in a real JupyterLab and Chromium: at the budget a key labels nothing and says why."""

from __future__ import annotations

import time
from typing import Any

import pytest

from . import harness
from .panel_driver import SETTLE, PanelDriver

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    """The budget notebook (a digits panel with budget=2), opened and run once."""
    page = new_page(height=1100)
    harness.open_notebook_in_workspace(page, lab, "budget.ipynb", "budget")
    for index in range(2):
        harness.run_cell(page, index)
    page.wait_for_selector(".alw-test-budget .alw-stage canvas")
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
