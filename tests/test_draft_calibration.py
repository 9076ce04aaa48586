"""The draft threshold calibrates itself from what a scripted labeler keeps of the drafts, and
the loop counts the work drafts saved: `ActiveLoop.draft_threshold`, `draft_savings`."""

import numpy as np
import pytest

import al_widget as alw

from conftest import Untrained

CONFIDENCES = np.array([0.9, 0.7, 0.5, 0.3, 0.1])
BOXES = np.array([[5 * k, 0, 5 * k + 4, 4] for k in range(len(CONFIDENCES))], float)


class FiveDrafts(Untrained):
    """Drafts the same five boxes on every image, one per confidence of CONFIDENCES."""

    task = "detect"

    def __init__(self, n_classes=1):
        self.n_classes = n_classes

    def predict(self, images, mc_samples=1):
        k = len(BOXES)
        probs = np.stack([CONFIDENCES, 1 - CONFIDENCES], axis=1)[..., None]
        found = {
            "boxes": BOXES,
            "labels": np.zeros(k, np.int64),
            "scores": CONFIDENCES,
            "probs": probs.repeat(mc_samples, axis=2),
        }
        return [found for _ in images]


class Thirds(Untrained):
    """Drafts class 1 on the left third (confidence 0.9), 2 in the middle (0.6), 3 on the right
    (0.55)."""

    task = "segment"

    def __init__(self, n_classes=4):
        self.n_classes = n_classes

    def predict_proba(self, images, mc_samples=1):
        out = []
        for image in images:
            h, w = image.shape[:2]
            probs = np.zeros((4, h, w))
            for c, (sure, part) in enumerate(
                [(0.9, slice(0, 3)), (0.6, slice(3, 6)), (0.55, slice(6, 9))], 1
            ):
                probs[c, :, part], probs[0, :, part] = sure, 1 - sure
            out.append(probs[..., None].repeat(mc_samples, axis=3))
        return out


@pytest.fixture
def drafting(loop_factory):
    """A detection loop whose model drafted five boxes on every unlabeled image."""
    images = np.zeros((60, 8, 30, 3), np.uint8)
    loop = loop_factory(
        alw.Dataset(images, ["thing"], task="detect"),
        FiveDrafts(),
        query_size=1000,
        pool_sample=None,
    )
    loop.commit(0, alw.Boxes([[0, 0, 4, 4]], ["thing"]))
    loop.retrain()
    assert loop.wait(10)
    return loop


def keep_from(loop, i, least):
    """The scripted labeler: keeps the drafts of image `i` at or above confidence `least`,
    deletes the others and stores the rest."""
    draft = loop.prediction(i)
    keep = loop.draft_confidences(i) >= least
    return loop.commit(i, alw.Boxes(draft.xyxy[keep], ["thing"] * int(keep.sum())))


def label_images(loop, n, least):
    for _ in range(n):
        keep_from(loop, loop.next(), least)


def test_no_drafts_are_shown_before_any_image_was_compared_with_drafts(drafting):
    i = drafting.next()
    assert drafting.draft_threshold is None
    assert drafting.draft_reason.startswith("no drafts yet")
    assert drafting.prediction(i, calibrated=True) is None
    assert len(drafting.prediction(i)) == len(BOXES)  # every draft is still at hand


def test_the_threshold_falls_when_the_labeler_keeps_drafts(drafting):
    label_images(drafting, 20, least=0.9)
    before = drafting.draft_threshold
    label_images(drafting, 20, least=0.5)
    assert (before, drafting.draft_threshold) == (0.7, 0.1)


def test_the_threshold_rises_when_the_labeler_deletes_drafts(drafting):
    label_images(drafting, 20, least=0.5)
    before = drafting.draft_threshold
    label_images(drafting, 20, least=0.9)
    assert (before, drafting.draft_threshold) == (0.1, 0.7)
    assert drafting.draft_reason == (
        "drafts from 0.70: 50 % of those kept lately (20 of 40 on the last 20 images)"
    )


def test_the_drafts_shown_are_those_at_or_above_the_threshold(drafting):
    label_images(drafting, 3, least=0.9)
    shown = drafting.prediction(drafting.next(), calibrated=True)
    np.testing.assert_array_equal(shown.xyxy, BOXES[:2])


