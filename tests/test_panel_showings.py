"""A key or click names the showing of the image it was made on (the canvas's ``image_id``, and
the image on screen): one made on an earlier showing of the image shown, before an undo or a
refused edit loaded it again, stores nothing and says so; one made on the image the browser
painted early is taken once Python shows that image."""

from __future__ import annotations

from typing import Any

import pytest

import al_widget as alw
from tests.conftest import CentroidLearner
from tests.turned_panels import draw

CLASSES = ["dark", "bright"]


@pytest.fixture
def panel(two_class, loop_factory):
    images, _ = two_class
    made = alw.Panel(loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), start=False))
    yield made
    made.close()


def made_here(panel: alw.Panel, content: dict[str, Any]) -> dict[str, Any]:
    """`content` as the browser sends it from the image shown now (js/src/panelkeys.js)."""
    return content | {"image_id": panel.canvas.image_id, "shown": str(panel.current)}


def send(panel: alw.Panel, message: dict[str, Any]) -> None:
    panel.canvas._handle_custom_msg(message, [])


@pytest.mark.parametrize(
    "content",
    [
        {"kind": "key", "key": "2"},
        {"kind": "key", "key": "s"},
        {"kind": "action", "action": "skip"},
    ],
    ids=["class key", "S", "Skip button"],
)
def test_a_key_made_before_an_undo_does_nothing_after_it(panel, content):
    shown = panel.current
    message = made_here(panel, {"early": False} | content)
    send(panel, message)
    panel.undo()
    assert panel.current == shown
    send(panel, message)  # the same key again, made on the showing before the undo
    assert panel.current == shown
    assert panel.dataset.labeled.tolist() == []
    assert shown not in panel.loop.skipped


def test_enter_made_before_an_undo_does_not_store_the_class_the_undo_brought_back(panel):
    shown = panel.current
    enter = made_here(panel, {"kind": "key", "key": "Enter"})  # nothing picked on this showing
    send(panel, made_here(panel, {"kind": "key", "key": "2"}))
    panel.undo()
    assert panel.picker.value == 1  # "bright", brought back to edit
    send(panel, enter)
    assert panel.dataset.annotation(shown) is None


def test_a_key_made_before_an_undo_says_it_did_nothing_and_why(panel):
    shown = panel.current
    message = made_here(panel, {"kind": "key", "key": "2"})
    send(panel, message)
    panel.undo()
    send(panel, message)
    assert f"not submitted: the submit was made on image {shown} as it was shown before" in (
        panel.error_line.value
    )


def test_enter_made_before_a_refused_edit_sent_the_browser_back_stores_nothing(photo_panels):
    panel, _, _ = photo_panels("detect")
    shown = panel.current
    draw(panel, width=4)
    enter = made_here(panel, {"kind": "key", "key": "Enter"})
    # An edit Python refuses (no class 7): the browser is sent back to the box Python holds,
    # but the Enter below was pressed on the refused edit, before that answer arrived.
    refused = {"kind": "boxes", "boxes": [{"xyxy": [0, 0, 9, 9], "label": 7}], "drafts": []}
    send(panel, refused | {"image_id": panel.canvas.image_id})
    send(panel, enter)
    assert panel.current == shown
    assert panel.dataset.annotation(shown) is None


def test_a_key_made_on_the_image_painted_early_is_taken_once_python_shows_it(panel):
    first, painted = panel.current, int(panel.canvas.ahead_key)
    made_on = panel.canvas.image_id
    label = {"kind": "key", "key": "1", "image_id": made_on, "shown": str(first)}
    send(panel, label | {"early": True, "painted": str(painted)})
    assert panel.current == painted
    # Pressed on the image painted early, before Python's load of it reached the browser.
    send(panel, {"kind": "key", "key": "2", "image_id": made_on, "shown": str(painted)})
    assert panel.dataset.annotation(painted) == alw.Label("bright")


def test_a_key_made_on_the_image_painted_early_does_nothing_once_an_undo_showed_it_again(panel):
    first, painted = panel.current, int(panel.canvas.ahead_key)
    made_on = panel.canvas.image_id
    label = {"kind": "key", "key": "1", "image_id": made_on, "shown": str(first)}
    send(panel, label | {"early": True, "painted": str(painted)})
    on_early = {"kind": "key", "key": "2", "image_id": made_on, "shown": str(painted)}
    send(panel, on_early)
    panel.undo()
    assert panel.current == painted
    send(panel, on_early)
    assert panel.dataset.annotation(painted) is None


def test_n_made_before_an_undo_does_nothing_after_it(photo_panels):
    panel, _, _ = photo_panels("detect")
    shown = panel.current
    n = made_here(panel, {"kind": "key", "key": "n"})
    send(panel, n)
    assert len(panel.dataset.annotation(shown).xyxy) == 0  # stored: no objects
    panel.undo()
    send(panel, n)
    assert panel.dataset.annotation(shown) is None
