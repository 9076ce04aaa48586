"""What the labeler did on an image is never dropped or stored without a word: Enter on an
untouched mask."""

import numpy as np
import pytest

import al_widget as alw


@pytest.fixture
def panels(loop_factory):
    made = []

    def make(task="classify", learner=None):
        images = np.zeros((6, 12, 12, 3), np.uint8)
        classes = ["background", "cat", "dog"] if task == "segment" else ["cat", "dog"]
        ds = alw.Dataset(images, classes, task=task)
        panel = alw.Panel(loop_factory(ds, learner, start=False))
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()


def test_enter_on_an_untouched_segmentation_canvas_stores_nothing_and_says_to_paint_or_press_n(
    panels,
):
    panel = panels("segment")
    shown = panel.current
    panel.handle_key({"key": "Enter", "image_id": panel.canvas.image_id})
    assert panel.current == shown
    assert len(panel.dataset.labeled) == 0
    assert "nothing painted" in panel.error_line.value
    assert "press N (all background)" in panel.error_line.value


def test_n_stores_all_background_on_an_untouched_segmentation_canvas(panels):
    panel = panels("segment")
    shown = panel.current
    panel.handle_key({"key": "n", "image_id": panel.canvas.image_id})
    assert not panel.dataset.annotation(shown).class_map.any()
