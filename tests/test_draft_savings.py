"""What drafts save an oracle in `simulate` (a draft saves its object at IoU >= 0.7)."""

import numpy as np
import pytest

import al_widget as alw
from al_widget.drafts import Savings
from al_widget.learners import ParamsMixin


def squares(n, seed=0):
    """Dark 24 x 24 images, each with one bright 8 x 8 square; its box and its mask."""
    rng = np.random.default_rng(seed)
    images, boxes, masks = np.zeros((n, 24, 24, 3), np.uint8), [], []
    for k in range(n):
        y, x = (int(v) for v in rng.integers(0, 16, size=2))
        images[k, y : y + 8, x : x + 8] = 200
        boxes.append(alw.Boxes([[x, y, x + 8, y + 8]], ["square"]))
        mask = np.zeros((24, 24), np.uint8)
        mask[y : y + 8, x : x + 8] = 1
        masks.append(alw.Mask(mask))
    return images, boxes, masks


class SquareAndNoise(ParamsMixin):
    """Drafts the bright square (confidence 0.9) and two empty corners (confidence 0.2)."""

    task = "detect"

    def __init__(self, n_classes=1):
        self.n_classes = n_classes

    def fit(self, images, targets, progress, should_stop):
        self.fitted_ = True
        return self

    def predict(self, images, mc_samples=1):
        out = []
        for image in images:
            ys, xs = np.nonzero(image[..., 0] > 100)
            found = [
                [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
                [0, 0, 1, 1],
                [23, 23, 24, 24],
            ]
            scores = np.array([0.9, 0.2, 0.2])
            probs = np.stack([scores, 1 - scores], axis=1)[..., None].repeat(mc_samples, axis=2)
            out.append(
                {
                    "boxes": np.array(found, float),
                    "labels": np.zeros(3, np.int64),
                    "scores": scores,
                    "probs": probs,
                }
            )
        return out


class BrightIsSquare(ParamsMixin):
    """Paints bright pixels class 1 (probability 0.9), the rest background."""

    task = "segment"

    def __init__(self, n_classes=2):
        self.n_classes = n_classes

    def fit(self, images, targets, progress, should_stop):
        self.fitted_ = True
        return self

    def predict_proba(self, images, mc_samples=1):
        out = []
        for image in images:
            p = np.where(image[..., 0] > 100, 0.9, 0.1)
            out.append(np.stack([1 - p, p])[..., None].repeat(mc_samples, axis=3))
        return out


@pytest.fixture
def pool():
    return squares(30)


def test_simulated_detection_counts_the_objects_each_rounds_drafts_saved(pool):
    images, boxes, _ = pool
    curve = alw.simulate(
        images,
        boxes,
        seed_size=4,
        query_size=5,
        budget=14,
        learner=SquareAndNoise(),
        task="detect",
        classes=["square"],
        progress=False,
    )
    # The first image after a model is labeled before any draft was checked: no drafts shown.
    # It shows the square at 0.9 right and the corners wrong: drafts from 0.9 on.
    assert curve.drafts[:2] == (Savings(accepted=4, drawn=1), Savings(accepted=5))
    assert curve.drafts_per_100[:2].tolist() == [80.0, 100.0]
    assert str(curve.draft_savings).startswith("drafts saved 9 of 10 objects")


def test_simulated_segmentation_counts_the_regions_each_rounds_drafts_saved(pool):
    images, _, masks = pool
    curve = alw.simulate(
        images,
        masks,
        seed_size=4,
        query_size=5,
        budget=9,
        learner=BrightIsSquare(),
        task="segment",
        classes=["background", "square"],
        progress=False,
    )
    assert curve.drafts[0] == Savings(accepted=4, drawn=1)


def test_a_classification_curve_has_no_draft_counts(two_class):
    images, labels = two_class
    curve = alw.simulate(images, labels, seed_size=4, query_size=4, budget=8, progress=False)
    assert curve.drafts is None
    with pytest.raises(ValueError, match="no draft counts"):
        curve.drafts_per_100  # noqa: B018
