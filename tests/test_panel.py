"""The labeling panel's logic, driven as the browser would drive it, without a browser."""

import ipywidgets as widgets
import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget import heuristics
from al_widget.widget import keys

from conftest import CentroidLearner

CLASSES = ["dark", "bright"]


@pytest.fixture
def make_panel(loop_factory):
    made = []

    def make(images, task="classify", learner=None, **kwargs):
        ds = alw.Dataset(images, ["bg", "cat", "dog"] if task != "classify" else CLASSES, task=task)
        if learner is None and task == "classify":
            learner = CentroidLearner(2)
        loop = loop_factory(ds, learner, **kwargs)
        panel = alw.Panel(loop)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()


def browser_boxes(panel, boxes):
    canvas = panel.canvas
    canvas._handle_custom_msg(
        {"kind": "boxes", "image_id": canvas.image_id, "boxes": boxes, "drafts": []}, []
    )


def browser_mask(panel, mask):
    canvas = panel.canvas
    content = {
        "kind": "mask",
        "image_id": canvas.image_id,
        "width": canvas.width,
        "height": canvas.height,
    }
    canvas._handle_custom_msg(content, [memoryview(np.ascontiguousarray(mask, np.uint8).tobytes())])


def test_the_panel_shows_the_head_of_the_queue_in_the_tasks_mode(two_class, make_panel):
    panel = make_panel(two_class[0])
    assert panel.current == panel.loop.next()
    assert panel.canvas.mode == "classify"
    assert (panel.canvas.height, panel.canvas.width) == (4, 4)


@pytest.mark.parametrize(("task", "mode"), [("detect", "box"), ("segment", "mask")])
def test_detection_and_segmentation_use_their_canvas_mode_and_start_in_random_order(
    gray_images, make_panel, task, mode
):
    panel = make_panel(gray_images, task=task)
    assert panel.canvas.mode == mode
    assert "picked at random: there is no model yet" in panel.header.value


def test_a_digit_key_labels_and_submits_in_classify_mode(two_class, make_panel):
    panel = make_panel(two_class[0])
    shown = panel.current
    panel.handle_key({"key": "2"})
    assert panel.dataset.annotation(shown) == alw.Label("bright")
    assert panel.current != shown


def test_a_key_equal_to_a_class_name_picks_that_class(make_panel):
    images = np.zeros((5, 3, 3), np.uint8)
    ds = alw.Dataset(images, [str(d) for d in range(10)])
    panel = alw.Panel(alw.ActiveLoop(ds, CentroidLearner(10)))
    try:
        shown = panel.current
        panel.handle_key({"key": "0"})
        assert ds.annotation(shown) == alw.Label("0")
    finally:
        panel.loop.close()
        panel.close()


def test_enter_submits_the_picked_class(two_class, make_panel):
    panel = make_panel(two_class[0])
    shown = panel.current
    panel.pick(0)
    panel.handle_key({"key": "Enter"})
    assert panel.dataset.annotation(shown) == alw.Label("dark")


def test_submit_without_a_class_says_so_and_labels_nothing(two_class, make_panel):
    panel = make_panel(two_class[0])
    panel.picker.value = None
    assert panel.submit() is None
    assert "pick a class first" in panel.error_line.value
    assert len(panel.dataset.labeled) == 0


def test_keys_with_modifiers_are_left_to_the_canvas(two_class, make_panel):
    panel = make_panel(two_class[0])
    shown = panel.current
    panel.handle_key({"key": "z", "ctrlKey": True})
    panel.handle_key({"key": "1", "metaKey": True})
    panel.handle_key({"key": "s", "altKey": True})
    assert len(panel.dataset.labeled) == 0
    assert panel.current == shown


def test_a_digit_past_the_last_class_picks_nothing(two_class, make_panel):
    panel = make_panel(two_class[0])
    shown = panel.current
    panel.handle_key({"key": "3"})
    assert len(panel.dataset.labeled) == 0
    assert panel.current == shown


def test_canvas_keys_do_nothing_over_the_panel(two_class, make_panel):
    panel = make_panel(two_class[0])
    shown = panel.current
    for key in ["b", "a", "r", "Delete", "Escape", " "]:
        panel.handle_key({"key": key})
    assert len(panel.dataset.labeled) == 0
    assert panel.current == shown


