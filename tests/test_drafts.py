"""Which drafts were right, the threshold worth showing them from, and the work they saved:
`al_widget.drafts` (numpy only)."""

import numpy as np
import pytest

from al_widget import drafts
from al_widget.drafts import Outcome, Savings, Threshold
from al_widget.tasks.segment import region_confidences


def outcome(pairs):
    """An Outcome from (confidence, right) pairs."""
    return Outcome(np.array([c for c, _ in pairs]), np.array([r for _, r in pairs], bool))


def test_a_draft_box_is_right_when_it_overlaps_a_stored_box_of_its_class_by_half():
    stored = np.array([[0, 0, 10, 10]])
    shifted = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [6, 0, 16, 10]])  # IoU 1, 0.67, 0.25
    right = drafts.right_boxes(shifted, np.array([0, 1, 0]), stored, np.array([0]))
    assert right.tolist() == [True, False, False]


def test_two_draft_boxes_on_one_stored_box_are_one_right_and_one_wrong():
    stored = np.array([[0, 0, 10, 10]])
    twins = np.array([[0, 0, 10, 10], [0, 0, 10, 9]])
    assert drafts.right_boxes(twins, np.zeros(2), stored, np.zeros(1)).sum() == 1


def test_no_outcome_yet_means_no_drafts():
    threshold = drafts.calibrate([])
    assert threshold.value is None
    assert threshold.reason.startswith("no drafts yet")


def test_the_threshold_is_the_lowest_confidence_at_which_drafts_were_right_half_the_time():
    found = drafts.calibrate(
        [outcome([(0.9, True), (0.8, True), (0.6, False)]), outcome([(0.5, False), (0.3, False)])]
    )
    assert found.value == 0.5
    assert (
        found.reason == "drafts from 0.50: 50 % of those kept lately (2 of 4 on the last 2 images)"
    )


def test_drafts_wrong_more_often_than_right_at_every_confidence_give_no_drafts():
    found = drafts.calibrate([outcome([(0.9, False), (0.8, False), (0.7, True), (0.2, False)])])
    assert found.value is None
    assert found.reason == (
        "no drafts: at best 33 % of the model's drafts were kept lately "
        "(1 of 4 on the last 1 image)"
    )


def test_a_threshold_shows_every_draft_of_its_confidence():
    # At 0.7 the two tied drafts show together: 1 right of 3; only 0.9 alone is worth it.
    found = drafts.calibrate([outcome([(0.9, True), (0.7, False), (0.7, False)])])
    assert found.value == 0.9


def test_no_draft_on_any_image_gives_no_drafts_saying_the_model_drafted_nothing():
    found = drafts.calibrate([outcome([]), outcome([])])
    assert (found.value, found.reason) == (
        None,
        "no drafts: the model drafted nothing on the last 2 images",
    )


def test_a_threshold_keeps_the_drafts_at_or_above_it_and_none_keeps_nothing():
    confidences = np.array([0.2, 0.5, 0.9])
    assert Threshold(0.5, "").keeps(confidences).tolist() == [False, True, True]
    assert Threshold(None, "").keeps(confidences).tolist() == [False, False, False]


def test_an_outcome_needs_one_verdict_per_confidence():
    with pytest.raises(ValueError, match="one entry per draft"):
        Outcome(np.array([0.5, 0.6]), np.array([True]))


def test_a_mask_regions_confidence_is_the_mean_probability_of_its_pixels():
    p1 = np.array([[0.9, 0.7], [0.2, 0.4]])  # class 1 wins the top row
    probs = np.stack([1 - p1, p1])[..., None]
    found = region_confidences(probs)
    np.testing.assert_allclose(found, [(0.8 + 0.6) / 2, (0.9 + 0.7) / 2])


def test_a_class_drafted_nowhere_has_no_confidence():
    probs = np.zeros((3, 2, 2, 1))
    probs[0] = 1.0
    assert np.isnan(region_confidences(probs)[1:]).all()


def test_a_mask_region_is_right_when_it_overlaps_the_stored_region_of_its_class_by_half():
    stored = np.zeros((10, 10), np.uint8)
    stored[:, :4] = 1
    draft = np.zeros((10, 10), np.uint8)
    draft[:, :5] = 1  # IoU 0.8 with class 1
    draft[:, 8:] = 2  # no class 2 stored
    found = drafts.right_regions(draft, stored, np.array([0.9, 0.8, 0.6]))
    assert found.confidences.tolist() == [0.8, 0.6]
    assert found.right.tolist() == [True, False]


