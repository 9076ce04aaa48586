"""Seed-by-seed comparison of labels to a target, as the label-efficiency benchmark reads it."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from _paired import labels_ratio


def test_ratio_is_the_mean_labels_per_seed_over_the_others():
    found = labels_ratio([30, 40], [20, 30], cap=100)
    assert found.ratio == pytest.approx(35 / 25)
    assert (found.mine, found.theirs) == (35, 25)


def test_equal_labels_on_every_seed_give_a_ratio_of_one_with_no_spread():
    found = labels_ratio([32, 36, 32], [32, 36, 32], cap=68)
    assert (found.ratio, found.low, found.high) == (1.0, 1.0, 1.0)


def test_interval_holds_the_ratio_and_widens_with_disagreeing_seeds():
    found = labels_ratio([64, 28, 32, 32, 28, 36], [32, 32, 32, 36, 32, 32], cap=68)
    assert found.low < found.ratio < found.high
    assert found.high - found.low > 0.1


def test_pairs_are_resampled_together():
    # auto is a round behind on every seed: any resample of pairs keeps the same ratio.
    found = labels_ratio([36, 44, 52], [32, 40, 48], cap=68)
    assert found.low == pytest.approx(min(36 / 32, 44 / 40, 52 / 48), abs=0.02)
    assert found.low > 1.0


def test_a_seed_that_never_reached_counts_at_the_cap_and_makes_the_ratio_a_lower_bound():
    found = labels_ratio([None, 32], [32, 32], cap=68)
    assert found.mine == 50
    assert (found.censored, found.bound_below) == (1, True)
    assert "1 seed(s) never reached it" in found.shown()


def test_only_the_others_never_reaching_makes_the_ratio_an_upper_bound():
    found = labels_ratio([32, 32], [None, 32], cap=68)
    assert (found.censored, found.bound_below) == (1, False)


def test_seeds_must_pair():
    with pytest.raises(ValueError, match="same seeds"):
        labels_ratio([32, 36], [32], cap=68)
