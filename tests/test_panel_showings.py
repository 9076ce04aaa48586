"""A key or click names the showing of the image it was made on (the canvas's ``image_id``, and
the image on screen): one made on an earlier showing of the image shown, before an undo or a
refused edit loaded it again, stores nothing and says so; one made on the image the browser
painted early is taken once Python shows that image. In classify mode a submit names the class
the picker highlighted, and is refused when the panel holds another."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pytest

import al_widget as alw
from al_widget.ranking import Ranking
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


def publish(loop: alw.ActiveLoop, head: list[int], predicted: dict[int, int]) -> None:
    """Publish a new ranking (as a round does) with `head` first and the model predicting
    `predicted` (index: class id) for those images, -1 for the others."""
    old = loop.ranking
    order = np.array([*head, *(i for i in old.indices if int(i) not in head)], np.int64)
    classes = np.array([predicted.get(int(i), -1) for i in order], np.int64)
    ranking = Ranking(
        order,
        np.linspace(1, 0, len(order)),
        classes,
        model_version=old.model_version + 1,
        data_version=old.data_version,
        heuristic="margin",
    )
    loop._worker._publish_early(ranking)  # the worker's way: the loop's ranking, then observers


def predicted_again(panel: alw.Panel) -> tuple[int, int, int]:
    """With "dark" picked on the image shown, the next image comes with the class the model
    predicted for it ("bright"), which the browser highlights when it paints that image early;
    a newer ranking then predicts "dark" for it. Returns the image shown, the next one, and
    the load of the canvas the browser has."""
    first, painted = panel.current, int(panel.canvas.ahead_key)
    publish(panel.loop, [first, painted], {painted: 1})
    assert panel.canvas.ahead_picker == 1  # the browser highlights "bright" with it
    panel.pick(0)  # "dark", on the image shown
    made_on = panel.canvas.image_id
    publish(panel.loop, [first, painted], {painted: 0})
    return first, painted, made_on


def painted_early(panel: alw.Panel, first: int, painted: int, made_on: int) -> None:
    """ "dark" pressed on image `first`, the browser painting image `painted` early for it
    before Python answers (as it did before the newer ranking reached it)."""
    label = {"kind": "key", "key": "1", "image_id": made_on, "shown": str(first)}
    send(panel, label | {"early": True, "painted": str(painted)})
    assert panel.current == painted


def test_enter_on_a_class_the_picker_did_not_highlight_stores_nothing_and_says_so(panel):
    first, painted, made_on = predicted_again(panel)
    painted_early(panel, first, painted, made_on)
    assert panel.picker.value == 0  # "dark": the newer prediction
    enter = {"kind": "key", "key": "Enter", "image_id": made_on, "shown": str(painted)}
    send(panel, enter | {"picked": 1})  # pressed with "bright" highlighted
    assert panel.dataset.annotation(painted) is None
    assert (
        f'not submitted: "bright" was highlighted on image {painted} when the key was pressed, '
        'but the class chosen for it is "dark"'
    ) in html.unescape(panel.error_line.value)


def test_enter_on_the_class_the_picker_highlighted_stores_it(panel):
    first, painted, made_on = predicted_again(panel)
    painted_early(panel, first, painted, made_on)
    enter = {"kind": "key", "key": "Enter", "image_id": made_on, "shown": str(painted)}
    send(panel, enter | {"picked": 0})
    assert panel.dataset.annotation(painted) == alw.Label("dark")


def test_the_image_loaded_tells_the_browser_the_picker_s_class_for_it(panel):
    # The picker keeps the class it held for the image before ("dark"), so it sends nothing;
    # the browser, which highlighted "bright" with the image painted early, is told with the
    # image (js/src/panelglue.js's settle).
    first, painted, made_on = predicted_again(panel)
    painted_early(panel, first, painted, made_on)
    assert panel.canvas.shown_picker == panel.picker.index == 0


def test_a_key_made_on_the_image_painted_early_is_taken_though_it_was_loaded_twice(panel):
    # Answering the key that painted it, Python may load the image again (its drafts at a
    # threshold the submit recalibrated: Editor.show_drafts): the browser saw neither load.
    first, painted = panel.current, int(panel.canvas.ahead_key)
    refresh = panel._actions.refresh_state
    panel._actions.refresh_state = lambda: (refresh(), panel.canvas.resync())
    made_on = panel.canvas.image_id
    label = {"kind": "key", "key": "1", "image_id": made_on, "shown": str(first)}
    send(panel, label | {"early": True, "painted": str(painted)})
    assert panel.canvas.image_id == made_on + 2
    send(panel, {"kind": "key", "key": "2", "image_id": made_on, "shown": str(painted)})
    assert panel.dataset.annotation(painted) == alw.Label("bright")
