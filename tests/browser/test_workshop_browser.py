"""Workshop notebook 5 in JupyterLab: a student labels the toy with a key, and the boundary
picture beside the panel is redrawn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from . import harness

pytestmark = pytest.mark.browser

NOTEBOOK = "05_label_it_yourself.ipynb"
STATE = (
    "import json, hashlib; print(json.dumps({'current': panel.current, "
    "'image_id': panel.canvas.image_id, 'labeled': len(dataset.labeled), "
    "'dropped': panel.canvas.dropped_keys, "
    "'answer': None if panel.current is None else int(toy.labels[panel.current]), "
    "'picture': hashlib.md5(bytes(picture.value)).hexdigest()}))"
)


@pytest.fixture(scope="module")
def workshop_lab() -> Iterator[harness.LabServer]:
    """JupyterLab serving a copy of notebooks/workshop/."""
    server = harness.start_lab(notebooks=harness.REPO / "notebooks" / "workshop")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page(workshop_lab: harness.LabServer, new_page: Any) -> Any:
    """Notebook 5 opened, its set-up cell run: the panel and the boundary picture showing."""
    page = new_page(height=1100)
    harness.open_notebook(page, workshop_lab, NOTEBOOK)
    harness.run_cell(page, 1, timeout=120)
    page.wait_for_selector(".alw-stage canvas")
    return page


def _state(page: Any) -> dict[str, Any]:
    return dict(json.loads(harness.kernel_exec(page, STATE)))


def test_a_student_s_key_labels_the_toy_and_the_boundary_beside_the_panel_is_redrawn(page):
    before = _state(page)
    assert before["labeled"] == 4
    page.locator(f'.alw-stage[data-image-loaded="{before["image_id"]}"]').wait_for()
    picture = page.locator(".widget-image").first
    src_before = picture.get_attribute("src")
    header = page.locator(".alw-left .alw-info").first
    header.click(position={"x": 4, "y": 4})
    page.wait_for_timeout(300)  # the image on screen past the panel's dwell (150 ms): it takes keys
    page.keyboard.press(str(before["answer"] + 1))  # 1: cat, 2: milkshake
    try:
        page.wait_for_function(
            "(old) => document.querySelector('.widget-image').getAttribute('src') !== old",
            arg=src_before,
            timeout=30_000,
        )
    except (
        Exception
    ) as error:  # say what the kernel holds: the key dropped, unlabeled, or not redrawn
        raise AssertionError(
            f"the picture was not redrawn; the kernel holds {_state(page)}"
        ) from error
    after = _state(page)
    assert after["dropped"] == 0
    assert after["labeled"] == 5
    assert after["picture"] != before["picture"]
    assert after["current"] != before["current"]
    harness.screenshot(page, "workshop_label_it_yourself", page.locator(".widget-hbox").first)
