import math

import numpy as np
import pytest

from al_widget import bandit

ARMS = ("random", "margin", "entropy")


def orders(n):
    """margin ranks 0, 1, 2, ...; entropy ranks n-1, n-2, ...; random advises evenly."""
    return {"random": None, "margin": np.arange(n), "entropy": np.arange(n)[::-1]}


def test_a_new_bandit_gives_every_arm_the_same_probability():
    state = bandit.start(ARMS)
    np.testing.assert_allclose(state.probabilities, [1 / 3] * 3)
    assert state.weights == pytest.approx(dict.fromkeys(ARMS, 1 / 3))


def test_the_default_floor_is_exp4p_p_min():
    state = bandit.start(ARMS, horizon=300)
    assert state.floor == pytest.approx(math.sqrt(math.log(3) / (3 * 300)))


def test_the_floor_keeps_every_arm_drawable_however_small_its_weight():
    p = bandit.probabilities([0.0, -1000.0, -1000.0], 0.05)
    assert p.min() == pytest.approx(0.05)
    assert p.sum() == pytest.approx(1.0)


def test_draw_takes_each_query_from_the_chosen_arms_top_remaining_choice():
    picks = bandit.draw(bandit.start(ARMS), orders(20), 20, 8, np.random.default_rng(0))
    taken = set()
    for pick in picks:
        if pick.arm == "margin":
            assert pick.position == min(set(range(20)) - taken)
        elif pick.arm == "entropy":
            assert pick.position == max(set(range(20)) - taken)
        taken.add(pick.position)
    assert len(taken) == 8


def test_the_propensity_sums_the_probability_of_every_arm_advising_the_pick():
    state = bandit.start(ARMS, floor=0.1)
    (pick,) = bandit.draw(state, orders(10), 10, 1, np.random.default_rng(1))
    pi = state.probabilities
    expected = pi[0] / 10 + pi[1] * (pick.position == 0) + pi[2] * (pick.position == 9)
    assert pick.probability == pytest.approx(expected)
    assert pick.importance == pytest.approx(1 / expected)


def test_two_arms_with_the_same_top_choice_both_advise_it():
    state = bandit.start(("margin", "entropy"), floor=0.1)
    same = {"margin": np.arange(5), "entropy": np.arange(5)}
    (pick,) = bandit.draw(state, same, 5, 1, np.random.default_rng(0))
    assert pick.position == 0
    assert pick.advice == (1.0, 1.0)
    assert pick.probability == pytest.approx(1.0)


def test_draw_is_deterministic_under_a_seed():
    state = bandit.start(ARMS)
    first = bandit.draw(state, orders(50), 50, 10, np.random.default_rng(7))
    again = bandit.draw(state, orders(50), 50, 10, np.random.default_rng(7))
    assert first == again


def after_a_first_gain(arms=ARMS, gain=0.05, floor=0.1):
    """A bandit whose first gain (`gain`, from a query every arm advised) set its baseline.

    Its picks draw their own arms (`bandit.draw`): rounds of one arm carry `arm_probability`."""
    everyone = bandit.Pick(0, arms[0], 1.0, (1.0,) * len(arms))
    return bandit.update(bandit.start(arms, floor=floor), [everyone], gain)


def test_the_first_gain_sets_the_baseline_and_rewards_no_arm():
    state = bandit.start(ARMS, floor=0.1)
    pick = bandit.Pick(0, "margin", 0.4, (0.1, 1.0, 0.0))
    up = bandit.update(state, [pick], gain=0.05)
    down = bandit.update(state, [pick], gain=-0.05)
    assert up.log_weights == pytest.approx(down.log_weights)  # only the exploration bonus
    assert up.baseline == 0.05


def test_after_it_the_weights_stay_even():
    assert after_a_first_gain().weights == pytest.approx(dict.fromkeys(ARMS, 1 / 3))


def test_a_gain_above_the_usual_raises_the_weight_of_the_arm_that_chose_it():
    pick = bandit.Pick(0, "margin", 0.4, (0.1, 1.0, 0.0))
    after = bandit.update(after_a_first_gain(gain=0.05), [pick], gain=0.08)
    assert after.weights["margin"] > 1 / 3 > after.weights["entropy"]


def test_a_gain_below_the_usual_lowers_the_weight_of_the_arm_that_chose_it():
    pick = bandit.Pick(0, "entropy", 0.4, (0.1, 0.0, 1.0))
    after = bandit.update(after_a_first_gain(gain=0.05), [pick], gain=0.01)
    assert after.weights["entropy"] < min(after.weights["random"], after.weights["margin"])


def test_credit_is_importance_weighted_so_a_rare_pick_counts_more():
    state = after_a_first_gain(("random", "margin"), gain=0.05)
    rare = bandit.update(state, [bandit.Pick(0, "margin", 0.2, (0.0, 1.0))], gain=0.1)
    common = bandit.update(state, [bandit.Pick(0, "margin", 0.8, (0.0, 1.0))], gain=0.1)
    assert rare.weights["margin"] > common.weights["margin"]


