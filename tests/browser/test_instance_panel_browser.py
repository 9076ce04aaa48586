"""Instance segmentation in the Panel, in a real JupyterLab and Chromium: the model's objects
open as drafts, one accepted, one painted into and recoloured with a digit, one deleted; Enter
commits what is left to the loop's dataset.

notebooks/instance_panel.ipynb runs a loop whose instance segmenter finds three fixed objects on
every image (two touching cats and a dog); after a first round the panel opens an image with them
as drafts.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from . import harness
from .panel_driver import PanelDriver
from .test_instances_browser import capsule

pytestmark = pytest.mark.browser

SIZE = W, H = 160, 100  # the images of notebooks/instance_panel.ipynb
STEPS = 10


@pytest.fixture(scope="module")
def page(lab: harness.LabServer, new_page: Any) -> Any:
    page = new_page(height=1100)
    harness.open_notebook_in_workspace(page, lab, "instance_panel.ipynb", "instance_panel")
    for index in range(2):
        harness.run_cell(page, index, timeout=120)
    page.wait_for_selector(".alw-test-instances .alw-stage canvas")
    return page


def view(panel: PanelDriver) -> tuple[float, float, float, float, float]:
    """The fitted view as js/src/view.js computes it: scale, offsets, the canvas's corner."""
    sw, sh, left, top = panel.root.evaluate(
        """(root) => {
            const s = root.querySelector('.alw-stage').getBoundingClientRect();
            const c = root.querySelector('.alw-stage canvas').getBoundingClientRect();
            return [s.width, s.height, c.left, c.top];
        }"""
    )
    s = min(sw / W, sh / H)
    return s, (sw - W * s) / 2, (sh - H * s) / 2, left, top


def page_point(panel: PanelDriver, x: float, y: float) -> tuple[int, int]:
    s, ox, oy, left, top = view(panel)
    return round(left + ox + x * s), round(top + oy + y * s)


def image_point(panel: PanelDriver, px: int, py: int) -> tuple[float, float]:
    s, ox, oy, left, top = view(panel)
    return ((px - left) - ox) / s, ((py - top) - oy) / s


def test_drafts_accepted_edited_recoloured_and_deleted_are_committed_as_left(
    page: Any, lab: harness.LabServer
) -> None:
    panel = PanelDriver(page, "instances", SIZE)
    shown = panel.ready()
    i = shown["current"]
    assert shown["objects"] == [[1, 0, True], [2, 0, True], [3, 1, True]]
    harness.screenshot(page, "instance_panel_drafts", panel.root)

    page.mouse.click(*page_point(panel, 30, 40))  # the first cat
    page.keyboard.press("a")
    panel.wait(lambda s: s["objects"][0] == [1, 0, False])

    page.mouse.click(*page_point(panel, 70, 40))  # the second cat
    a = page_point(panel, 70, 40)
    b = (a[0] + round((page_point(panel, 100, 40)[0] - a[0]) / STEPS) * STEPS, a[1])
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move(*b, steps=STEPS)  # painted past its right edge: edited, accepted
    page.mouse.up()
    panel.wait(lambda s: s["objects"][1] == [2, 0, False])
    page.keyboard.press("3")  # the panel's digit for "cup": the selected object takes it
    panel.wait(lambda s: s["objects"][1] == [2, 2, False])

    page.mouse.click(*page_point(panel, 130, 50))  # the dog
    page.keyboard.press("Delete")
    state = panel.wait(lambda s: len(s["objects"]) == 2)
    assert state["objects"] == [[1, 0, False], [2, 2, False]]
    assert state["rejected"] == []
    stroke = capsule(image_point(panel, *a), image_point(panel, *b), 8 / 2, SIZE)
    harness.screenshot(page, "instance_panel_edited", panel.root)

    page.keyboard.press("Enter")
    state = panel.wait(lambda s: str(i) in s["labels"])
    assert state["labels"][str(i)] == ["cat", "cup"]
    assert state["error"] == ""
    assert state["current"] != i
    stored = np.load(lab.state_dir / f"instances-stored-{i}.npy")
    first, second = np.zeros((2, H, W), bool)
    first[20:60, 10:50] = True
    second[20:60, 50:90] = True
    assert np.array_equal(stored[0], first)
    assert np.array_equal(stored[1], second | stroke)


def test_each_draft_is_tagged_with_its_confidence_and_shift_delete_rejects_them_all(
    page: Any,
) -> None:
    panel = PanelDriver(page, "instances", SIZE)
    state = panel.ready()
    i = state["current"]
    assert [o[2] for o in state["objects"]] == [True, True, True]
    panel.wait_labels(3)
    tags = [t["text"] for t in panel.drawn_labels()]
    assert all(re.fullmatch(r"(cat|dog) 0\.\d\d \?", t) for t in tags), tags
    harness.screenshot(page, "instance_panel_confidence", panel.root)

    page.mouse.click(*page_point(panel, 155, 95))  # empty space: the canvas takes the keyboard
    page.keyboard.press("Shift+Delete")
    state = panel.wait(lambda s: s["objects"] == [])
    assert state["rejected"] == []
    assert state["current"] == i
    assert [t["text"] for t in panel.drawn_labels()] == []
    panel.focus()
    page.keyboard.press("n")  # nothing here: no objects
    panel.wait(lambda s: s["labels"].get(str(i)) == [])


def test_enter_stores_the_object_accepted_and_drops_the_undecided_drafts(page: Any) -> None:
    panel = PanelDriver(page, "instances", SIZE)
    state = panel.ready()
    i = state["current"]
    page.mouse.click(*page_point(panel, 30, 40))  # the first cat
    page.keyboard.press("a")
    panel.wait(lambda s: s["objects"][0] == [1, 0, False])
    panel.focus()
    page.keyboard.press("Enter")
    state = panel.wait(lambda s: str(i) in s["labels"] and "dropped" in s["notice"])
    assert state["labels"][str(i)] == ["cat"]
    assert (
        f"image {i} stored what was drawn and accepted; 2 undecided drafts dropped"
        in (state["notice"])
    )
