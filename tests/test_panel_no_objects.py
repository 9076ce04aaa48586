"""N in segmentation ("All background") stores nothing but background, on purpose: on a canvas
with painted pixels of a class other than background it is refused, as N is on boxes (detection)
and objects (instances), and the paint stays. The model's mask draft does not refuse it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import al_widget as alw
from tests.test_journal_orientation import entries, photo

CLASSES = ["background", "thing"]
SIZE = (12, 16)  # (H, W)


@pytest.fixture
def panel(tmp_path: Path, loop_factory: Any):
    """A segmentation panel on four journaled photos of SIZE pixels."""
    paths = [photo(tmp_path / f"p{k}.jpg", 1, SIZE) for k in range(4)]
    dataset = alw.Dataset(paths, CLASSES, task="segment", journal=tmp_path / "labels.jsonl")
    made = alw.Panel(loop_factory(dataset, None, start=False))
    yield made
    made.close()


def paint(panel: alw.Panel, value: int) -> np.ndarray:
    """Paint the top rows of the image shown with class `value` (0: erase them), as the browser
    sends the class map; returns it."""
    canvas = panel.canvas
    class_map = np.zeros((canvas.height, canvas.width), np.uint8)
    class_map[:5] = value
    content = {"kind": "mask", "width": canvas.width, "height": canvas.height}
    canvas._handle_custom_msg(
        {"image_id": canvas.image_id, **content}, [memoryview(class_map.tobytes())]
    )
    return class_map


def press_n(panel: alw.Panel) -> None:
    """Press N on the image shown, as the browser sends it."""
    panel.handle_key({"key": "n", "image_id": panel.canvas.image_id})


def test_n_on_painted_pixels_stores_nothing(panel: alw.Panel, tmp_path: Path) -> None:
    shown = panel.current
    paint(panel, 1)
    press_n(panel)
    assert panel.current == shown
    assert panel.dataset.annotation(shown) is None
    assert entries(tmp_path / "labels.jsonl") == []


def test_the_refusal_says_the_image_has_painted_pixels_to_erase_first(panel: alw.Panel) -> None:
    paint(panel, 1)
    press_n(panel)
    assert (
        "not submitted as all background: the image has painted pixels; erase them first"
    ) in panel.error_line.value


def test_the_paint_stays_on_the_canvas_after_the_refusal(panel: alw.Panel) -> None:
    painted = paint(panel, 1)
    press_n(panel)
    np.testing.assert_array_equal(panel.canvas.mask_array(), painted)


def test_n_stores_all_background_once_the_paint_is_erased(panel: alw.Panel) -> None:
    shown = panel.current
    paint(panel, 1)
    paint(panel, 0)  # the eraser over it
    press_n(panel)
    stored = panel.dataset.annotation(shown)
    assert stored is not None
    assert stored.class_map.shape == SIZE
    assert not stored.class_map.any()
