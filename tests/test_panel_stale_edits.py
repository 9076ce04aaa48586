"""An edit made on the image as it was shown before it was loaded again (its drafts at a new
threshold) is refused, and the panel says so: the labeler's A, or any edit, did nothing."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pytest

import al_widget as alw
from tests.conftest import BrightIsSquare, SquareAndSpeck


def squares(n: int) -> np.ndarray:
    """Dark 16 x 16 images, each with one bright 6 x 6 square."""
    images = np.zeros((n, 16, 16, 3), np.uint8)
    for k in range(n):
        images[k, 4 + k % 5 : 10 + k % 5, 3:9] = 200
    return images


@pytest.fixture
def drafted(loop_factory: Any):
    """``make(task)``: a segmentation or instance panel showing the model's drafts (from a
    threshold of 0.1: the square's region or object, confidence 0.9, and in instances a speck,
    0.2)."""
    made = []

    def make(task: str) -> alw.Panel:
        images = squares(8)
        square = images[0, ..., 0] > 100
        if task == "segment":
            dataset = alw.Dataset(images, ["background", "square"], task=task)
            dataset.annotate(0, alw.Mask(square.astype(np.uint8)))
            learner: Any = BrightIsSquare()
        else:
            dataset = alw.Dataset(images, ["square"], task=task)
            dataset.annotate(0, alw.Instances(square[None], ["square"]))
            learner = SquareAndSpeck()
        loop = loop_factory(dataset, learner, pool_sample=None, query_size=1)
        loop.retrain()
        assert loop.wait(10)
        panel = alw.Panel(loop)
        panel.draft_bar.set_by_hand(0.1)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()


def error(panel: alw.Panel) -> str:
    return html.unescape(panel.error_line.value)


def test_a_mask_accept_made_before_new_drafts_were_shown_says_it_did_nothing(drafted):
    panel = drafted("segment")
    made_on = panel.canvas.image_id
    panel.draft_bar.set_by_hand(0.95)  # the region is hidden: the image is loaded again
    panel.canvas._handle_custom_msg({"kind": "mask_accept", "image_id": made_on}, [])
    assert panel.canvas.mask_draft is False  # nothing is left to accept
    assert "A did nothing: the model's mask changed under the key" in error(panel)
    assert f"image {panel.current} was loaded again under it" in error(panel)


def test_an_object_accepted_before_new_drafts_were_shown_says_it_did_nothing(drafted):
    panel = drafted("instances")
    square = panel.canvas.objects[0]
    made_on = panel.canvas.image_id
    panel.draft_bar.set_by_hand(0.5)  # the speck is hidden: the image is loaded again
    x0, y0, x1, y1 = square.rect
    accept = {
        "kind": "instance",
        "id": square.id,
        "label": 0,
        "draft": False,
        "rect": [x0, y0, x1, y1],
    }
    panel.canvas._handle_custom_msg(accept | {"image_id": made_on}, [square.bits])
    assert all(o.draft for o in panel.canvas.objects)  # not accepted
    assert "did nothing: the objects changed under it" in error(panel)


def test_an_edit_of_an_image_the_panel_left_says_it_was_not_kept(drafted):
    panel = drafted("segment")
    made_on, left = panel.canvas.image_id, panel.current
    panel.skip()
    panel.canvas._handle_custom_msg({"kind": "mask_accept", "image_id": made_on}, [])
    assert f"an edit of image {left} arrived after the panel had left it" in error(panel)
