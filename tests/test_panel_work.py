"""What the labeler did on an image is never dropped or stored without a word: opening the image
shown again, redo after an edit, Enter on an untouched mask, an error about another image."""

import numpy as np
import pytest

import al_widget as alw

from conftest import CentroidLearner


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


def send_boxes(panel, boxes):
    canvas = panel.canvas
    content = {"kind": "boxes", "image_id": canvas.image_id, "boxes": boxes, "drafts": []}
    canvas._handle_custom_msg(content, [])


def send_mask(panel, mask):
    canvas = panel.canvas
    content = {"kind": "mask", "image_id": canvas.image_id, "width": 12, "height": 12}
    canvas._handle_custom_msg(content, [memoryview(np.ascontiguousarray(mask, np.uint8).tobytes())])


def test_opening_the_image_shown_again_keeps_its_boxes(panels):
    panel = panels("detect")
    shown = panel.current
    send_boxes(panel, [{"xyxy": [2, 2, 6, 6], "label": 0}])
    panel.open_image(shown)
    assert panel.submit() == shown
    assert panel.dataset.annotation(shown).xyxy.tolist() == [[2, 2, 6, 6]]


def test_opening_the_image_shown_again_keeps_its_painted_mask(panels):
    panel = panels("segment")
    shown = panel.current
    mask = np.zeros((12, 12), np.uint8)
    mask[2:5, 2:5] = 2
    send_mask(panel, mask)
    panel.open_image(shown)
    assert panel.submit() == shown
    np.testing.assert_array_equal(panel.dataset.annotation(shown).class_map, mask)


def test_opening_the_image_shown_again_keeps_the_class_picked(panels):
    panel = panels("classify", CentroidLearner(2))
    shown = panel.current
    panel.pick(1)
    panel.open_image(shown)
    assert panel.picker.value == 1


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


def test_redo_after_an_edit_of_the_undone_boxes_stores_nothing_and_says_enter_stores_it(panels):
    panel = panels("detect")
    first = panel.current
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])
    panel.submit()
    panel.undo()
    send_boxes(panel, [{"xyxy": [1, 1, 8, 8], "label": 1}])  # the fix
    assert panel.redo() is None
    assert panel.dataset.annotation(first) is None
    assert f"nothing to redo: image {first} was edited since the undo" in panel.error_line.value
    assert panel.submit() == first  # Enter stores the fix
    assert panel.dataset.annotation(first).xyxy.tolist() == [[1, 1, 8, 8]]


def test_redo_after_another_class_was_picked_on_the_undone_image_stores_nothing(panels):
    panel = panels("classify", CentroidLearner(2))
    first = panel.current
    panel.handle_key({"key": "1", "image_id": panel.canvas.image_id})
    panel.handle_key({"key": "z"})
    panel.pick(1)
    panel.handle_key({"key": "Z", "shiftKey": True})
    assert panel.dataset.annotation(first) is None
    assert "edited since the undo" in panel.error_line.value


def test_redo_after_an_edit_left_on_the_undone_image_stores_nothing(panels):
    panel = panels("detect")
    first = panel.current
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])
    panel.submit()
    second = panel.current
    panel.undo()
    send_boxes(panel, [{"xyxy": [1, 1, 8, 8], "label": 1}])
    panel.open_image(second)  # the fix left unsaved on the undone image
    assert panel.redo() is None
    assert panel.dataset.annotation(first) is None


def test_redo_of_an_undone_image_left_untouched_stores_it_again(panels):
    panel = panels("detect")
    first = panel.current
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])
    panel.submit()
    panel.undo()
    assert panel.redo() == first
    assert panel.dataset.annotation(first).xyxy.tolist() == [[1, 1, 4, 4]]


def test_an_error_about_one_image_is_cleared_when_another_is_shown(panels):
    panel = panels("detect")
    assert panel.submit() is None  # no boxes
    assert "no boxes" in panel.error_line.value
    other = next(i for i in range(6) if i != panel.current)
    panel.open_image(other)
    assert panel.error_line.value == ""


