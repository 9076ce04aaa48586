"""What a panel says of an undo of one of its labels' images, as the image stands after it: a
label a cell stored over the panel's (``replace=True``) is the cell's, so undoing it brings the
panel's label back (not its undo), and Z on it in the panel takes back a label made outside it."""

from __future__ import annotations

import html

import pytest

import al_widget as alw
from tests.conftest import CentroidLearner

CLASSES = ["dark", "bright"]


@pytest.fixture
def panel(two_class, loop_factory):
    """A panel on a loop with no rounds, showing its first image."""
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), start=False)
    made = alw.Panel(loop)
    yield made
    made.close()


def press(panel: alw.Panel, key: str) -> None:
    """Press `key` on the image `panel` shows, as the browser sends it."""
    made = {"image_id": panel.canvas.image_id, "shown": str(panel.current)}
    panel.canvas._handle_custom_msg({"kind": "key", "key": key} | made, [])


def notice(panel: alw.Panel) -> str:
    return html.unescape(panel.notice.value)


def corrected_in_a_cell(panel: alw.Panel) -> int:
    """The panel labels its image "dark"; a cell then stores "bright" over it: the image."""
    labeled = panel.current
    assert labeled is not None
    press(panel, "1")
    panel.loop.commit(labeled, alw.Label("bright"), replace=True)
    return labeled


def test_a_cell_s_undo_of_its_correction_says_the_panel_s_label_is_stored_again(panel):
    labeled = corrected_in_a_cell(panel)
    panel.loop.undo()
    assert (
        f"a label of image {labeled} stored over yours outside this panel was undone there "
        "(another panel's Z, or a cell's loop.undo()): your label (dark) is stored again"
    ) in notice(panel)


def test_a_cell_s_undo_of_its_correction_does_not_say_the_panel_s_label_was_undone(panel):
    corrected_in_a_cell(panel)
    panel.loop.undo()
    assert "was undone outside this panel" not in notice(panel)
    assert "back in the queue" not in notice(panel)


def test_z_after_a_cell_undid_its_correction_takes_back_the_panel_s_own_label(panel):
    labeled = corrected_in_a_cell(panel)
    panel.loop.undo()
    panel.undo()
    assert panel.dataset.annotation(labeled) is None
    assert f"undid the submit of image {labeled}:" in notice(panel)
    assert "outside this panel" not in notice(panel)


def test_z_on_a_cell_s_correction_says_it_was_made_outside_this_panel(panel):
    labeled = corrected_in_a_cell(panel)
    panel.undo()
    assert f"undid the submit of image {labeled}, made outside this panel" in notice(panel)


def test_z_on_a_cell_s_correction_says_the_image_holds_the_panel_s_label_again(panel):
    labeled = corrected_in_a_cell(panel)
    panel.undo()
    assert panel.dataset.annotation(labeled) == alw.Label("dark")
    assert (
        f"image {labeled} holds again its label from before that submit (dark), so Enter stores "
        "nothing until Z undoes that one too"
    ) in notice(panel)


def test_a_second_z_after_one_on_a_cell_s_correction_is_the_panel_s_own(panel):
    labeled = corrected_in_a_cell(panel)
    panel.undo()
    panel.undo()
    assert panel.dataset.annotation(labeled) is None
    assert "outside this panel" not in notice(panel)


def test_a_panel_is_told_its_skip_no_longer_holds_when_a_later_label_is_undone(panel):
    skipped = panel.current
    assert skipped is not None
    press(panel, "s")
    panel.loop.commit(skipped, alw.Label("bright"))  # a cell labels the image skipped
    panel.loop.undo()  # and takes it back: the image is neither labeled nor skipped
    assert f"your skip of image {skipped} no longer holds" in notice(panel)
    assert skipped not in panel.loop.skipped


def test_a_panel_s_label_undone_outside_it_is_said_back_in_the_queue(panel):
    labeled = panel.current
    press(panel, "1")
    panel.loop.undo()
    assert (
        f"your label of image {labeled} was undone outside this panel (another panel's Z, or "
        "a cell's loop.undo()): the image is back in the queue, to label again"
    ) in notice(panel)
