"""JupyterLab's page-wide shortcuts over a panel, in a real JupyterLab and Chromium.

While the panel (or its canvas) has the keyboard, a chord with Ctrl or Alt that neither uses
reaches JupyterLab's shortcuts for the whole page: Ctrl+S saves the notebook. Those that act on
the notebook's cells (Ctrl+Enter runs the panel's cell) stay quiet, and the panel's and the
canvas's own keys keep working.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from . import harness
from .panel_driver import PanelDriver

pytestmark = pytest.mark.browser

NOTEBOOK = "shortcuts.ipynb"
SIZE = (120, 80)  # the images of notebooks/shortcuts.ipynb


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    """The shortcuts notebook, opened and run once for this module."""
    page = new_page(height=1100)
    harness.open_notebook_in_workspace(page, lab, NOTEBOOK, "shortcuts")
    for index in range(2):
        harness.run_cell(page, index)
    page.wait_for_selector(".alw-test-detect .alw-stage canvas")
    return page


def make_dirty(page: Any) -> None:
    """Mark the notebook as changed since its last save, as an edit would."""
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.context.model.dirty = true; }")
    assert is_dirty(page)


def is_dirty(page: Any) -> bool:
    return bool(page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty"))


def wait_saved(page: Any, lab: harness.LabServer, since: float) -> None:
    """Wait until the notebook is saved: not dirty, its file written after ``since``."""
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=10_000
    )
    assert (lab.root / NOTEBOOK).stat().st_mtime > since


def test_ctrl_s_with_the_panel_focused_saves_the_notebook(
    page: Any, lab: harness.LabServer
) -> None:
    panel = PanelDriver(page, "detect", SIZE)
    panel.ready()  # the panel's header clicked: the panel has the keyboard
    make_dirty(page)
    since = time.time() - 0.01
    time.sleep(0.05)
    page.keyboard.press("Control+s")
    wait_saved(page, lab, since)
    assert panel.has_focus()


def test_ctrl_s_with_the_canvas_focused_saves_and_the_canvas_keys_still_work(
    page: Any, lab: harness.LabServer
) -> None:
    panel = PanelDriver(page, "detect", SIZE)
    shown = panel.ready()
    panel.drag((20, 15), (70, 55))  # the canvas now has the keyboard
    panel.wait(lambda s: len(s["boxes"]) == len(shown["boxes"]) + 1)
    make_dirty(page)
    since = time.time() - 0.01
    time.sleep(0.05)
    page.keyboard.press("Control+s")
    wait_saved(page, lab, since)
    page.keyboard.press("Control+z")  # the canvas's undo: the box goes
    panel.wait(lambda s: s["boxes"] == shown["boxes"])
    page.keyboard.press("Control+y")  # and its redo
    panel.wait(lambda s: len(s["boxes"]) == len(shown["boxes"]) + 1)


def test_chords_that_act_on_notebook_cells_stay_quiet_over_the_panel(page: Any) -> None:
    panel = PanelDriver(page, "detect", SIZE)
    panel.ready()
    before = harness.notebook_summary(page)
    executions = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".map((w) => w.model.executionCount)"
    )
    for chord in ["Control+Enter", "Alt+Enter", "Control+a", "Shift+Enter"]:
        page.keyboard.press(chord)
    panel.canvas.click(position={"x": 3, "y": 3})
    for chord in ["Control+Enter", "Alt+Enter", "Control+a", "Shift+Enter"]:
        page.keyboard.press(chord)
    time.sleep(0.5)  # a cell run or inserted would show by now
    assert harness.notebook_summary(page) == before
    assert (
        page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.widgets"
            ".map((w) => w.model.executionCount)"
        )
        == executions
    )