def test_the_gain_per_label_is_the_importance_weighted_mean_over_rewarded_queries():
    state = bandit.start(("random", "margin"), floor=0.1)
    picks = [bandit.Pick(0, "margin", 0.5, (0.0, 1.0)), bandit.Pick(1, "random", 0.5, (1.0, 0.0))]
    after = bandit.update(state, picks, gain=0.2)
    # each label brought 0.1; each arm advised one of the two queries, each drawn with q = 0.5
    assert after.gain_per_label == pytest.approx({"random": 0.1, "margin": 0.1})
    assert after.chosen == (1, 1)
    assert after.rewarded == 2


def test_no_picks_leave_the_bandit_as_it_was():
    state = bandit.start(ARMS)
    assert bandit.update(state, [], gain=1.0) is state


def test_gains_are_scaled_so_that_units_do_not_change_the_weights():
    pick = bandit.Pick(0, "margin", 0.4, (0.1, 1.0, 0.0))
    small = bandit.update(after_a_first_gain(gain=0.001), [pick], gain=0.0015)
    big = bandit.update(after_a_first_gain(gain=0.5), [pick], gain=0.75)
    assert small.weights == pytest.approx(big.weights)
    assert small.weights["margin"] > 1 / 3


def test_importance_weighted_agreement_weights_each_label_by_one_over_its_propensity():
    picks = [bandit.Pick(0, "margin", 0.75, (0.0, 1.0)), bandit.Pick(1, "random", 0.25, (1.0, 0.0))]
    # weights 4/3 and 4: (4/3 * 1 + 4 * 0) / (16/3) = 0.25
    assert bandit.agreement(picks, [1.0, 0.0]) == pytest.approx(0.25)
    assert bandit.agreement([], []) is None


@pytest.mark.parametrize("arms", [("margin",), ("margin", "margin"), ()])
def test_arms_must_be_two_or_more_distinct_names(arms):
    with pytest.raises(ValueError, match="arms must be two or more distinct heuristic names"):
        bandit.start(arms)


def test_a_floor_above_one_over_k_is_refused():
    with pytest.raises(ValueError, match=r"floor must be in \(0, 1 / 3\]"):
        bandit.start(ARMS, floor=0.5)


def test_a_bandit_rewarded_only_for_one_arm_learns_to_draw_it():
    rng = np.random.default_rng(0)
    state = bandit.start(ARMS)
    for _ in range(30):
        picks = bandit.draw(state, orders(100), 100, 10, rng)
        gain = 0.01 * sum(p.arm == "margin" for p in picks)
        state = bandit.update(state, picks, gain - 0.03)
    assert max(state.weights, key=state.weights.get) == "margin"
    assert state.weights["margin"] > 0.5


def test_a_round_takes_all_its_queries_from_one_arms_top_choices():
    for seed in range(6):
        picks = bandit.draw_round(
            bandit.start(ARMS), orders(20), 20, 8, np.random.default_rng(seed)
        )
        (arm,) = {p.arm for p in picks}
        positions = [p.position for p in picks]
        if arm == "margin":
            assert positions == list(range(8))
        elif arm == "entropy":
            assert positions == list(range(19, 11, -1))
        assert len(set(positions)) == 8


def test_a_random_round_draws_distinct_candidates_evenly():
    state = bandit.start(ARMS)
    picks = bandit.draw_round(state, orders(20), 20, 8, np.random.default_rng(0), arm="random")
    assert {p.arm for p in picks} == {"random"}
    assert len({p.position for p in picks}) == 8


def test_a_round_ranked_again_keeps_the_arm_it_is_given():
    state = bandit.start(ARMS)
    for seed in range(5):
        picks = bandit.draw_round(
            state, orders(20), 20, 3, np.random.default_rng(seed), arm="entropy"
        )
        assert [p.position for p in picks] == [19, 18, 17]


def test_each_pick_keeps_the_chance_its_arm_was_drawn():
    state = bandit.State(ARMS, (0.0, 1.0, -1.0), 0.1, (0.0,) * 3)
    picks = bandit.draw_round(state, orders(10), 10, 2, np.random.default_rng(1), arm="margin")
    assert all(p.arm_probability == pytest.approx(state.probabilities[1]) for p in picks)


def test_a_rounds_propensity_sums_the_probability_of_every_arm_whose_choices_held_the_pick():
    state = bandit.start(ARMS, floor=0.1)
    picks = bandit.draw_round(state, orders(10), 10, 2, np.random.default_rng(1))
    pi = state.probabilities
    for pick in picks:
        expected = pi[0] * 2 / 10 + pi[1] * (pick.position < 2) + pi[2] * (pick.position >= 8)
        assert pick.probability == pytest.approx(expected)
        assert pick.importance == pytest.approx(1 / expected)