def test_redo_of_an_image_edited_after_its_undo_stores_nothing_after_another_undo_and_redo(
    panels,
):
    panel = panels("detect")
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])
    panel.submit()
    second = panel.current
    send_boxes(panel, [{"xyxy": [2, 2, 5, 5], "label": 0}])
    panel.submit()
    panel.undo()  # the second image comes back
    send_boxes(panel, [{"xyxy": [2, 2, 9, 9], "label": 1}])  # the second, fixed
    panel.undo()  # the first comes back; the fix stays unsaved on the second
    panel.redo()  # the first, untouched: stored again
    assert panel.redo() is None  # the second was edited
    assert panel.dataset.annotation(second) is None
    assert f"image {second} was edited since the undo" in panel.error_line.value


def test_an_edit_of_an_undone_commit_survives_undoing_the_skip_before_it(panels):
    panel = panels("detect")
    i = panel.current
    panel.skip()
    panel.loop.commit(i, alw.Boxes([[1, 1, 4, 4]], ["cat"]))  # a cell labels the skipped image
    assert panel.undo() == i  # the cell's label comes back to edit
    send_boxes(panel, [{"xyxy": [1, 1, 8, 8], "label": 1}])  # the fix, not submitted
    assert panel.undo() == i  # the skip is undone too; the fix stays unsaved
    assert panel.canvas.boxes == [{"xyxy": [1.0, 1.0, 8.0, 8.0], "label": 1}]
    assert panel.submit() == i  # Enter stores the fix
    assert panel.dataset.annotation(i).xyxy.tolist() == [[1, 1, 8, 8]]


def test_redo_of_the_cells_commit_after_a_redone_skip_stores_nothing_over_the_edit(panels):
    panel = panels("detect")
    i = panel.current
    panel.skip()
    panel.loop.commit(i, alw.Boxes([[1, 1, 4, 4]], ["cat"]))  # a cell labels the skipped image
    panel.undo()  # the cell's label comes back to edit
    send_boxes(panel, [{"xyxy": [1, 1, 8, 8], "label": 1}])  # the fix, not submitted
    panel.undo()  # the skip is undone too
    assert panel.redo() == i  # the skip again: it keeps the fix
    assert panel.redo() is None  # the cell's commit would store its label over the fix
    assert f"nothing to redo: image {i} was edited since the undo" in panel.error_line.value
    assert panel.dataset.annotation(i) is None
    assert panel.undo() == i  # the skip once more: the fix comes back
    assert panel.canvas.boxes == [{"xyxy": [1.0, 1.0, 8.0, 8.0], "label": 1}]


def test_an_edit_of_an_undone_commit_survives_undoing_the_commit_it_replaced(panels):
    panel = panels("detect")
    i = panel.current
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])
    assert panel.submit() == i
    panel.loop.commit(i, alw.Boxes([[2, 2, 6, 6]], ["dog"]), replace=True)  # a cell's fix
    assert panel.undo() == i  # the cell's label comes back to edit
    send_boxes(panel, [{"xyxy": [1, 1, 9, 9], "label": 1}])  # the fix, not submitted
    assert panel.undo() == i  # the panel's submit is undone too; the fix stays unsaved
    assert panel.canvas.boxes == [{"xyxy": [1.0, 1.0, 9.0, 9.0], "label": 1}]
    assert "with the edit made on it since an earlier undo, kept" in panel.notice.value
    assert panel.redo() is None  # redoing the submit would drop the fix
    assert f"nothing to redo: image {i} was edited since the undo" in panel.error_line.value
    assert panel.dataset.annotation(i) is None
    assert panel.submit() == i  # Enter stores the fix
    assert panel.dataset.annotation(i).xyxy.tolist() == [[1, 1, 9, 9]]


def test_an_edit_in_another_panel_survives_its_undo_of_the_commit_before(panels):
    first = panels("detect")
    second = alw.Panel(first.loop)
    try:
        i = first.current
        send_boxes(first, [{"xyxy": [1, 1, 4, 4], "label": 0}])
        assert first.submit() == i
        first.loop.commit(i, alw.Boxes([[2, 2, 6, 6]], ["dog"]), replace=True)
        assert first.undo() == i
        second.open_image(i)
        send_boxes(second, [{"xyxy": [1, 1, 9, 9], "label": 1}])  # the fix, in the other panel
        assert second.undo() == i
        assert second.submit() == i
        assert second.dataset.annotation(i).xyxy.tolist() == [[1, 1, 9, 9]]
    finally:
        second.close()


