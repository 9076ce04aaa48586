"""A key made on the image the browser painted early, which a cell labeled meanwhile, so that
the panel showed another: the panel says so, and stores nothing."""

from __future__ import annotations

import html

import pytest

import al_widget as alw
from tests.conftest import CentroidLearner

CLASSES = ["dark", "bright"]


@pytest.fixture
def passed_over(two_class, loop_factory):
    """The labeler presses 1; the browser paints the next image early, which a cell labels
    before the key reaches the panel, so the panel shows another; the labeler, who sees the
    image painted, presses 2 on it: (the panel, the image painted)."""
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), start=False)
    panel = alw.Panel(loop)
    first, painted, made_on = panel.current, int(panel.canvas.ahead_key), panel.canvas.image_id
    loop.commit(painted, alw.Label("bright"))
    key = {"kind": "key", "image_id": made_on}
    send = panel.canvas._handle_custom_msg
    send(key | {"key": "1", "shown": str(first), "early": True, "painted": str(painted)}, [])
    assert panel.current not in (first, painted)
    send(key | {"key": "2", "shown": str(painted), "early": False}, [])
    yield panel, painted
    panel.close()


def words(panel: alw.Panel) -> str:
    return html.unescape(panel.error_line.value + panel.notice.value)


def test_a_key_on_an_image_painted_early_and_labeled_elsewhere_says_so(passed_over):
    panel, painted = passed_over
    assert (
        f"not submitted: the submit was made on image {painted}, shown early, but image "
        f"{painted} was labeled outside this panel (bright) meanwhile, so the panel did not "
        f"show it; it shows image {panel.current}"
    ) in words(panel)


def test_a_key_on_an_image_painted_early_and_labeled_elsewhere_is_no_double_click(passed_over):
    panel, _ = passed_over
    assert "double click" not in words(panel)


def test_a_key_on_an_image_painted_early_and_labeled_elsewhere_labels_nothing(passed_over):
    panel, painted = passed_over
    assert panel.dataset.annotation(panel.current) is None
    assert panel.dataset.annotation(painted) == alw.Label("bright")
