"""Mask pixels not labeled (Mask.IGNORE, VOC's void) in a real JupyterLab and Chromium: drawn
striped, kept by the brush and eraser except where they paint."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image

from . import harness
from .test_canvas_browser import CanvasDriver, Py

pytestmark = pytest.mark.browser

# The test image is 200x100: void over x 60..140, y 30..70; class 2 over x 10..40, y 30..70.
MASK = Py(
    "np.pad(np.pad(np.full((40, 80), 255, np.uint8), ((0, 0), (50, 0))), ((30, 30), (10, 60)))"
    " + np.pad(np.full((40, 30), 2, np.uint8), ((30, 30), (10, 160)))"
)
VOID_LIGHT, VOID_DARK = (224, 224, 192), (64, 64, 64)  # js/canvas.js's stripes
CLASS_2 = (44, 160, 44)  # #2ca02c, the canvas's colour of class 2


def expected_mask() -> np.ndarray:
    mask = np.zeros((100, 200), np.uint8)
    mask[30:70, 60:140] = 255
    mask[30:70, 10:40] = 2
    return mask


@pytest.fixture(scope="module")
def cv(lab: harness.LabServer, new_page: Any) -> CanvasDriver:
    """The canvas notebook, opened and run once for this module."""
    page = new_page()
    harness.open_notebook(page, lab, "canvas.ipynb")
    harness.run_cell(page, 0)
    harness.run_cell(page, 1)
    page.wait_for_selector(".alw-stage canvas")
    return CanvasDriver(page, lab)


def shown_colours(cv: CanvasDriver, name: str, points: list[tuple[int, int]]) -> list[tuple]:
    """The screenshot's colours over image points (x, y)."""
    path = harness.screenshot(cv.page, name, cv.stage)
    origin = cv.stage.bounding_box()
    with Image.open(path) as shot:
        rgb = shot.convert("RGB")
        return [
            rgb.getpixel((round(px - origin["x"]), round(py - origin["y"])))
            for px, py in (cv.at(x + 0.5, y + 0.5) for x, y in points)
        ]


def near(colour: tuple, reference: tuple, tolerance: int = 12) -> bool:
    return max(abs(a - b) for a, b in zip(colour, reference, strict=True)) <= tolerance


def test_void_pixels_are_drawn_striped_in_no_class_colour(cv: CanvasDriver) -> None:
    cv.reset(mode="mask", mask=MASK, opacity=1.0)
    assert np.array_equal(cv.mask(), expected_mask())
    void = shown_colours(cv, "void_striped", [(x, 50) for x in range(62, 138)])
    light = sum(near(c, VOID_LIGHT) for c in void)
    dark = sum(near(c, VOID_DARK) for c in void)
    assert light > 20, void  # stripes of both colours, 4 image pixels each
    assert dark > 20, void
    assert light + dark > 0.8 * len(void)  # little else (a few blended stripe edges)
    labeled = shown_colours(cv, "void_beside_a_class", [(x, 50) for x in range(12, 38)])
    assert all(near(c, CLASS_2) for c in labeled), labeled


def test_a_brush_stroke_over_void_paints_its_class_and_leaves_the_rest_void(
    cv: CanvasDriver,
) -> None:
    cv.reset(mode="mask", mask=MASK, tool="brush", brush_size=10, active_class=1)
    cv.drag(cv.at(100, 10), cv.at(100, 90))
    cv.settle(1)
    got = cv.mask()
    before = expected_mask()
    assert (got[30:70, 97:103] == 1).all()  # painted over the void
    assert not ((got == 255) & (before != 255)).any()  # the brush made no void
    assert (got[30:70, 60:90] == 255).all()
    assert (got[30:70, 110:140] == 255).all()
    assert (got[30:70, 10:40] == 2).all()
    harness.screenshot(cv.page, "void_brushed", cv.stage)


def test_the_eraser_over_void_paints_background(cv: CanvasDriver) -> None:
    cv.reset(mode="mask", mask=MASK, tool="eraser", brush_size=6)
    cv.drag(cv.at(20, 50), cv.at(180, 50))
    cv.settle(1)
    got = cv.mask()
    assert (got[48:53, 62:138] == 0).all()
    assert (got[30:45, 60:140] == 255).all()
    assert (got[56:70, 60:140] == 255).all()
    assert not ((got == 255) & (expected_mask() != 255)).any()