def test_the_help_line_lists_the_keys_of_the_panels_canvas_mode(gray_images, make_panel):
    def texts(widget):
        yield str(getattr(widget, "value", ""))
        for child in getattr(widget, "children", ()):
            yield from texts(child)

    panel = make_panel(gray_images, task="segment")
    (help_text,) = [t for t in texts(panel) if "<b>keys</b>" in t]
    assert help_text.endswith(keys.help_html("mask") + "</div>")
    assert "B: brush" in help_text
    assert "Shift+A" not in help_text


def test_a_box_drawn_in_the_browser_is_submitted_in_image_pixels(gray_images, make_panel):
    panel = make_panel(gray_images, task="detect")
    shown = panel.current
    browser_boxes(panel, [{"xyxy": [0.5, 1.0, 4.0, 5.5], "label": 2}])
    panel.handle_key({"key": "Enter"})
    stored = panel.dataset.annotation(shown)
    assert stored.xyxy.tolist() == [[0.5, 1.0, 4.0, 5.5]]
    assert stored.labels == ("dog",)


def test_a_mask_painted_in_the_browser_is_submitted(gray_images, make_panel):
    panel = make_panel(gray_images, task="segment")
    shown = panel.current
    mask = np.zeros((6, 5), np.uint8)
    mask[1:3, 2:4] = 1
    browser_mask(panel, mask)
    panel.submit()
    np.testing.assert_array_equal(panel.dataset.annotation(shown).class_map, mask)


def test_a_malformed_browser_message_changes_nothing(gray_images, make_panel):
    panel = make_panel(gray_images, task="detect")
    browser_boxes(panel, [{"xyxy": [0, 0, 50, 50], "label": 1}])
    assert panel.canvas.boxes == []
    assert panel.canvas.rejected


@pytest.mark.parametrize("event", [{"key": "s"}, {"key": "S", "shiftKey": True}])
def test_s_skips_the_image(two_class, make_panel, event):
    panel = make_panel(two_class[0])
    shown = panel.current
    panel.handle_key(event)
    assert shown in panel.loop.skipped
    assert panel.current != shown


def test_z_brings_back_the_last_submission_with_its_annotation(gray_images, make_panel):
    panel = make_panel(gray_images, task="detect")
    shown = panel.current
    browser_boxes(panel, [{"xyxy": [1, 1, 3, 3], "label": 1}])
    panel.submit()
    panel.handle_key({"key": "z"})
    assert panel.current == shown
    assert panel.dataset.annotation(shown) is None
    assert panel.canvas.boxes == [{"xyxy": [1.0, 1.0, 3.0, 3.0], "label": 1}]


def test_a_second_submit_for_the_image_already_submitted_is_ignored(two_class, make_panel):
    panel = make_panel(two_class[0])
    first, shown_id = panel.current, panel.canvas.image_id
    panel.pick(0)
    assert panel.submit(image_id=shown_id) == first
    assert panel.submit(image_id=shown_id) is None  # a double click: made on the same image
    assert "ignored a second submit" in panel.notice.value
    assert panel.dataset.labeled.tolist() == [first]


def test_a_second_skip_key_for_the_image_already_skipped_is_ignored(two_class, make_panel):
    panel = make_panel(two_class[0])
    first, shown_id = panel.current, panel.canvas.image_id
    panel.handle_key({"key": "s", "image_id": shown_id})
    second = panel.current
    panel.handle_key({"key": "s", "image_id": shown_id})
    assert second != first
    assert panel.current == second


def test_keys_pressed_as_fast_as_the_images_come_are_all_taken(two_class, make_panel):
    images, labels = two_class
    panel = make_panel(images)
    labeled = []
    for _ in range(20):
        labeled.append(panel.current)
        key = CLASSES[int(labels[panel.current])]  # a class named as a key picks it
        panel.handle_key({"key": key, "image_id": panel.canvas.image_id})
    assert panel.dataset.labeled.tolist() == sorted(labeled)
    assert all(panel.dataset.annotation(i).cls == CLASSES[labels[i]] for i in labeled)


def test_the_queue_strip_shows_the_next_images_without_the_current_one(two_class, make_panel):
    panel = make_panel(two_class[0])
    shown = panel.queue_strip.indices
    assert len(shown) == 8
    assert panel.current not in shown
    assert shown == [i for i in panel.loop.queue.tolist() if i != panel.current][:8]


def test_clicking_a_thumbnail_opens_that_image(two_class, make_panel):
    panel = make_panel(two_class[0])
    third = panel.queue_strip.indices[2]
    panel.queue_strip.open_slot(2)
    assert panel.current == third


