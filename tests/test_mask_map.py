"""mask_map: COCO mask mAP of predicted objects, computed by faster-coco-eval (iouType segm)."""

import math

import numpy as np
import pytest

import al_widget as alw
from al_widget.metrics import mask_map

SCENES = alw.datasets.shapes(10, size=48, seed=1, task="instances")
TRUTH = SCENES.annotations
CLASSES = SCENES.classes


def as_dicts(objects_list, shift=0):
    return [
        {
            "masks": np.roll(objects.masks, shift, axis=2),
            "labels": objects.class_ids(CLASSES),
            "scores": np.ones(len(objects)),
        }
        for objects in objects_list
    ]


def test_the_true_objects_score_one():
    predicted = [(objects, np.ones(len(objects))) for objects in TRUTH]
    assert mask_map(predicted, TRUTH, CLASSES) == {"map": 1.0, "ap50": 1.0}


def test_masks_shifted_by_three_pixels_score_less_than_one():
    result = mask_map(as_dicts(TRUTH, shift=3), TRUTH, CLASSES)
    assert 0 < result["map"] < result["ap50"] < 1


def test_predictions_as_dicts_of_masks_score_as_instances_do():
    assert mask_map(as_dicts(TRUTH), TRUTH, CLASSES) == {"map": 1.0, "ap50": 1.0}


def test_nothing_found_scores_zero():
    empty = [{"masks": np.zeros((0, 48, 48), bool), "labels": [], "scores": []} for _ in TRUTH]
    assert mask_map(empty, TRUTH, CLASSES) == {"map": 0.0, "ap50": 0.0}


def test_no_true_object_gives_nan():
    truth = [alw.Instances.empty((48, 48))]
    result = mask_map([(truth[0], [])], truth, CLASSES)
    assert math.isnan(result["map"])


def test_a_score_missing_is_refused_naming_the_image():
    predicted = [(objects, np.ones(len(objects))) for objects in TRUTH]
    predicted[2] = (TRUTH[2], [])
    with pytest.raises(ValueError, match="image 2: .* 0 scores; need one of each per object"):
        mask_map(predicted, TRUTH, CLASSES)


def test_one_prediction_per_image_is_needed():
    with pytest.raises(
        ValueError, match="need one prediction per image of the truth, got 1 and 10"
    ):
        mask_map(as_dicts(TRUTH[:1]), TRUTH, CLASSES)


def test_transposed_masks_of_as_many_pixels_are_refused_naming_the_image():
    square = np.zeros((4, 6), bool)  # (H, W): 24 pixels, as many as (6, 4)
    square[:2, :3] = True
    truth = [alw.Instances(square[None], ["a"])]
    predicted = [{"masks": square.T[None], "labels": [0], "scores": [1.0]}]
    with pytest.raises(
        ValueError,
        match=r"image 0: predicted masks are \(1, 6, 4\), need \(K, H, W\) = \(K, 4, 6\)",
    ):
        mask_map(predicted, truth, ["a"])


def test_masks_of_another_size_are_refused_naming_the_image_and_both_shapes():
    predicted = as_dicts(TRUTH)
    predicted[1]["masks"] = predicted[1]["masks"][:, :40, :40]
    with pytest.raises(ValueError, match=r"image 1: predicted masks are \(\d+, 40, 40\), need"):
        mask_map(predicted, TRUTH, CLASSES)


def test_masks_with_a_channel_axis_score_as_without_one():
    predicted = as_dicts(TRUTH)
    for guess in predicted:
        guess["masks"] = guess["masks"][:, None]  # (K, 1, H, W), as Mask R-CNN thresholded
    assert mask_map(predicted, TRUTH, CLASSES) == {"map": 1.0, "ap50": 1.0}


def test_mask_probabilities_are_refused_naming_the_image_and_the_threshold_to_apply():
    square = np.zeros((20, 20), bool)
    square[2:8, 2:8] = True
    truth = [alw.Instances(square[None], ["a"])]
    probabilities = np.full((1, 1, 20, 20), 0.02)  # (K, 1, H, W), as Mask R-CNN gives them
    probabilities[..., 2:8, 2:8] = 0.98
    predicted = [{"masks": probabilities, "labels": [0], "scores": [1.0]}]
    with pytest.raises(
        ValueError,
        match=r"image 0: predicted masks must be bool or 0/1, got float64 values such as 0\.02 .*"
        r"threshold them first, e\.g\. masks > 0\.5",
    ):
        mask_map(predicted, truth, ["a"])


def test_masks_of_0_and_1_score_as_bool_ones():
    predicted = as_dicts(TRUTH)
    for guess in predicted:
        guess["masks"] = guess["masks"].astype(np.float32)
    assert mask_map(predicted, TRUTH, CLASSES) == {"map": 1.0, "ap50": 1.0}
