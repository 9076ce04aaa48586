"""mean_ap: COCO mean average precision of boxes, computed by faster-coco-eval in memory."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from al_widget import metrics
from al_widget.metrics import mean_ap


def _truth(boxes, labels):
    return {"boxes": np.array(boxes, float).reshape(-1, 4), "labels": np.array(labels, np.int64)}


def _found(boxes, labels, scores):
    return {**_truth(boxes, labels), "scores": np.array(scores, float)}


def test_perfect_detections_score_one():
    targets = [
        _truth([[0, 0, 10, 10], [20, 20, 40, 30]], [0, 2]),
        _truth([[5, 5, 50, 60]], [1]),
    ]
    detections = [{**t, "scores": np.ones(len(t["labels"]))} for t in targets]
    assert mean_ap(detections, targets, 3) == {"map": 1.0, "ap50": 1.0}


def test_no_detections_score_zero():
    targets = [_truth([[0, 0, 10, 10]], [0]), _truth([[5, 5, 50, 60]], [1])]
    detections = [_found([], [], []), _found([], [], [])]
    assert mean_ap(detections, targets, 2) == {"map": 0.0, "ap50": 0.0}


def test_a_box_of_iou_062_counts_at_thresholds_050_to_060_only():
    targets = [_truth([[0, 0, 10, 10]], [0])]
    detections = [_found([[0, 0, 10, 6.2]], [0], [0.9])]
    result = mean_ap(detections, targets, 1)
    assert result["ap50"] == pytest.approx(1.0)
    assert result["map"] == pytest.approx(3 / 10)


def test_finding_one_of_two_boxes_gives_the_101_point_area_up_to_recall_half():
    targets = [_truth([[0, 0, 10, 10], [30, 30, 40, 40]], [0, 0])]
    detections = [_found([[0, 0, 10, 10], [60, 60, 70, 70]], [0, 0], [0.9, 0.8])]
    assert mean_ap(detections, targets, 1)["ap50"] == pytest.approx(51 / 101)


def test_a_false_positive_ranked_first_halves_the_precision():
    targets = [_truth([[0, 0, 10, 10]], [0])]
    detections = [_found([[60, 60, 70, 70], [0, 0, 10, 10]], [0, 0], [0.9, 0.8])]
    assert mean_ap(detections, targets, 1)["ap50"] == pytest.approx(0.5)


def test_a_box_of_the_wrong_class_does_not_match():
    targets = [_truth([[0, 0, 10, 10]], [0])]
    detections = [_found([[0, 0, 10, 10]], [1], [0.9])]
    assert mean_ap(detections, targets, 2)["ap50"] == 0.0


def test_classes_without_true_boxes_are_left_out_of_the_mean():
    targets = [_truth([[0, 0, 10, 10]], [0])]
    detections = [_found([[0, 0, 10, 10], [50, 50, 60, 60]], [0, 1], [0.9, 0.9])]
    assert mean_ap(detections, targets, 2) == {"map": 1.0, "ap50": 1.0}


def test_without_any_true_box_the_scores_are_nan():
    result = mean_ap([_found([[0, 0, 10, 10]], [0], [0.9])], [_truth([], [])], 1)
    assert math.isnan(result["map"])
    assert math.isnan(result["ap50"])


def test_labels_outside_the_classes_are_refused():
    with pytest.raises(ValueError, match=r"class ids in 0\.\.1"):
        mean_ap([_found([], [], [])], [_truth([[0, 0, 1, 1]], [2])], 2)


def test_one_detections_dict_per_target_is_required():
    with pytest.raises(ValueError, match="one detections dict per target"):
        mean_ap([], [_truth([[0, 0, 1, 1]], [0])], 1)


def test_the_metrics_module_does_not_import_torch():
    # al_widget's __init__ imports torch through the learners: an empty package of the same
    # folder stands in for it, so that the module loads with its own imports alone
    folder = str(Path(metrics.__file__).parent)
    code = (
        "import sys, types; "
        f"package = types.ModuleType('al_widget'); package.__path__ = [{folder!r}]; "
        "sys.modules['al_widget'] = package; "
        "from al_widget import metrics as m; "
        "m.mean_ap([{'boxes': [], 'labels': [], 'scores': []}], "
        "[{'boxes': [[0, 0, 1, 1]], 'labels': [0]}], 1); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