def test_no_drafts_are_shown_while_they_would_be_wrong_more_often_than_right(drafting):
    label_images(drafting, 5, least=0.9)
    assert drafting.draft_threshold == 0.7
    label_images(drafting, 15, least=2.0)  # every draft deleted
    assert drafting.draft_threshold is None
    assert drafting.draft_reason.startswith("no drafts: at best 25 % of the model's drafts")
    assert drafting.prediction(drafting.next(), calibrated=True) is None


def test_undoing_a_label_forgets_its_drafts(drafting):
    label_images(drafting, 1, least=0.5)
    assert drafting.draft_threshold == 0.1
    drafting.undo()
    assert drafting.draft_threshold is None
    assert len(drafting.draft_history) == 1  # the first label, made before any draft


def test_undoing_a_replacing_label_brings_back_the_drafts_record_of_the_label_it_replaced(
    drafting,
):
    i = drafting.next()
    keep_from(drafting, i, least=0.5)
    before = (drafting.draft_history, drafting.draft_savings, drafting.draft_threshold)
    drafting.commit(i, alw.Boxes([[0, 4, 4, 8]], ["thing"]), replace=True)
    drafting.undo()
    assert (drafting.draft_history, drafting.draft_savings, drafting.draft_threshold) == before
    assert drafting.draft_threshold == 0.1


def test_savings_count_the_drafts_shown_kept_deleted_and_the_boxes_drawn(drafting):
    label_images(drafting, 1, least=0.5)  # no drafts shown yet: three boxes drawn
    i = drafting.next()  # shown: the five drafts from 0.1
    moved = BOXES[1] + [0, 0, 0, 1]  # IoU 0.8
    drafting.commit(i, alw.Boxes([BOXES[0], moved, [20, 4, 24, 8]], ["thing"] * 3))
    assert drafting.draft_history[-1].savings == alw.drafts.Savings(
        accepted=1, adjusted=1, deleted=3, drawn=1
    )
    assert str(drafting.draft_savings).startswith("drafts saved 2 of 7 objects")
    assert drafting.draft_status.startswith("drafts saved 2 of 7 objects, 29 % lately; drafts from")


def test_savings_use_the_drafts_the_labeler_says_were_shown(drafting):
    i = drafting.next()
    drafting.commit(i, alw.Boxes(BOXES[:1], ["thing"]), shown=alw.Boxes(BOXES[:2], ["thing"] * 2))
    assert drafting.draft_history[-1].savings == alw.drafts.Savings(accepted=1, deleted=1)


def test_shown_must_be_drafts_or_none(drafting):
    with pytest.raises(ValueError, match="shown must be the drafts shown"):
        drafting.commit(drafting.next(), alw.Boxes([], []), shown=[[0, 0, 4, 4]])


def test_a_mask_drafts_regions_are_calibrated_and_shown_by_class(loop_factory):
    images = np.zeros((10, 6, 9, 3), np.uint8)
    loop = loop_factory(
        alw.Dataset(images, ["background", "a", "b", "c"], task="segment"),
        Thirds(),
        query_size=1000,
        pool_sample=None,
    )
    loop.commit(0, alw.Mask(np.zeros((6, 9), np.uint8)))
    loop.retrain()
    assert loop.wait(10)
    for _ in range(3):  # the labeler keeps the left region, paints the others background
        i = loop.next()
        kept = loop.prediction(i).class_map.copy()
        kept[kept > 1] = 0
        loop.commit(i, alw.Mask(kept))
    assert loop.draft_threshold == pytest.approx(0.6)  # 0.6 and up: one region of two right
    shown = loop.prediction(loop.next(), calibrated=True).class_map
    assert (shown[:, :3] == 1).all()
    assert (shown[:, 3:6] == 2).all()
    assert (shown[:, 6:] == alw.Mask.IGNORE).all()


def test_drafts_shown_of_an_unknown_class_are_refused_before_anything_is_stored(drafting):
    i = drafting.next()
    with pytest.raises(ValueError, match="unknown class 'dog'"):
        drafting.commit(i, alw.Boxes(BOXES[:1], ["thing"]), shown=alw.Boxes(BOXES[:1], ["dog"]))
    assert drafting.dataset.annotation(i) is None