def test_a_new_ranking_refreshes_the_queue_but_keeps_the_image_being_labeled(two_class, make_panel):
    images, labels = two_class
    panel = make_panel(images, query_size=2)
    for _ in range(2):
        panel.pick(int(labels[panel.current]))
        panel.submit()
    being_labeled = panel.current
    assert panel.loop.wait(10)
    assert panel.current == being_labeled
    assert "v1" in panel.queue_strip.captions[0]
    assert "model v1" in panel.status.value


def test_the_model_prediction_is_preselected_after_a_round(two_class, make_panel):
    images, labels = two_class
    panel = make_panel(images, query_size=4, pool_sample=None)
    for _ in range(4):
        panel.pick(int(labels[panel.current]))
        panel.submit()
    assert panel.loop.wait(10)
    nxt = panel.queue_strip.indices[0]
    panel.open_image(nxt)
    assert panel.picker.value == panel.loop.ranking.predicted_of(nxt)


def test_the_heuristic_and_pool_sample_change_live(two_class, make_panel):
    panel = make_panel(two_class[0])
    panel.heuristic_picker.value = "entropy"
    panel.pool_picker.label = "whole pool"
    assert panel.loop.heuristic == "entropy"
    assert panel.loop.pool_sample is None


def test_the_whole_pool_stays_shown_once_chosen(two_class, make_panel):
    panel = make_panel(two_class[0])
    panel.pool_picker.label = "whole pool"
    assert panel.pool_picker.label == "whole pool"
    assert panel.pool_picker.index == len(panel.pool_picker.options) - 1


def test_a_loop_scoring_the_whole_pool_opens_with_whole_pool_shown(two_class, make_panel):
    panel = make_panel(two_class[0], pool_sample=None)
    assert panel.pool_picker.label == "whole pool"


def test_a_heuristic_registered_in_a_cell_appears_in_the_picker_at_once(two_class, make_panel):
    panel = make_panel(two_class[0])
    heuristics.register("cell_made")(lambda p: np.zeros(len(p)))
    try:
        assert "cell_made" in panel.heuristic_picker.options
        panel.heuristic_picker.value = "cell_made"
        assert panel.loop.heuristic == "cell_made"
    finally:
        heuristics.unregister("cell_made")


def test_a_removed_heuristic_leaves_the_picker(two_class, make_panel):
    panel = make_panel(two_class[0])
    heuristics.register("short_lived")(lambda p: np.zeros(len(p)))
    heuristics.unregister("short_lived")
    assert "short_lived" not in panel.heuristic_picker.options


def test_a_failed_round_shows_on_the_panel_and_labeling_goes_on(two_class, make_panel):
    class Broken(CentroidLearner):
        def fit(self, *args):
            raise RuntimeError("fit exploded")

    panel = make_panel(two_class[0], learner=Broken(2), query_size=1)
    panel.pick(0)
    panel.submit()
    assert panel.loop.wait(10)
    assert "round 1 failed: RuntimeError: fit exploded" in panel.error_line.value
    assert panel.progress.bar_style == "danger"
    panel.pick(1)
    assert panel.submit() is not None


def test_an_image_that_fails_to_decode_shows_an_error_and_the_next_loads(tmp_path, loop_factory):
    paths = []
    for i in range(3):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((4, 4), 50 * i, np.uint8)).save(path)
        paths.append(path)
    loop = loop_factory(alw.Dataset(paths, CLASSES), CentroidLearner(2))
    broken = loop.next()
    paths[broken].write_bytes(b"garbage")
    panel = alw.Panel(loop)
    try:
        assert panel.current is not None
        assert panel.current != broken
        assert f"image {broken}" in panel.error_line.value
        assert "could not be decoded" in panel.error_line.value
        assert broken in loop.broken
    finally:
        panel.close()


def test_the_learning_curve_grows_with_rounds(two_class, make_panel):
    images, labels = two_class
    panel = make_panel(images[:40], query_size=2, eval_set=(images[40:], labels[40:]))
    assert "appears after the first rounds" in panel.curve.value
    for _ in range(2):
        for _ in range(2):
            panel.pick(int(labels[panel.current]))
            panel.submit()
        assert panel.loop.wait(10)
    panel._refresh_state()
    assert panel.curve.value.startswith("<svg")
    assert "test accuracy" in panel.curve.value
    assert panel.curve.value.count("<circle") == 2