def test_redo_after_a_cells_undo_of_a_label_changed_after_an_undo_stores_it_again(panels):
    panel = panels("classify", CentroidLearner(2))
    i = panel.current
    panel.pick(0)
    assert panel.submit() == i
    assert panel.undo() == i  # "cat" comes back
    panel.pick(1)
    assert panel.submit() == i  # "dog" stored instead
    assert panel.loop.undo() == i  # a cell takes "dog" back
    panel.open_image(i)  # untouched since that undo
    assert panel.redo() == i
    assert panel.dataset.annotation(i) == alw.Label("dog")


def test_redo_after_a_cells_undo_of_its_label_of_an_undone_image_shown_stores_it_again(panels):
    panel = panels("classify", CentroidLearner(2))
    i = panel.current
    panel.pick(0)
    assert panel.submit() == i
    assert panel.undo() == i  # "cat" comes back, shown
    panel.pick(1)
    panel.loop.commit(i, alw.Label("dog"))  # a cell labels it
    panel.handle_key({"key": "x"})  # the panel hears of it and moves on
    assert panel.current != i
    assert panel.loop.undo() == i  # the cell takes "dog" back
    panel.open_image(i)  # untouched since that undo
    assert panel.redo() == i
    assert panel.dataset.annotation(i) == alw.Label("dog")


def test_an_undone_box_label_resubmitted_unchanged_keeps_its_difficult_marks(panels):
    panel = panels("detect")
    first = panel.current
    marked = alw.Boxes([[1, 1, 5, 5], [6, 6, 9, 9]], ["cat", "dog"], difficult=[True, False])
    panel.loop.commit(first, marked)
    stored = panel.dataset.annotation(first)
    panel.undo()
    assert panel.submit() == first
    assert panel.dataset.annotation(first) == stored


def test_an_undone_box_label_keeps_the_difficult_mark_of_a_box_left_as_it_was(panels):
    panel = panels("detect")
    first = panel.current
    marked = alw.Boxes([[1, 1, 5, 5], [6, 6, 9, 9]], ["cat", "dog"], difficult=[True, True])
    panel.loop.commit(first, marked)
    panel.undo()
    # the second box moved, a third drawn: only the first is still the box marked difficult
    send_boxes(
        panel,
        [
            {"xyxy": [1.0, 1.0, 5.0, 5.0], "label": 0},
            {"xyxy": [6.0, 6.0, 10.0, 10.0], "label": 1},
            {"xyxy": [2.0, 7.0, 4.0, 9.0], "label": 0},
        ],
    )
    assert panel.submit() == first
    assert panel.dataset.annotation(first).difficult == (True, False, False)


def test_redo_in_one_panel_after_an_edit_in_another_stores_nothing(loop_factory):
    images = np.zeros((6, 12, 12, 3), np.uint8)
    loop = loop_factory(alw.Dataset(images, ["cat", "dog"]), CentroidLearner(2), start=False)
    first, second = alw.Panel(loop), alw.Panel(loop)
    try:
        i = first.current
        first.pick(0)
        assert first.submit() == i
        assert second.undo() == i
        second.pick(1)  # the fix, in the panel that undid it
        assert first.redo() is None
        assert loop.dataset.annotation(i) is None
        assert f"nothing to redo: image {i} was edited since the undo" in first.error_line.value
        assert second.submit() == i
        assert loop.dataset.annotation(i) == alw.Label("dog")
    finally:
        first.close()
        second.close()


def test_redo_in_the_panel_that_undid_after_an_edit_in_another_stores_nothing(panels):
    first = panels("detect")
    second = alw.Panel(first.loop)
    try:
        i = first.current
        send_boxes(first, [{"xyxy": [1, 1, 4, 4], "label": 0}])
        assert first.submit() == i
        assert first.undo() == i
        second.open_image(i)
        send_boxes(second, [{"xyxy": [1, 1, 8, 8], "label": 1}])
        assert first.redo() is None
        assert first.dataset.annotation(i) is None
    finally:
        second.close()


