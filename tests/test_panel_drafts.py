"""The detection and segmentation panels' drafts: their confidence, the threshold they are shown
from (calibrated, or set by hand), rejected or dropped undecided, and what they saved."""

import numpy as np
import pytest

import al_widget as alw
from al_widget.widget import draftbar

from conftest import NOISE_SCORE, SQUARE_SCORE, BrightIsSquare, SquareAndNoise


def squares(n, seed=0):
    """Dark 24 x 24 images, each with one bright 8 x 8 square, and its box."""
    rng = np.random.default_rng(seed)
    images, boxes = np.zeros((n, 24, 24, 3), np.uint8), []
    for k in range(n):
        y, x = (int(v) for v in rng.integers(4, 16, size=2))
        images[k, y : y + 8, x : x + 8] = 200
        boxes.append(alw.Boxes([[x, y, x + 8, y + 8]], ["square"]))
    return images, boxes


@pytest.fixture
def panel(loop_factory):
    """A detection panel on an image with two drafts: the square (0.9) and noise (0.2); no
    submitted image has been compared with drafts yet."""
    images, boxes = squares(12)
    ds = alw.Dataset(images, ["square"], task="detect")
    ds.annotate(0, boxes[0])
    loop = loop_factory(ds, SquareAndNoise(), pool_sample=None, query_size=1)
    loop.retrain()
    assert loop.wait(10)
    made = alw.Panel(loop)
    made.truth = boxes
    yield made
    made.close()


def send_boxes(panel, boxes, drafts):
    """The browser's message after an edit: these boxes and drafts on the image shown."""
    canvas = panel.canvas
    content = {"kind": "boxes", "image_id": canvas.image_id, "boxes": boxes, "drafts": drafts}
    canvas.comm.handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


def test_each_box_draft_reaches_the_canvas_with_its_confidence_most_confident_first(panel):
    assert [d["score"] for d in panel.canvas.drafts] == [SQUARE_SCORE, NOISE_SCORE]
    confidences = panel.loop.draft_confidences(panel.current)
    assert sorted(confidences.tolist(), reverse=True) == [SQUARE_SCORE, NOISE_SCORE]


def test_no_draft_is_shown_before_drafts_have_been_worth_it(panel):
    assert panel.loop.draft_threshold is None
    assert panel.canvas.draft_threshold is None
    assert "no drafts yet" in panel.draft_bar.line.value


def test_the_canvas_shows_drafts_from_the_calibrated_threshold_after_submits(panel):
    i = panel.current
    square = panel.truth[i]
    send_boxes(panel, [{"xyxy": square.xyxy[0].tolist(), "label": 0}], [])
    assert panel.submit() == i
    # Half the drafts (the square's) were right: drafts are worth showing from the lowest.
    assert panel.loop.draft_threshold == pytest.approx(NOISE_SCORE)
    assert panel.canvas.draft_threshold == pytest.approx(NOISE_SCORE)
    assert "drafts from 0.20: 50 % of those kept lately" in panel.draft_bar.line.value


def test_the_slider_sets_the_threshold_by_hand_and_calibrated_goes_back(panel):
    bar = panel.draft_bar
    bar.slider.value = 0.15
    assert panel.canvas.draft_threshold == pytest.approx(0.15)
    assert "set by hand" in bar.line.value
    assert not bar.calibrated.disabled
    bar.calibrated.click()
    assert panel.canvas.draft_threshold is None
    assert "set by hand" not in bar.line.value
    assert bar.calibrated.disabled


def test_comma_lowers_and_period_raises_the_threshold_by_hand(panel):
    panel.draft_bar.slider.value = 0.5
    panel.handle_key({"key": ","})
    assert panel.canvas.draft_threshold == pytest.approx(0.45)
    panel.handle_key({"key": "."})
    panel.handle_key({"key": "."})
    assert panel.canvas.draft_threshold == pytest.approx(0.55)
    assert panel.draft_bar.slider.value == pytest.approx(0.55)


