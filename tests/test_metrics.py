import numpy as np
import pytest

from al_widget.metrics import confusion, mean_iou


def test_confusion_counts_true_classes_by_row_and_predictions_by_column():
    truth = np.array([[0, 0], [1, 2]])
    predicted = np.array([[0, 1], [1, 1]])
    np.testing.assert_array_equal(confusion(predicted, truth, 3), [[1, 1, 0], [0, 1, 0], [0, 1, 0]])


def test_confusion_sums_over_class_maps_of_different_sizes():
    truth = [np.zeros((2, 3), np.uint8), np.ones((4, 1), np.uint8)]
    predicted = [np.zeros((2, 3), np.uint8), np.zeros((4, 1), np.uint8)]
    np.testing.assert_array_equal(confusion(predicted, truth, 2), [[6, 0], [4, 0]])


def test_confusion_counts_every_pixel_of_a_photo_sized_class_map():
    truth = np.zeros((3000, 4000), np.uint8)
    truth[:1000] = 1
    truth[2999, 3999] = 255  # the last pixel is not labeled
    predicted = np.zeros_like(truth)
    predicted[:, :1] = 1  # the first column
    expected = [[2000 * 4000 - 1 - 2000, 2000], [1000 * 3999, 1000]]
    np.testing.assert_array_equal(confusion(predicted, truth, 2), expected)


def test_confusion_takes_class_ids_of_any_integer_dtype():
    truth = np.array([0, 1, 255, 1], np.uint8)
    for dtype in (np.uint64, np.int32, bool):
        counts = confusion(np.array([0, 1, 1, 0]).astype(dtype), truth, 2)
        assert counts.tolist() == [[1, 0], [1, 1]], dtype


def test_a_perfect_prediction_has_mean_iou_one():
    truth = np.random.default_rng(0).integers(0, 4, (3, 16, 16))
    assert mean_iou(truth.copy(), truth, 4) == 1.0


def test_mean_iou_matches_a_hand_computed_case():
    truth = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 2, 2])
    # class 0: 2 / (3 + 2 - 2); class 1: 1 / (2 + 2 - 1); class 2: 1 / (1 + 2 - 1)
    assert mean_iou(predicted, truth, 3) == pytest.approx((2 / 3 + 1 / 3 + 1 / 2) / 3)


def test_a_class_absent_from_both_prediction_and_truth_is_left_out_of_the_mean():
    truth = np.array([0, 0, 1, 1])
    predicted = np.array([0, 0, 1, 0])
    # class 0: 2 / 3, class 1: 1 / 2; classes 2 and 3 appear nowhere
    assert mean_iou(predicted, truth, 4) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_a_class_present_only_in_the_prediction_counts_as_zero():
    truth = np.array([0, 0])
    predicted = np.array([0, 1])
    assert mean_iou(predicted, truth, 2) == pytest.approx((1 / 2 + 0) / 2)


def test_mean_iou_refuses_class_ids_outside_the_classes():
    with pytest.raises(ValueError, match=r"truth holds class ids 0\.\.5, outside 0\.\.2"):
        mean_iou(np.zeros(2, int), np.array([0, 5]), 3)


def test_mean_iou_refuses_shapes_that_differ():
    with pytest.raises(ValueError, match="same shape"):
        mean_iou(np.zeros((2, 2), int), np.zeros((2, 3), int), 2)


def test_mean_iou_refuses_an_empty_input():
    with pytest.raises(ValueError, match="at least one pixel"):
        mean_iou(np.zeros(0, int), np.zeros(0, int), 2)


def test_mean_iou_leaves_out_the_pixels_the_truth_does_not_label():
    predicted = np.array([[0, 1], [1, 0]])
    truth = np.array([[0, 1], [255, 255]])
    assert mean_iou(predicted, truth, 2) == 1.0


def test_confusion_counts_no_pixel_the_truth_marks_ignore():
    counts = confusion(np.array([1, 1, 0]), np.array([1, 255, 0]), 2)
    assert counts.tolist() == [[1, 0], [0, 1]]


def test_a_prediction_of_the_ignore_value_is_refused():
    with pytest.raises(ValueError, match=r"predicted holds class ids 0\.\.255, outside 0\.\.1"):
        mean_iou(np.array([0, 255]), np.array([0, 1]), 2)


def test_without_an_ignore_index_every_truth_pixel_must_be_a_class():
    with pytest.raises(ValueError, match=r"truth holds class ids 0\.\.255, outside 0\.\.1"):
        mean_iou(np.array([0, 1]), np.array([0, 255]), 2, ignore_index=None)


def test_box_f1_matches_boxes_of_the_same_class_overlapping_enough():
    from al_widget.metrics import box_f1

    truth = np.array([[0, 0, 10, 10], [20, 20, 30, 30]])
    assert box_f1(truth, [0, 1], truth, [0, 1]) == 1.0
    assert box_f1(truth, [1, 0], truth, [0, 1]) == 0.0  # right places, wrong classes
    assert box_f1(truth[:1], [0], truth, [0, 1]) == 2 / 3  # one of two found
    assert box_f1([[0, 0, 10, 4]], [0], truth[:1], [0]) == 0.0  # IoU 0.4 < 0.5
    assert box_f1(np.zeros((0, 4)), [], np.zeros((0, 4)), []) == 1.0  # both say: nothing here
    assert box_f1(truth, [0, 0], np.zeros((0, 4)), []) == 0.0


def test_the_ignore_value_is_the_masks_own():
    from al_widget import annotations, metrics

    assert metrics.IGNORE == annotations.IGNORE


@pytest.mark.parametrize(("n_classes", "shown"), [(0, "0"), (2.5, "2.5"), (True, "True")])
def test_confusion_refuses_an_n_classes_that_is_not_an_int_of_at_least_one(n_classes, shown):
    with pytest.raises(ValueError, match=rf"^n_classes must be an int >= 1, got {shown}$"):
        confusion(np.zeros(2, np.uint8), np.zeros(2, np.uint8), n_classes)
