"""Unsaved work kept per image: what it holds, in words, and what it costs to keep."""

from __future__ import annotations

import numpy as np

from al_widget.annotations import Boxes, Mask
from al_widget.widget.unsaved import Frame, Work, difficult_flags, from_annotation


def painted(h: int = 427, w: int = 640) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[100:250, 200:420] = 1
    mask[300:400, 50:150] = 2
    return mask


def test_an_unsaved_mask_comes_back_pixel_for_pixel():
    mask = painted()
    work = Work.of([], [], mask.tobytes(), None)
    np.testing.assert_array_equal(work.mask_array(427, 640), mask)


def test_an_unsaved_mask_is_kept_in_a_small_fraction_of_its_pixels():
    work = Work.of([], [], painted().tobytes(), None)
    assert len(work.mask) < 427 * 640 / 50


def test_the_mask_draft_an_image_was_opened_with_comes_back_pixel_for_pixel():
    draft = Mask(painted())
    work = Work.of([], [], painted().tobytes(), None, mask_draft=False, shown=draft)
    np.testing.assert_array_equal(work.shown_draft().class_map, draft.class_map)


def test_the_mask_draft_an_image_was_opened_with_is_kept_in_a_small_fraction_of_its_pixels():
    work = Work.of([], [], painted().tobytes(), None, shown=Mask(painted()))
    packed, shape = work.shown
    assert shape == (427, 640)
    assert len(packed) < 427 * 640 / 50


def test_a_mask_draft_accepted_as_it_is_differs_from_the_draft_untouched():
    untouched = Work.of([], [], painted().tobytes(), None, mask_draft=True)
    accepted = Work.of([], [], painted().tobytes(), None, mask_draft=False)
    assert untouched != accepted
    assert untouched.summary() == "the model's mask draft"
    assert accepted.summary() == "an unsaved mask"


def test_a_mask_of_another_size_is_not_given_back():
    work = Work.of([], [], painted().tobytes(), None)
    assert work.mask_array(640, 427 + 1) is None


def test_a_mask_is_not_given_back_on_pixels_of_another_shape_though_as_many():
    # A photo turned a quarter: 640 x 427 pixels where 427 x 640 were painted
    work = Work.of([], [], painted().tobytes(), None, frame=Frame((427, 640), 1))
    assert work.mask_array(640, 427) is None


def test_the_same_work_twice_compares_equal():
    a = Work.of([{"xyxy": [1, 2, 3, 4], "label": 1}], [], painted().tobytes(), 1)
    b = Work.of([{"xyxy": [1, 2, 3, 4], "label": 1}], [], painted().tobytes(), 1)
    assert a == b


def test_work_says_what_it_holds():
    work = Work.of([{"xyxy": [1, 2, 3, 4], "label": 1}] * 2, [], painted().tobytes(), None)
    assert work.summary() == "2 unsaved boxes and an unsaved mask"


def test_work_keeps_each_drafts_confidence_and_a_box_none():
    drafts = [{"xyxy": [1.0, 2.0, 3.0, 4.0], "label": 0, "score": 0.7}]
    boxes = [{"xyxy": [0.0, 0.0, 2.0, 2.0], "label": 1}]
    work = Work.of(boxes, drafts, b"", None)
    assert work.draft_dicts() == drafts
    assert work.box_dicts() == boxes


def test_an_undone_box_label_gives_back_each_boxs_difficult_mark():
    marked = Boxes([[1, 1, 5, 5], [6, 6, 9, 9]], ["cat", "dog"], difficult=[False, True])
    assert from_annotation(marked, ["cat", "dog"]).difficult == (False, True)


def test_a_box_moved_or_relabeled_is_no_longer_the_box_marked_difficult():
    marked = [{"xyxy": [1, 1, 5, 5], "label": 0}, {"xyxy": [6, 6, 9, 9], "label": 1}]
    now = [
        {"xyxy": [1.0, 1.0, 5.0, 5.0], "label": 0},
        {"xyxy": [6, 6, 9, 9], "label": 0},
        {"xyxy": [1, 1, 5, 5], "label": 0},
    ]
    assert difficult_flags(now, marked) == (True, False, False)