def test_a_threshold_set_by_hand_outlasts_recalibration(panel):
    panel.draft_bar.slider.value = 0.1
    i = panel.current
    send_boxes(panel, [{"xyxy": panel.truth[i].xyxy[0].tolist(), "label": 0}], [])
    panel.submit()
    assert panel.loop.draft_threshold is not None
    assert panel.canvas.draft_threshold == pytest.approx(0.1)


def test_submit_with_undecided_drafts_stores_only_the_boxes_drawn_and_says_how_many_dropped(panel):
    panel.draft_bar.slider.value = 0.0  # both drafts shown
    i = panel.current
    drafts = panel.canvas.drafts
    drawn = {"xyxy": [10.0, 10.0, 14.0, 14.0], "label": 0}
    send_boxes(panel, [drawn], drafts)
    assert panel.submit() == i
    stored = panel.loop.dataset.annotation(i)
    assert stored.xyxy.tolist() == [drawn["xyxy"]]
    assert "2 undecided drafts dropped" in panel.notice.value
    assert panel.error_line.value == ""


def test_drafts_hidden_below_the_threshold_are_neither_stored_nor_counted_as_dropped(panel):
    panel.draft_bar.slider.value = 0.5  # the square's draft shown, the noise hidden
    i = panel.current
    send_boxes(panel, [{"xyxy": [10.0, 10.0, 14.0, 14.0], "label": 0}], panel.canvas.drafts)
    assert panel.submit() == i
    assert len(panel.loop.dataset.annotation(i)) == 1
    assert "1 undecided draft dropped" in panel.notice.value


def test_submit_with_only_undecided_drafts_is_refused_naming_accept_and_no_objects(panel):
    panel.draft_bar.slider.value = 0.0
    i = panel.current
    assert panel.submit() is None
    assert "accept drafts (A, or Shift+A for all)" in panel.error_line.value
    assert "press N" in panel.error_line.value
    assert panel.loop.dataset.annotation(i) is None


def test_no_objects_drops_the_undecided_drafts(panel):
    panel.draft_bar.slider.value = 0.0
    i = panel.current
    assert panel.submit_no_objects() == i
    assert len(panel.loop.dataset.annotation(i)) == 0
    assert "2 undecided drafts dropped" in panel.notice.value


def accept_the_square(panel):
    """Show the square's draft only (the noise hidden) and accept it as is, as the browser
    would; the image and the draft."""
    panel.draft_bar.slider.value = 0.5
    i = panel.current
    square, noise = panel.canvas.drafts
    send_boxes(panel, [{"xyxy": square["xyxy"], "label": 0}], [noise])
    return i, square


def test_a_submit_tells_the_loop_the_drafts_shown_so_savings_count_them(panel):
    i, _ = accept_the_square(panel)
    assert panel.submit() == i
    savings = panel.loop.draft_savings
    assert (savings.accepted, savings.deleted, savings.drawn) == (1, 0, 0)
    assert "drafts saved 1 of 1 object (2 clicks)" in panel.draft_bar.line.value


def test_a_draft_accepted_then_left_counts_as_accepted_when_its_image_is_submitted_later(panel):
    i, _ = accept_the_square(panel)
    j = next(k for k in panel.loop.queue if k != i)
    panel.open_image(j)
    panel.open_image(i)  # the accepted box comes back as work
    assert panel.submit() == i
    savings = panel.loop.draft_savings
    assert (savings.accepted, savings.deleted, savings.drawn) == (1, 0, 0)


def test_a_submit_undone_and_made_again_counts_the_drafts_it_was_shown(panel):
    i, _ = accept_the_square(panel)
    assert panel.submit() == i
    assert panel.undo() == i  # the box comes back, to edit
    assert panel.loop.draft_savings == alw.drafts.Savings()
    assert panel.submit() == i
    savings = panel.loop.draft_savings
    assert (savings.accepted, savings.deleted, savings.drawn) == (1, 0, 0)