def test_an_undone_image_shown_in_another_panel_untouched_can_be_redone(panels):
    first = panels("detect")
    second = alw.Panel(first.loop)
    try:
        i = first.current
        send_boxes(first, [{"xyxy": [1, 1, 4, 4], "label": 0}])
        first.submit()
        first.undo()
        second.open_image(i)
        assert first.redo() == i
    finally:
        second.close()


def test_redo_of_a_skip_keeps_the_unsaved_boxes_it_left_on_the_image(panels):
    panel = panels("detect")
    i = panel.current
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])  # not submitted
    assert panel.skip() == i  # the skip keeps the boxes on the image
    assert panel.undo() == i
    assert panel.redo() == i  # the skip again
    assert panel.undo() == i
    assert panel.canvas.boxes == [{"xyxy": [1.0, 1.0, 4.0, 4.0], "label": 0}]
    assert "1 unsaved box restored" in panel.notice.value


def test_redo_of_a_skip_keeps_the_boxes_left_unsaved_on_the_image_while_another_is_shown(
    panels,
):
    panel = panels("detect")
    i = panel.current
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])
    assert panel.skip() == i
    following = panel.current
    assert panel.undo() == i
    panel.open_image(following)  # the boxes left unsaved on image i
    assert panel.redo() == i  # the skip again
    assert panel.undo() == i
    assert panel.canvas.boxes == [{"xyxy": [1.0, 1.0, 4.0, 4.0], "label": 0}]


def test_redo_of_a_skip_of_boxes_edited_after_an_earlier_undo_skips_them_again(panels):
    panel = panels("detect")
    i = panel.current
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])
    panel.submit()
    panel.undo()  # the boxes come back to edit
    send_boxes(panel, [{"xyxy": [1, 1, 9, 9], "label": 1}])  # edited, then skipped
    assert panel.skip() == i
    assert panel.undo() == i  # the skip comes back, the edit with it
    assert panel.redo() == i  # nothing was edited since this undo: the skip again
    assert panel.error_line.value == ""
    assert i in panel.loop.skipped
    assert panel.dataset.annotation(i) is None
    assert panel.undo() == i  # the edit is kept on the image
    assert panel.canvas.boxes == [{"xyxy": [1.0, 1.0, 9.0, 9.0], "label": 1}]


def test_the_boxes_a_redone_skip_kept_are_no_edit_when_an_undo_brings_them_back(panels):
    panel = panels("detect")
    i = panel.current
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])
    panel.skip()
    panel.undo()
    panel.redo()
    assert panel.undo() == i  # the boxes come back as the skip left them
    assert panel.redo() == i
    assert i in panel.loop.skipped


def test_redo_refused_after_an_edit_of_a_label_that_replaced_another_says_enter_waits_for_undo(
    panels,
):
    panel = panels("detect")
    i = panel.current
    send_boxes(panel, [{"xyxy": [1, 1, 4, 4], "label": 0}])
    assert panel.submit() == i
    panel.loop.commit(i, alw.Boxes([[2, 2, 6, 6]], ["dog"]), replace=True)  # a cell's fix
    assert panel.undo() == i  # the cell's label comes back to edit; the panel's is stored
    send_boxes(panel, [{"xyxy": [1, 1, 9, 9], "label": 1}])  # the fix, not submitted
    assert panel.redo() is None
    refusal = panel.error_line.value
    assert f"image {i} was edited since the undo" in refusal
    assert "since the undo; Enter stores the edit" not in refusal  # Enter is refused there
    assert "it is still labeled (1 box), so Enter does not store the edit yet" in refusal
    assert "Z undoes the last submits one by one" in refusal
    assert panel.submit() is None  # so it is
    assert panel.undo() == i  # Z takes the panel's label back, the fix kept
    assert panel.submit() == i  # then Enter stores the fix
    assert panel.dataset.annotation(i).xyxy.tolist() == [[1, 1, 9, 9]]