def test_the_stopping_criterion_and_how_close_it_is_are_shown(two_class, make_panel):
    panel = make_panel(two_class[0], budget=4)
    panel.pick(0)
    panel.submit()
    assert "budget 1 / 4 (25%)" in panel.stop_line.value


def test_when_the_pool_is_exhausted_the_panel_says_so(make_panel):
    panel = make_panel(np.zeros((2, 3, 3), np.uint8))
    panel.pick(0)
    panel.submit()
    panel.pick(0)
    panel.submit()
    assert panel.current is None
    assert "Nothing left to label" in panel.header.value


def test_a_full_disk_on_submit_says_why_and_keeps_the_image(
    tmp_path, two_class, monkeypatch, loop_factory
):
    import errno

    from al_widget import _journal

    images, _ = two_class
    loop = loop_factory(
        alw.Dataset(images, CLASSES, journal=tmp_path / "j.jsonl"), CentroidLearner(2)
    )
    panel = alw.Panel(loop)
    shown = panel.current

    def fail(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_journal, "_write_fd", fail)
    panel.pick(0)
    assert panel.submit() is None
    assert "No space left on device" in panel.error_line.value
    assert "the change was not made" in panel.error_line.value
    assert panel.current == shown
    monkeypatch.undo()
    panel.pick(0)
    assert panel.submit() == shown
    panel.close()


def test_unsaved_boxes_come_back_after_a_skip_is_undone(gray_images, make_panel):
    panel = make_panel(gray_images, task="detect")
    shown = panel.current
    browser_boxes(panel, [{"xyxy": [1, 1, 3, 3], "label": 2}])
    panel.skip()
    panel.undo()
    assert panel.current == shown
    assert panel.canvas.boxes == [{"xyxy": [1.0, 1.0, 3.0, 3.0], "label": 2}]
    assert "1 unsaved box restored" in panel.notice.value


def test_unsaved_boxes_come_back_after_opening_another_image(gray_images, make_panel):
    panel = make_panel(gray_images, task="detect")
    shown = panel.current
    panel.pick(1)
    browser_boxes(panel, [{"xyxy": [1, 1, 3, 3], "label": 1}])
    panel.open_image(panel.queue_strip.indices[0])
    panel.open_image(shown)
    assert panel.canvas.boxes == [{"xyxy": [1.0, 1.0, 3.0, 3.0], "label": 1}]
    assert panel.picker.value == 1


def test_shift_z_redoes_an_undone_submit(gray_images, make_panel):
    panel = make_panel(gray_images, task="detect")
    shown = panel.current
    browser_boxes(panel, [{"xyxy": [1, 1, 3, 3], "label": 1}])
    panel.submit()
    panel.handle_key({"key": "z"})
    assert panel.dataset.annotation(shown) is None
    panel.handle_key({"key": "Z", "shiftKey": True})
    assert panel.dataset.annotation(shown).xyxy.tolist() == [[1.0, 1.0, 3.0, 3.0]]
    assert panel.current != shown


def test_an_undone_submit_left_unedited_comes_back_again_later(two_class, make_panel):
    panel = make_panel(two_class[0])
    first = panel.current
    panel.handle_key({"key": "2"})
    second = panel.current
    panel.handle_key({"key": "1"})
    panel.undo()
    panel.undo()
    assert panel.current == first
    panel.open_image(second)
    assert panel.picker.value == 0  # its undone label, preselected


def test_after_the_last_image_the_canvas_is_finished_and_submit_says_so(make_panel):
    panel = make_panel(np.zeros((1, 3, 3), np.uint8))
    panel.pick(0)
    panel.submit()
    assert panel.canvas.finished
    assert "raise the budget" in panel.header.value
    assert panel.submit() is None
    assert "nothing to submit" in panel.error_line.value
    panel.undo()
    assert panel.canvas.finished == ""


def test_segmentation_offers_the_classes_after_the_background(gray_images, make_panel):
    panel = make_panel(gray_images, task="segment")
    assert [v for _, v in panel.picker.options] == [1, 2]
    assert panel.picker.value == 1
    assert panel.canvas.active_class == 1
    panel.handle_key({"key": "2"})
    assert panel.canvas.active_class == 2


def test_the_status_numbers_rounds_as_the_progress_bar_does(two_class, make_panel):
    panel = make_panel(two_class[0])
    assert panel.status.value.startswith("0 rounds done")
    panel._news.round_started(1)
    assert panel.progress.description == "round 1"