def test_a_round_of_an_arm_the_bandit_does_not_have_is_refused():
    with pytest.raises(ValueError, match="arm 'bald' is not one of the bandit's arms"):
        bandit.draw_round(bandit.start(ARMS), orders(5), 5, 1, np.random.default_rng(0), arm="bald")


def test_credit_is_importance_weighted_so_a_rarely_drawn_arm_counts_more():
    state = after_a_first_gain(("random", "margin"), gain=0.05)
    rare = bandit.update(state, [bandit.Pick(0, "margin", 0.5, (0.0, 1.0), 0.2)], gain=0.1)
    common = bandit.update(state, [bandit.Pick(0, "margin", 0.5, (0.0, 1.0), 0.8)], gain=0.1)
    assert rare.weights["margin"] > common.weights["margin"]


def test_the_rounds_gain_is_credited_to_its_arm_alone():
    # margin's round also held an image entropy would have asked for: entropy earns nothing
    pick = bandit.Pick(0, "margin", 0.8, (0.0, 1.0, 1.0), 1 / 3)
    after = bandit.update(after_a_first_gain(gain=0.05), [pick], gain=0.08)
    assert after.weights["entropy"] == pytest.approx(after.weights["random"])
    assert after.weights["margin"] > after.weights["entropy"]


def test_the_gain_per_label_is_the_importance_weighted_mean_over_rewarded_rounds():
    state = bandit.start(("random", "margin"), floor=0.1)
    picks = [bandit.Pick(p, "margin", 0.5, (0.0, 1.0), 0.5) for p in (0, 1)]
    after = bandit.update(state, picks, gain=0.2)
    # each label brought 0.1; margin's round was drawn with chance 0.5; random drew none
    assert after.gain_per_label == pytest.approx({"random": 0.0, "margin": 0.2})
    assert after.chosen == (0, 2)
    assert after.rewarded == 2


def test_the_exploration_bonus_favours_the_arm_drawn_least():
    state = bandit.State(
        ("random", "margin"), (0.0, 1.0), 0.1, (0.0, 0.0), 0, (0, 0), scale=1.0, updates=1
    )
    pick = bandit.Pick(0, "margin", 0.5, (0.0, 1.0), 0.5)
    after = bandit.update(state, [pick], gain=state.baseline)  # no reward: the bonus alone
    before = state.log_weights[0] - state.log_weights[1]
    assert after.log_weights[0] - after.log_weights[1] > before


def test_the_default_horizon_in_rounds_is_300_labels_worth():
    assert bandit.rounds_for(10) == 30
    assert bandit.rounds_for(1) == 300
    assert bandit.rounds_for(1000) == 1


@pytest.mark.parametrize("horizon", [0, -3, 2.5, True])
def test_a_horizon_that_is_not_a_positive_number_of_trials_is_refused(horizon):
    with pytest.raises(
        ValueError, match=r"horizon must be an int >= 1 \(a number of trials\), got"
    ):
        bandit.start(ARMS, horizon=horizon)


def test_a_bandit_retuned_for_another_horizon_keeps_its_weights_and_takes_that_floor():
    state = bandit.start(ARMS, horizon=bandit.rounds_for(4))
    rng = np.random.default_rng(0)
    for _ in range(5):
        picks = bandit.draw_round(state, orders(100), 100, 4, rng)
        state = bandit.update(state, picks, 0.05 if picks[0].arm == "margin" else 0.0)
    retuned = bandit.retuned(state, bandit.rounds_for(10))
    assert retuned.log_weights == state.log_weights
    assert retuned.horizon == 30
    assert retuned.floor == bandit.start(ARMS, horizon=30).floor > state.floor


@pytest.mark.parametrize("horizon", [0, 2.5])
def test_retuning_for_a_horizon_that_is_not_a_positive_number_of_trials_is_refused(horizon):
    with pytest.raises(
        ValueError, match=r"horizon must be an int >= 1 \(a number of trials\), got"
    ):
        bandit.retuned(bandit.start(ARMS), horizon)


def test_a_bandit_rewarded_only_for_one_arms_rounds_learns_to_draw_it():
    rng = np.random.default_rng(0)
    state = bandit.start(ARMS, horizon=bandit.rounds_for(10))
    for _ in range(30):
        picks = bandit.draw_round(state, orders(100), 100, 10, rng)
        state = bandit.update(state, picks, 0.05 if picks[0].arm == "margin" else 0.0)
    assert max(state.weights, key=state.weights.get) == "margin"
    assert state.weights["margin"] > 0.5


@pytest.mark.parametrize("draw", [bandit.draw, bandit.draw_round])
def test_orders_without_a_ranking_for_every_arm_are_refused(draw):
    with pytest.raises(
        ValueError, match=r"orders needs a ranking for every arm; missing \['entropy'\]"
    ):
        draw(
            bandit.start(ARMS),
            {"random": None, "margin": np.arange(5)},
            5,
            2,
            np.random.default_rng(0),
        )
