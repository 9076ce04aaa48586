"""The panel in Notebook 7 (not JupyterLab): it renders, and a digit key labels the shown image."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from . import harness
from .panel_driver import PanelDriver

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def notebook7() -> Iterator[harness.LabServer]:
    """A Notebook 7 server serving a copy of tests/browser/notebooks/."""
    server = harness.start_lab(app="notebook")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page(notebook7: harness.LabServer, new_page: Any) -> Any:
    """panel.ipynb opened in Notebook 7, with its setup and classify cells run."""
    page = new_page(height=1100)
    page.goto(f"{notebook7.url}/notebooks/panel.ipynb?token={notebook7.token}")
    harness.wait_for_kernel(page)
    harness.run_cell(page, 0)
    harness.run_cell(page, 1)
    page.wait_for_selector(".alw-test-classify .alw-stage canvas")
    return page


def test_the_panel_renders_in_notebook_7(page: Any) -> None:
    panel = PanelDriver(page, "classify")
    state = panel.ready()
    assert panel.canvas.bounding_box()["width"] > 200
    assert len(panel.root.locator(".alw-queue img").all()) == 8
    assert state["current"] is not None
    harness.screenshot(page, "notebook7_panel", panel.root)


def test_a_digit_key_labels_the_shown_image_in_notebook_7(page: Any) -> None:
    panel = PanelDriver(page, "classify")
    shown = panel.ready()
    page.keyboard.press("3")
    state = panel.wait(lambda s: str(shown["current"]) in s["labels"])
    assert state["labels"][str(shown["current"])] == "3"
    assert state["current"] != shown["current"]