def test_the_learning_curve_sizes_to_its_column_with_whole_label_ticks(two_class, make_panel):
    from al_widget._svg import line_chart

    svg = line_chart({"a": ([10], [0.5], None)}, x_label="labels", y_label="y")
    assert 'width="100%"' in svg
    assert "viewBox" in svg
    assert ">10.2<" not in svg
    assert ">10<" in svg


def test_a_segmentation_whose_class_0_is_no_background_warns(gray_images):
    with pytest.warns(UserWarning, match="class 0 .'building'. is the background"):
        alw.Dataset(gray_images, ["building", "flower"], task="segment")


def test_a_labeled_mask_with_void_opens_with_it_and_submits_it_unchanged(gray_images, make_panel):
    panel = make_panel(gray_images, task="segment")
    void = np.zeros((6, 5), np.uint8)
    void[1:5, 1:4] = alw.Mask.IGNORE
    void[2:4, 2] = 2
    panel.dataset.annotate(7, alw.Mask(void))
    panel.open_image(7)
    np.testing.assert_array_equal(panel.canvas.mask_array(), void)
    panel.submit()
    np.testing.assert_array_equal(panel.dataset.annotation(7).class_map, void)


def test_a_segmentation_panel_has_a_legend_for_void(gray_images, make_panel):
    panel = make_panel(gray_images, task="segment")
    assert "void / not labeled" in panel.void_legend.value


def test_segmentation_tool_buttons_show_the_background_name_as_written(gray_images, loop_factory):
    # ToggleButtons escapes its labels in the browser and tooltips are attributes: the panel
    # hands them plain text, or "&lt;" would show literally.
    with pytest.warns(UserWarning, match="is the background"):
        ds = alw.Dataset(gray_images, ["<b>&co", "cat"], task="segment")
    panel = alw.Panel(loop_factory(ds, None))
    try:
        found = [w for w in _descendants(panel) if isinstance(w, widgets.ToggleButtons)]
        tools = next(w for w in found if "eraser" in w._options_values)
        assert list(tools._options_labels) == ["brush", "eraser (<b>&co)", "polygon"]
        assert tools.tooltips[1] == "E: paints <b>&co, the background"
    finally:
        panel.close()


def _descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


def test_skipping_a_labeled_image_opened_again_is_refused_and_said(gray_images, make_panel):
    panel = make_panel(gray_images)
    panel.dataset.annotate(7, alw.Label(CLASSES[0]))
    panel.open_image(7)
    assert panel.skip() is None
    assert "not skipped: image 7 is already labeled" in panel.error_line.value
    assert panel.loop.skipped == frozenset()
    assert panel.current == 7


def test_an_edit_arriving_as_the_budget_is_reached_is_kept_and_stored_past_it(
    gray_images, make_panel
):
    panel = make_panel(gray_images, task="detect")
    shown = panel.current
    one = {"xyxy": [1.0, 1.0, 3.0, 3.0], "label": 1}
    two = {"xyxy": [2.0, 3.0, 4.0, 5.0], "label": 2}
    browser_boxes(panel, [one])
    other = next(int(i) for i in panel.loop.queue if int(i) != shown)
    panel.loop.commit(other, alw.Boxes([[0, 0, 2, 2]], ["cat"]))
    panel.loop.budget = 1  # reached from a cell: the canvas dims
    assert panel.canvas.finished
    browser_boxes(panel, [one, two])  # drawn before the browser dimmed
    assert panel.canvas.boxes == [one, two]
    panel.continue_past_budget()
    panel.handle_key({"key": "Enter", "image_id": panel.canvas.image_id, "shown": str(shown)})
    assert panel.dataset.annotation(shown).xyxy.tolist() == [one["xyxy"], two["xyxy"]]


def test_after_a_refused_edit_enter_stores_what_the_browser_was_sent_back_to(
    gray_images, make_panel
):
    panel = make_panel(gray_images, task="detect")
    shown = panel.current
    one = {"xyxy": [1.0, 1.0, 3.0, 3.0], "label": 1}
    browser_boxes(panel, [one])
    browser_boxes(panel, [one, {"xyxy": [2, 3, 4, 5], "label": 7}])  # no class 7: refused
    assert panel.canvas.loaded_boxes == [one]  # the browser starts afresh from these
    panel.handle_key({"key": "Enter", "image_id": panel.canvas.image_id, "shown": str(shown)})
    assert panel.dataset.annotation(shown).xyxy.tolist() == [one["xyxy"]]