def test_a_redo_counts_the_drafts_the_commit_was_shown(panel):
    i, square = accept_the_square(panel)
    assert panel.submit() == i
    first = panel.loop.draft_savings
    panel.undo()
    assert panel.loop.undone_drafts.xyxy.tolist() == [square["xyxy"]]
    assert panel.redo() == i
    assert panel.loop.draft_savings == first


def test_drafts_rejected_count_as_deleted_and_cost_a_click_each(panel):
    panel.draft_bar.slider.value = 0.0
    i = panel.current
    send_boxes(panel, [{"xyxy": [20.0, 0.0, 23.0, 3.0], "label": 0}], [])  # Shift+Del, a box
    assert panel.submit() == i
    savings = panel.loop.draft_savings
    assert (savings.accepted, savings.deleted, savings.clicks) == (0, 2, -2)
    assert "(2 clicks lost deleting wrong drafts)" in panel.draft_bar.line.value


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(None, [2]), (0.5, [0, 2]), (0.1, [0, 1, 2])],
)
def test_drafts_are_shown_at_or_above_the_threshold_and_without_a_score_always(threshold, expected):
    drafts = [
        {"xyxy": [0, 0, 1, 1], "label": 0, "score": 0.5},
        {"xyxy": [0, 0, 1, 1], "label": 0, "score": 0.2},
        {"xyxy": [0, 0, 1, 1], "label": 0},
    ]
    assert draftbar.shown(drafts, threshold) == [drafts[k] for k in expected]


def test_a_draft_at_a_threshold_of_more_than_four_decimals_is_shown():
    confidences = np.array([0.87651234, 0.23451234])
    boxes = alw.Boxes([[0, 0, 4, 4], [5, 5, 9, 9]], ["square", "square"])
    drafts = draftbar.draft_dicts(boxes, confidences, ["square"])
    assert len(draftbar.shown(drafts, float(confidences[1]))) == 2


@pytest.fixture
def mask_panel(loop_factory):
    """A segmentation panel on an image loaded with the model's mask of its square, a draft."""
    images, _ = squares(8)
    ds = alw.Dataset(images, ["background", "square"], task="segment")
    ds.annotate(0, alw.Mask((images[0, ..., 0] > 100).astype(np.uint8)))
    loop = loop_factory(ds, BrightIsSquare(), pool_sample=None, query_size=1)
    loop.retrain()
    assert loop.wait(10)
    made = alw.Panel(loop)
    made.draft_bar.set_by_hand(0.5)  # mask drafts shown, before any calibration
    yield made
    made.close()


def send_to_canvas(panel, content, buffers=()):
    panel.canvas._handle_custom_msg({"image_id": panel.canvas.image_id, **content}, list(buffers))


def test_the_models_mask_is_loaded_as_a_draft(mask_panel):
    i = mask_panel.current
    assert mask_panel.canvas.mask_draft
    draft = mask_panel.loop.prediction(i).class_map
    np.testing.assert_array_equal(mask_panel.canvas.mask_array(), draft)


def test_enter_does_not_store_an_untouched_mask_draft(mask_panel):
    i = mask_panel.current
    assert mask_panel.submit() is None
    assert "the model's mask is a draft, not stored: accept it (A)" in (
        mask_panel.error_line.value.replace("&#x27;", "'")
    )
    assert mask_panel.loop.dataset.annotation(i) is None


def test_an_accepted_mask_draft_is_stored_as_it_is(mask_panel):
    i = mask_panel.current
    draft = mask_panel.loop.prediction(i).class_map
    send_to_canvas(mask_panel, {"kind": "mask_accept"})
    assert not mask_panel.canvas.mask_draft
    assert mask_panel.submit() == i
    np.testing.assert_array_equal(mask_panel.loop.dataset.annotation(i).class_map, draft)
    assert mask_panel.loop.draft_savings.accepted == 1


