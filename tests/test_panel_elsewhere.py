"""The panel when its image is labeled or skipped outside it (a cell's ``loop.commit``, as the
README's quick start does): it moves on and says why, and never applies a key to an image the
labeler did not mean."""

import pytest

import al_widget as alw
from tests.turned_panels import draw, press

from conftest import CentroidLearner

CLASSES = ["dark", "bright"]


@pytest.fixture
def panels(loop_factory):
    made = []

    def make(images, **kwargs):
        loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), **kwargs)
        panel = alw.Panel(loop)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()


def test_a_label_from_a_cell_on_the_image_shown_moves_the_panel_on_at_the_next_ranking(
    two_class, panels
):
    images, labels = two_class
    panel = panels(images, query_size=1)
    i = panel.loop.next()
    assert panel.current == i
    panel.loop.commit(i, alw.Label(CLASSES[labels[i]]))
    assert panel.loop.wait(10)  # the round the label starts publishes a ranking
    assert panel.current not in (i, None)
    assert f"image {i} was labeled outside this panel ({CLASSES[labels[i]]})" in (
        panel.notice.value
    )


def test_a_key_after_a_label_from_a_cell_moves_on_and_labels_nothing(two_class, panels):
    panel = panels(
        two_class[0], start=False
    )  # no round: the key is the first the panel hears of it
    i = panel.current
    panel.loop.commit(i, alw.Label("dark"))
    panel.handle_key({"key": "2", "image_id": panel.canvas.image_id})
    assert panel.current not in (i, None)
    assert panel.dataset.annotation(i) == alw.Label("dark")
    assert panel.dataset.labeled.tolist() == [i]  # the key was meant for image i: not applied
    assert "moved on to the next image" in panel.notice.value
    assert panel.error_line.value == ""


def test_a_skip_from_a_cell_of_the_image_shown_moves_the_panel_on_at_the_next_key(
    two_class, panels
):
    panel = panels(two_class[0], start=False)
    i = panel.current
    panel.loop.skip(i)
    panel.handle_key({"key": "Enter", "image_id": panel.canvas.image_id})
    assert panel.current not in (i, None)
    assert f"image {i} was skipped outside this panel" in panel.notice.value
    assert len(panel.dataset.labeled) == 0


def test_a_submit_after_a_label_from_a_cell_moves_on_and_submits_nothing(two_class, panels):
    panel = panels(two_class[0], start=False)
    i = panel.current
    panel.loop.commit(i, alw.Label("dark"))
    panel.pick(1)
    assert panel.submit() is None
    assert panel.current not in (i, None)
    assert panel.dataset.labeled.tolist() == [i]


def test_an_image_opened_labeled_stays_shown_when_a_key_is_pressed(two_class, panels):
    panel = panels(two_class[0], start=False)
    panel.dataset.annotate(7, alw.Label("dark"))
    panel.open_image(7)
    panel.handle_key({"key": "2", "image_id": panel.canvas.image_id})
    assert panel.current == 7
    assert panel.dataset.annotation(7) == alw.Label("dark")
    assert "not submitted: image 7 is already labeled (dark)" in panel.error_line.value


@pytest.mark.parametrize("key", ["2", "s"])
def test_refusals_on_a_labeled_image_say_what_to_do_in_the_panel_not_in_python(
    two_class, panels, key
):
    panel = panels(two_class[0], start=False)
    panel.dataset.annotate(7, alw.Label("dark"))
    panel.open_image(7)
    panel.handle_key({"key": key, "image_id": panel.canvas.image_id})
    error = panel.error_line.value
    assert "already labeled" in error
    assert "Z undoes" in error
    assert "replace=True" not in error
    assert "undo()" not in error


def test_the_work_drawn_on_an_image_a_cell_labeled_is_named_as_dropped(photo_panels):
    panel, _, _ = photo_panels("detect")
    i = panel.current
    draw(panel)  # one box drawn here, not submitted
    panel.loop.commit(i, alw.Boxes([[0, 0, 3, 3]], ["thing"]))  # a cell labels the image
    press(panel, "Enter")
    assert panel.current not in (i, None)
    assert (
        f"image {i} was labeled outside this panel (1 box); the work on it here (1 unsaved box) "
        "was not stored and is dropped; moved on to the next image"
    ) in panel.notice.value
    assert panel.dataset.annotation(i) == alw.Boxes([[0, 0, 3, 3]], ["thing"]).bind(
        image_size=(16, 16), classes=["background", "thing"]
    )


def test_an_image_a_cell_labeled_with_nothing_drawn_here_names_no_work(photo_panels):
    panel, _, _ = photo_panels("detect")
    i = panel.current
    panel.loop.commit(i, alw.Boxes([[0, 0, 3, 3]], ["thing"]))
    press(panel, "Enter")
    assert f"image {i} was labeled outside this panel (1 box); moved on" in panel.notice.value
