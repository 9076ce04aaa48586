"""heuristic="auto" in a real JupyterLab and Chromium: picked in the panel, its weights shown live."""

from __future__ import annotations

import time
from typing import Any

import pytest

from . import harness
from .panel_driver import PanelDriver

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    """The auto notebook (a digits panel on margin, 3 labels a round), run once."""
    page = new_page(height=1100)
    harness.open_notebook_in_workspace(page, lab, "auto.ipynb", "auto")
    for index in range(2):
        harness.run_cell(page, index)
    page.wait_for_selector(".alw-test-auto .alw-stage canvas")
    return page


def label_with(panel: PanelDriver, key: str) -> dict[str, Any]:
    """Press `key` over the image shown, once it has been on screen a while; the kernel's state."""
    shown = panel.info()
    panel.wait_drawn(shown["image_id"])
    time.sleep(0.4)
    panel.page.keyboard.press(key)
    return panel.wait(lambda s: str(shown["current"]) in s["labels"])


def test_auto_picked_in_the_panel_shows_each_heuristics_weight_live(page: Any) -> None:
    panel = PanelDriver(page, "auto", size=(8, 8))
    panel.ready()
    select = panel.root.locator("select").first
    select.select_option("auto")
    panel.wait(lambda s: s["heuristic"] == "auto")
    panel.focus()
    for n in range(9):
        label_with(panel, str(n % 10))
    state = panel.wait(lambda s: s["bandit"] is not None and s["rounds"] >= 3, timeout=60)
    chart = panel.root.locator("svg", has_text="weight in auto")
    chart.wait_for(state="visible")
    for arm in ("random", "margin", "entropy"):
        assert arm in (chart.text_content() or "")
    assert "gain per label" in panel.root.locator(".alw-auto-gain").inner_text()
    assert set(state["bandit"]) == {"random", "margin", "entropy"}
    assert any(" · " in c.split("\n")[0] for c in panel.captions())  # "#12 · margin"
    harness.screenshot(page, "panel_auto_weights", panel.root)