def test_a_mask_draft_painted_over_is_stored_with_the_stroke(mask_panel):
    i = mask_panel.current
    expected = mask_panel.loop.prediction(i).class_map.copy()
    expected[0:2, 0:2] = 1
    patch = {"kind": "mask_patch", "rect": [0, 0, 2, 2], "encoding": "raw"}
    send_to_canvas(mask_panel, patch, [bytes([1]) * 4])
    assert not mask_panel.canvas.mask_draft
    assert mask_panel.submit() == i
    np.testing.assert_array_equal(mask_panel.loop.dataset.annotation(i).class_map, expected)


def test_n_stores_all_background_over_a_mask_draft(mask_panel):
    i = mask_panel.current
    mask_panel.handle_key({"key": "n"})
    stored = mask_panel.loop.dataset.annotation(i).class_map
    assert stored.shape == (24, 24)
    assert not stored.any()
    assert mask_panel.loop.draft_savings.deleted == 1  # the square's region, shown and dropped


def test_no_mask_draft_is_shown_before_drafts_have_been_worth_it(mask_panel):
    mask_panel.draft_bar.use_calibrated()
    assert mask_panel.loop.draft_threshold is None
    assert not mask_panel.canvas.mask_draft
    assert not mask_panel.canvas.mask_array().any()


def test_a_threshold_above_a_regions_confidence_hides_it_and_a_lower_one_shows_it_again(
    mask_panel,
):
    i = mask_panel.current
    mask_panel.draft_bar.set_by_hand(0.92)  # the square's region: confidence 0.9
    assert not mask_panel.canvas.mask_draft
    assert not mask_panel.canvas.mask_array().any()
    assert mask_panel.current == i
    mask_panel.handle_key({"key": ","})  # 0.87: shown again
    assert mask_panel.draft_bar.threshold == pytest.approx(0.87)
    assert mask_panel.canvas.mask_draft
    draft = mask_panel.loop.prediction(i).class_map
    np.testing.assert_array_equal(mask_panel.canvas.mask_array(), draft)


def test_a_new_threshold_leaves_an_accepted_mask_draft_as_it_is(mask_panel):
    draft = mask_panel.canvas.mask_array()
    send_to_canvas(mask_panel, {"kind": "mask_accept"})
    mask_panel.draft_bar.set_by_hand(0.95)
    np.testing.assert_array_equal(mask_panel.canvas.mask_array(), draft)


def test_a_new_threshold_leaves_what_was_painted_on_a_hidden_draft_as_it_is(mask_panel):
    mask_panel.draft_bar.set_by_hand(0.95)
    patch = {"kind": "mask_patch", "rect": [0, 0, 2, 2], "encoding": "raw"}
    send_to_canvas(mask_panel, patch, [bytes([1]) * 4])
    mask_panel.draft_bar.set_by_hand(0.5)
    assert not mask_panel.canvas.mask_draft
    assert mask_panel.canvas.mask_array().sum() == 4


def test_redo_of_a_skip_is_made_after_a_new_threshold_redrafts_the_image_it_brought_back(
    mask_panel,
):
    i = mask_panel.current
    assert mask_panel.skip() == i
    assert mask_panel.undo() == i  # back with the model's mask, a draft
    mask_panel.draft_bar.set_by_hand(0.95)  # above the region's confidence: no draft now
    mask_panel.handle_key({"key": ","})  # 0.9: the draft again
    mask_panel.handle_key({"key": "."})  # 0.95: none again
    assert not mask_panel.canvas.mask_draft
    assert mask_panel.redo() == i
    assert i in mask_panel.loop.skipped


def test_redo_of_a_skip_is_made_when_the_image_it_brought_back_reopens_at_a_new_threshold(
    mask_panel,
):
    i = mask_panel.current
    mask_panel.skip()
    mask_panel.undo()
    other = next(k for k in mask_panel.loop.queue.tolist() if k != i)
    mask_panel.open_image(other)
    mask_panel.draft_bar.set_by_hand(0.95)
    mask_panel.open_image(i)  # no draft at that threshold
    assert mask_panel.redo() == i


