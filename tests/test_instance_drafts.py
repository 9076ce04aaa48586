"""Instance drafts like box drafts: each object's confidence, the threshold they are shown from
(calibrated on the labeler's submissions), and what they saved, by mask overlap."""

import numpy as np
import pytest

import al_widget as alw
from al_widget.draft_log import outcome_of, savings_of, shown_draft
from al_widget.drafts import Savings, Threshold

from conftest import NOISE_SCORE, SQUARE_SCORE, SquareAndSpeck

CLASSES = ["square"]


def squares(n, seed=0):
    """Dark 24 x 24 images, each with one bright 8 x 8 square away from the top left corner;
    the square as an object."""
    rng = np.random.default_rng(seed)
    images, truth = np.zeros((n, 24, 24, 3), np.uint8), []
    for k in range(n):
        y, x = (int(v) for v in rng.integers(4, 16, size=2))
        images[k, y : y + 8, x : x + 8] = 200
        mask = np.zeros((24, 24), bool)
        mask[y : y + 8, x : x + 8] = True
        truth.append(alw.Instances(mask[None], CLASSES))
    return images, truth


def square_and_speck(truth):
    """The model's draft for an image: its square and a corner speck, the square first."""
    speck = np.zeros((24, 24), bool)
    speck[:2, :2] = True
    return alw.Instances(np.stack([truth.mask(0), speck]), CLASSES * 2)


CONFIDENCES = np.array([SQUARE_SCORE, NOISE_SCORE])


def test_instance_drafts_below_the_threshold_are_not_shown():
    _, truth = squares(1)
    draft = square_and_speck(truth[0])
    shown = shown_draft(draft, CONFIDENCES, Threshold(0.5, ""))
    assert shown == draft.subset([0])
    assert shown_draft(draft, CONFIDENCES, Threshold(0.95, "")) is None


def test_an_instance_draft_is_right_when_its_mask_overlaps_a_stored_object_of_its_class():
    _, truth = squares(1)
    outcome = outcome_of(square_and_speck(truth[0]), CONFIDENCES, truth[0], CLASSES)
    assert outcome.right.tolist() == [True, False]
    assert outcome.confidences.tolist() == CONFIDENCES.tolist()


def test_small_objects_on_a_photo_are_compared_by_their_exact_mask_iou():
    # A 30-pixel square shifted by 10 pixels on a 4000 x 3000 image overlaps it by 400 / 1400:
    # the draft is wrong, though a grid of one pixel in 14 would see the same pixels of both.
    masks = np.zeros((2, 3000, 4000), bool)
    masks[0, 100:130, 100:130] = True
    masks[1, 110:140, 110:140] = True
    draft, stored = (alw.Instances(m[None], CLASSES) for m in masks)
    np.testing.assert_allclose(draft.ious(stored), [[400 / 1400]])
    assert outcome_of(draft, np.array([0.9]), stored, CLASSES).right.tolist() == [False]


def test_instance_savings_count_accepted_adjusted_deleted_and_drawn():
    _, truth = squares(1)
    square = truth[0].mask(0)
    trimmed = square.copy()
    trimmed[:, np.flatnonzero(square.any(0))[0]] = False  # its left column taken off
    other = np.zeros_like(square)
    other[20:, 20:] = True
    stored = alw.Instances(np.stack([trimmed, other]), CLASSES * 2)
    savings = savings_of(square_and_speck(truth[0]), stored, CLASSES)
    assert savings == Savings(accepted=0, adjusted=1, deleted=1, drawn=1)
    assert savings_of(truth[0], truth[0], CLASSES) == Savings(accepted=1)


def test_the_calibrated_threshold_keeps_back_instance_drafts_the_labeler_deletes(loop_factory):
    images, truth = squares(12)
    ds = alw.Dataset(images, CLASSES, task="instances")
    ds.annotate(0, truth[0])
    loop = loop_factory(ds, SquareAndSpeck(specks=2), pool_sample=None, query_size=1)
    loop.retrain()
    assert loop.wait(10)
    assert loop.draft_threshold is None  # nothing compared yet: no drafts
    for i in range(1, 5):
        loop.commit(i, truth[i])  # the square kept, the two specks not
        assert loop.wait(10)
    assert NOISE_SCORE < loop.draft_threshold <= SQUARE_SCORE
    head = loop.next()
    assert loop.prediction(head, calibrated=True) == loop.prediction(head).subset([0])


def test_a_commit_takes_the_instance_drafts_shown_and_counts_what_they_saved(loop_factory):
    images, truth = squares(6)
    ds = alw.Dataset(images, CLASSES, task="instances")
    ds.annotate(0, truth[0])
    loop = loop_factory(ds, SquareAndSpeck(), pool_sample=None, query_size=1)
    loop.retrain()
    assert loop.wait(10)
    i = loop.next()
    loop.commit(i, truth[i], shown=loop.prediction(i))
    assert loop.draft_savings == Savings(accepted=1, deleted=1)


def test_simulated_instance_segmentation_counts_what_the_drafts_saved_an_oracle():
    images, truth = squares(20)
    curve = alw.simulate(
        images,
        truth,
        seed_size=4,
        query_size=4,
        budget=12,
        pool_sample=None,
        learner=SquareAndSpeck(),
        classes=CLASSES,
        task="instances",
        progress=False,
    )
    assert curve.draft_savings.accepted > 0


@pytest.mark.parametrize("keep", [[2], [-1]])
def test_a_subset_naming_no_object_is_refused(keep):
    _, truth = squares(1)
    with pytest.raises(IndexError, match="out of range for 2 objects"):
        square_and_speck(truth[0]).subset(keep)
