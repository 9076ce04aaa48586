"""What drafts save an oracle in `simulate` (a draft saves its object at IoU >= 0.7)."""

import numpy as np
import pytest

import al_widget as alw
from al_widget.drafts import Savings

from conftest import BrightIsSquare, SquareAndNoise


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
        learner=SquareAndNoise(noise=((0, 0, 1, 1), (23, 23, 24, 24))),
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
