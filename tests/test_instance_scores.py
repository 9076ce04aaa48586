"""MaskAL-style uncertainty of an image's objects, from MC dropout outputs built by hand."""

import numpy as np
import pytest

from al_widget.tasks import instance_scores as scores

PASSES = 6  # MC passes


def _probs(per_pass):
    """(1, 4, PASSES): one object over 3 classes and the background, a row of 4 per pass."""
    return np.asarray(per_pass, dtype=np.float64).T[None]


def _sure(cls=0):
    row = [0.02, 0.02, 0.02, 0.02]
    row[cls] = 0.94
    return _probs([row] * PASSES)


def _square(top, left, side=10):
    mask = np.zeros((28, 28), bool)
    mask[top : top + side, left : left + side] = True
    return mask


def _steady_masks():
    return np.stack([_square(9, 9)] * PASSES)[None]  # (1, PASSES, 28, 28)


def _objects(probs, masks):
    return scores.object_uncertainty(probs, masks, "margin")


def test_an_image_where_nothing_is_found_is_more_uncertain_than_a_confident_one():
    nothing = _objects(np.zeros((0, 4, PASSES)), np.zeros((0, PASSES, 28, 28), bool))
    confident = _objects(_sure(), _steady_masks())
    assert scores.image_score(nothing, "max") == 1.0
    assert scores.image_score(confident, "max") < 0.2


def test_an_object_found_in_every_pass_is_less_uncertain_than_one_that_flickers():
    flicker = [
        [0.94, 0.02, 0.02, 0.02] if k % 2 else [0.1, 0.02, 0.02, 0.86] for k in range(PASSES)
    ]
    steady = _objects(_sure(), _steady_masks())
    flickering = _objects(_probs(flicker), _steady_masks())
    assert flickering.occurrence[0] == pytest.approx(0.44)  # 1 - mean(0.98, 0.14, ...)
    assert steady.occurrence[0] == pytest.approx(0.02)
    assert list(flickering.passes_found) == [PASSES // 2]
    assert flickering.combined[0] > steady.combined[0]


def test_a_weak_detection_is_less_uncertain_than_a_weaker_one():
    weak = _objects(_probs([[0.4, 0.02, 0.02, 0.56]] * PASSES), _steady_masks())
    weaker = _objects(_probs([[0.2, 0.02, 0.02, 0.76]] * PASSES), _steady_masks())
    assert list(weak.passes_found) == list(weaker.passes_found) == [0]
    assert weak.combined[0] < weaker.combined[0] < 1.0


def test_an_object_whose_mask_moves_between_passes_is_less_certain_than_a_steady_one():
    moving = np.stack([_square(9, 9 + 2 * k) for k in range(PASSES)])[None]
    steady = _objects(_sure(), _steady_masks())
    wobbly = _objects(_sure(), moving)
    assert steady.spatial[0] == pytest.approx(0.0)
    assert wobbly.spatial[0] > 0.3
    assert wobbly.combined[0] > steady.combined[0]


def test_an_object_torn_between_two_classes_is_semantically_uncertain():
    torn = _objects(_probs([[0.47, 0.47, 0.04, 0.02]] * PASSES), _steady_masks())
    sure = _objects(_sure(), _steady_masks())
    assert torn.semantic[0] > 0.9
    assert sure.semantic[0] < 0.1
    assert torn.combined[0] > sure.combined[0]


def test_uncertainties_lie_in_zero_one_for_every_builtin_heuristic():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=(5, PASSES)).transpose(0, 2, 1)
    masks = rng.random((5, PASSES, 28, 28)) < 0.5
    for heuristic in ("margin", "entropy", "least_confidence", "bald", "variance"):
        found = scores.object_uncertainty(probs, masks, heuristic)
        for part in (found.semantic, found.spatial, found.occurrence, found.combined):
            assert part.shape == (5,)
            assert ((part >= 0) & (part <= 1)).all(), heuristic


def test_mismatched_probs_and_mask_samples_are_refused():
    with pytest.raises(ValueError, match="same K and I"):
        scores.object_uncertainty(_sure(), np.zeros((1, PASSES - 1, 28, 28), bool), "margin")


def test_explain_names_the_most_uncertain_objects_first():
    moving = np.stack([_square(9, 9 + 2 * k) for k in range(PASSES)])[None]
    probs = np.concatenate([_sure(0), _sure(1)])
    masks = np.concatenate([_steady_masks(), moving])
    text = scores.explain(_objects(probs, masks), ["circle", "square"], PASSES)
    assert text.index("object 1 (square)") < text.index("object 0 (circle)")
    assert f"found in {PASSES} of {PASSES} passes" in text


def test_explain_says_when_nothing_was_found():
    nothing = _objects(np.zeros((0, 4, PASSES)), np.zeros((0, PASSES, 28, 28), bool))
    assert "no object found" in scores.explain(nothing, [], PASSES)
