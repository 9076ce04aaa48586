"""The panel's export control in a real JupyterLab and Chromium: the COCO file it writes loads back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from . import harness

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    """The export notebook, opened and run once for this module."""
    page = new_page(height=1100)
    harness.open_notebook_in_workspace(page, lab, "export.ipynb", "export")
    for index in range(2):
        harness.run_cell(page, index)
    page.wait_for_selector(".alw-test-export .alw-stage canvas")
    return page


def open_export(page: Any) -> Any:
    """The export control inside the panel, its fold opened if it is closed."""
    control = page.locator(".alw-test-export.alw-panel .alw-export")
    control.wait_for(state="attached")
    if not control.is_visible():  # in a closed fold: click that fold's header
        folds = page.locator(".alw-test-export .jupyter-widget-Collapse")
        fold = folds.filter(has=page.locator(".alw-export")).last
        fold.locator(":scope > .jupyter-widget-Collapse-header").click()
        control.wait_for(state="visible")
    control.scroll_into_view_if_needed()
    return control


def test_the_coco_file_the_panel_exports_loads_back_in_the_kernel(
    page: Any, lab: harness.LabServer
) -> None:
    control = open_export(page)
    path = lab.state_dir / "export" / "coco.json"
    control.locator(".alw-export-format select").select_option("COCO")
    control.locator(".alw-export-path input").fill(str(path))
    control.locator(".alw-export-button").click()
    result = control.locator(".alw-export-result")
    result.get_by_text("wrote").wait_for(timeout=20_000)
    assert result.inner_text().strip().startswith(f"wrote {path}: 3 images, ")
    harness.screenshot(page, "export_written", page.locator(".alw-test-export"))
    loaded = json.loads(
        harness.kernel_exec(page, f"check_export({str(path)!r}, {str(path.parent)!r})")
    )
    assert loaded["classes"] == ["circle", "square", "triangle"]
    assert loaded["exported"] == loaded["held"]
    assert len(loaded["exported"]) == 3
