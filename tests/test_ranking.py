import numpy as np
import pytest

from al_widget import ranking


def test_order_puts_the_highest_score_first():
    rng = np.random.default_rng(0)
    assert ranking.order(np.array([0.1, 0.9, 0.5]), rng).tolist() == [1, 2, 0]


def test_ties_are_broken_at_random_not_by_index():
    firsts = {
        int(ranking.order(np.zeros(10), np.random.default_rng(seed))[0]) for seed in range(30)
    }
    assert len(firsts) > 3


def test_pool_sample_draws_that_many_distinct_candidates():
    picked = ranking.sample_pool(np.arange(100, 200), 10, np.random.default_rng(0))
    assert len(picked) == 10
    assert len(set(picked.tolist())) == 10
    assert set(picked.tolist()) <= set(range(100, 200))


def test_pool_sample_none_scores_the_whole_pool():
    assert ranking.sample_pool(np.arange(7), None, np.random.default_rng(0)).tolist() == list(
        range(7)
    )


def test_pool_sample_larger_than_the_pool_takes_it_all():
    assert len(ranking.sample_pool(np.arange(7), 100, np.random.default_rng(0))) == 7


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100", True])
def test_pool_sample_refuses_what_is_not_a_positive_int(bad):
    with pytest.raises(
        ValueError, match=r"pool_sample must be an int >= 1 or None \(score the whole pool\), got"
    ):
        ranking.sample_pool(np.arange(5), bad, np.random.default_rng(0))


def test_temperature_samples_in_proportion_to_scores():
    scores = np.array([1.0, 3.0])
    firsts = [
        int(ranking.order(scores, np.random.default_rng(s), temperature=1.0)[0])
        for s in range(2000)
    ]
    assert np.mean(firsts) == pytest.approx(0.75, abs=0.04)


def test_a_lower_temperature_is_greedier():
    scores = np.array([1.0, 3.0])
    firsts = [
        int(ranking.order(scores, np.random.default_rng(s), temperature=0.25)[0])
        for s in range(2000)
    ]
    assert np.mean(firsts) > 0.95


def test_temperature_refuses_negative_scores():
    with pytest.raises(ValueError, match="power sampling .* needs scores >= 0"):
        ranking.order(np.array([-1.0, 2.0]), np.random.default_rng(0), temperature=1.0)


def test_build_maps_pool_positions_back_to_dataset_indices():
    pool = np.array([40, 10, 30])
    built = ranking.build(
        pool,
        np.array([0.2, 0.9, 0.5]),
        np.array([1, 0, 1]),
        rng=np.random.default_rng(0),
        temperature=None,
        model_version=3,
        data_version=7,
        heuristic="margin",
    )
    assert built.indices.tolist() == [10, 30, 40]
    assert built.score_of(30) == 0.5
    assert built.predicted_of(10) == 0
    assert (built.model_version, built.data_version) == (3, 7)


def test_a_ranking_is_immutable():
    built = ranking.build(
        np.arange(3),
        np.zeros(3),
        None,
        rng=np.random.default_rng(0),
        temperature=None,
        model_version=0,
        data_version=0,
        heuristic="random",
    )
    with pytest.raises(ValueError, match="read-only"):
        built.indices[0] = 5
    assert built.predicted_of(0) is None