def test_pixels_the_labeler_left_unlabeled_do_not_count_against_a_region():
    stored = np.full((10, 10), 255, np.uint8)
    stored[:, :2] = 1
    draft = np.ones((10, 10), np.uint8)
    found = drafts.right_regions(draft, stored, np.array([0.5, 0.7]))
    assert found.right.tolist() == [True]


def test_a_small_region_of_a_large_mask_is_judged_on_every_pixel():
    # 30-pixel squares on a 4000 x 3000 photo: shifted by 10 pixels, class 1's draft overlaps
    # its stored region by 0.29 (wrong), however few pixels a regular sample would catch.
    stored = np.zeros((3000, 4000), np.uint8)
    stored[100:130, 100:130] = 1
    draft = np.zeros_like(stored)
    draft[110:140, 110:140] = 1
    found = drafts.right_regions(draft, stored, np.array([0.9, 0.8]))
    assert found.right.tolist() == [False]


def test_a_few_pixel_region_of_a_large_mask_is_still_counted():
    stored = np.zeros((3000, 4000), np.uint8)
    stored[1000:2000, 1000:2000] = 1
    stored[7:12, 7:12] = 2  # five pixels square: between the points of a 64k-pixel grid
    shown = stored.copy()
    shown[2501:2504, 3001:3004] = 3  # a stray region of a class not stored
    assert drafts.mask_savings(shown, stored) == Savings(accepted=2, deleted=1)
    assert drafts.mask_savings(None, stored) == Savings(drawn=2)


def test_box_savings_count_drafts_accepted_adjusted_deleted_and_objects_drawn():
    shown = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]])
    stored = np.array([[0, 0, 10, 10], [21, 0, 31, 10], [60, 0, 70, 10]])
    found = drafts.box_savings(shown, np.zeros(3), stored, np.zeros(3))
    assert found == Savings(accepted=1, adjusted=1, deleted=1, drawn=1)
    assert str(found) == (
        "drafts saved 2 of 3 objects (1 accepted, 1 adjusted, 1 deleted, 1 drawn)"
    )


def test_a_draft_box_given_another_class_counts_as_adjusted():
    box = np.array([[0, 0, 10, 10]])
    assert drafts.box_savings(box, [0], box, [1]) == Savings(adjusted=1)


def test_mask_savings_count_regions_and_a_mask_with_no_draft_is_all_drawn():
    stored = np.zeros((10, 10), np.uint8)
    stored[:, :4], stored[:, 6:] = 1, 2
    shown = np.zeros((10, 10), np.uint8)
    shown[:, :4] = 1  # as stored
    shown[:, 6:8] = 3  # a class not stored
    assert drafts.mask_savings(shown, stored) == Savings(accepted=1, deleted=1, drawn=1)
    assert drafts.mask_savings(None, stored) == Savings(drawn=2)


def test_savings_add_up_and_give_the_rate_of_objects_from_drafts():
    total = Savings(accepted=1, drawn=1) + Savings(adjusted=2, deleted=3)
    assert (total.saved, total.objects, total.rate) == (3, 4, 0.75)
    assert Savings().rate is None


def test_an_oracle_takes_a_draft_only_when_it_overlaps_a_true_object_by_seven_tenths():
    truth = np.array([[0, 0, 10, 10], [20, 0, 30, 10]])
    shown = np.array([[0, 0, 10, 8], [20, 0, 30, 6]])  # IoU 0.8 and 0.6
    found = drafts.oracle_boxes(shown, np.zeros(2), truth, np.zeros(2))
    assert found == Savings(accepted=1, deleted=1, drawn=1)


def test_an_oracle_takes_a_mask_region_only_at_seven_tenths_overlap():
    truth = np.zeros((10, 10), np.uint8)
    truth[:, :5], truth[:, 5:] = 1, 2
    shown = truth.copy()
    shown[:, 2:5] = 0  # class 1 region at IoU 0.4
    assert drafts.oracle_mask(shown, truth) == Savings(accepted=1, deleted=1, drawn=1)
    assert drafts.oracle_mask(None, truth) == Savings(drawn=2)


def test_clicks_saved_count_two_corners_per_draft_accepted_one_adjusted_less_one_deleted():
    assert Savings(accepted=3, adjusted=2, deleted=4, drawn=5).clicks == 2 * 3 + 2 - 4