def test_redo_of_a_skip_after_an_edit_of_the_image_then_a_new_threshold_keeps_the_edit(
    mask_panel,
):
    i = mask_panel.current
    mask_panel.skip()
    mask_panel.undo()
    patch = {"kind": "mask_patch", "rect": [0, 0, 2, 2], "encoding": "raw"}
    send_to_canvas(mask_panel, patch, [bytes([1]) * 4])
    mask_panel.draft_bar.set_by_hand(0.95)
    edited = mask_panel.canvas.mask_array().copy()
    assert mask_panel.redo() == i  # a redone skip stores nothing: the edit stays on the image
    assert i in mask_panel.loop.skipped
    assert mask_panel.undo() == i
    assert np.array_equal(mask_panel.canvas.mask_array(), edited)
    assert "an unsaved mask restored" in mask_panel.notice.value


def test_a_mask_accept_outside_mask_mode_is_refused(panel):
    send_to_canvas(panel, {"kind": "mask_accept"})
    assert "a mask_accept message needs the canvas in 'mask' mode" in panel.canvas.rejected[-1]


def test_a_segmentation_panels_brush_counts_screen_pixels(mask_panel):
    assert mask_panel.canvas.brush_screen
    assert not alw.widget.canvas.Canvas().brush_screen  # a canvas alone: image pixels


def test_work_restored_on_an_image_is_counted_against_its_own_mask_draft(mask_panel):
    i = mask_panel.current
    patch = {"kind": "mask_patch", "rect": [0, 0, 2, 2], "encoding": "raw"}
    send_to_canvas(mask_panel, patch, [bytes([1]) * 4])  # the work left on image i
    j = next(k for k in mask_panel.loop.queue if k != i)
    mask_panel.open_image(j)  # opens with its own mask draft
    assert mask_panel.canvas.mask_draft
    mask_panel.open_image(i)  # the painted draft comes back, as work: no draft shown
    assert not mask_panel.canvas.mask_draft
    assert mask_panel.submit() == i
    # i's draft, painted over: adjusted (against j's draft or none it would count as drawn)
    assert mask_panel.loop.draft_savings == alw.drafts.Savings(adjusted=1)


def test_a_mask_draft_accepted_then_left_is_still_accepted_when_reopened(mask_panel):
    i = mask_panel.current
    draft = mask_panel.loop.prediction(i).class_map
    send_to_canvas(mask_panel, {"kind": "mask_accept"})
    j = next(k for k in mask_panel.loop.queue if k != i)
    mask_panel.open_image(j)
    mask_panel.open_image(i)
    assert "the model's mask draft restored" not in mask_panel.notice.value
    assert "an unsaved mask restored" in mask_panel.notice.value
    assert not mask_panel.canvas.mask_draft
    assert mask_panel.submit() == i
    np.testing.assert_array_equal(mask_panel.loop.dataset.annotation(i).class_map, draft)
    assert mask_panel.loop.draft_savings == alw.drafts.Savings(accepted=1)


def test_an_accepted_mask_draft_submitted_undone_and_submitted_again_counts_as_accepted(
    mask_panel,
):
    i = mask_panel.current
    send_to_canvas(mask_panel, {"kind": "mask_accept"})
    assert mask_panel.submit() == i
    assert mask_panel.undo() == i
    assert mask_panel.submit() == i
    assert mask_panel.loop.draft_savings == alw.drafts.Savings(accepted=1)


def test_the_undo_stack_keeps_the_drafts_shown_of_the_last_ten_commits_only(loop_factory):
    images, boxes = squares(12)
    ds = alw.Dataset(images, ["square"], task="detect")
    loop = loop_factory(ds, SquareAndNoise(), pool_sample=None, query_size=1, start=False)
    for i in range(11):
        loop.commit(i, boxes[i], shown=boxes[i])
    for _ in range(10):
        loop.undo()
    assert loop.undone_drafts.xyxy.tolist() == boxes[1].xyxy.tolist()  # the 10th newest commit
    assert loop.undo() == 0
    assert loop.undone_drafts is None  # the 11th: its label comes back, not its drafts
