import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import al_widget as alw
from al_widget import heuristics as H

from conftest import CentroidLearner

CLASS_HEURISTICS = ["least_confidence", "margin", "entropy"]


def probs_strategy(min_classes=2, samples=None):
    """Random probability arrays (N, C) or (N, C, I)."""

    @st.composite
    def build(draw):
        n = draw(st.integers(1, 8))
        c = draw(st.integers(min_classes, 6))
        i = samples if samples is not None else draw(st.integers(1, 4))
        raw = draw(arrays(np.float64, (n, c, i), elements=st.floats(0.01, 1.0)))
        return raw / raw.sum(axis=1, keepdims=True)

    return build()


def test_least_confidence_is_one_minus_the_top_probability():
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]])
    np.testing.assert_allclose(H.get("least_confidence")(p), [0.3, 0.6])


def test_margin_is_one_minus_the_gap_between_the_two_best_classes():
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    np.testing.assert_allclose(H.get("margin")(p), [0.5, 0.95])


def test_entropy_is_the_shannon_entropy_in_nats():
    p = np.array([[0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(H.get("entropy")(p), [np.log(2), 0.0], atol=1e-9)


def test_variance_is_the_mean_over_classes_of_the_std_across_samples():
    p = np.array([[[1.0, 0.0], [0.0, 1.0]]])  # two samples that disagree completely
    np.testing.assert_allclose(H.get("variance")(p), [0.5])


def test_bald_is_entropy_of_the_mean_minus_mean_entropy():
    disagree = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    agree_unsure = np.array([[[0.5, 0.5], [0.5, 0.5]]])
    np.testing.assert_allclose(H.get("bald")(disagree), [np.log(2)], atol=1e-9)
    np.testing.assert_allclose(H.get("bald")(agree_unsure), [0.0], atol=1e-9)


@pytest.mark.parametrize("name", CLASS_HEURISTICS)
def test_class_heuristics_average_mc_samples_first(name):
    samples = np.array([[[0.9, 0.5], [0.1, 0.5]]])
    np.testing.assert_allclose(H.get(name)(samples), H.get(name)(samples.mean(axis=2)))


@pytest.mark.parametrize("name", CLASS_HEURISTICS)
def test_uniform_rows_rank_first_and_one_hot_rows_last(name):
    probs = np.array([[0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.6, 0.3, 0.1]])
    scores = H.get(name)(probs)
    assert list(np.argsort(-scores)) == [1, 2, 0]
    assert scores[0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("name", ["variance", "bald"])
def test_sampling_heuristics_rank_disagreeing_samples_first_and_agreement_last(name):
    one_hot = np.zeros((3, 2))
    one_hot[0] = 1.0
    agree_unsure = np.full((3, 2), 1 / 3)
    disagree = np.eye(3)[:, :2]
    scores = H.get(name)(np.stack([one_hot, agree_unsure, disagree]))
    assert scores[2] > scores[0]
    assert scores[0] == pytest.approx(0.0, abs=1e-9)
    assert scores[1] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("name", ["variance", "bald"])
def test_sampling_heuristics_refuse_a_single_sample_clearly(name):
    with pytest.raises(ValueError, match=f"{name} needs Monte Carlo samples.*I >= 2"):
        H.get(name)(np.full((3, 2), 0.5))


def test_random_gives_equal_scores_so_ties_decide():
    assert H.get("random")(np.full((5, 3), 1 / 3)).tolist() == [0.0] * 5


def test_non_finite_probabilities_name_their_rows():
    p = np.full((5, 2), 0.5)
    p[1, 0] = np.nan
    p[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"NaN or infinite values in 2 rows \(first: \[1, 3\]\)"):
        H.get("margin")(p)


def test_logits_are_refused_with_a_pointer_to_softmax():
    with pytest.raises(
        ValueError, match="If these are logits, pass them through al_widget.heuristics.softmax"
    ):
        H.get("entropy")(np.array([[2.0, -1.0, 0.5]]))


def test_softmax_turns_logits_into_probabilities():
    p = H.softmax(np.array([[2.0, -1.0, 0.5]]))
    assert p.sum() == pytest.approx(1.0)
    assert H.get("entropy")(p).shape == (1,)


def test_a_wrong_rank_is_refused():
    with pytest.raises(ValueError, match=r"shape \(N, C\) or \(N, C, I\), got \(4,\)"):
        H.get("margin")(np.full(4, 0.25))


def test_names_are_sorted_and_hold_the_builtins():
    assert H.names() == sorted(H.names())
    assert {"random", "least_confidence", "margin", "entropy", "variance", "bald"} <= set(H.names())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(
        ValueError, match=r"unknown heuristic 'marjin'; choose one of \[.*'margin'.*\]"
    ):
        H.get("marjin")


def test_lookup_normalises_case_and_dashes():
    assert H.get("Least-Confidence") is H.get("least_confidence")


def test_register_returns_the_function_and_makes_it_usable_by_name():
    @H.register("My Score")
    def my_score(probs):
        return np.ones(len(probs))

    try:
        assert H.get("my_score") is my_score
        assert "my_score" in H.names()
    finally:
        H.unregister("my_score")


def test_register_refuses_a_duplicate_unless_replace():
    H.register("dup_score")(lambda p: np.zeros(len(p)))
    try:
        with pytest.raises(ValueError, match="already registered; pass replace=True"):
            H.register("dup_score")(lambda p: np.ones(len(p)))
        second = H.register("dup_score", replace=True)(lambda p: np.ones(len(p)))
        assert H.get("dup_score") is second
    finally:
        H.unregister("dup_score")


def test_re_running_the_cell_that_registers_a_function_replaces_it():
    def cell():
        @H.register("rerun_score")
        def rerun_score(probs):
            return np.zeros(len(probs))

        return rerun_score

    first, second = cell(), cell()
    try:
        assert first is not second
        assert H.get("rerun_score") is second
    finally:
        H.unregister("rerun_score")


def test_watchers_hear_of_registrations():
    heard = []
    H.watch(lambda: heard.append(H.names()))
    H.register("watched_score")(lambda p: np.zeros(len(p)))
    H.unregister("watched_score")
    assert "watched_score" in heard[-2]
    assert "watched_score" not in heard[-1]


def test_register_refuses_to_shadow_a_builtin():
    with pytest.raises(ValueError, match="'margin' is a built-in heuristic"):
        H.register("margin", replace=True)(lambda p: p)


@pytest.mark.parametrize(
    ("how", "expected"), [("mean", [0.25, 1.0]), ("max", [1.0, 1.0]), ("sum", [1.0, 4.0])]
)
def test_dense_scores_reduce_per_pixel_uncertainty(how, expected):
    probs = np.zeros((2, 2, 2, 2))  # N, C, H, W
    probs[:, 0] = 1.0
    probs[0, :, 0, 0] = 0.5  # one unsure pixel in image 0
    probs[1, :, :, :] = 0.5  # every pixel unsure in image 1
    scores = H.score_dense(probs, "margin", how)
    np.testing.assert_allclose(scores, expected)


def test_box_scores_reduce_per_box_uncertainty_and_empty_images_score_zero():
    sure, unsure = [1.0, 0.0], [0.5, 0.5]
    scores = H.score_boxes([np.array([sure, unsure]), np.zeros((0, 2))], "least_confidence", "max")
    np.testing.assert_allclose(scores, [0.5, 0.0])


def test_a_callable_reduction_is_used_as_given():
    probs = np.full((1, 2, 2, 2), 0.5)
    assert H.score_dense(probs, "margin", lambda s: 42.0).tolist() == [42.0]


def test_an_unknown_reduction_lists_the_choices():
    with pytest.raises(
        ValueError, match=r"unknown reduction 'median'; choose one of \['max', 'mean', 'sum'\]"
    ):
        H.reduction("median")


def test_apply_refuses_a_heuristic_that_returns_the_wrong_shape():
    with pytest.raises(ValueError, match=r"must return shape \(3,\), got \(2,\)"):
        H.apply(lambda p: np.zeros(2), np.full((3, 2), 0.5))


@given(probs_strategy())
@pytest.mark.parametrize("name", CLASS_HEURISTICS)
def test_class_heuristics_return_one_finite_nonnegative_score_per_row(name, probs):
    scores = H.get(name)(probs)
    assert scores.shape == (len(probs),)
    assert np.all(np.isfinite(scores))
    assert np.all(scores >= -1e-12)


@given(probs_strategy(samples=3))
@pytest.mark.parametrize("name", ["variance", "bald"])
def test_sampling_heuristics_are_nonnegative(name, probs):
    assert np.all(H.get(name)(probs) >= -1e-9)


@given(probs_strategy())
@pytest.mark.parametrize("name", CLASS_HEURISTICS)
def test_class_heuristics_ignore_the_order_of_classes(name, probs):
    permuted = probs[:, ::-1, :]
    np.testing.assert_allclose(H.get(name)(probs), H.get(name)(permuted), atol=1e-9)


def test_top_takes_the_mean_of_the_highest_fraction_of_scores():
    scores = np.arange(100, dtype=float)
    assert H.top(0.05)(scores) == pytest.approx(np.mean([95, 96, 97, 98, 99]))


def test_top_takes_at_least_one_score():
    assert H.top(0.01)(np.array([0.2, 0.9, 0.1])) == pytest.approx(0.9)


def test_top_of_one_is_the_mean():
    scores = np.random.default_rng(0).random(37)
    assert H.top(1)(scores) == pytest.approx(scores.mean())


def test_top_of_no_scores_is_zero():
    assert H.top(0.5)(np.zeros(0)) == 0.0


def test_top_is_named_by_its_fraction():
    assert H.top(0.01).__name__ == "top(0.01)"


def test_top_is_available_by_name_as_a_reduction():
    scores = np.arange(200, dtype=float)
    assert H.reduction("top(0.01)")(scores) == pytest.approx(198.5)
    assert H.reduction("top(0.01)").__name__ == "top(0.01)"


def test_score_dense_accepts_top_by_name():
    probs = np.full((1, 2, 10, 10), 0.5)
    probs[0, 0, :, :5] = 1.0
    probs[0, 1, :, :5] = 0.0
    # half the pixels are certain (margin score 0), half undecided (score 1)
    assert H.score_dense(probs, "margin", "top(0.5)").tolist() == [1.0]


@pytest.mark.parametrize("q", [0, -0.1, 1.5, float("nan")])
def test_top_refuses_a_fraction_outside_zero_to_one(q):
    with pytest.raises(ValueError, match=r"q in \(0, 1\], got q="):
        H.top(q)


@pytest.mark.parametrize("name", ["top(0)", "top(2)", "top(a lot)", "top()"])
def test_a_top_reduction_name_with_a_bad_fraction_names_q(name):
    with pytest.raises(ValueError, match=r"q in \(0, 1\], got q="):
        H.reduction(name)


def test_an_unknown_reduction_mentions_top():
    with pytest.raises(ValueError, match=r"'top\(q\)' with q in \(0, 1\]"):
        H.reduction("median")


def test_the_registry_lives_in_its_own_module_and_heuristics_still_exports_it():
    from al_widget import heuristic_registry

    for name in ("register", "unregister", "watch", "get", "names", "name_of", "is_builtin"):
        assert getattr(H, name) is getattr(heuristic_registry, name)
    assert heuristic_registry.get("margin") is H.margin


def broken(probs):
    return 1 / 0


def test_apply_names_a_heuristic_that_raises_and_chains_its_error():
    with pytest.raises(
        ValueError, match="heuristic 'broken' raised ZeroDivisionError: division by zero"
    ) as raised:
        H.apply(broken, np.full((3, 2), 0.5))
    assert isinstance(raised.value.__cause__, ZeroDivisionError)


def words(probs):
    return np.array(["high"] * len(probs))


def test_apply_refuses_a_heuristic_that_returns_strings_naming_it_and_the_values():
    with pytest.raises(
        ValueError,
        match=r"heuristic 'words' must return real numbers, got dtype <U4 values like 'high'",
    ):
        H.apply(words, np.full((3, 2), 0.5))


def complex_scores(probs):
    return np.zeros(len(probs)) + 1j


def test_apply_refuses_complex_scores_naming_the_heuristic():
    with pytest.raises(ValueError, match="heuristic 'complex_scores' must return real numbers"):
        H.apply(complex_scores, np.full((3, 2), 0.5))


def test_box_scores_name_a_heuristic_that_raises():
    with pytest.raises(ValueError, match="heuristic 'broken' raised ZeroDivisionError"):
        H.score_boxes([np.full((2, 2), 0.5)], broken)


def test_pixel_scores_name_a_heuristic_that_returns_strings():
    with pytest.raises(ValueError, match="heuristic 'words' must return real numbers"):
        H.score_dense(np.full((1, 2, 2, 2), 0.5), words)


def test_a_registered_heuristic_that_raises_fails_the_round_naming_it(two_class, loop_factory):
    H.register("raising_score")(broken)
    try:
        images, labels = two_class
        loop = loop_factory(alw.Dataset(images, ["0", "1"]), CentroidLearner(2), "raising_score")
        for i in range(4):
            loop.commit(i, alw.Label(int(labels[i])))
        loop.retrain()
        assert loop.wait(10)
        assert loop.history[-1].error == (
            "ValueError: heuristic 'raising_score' raised ZeroDivisionError: division by zero"
        )
    finally:
        H.unregister("raising_score")


def test_apply_names_the_images_whose_scores_are_nan_by_their_indices():
    def shaky(probs):
        scores = probs[:, 0, 0].copy()
        scores[[1, 3]] = np.nan
        return scores

    probs = np.full((4, 2, 1), 0.5)
    with pytest.raises(
        ValueError,
        match=r"heuristic 'shaky' returned NaN or infinite scores for 2 images \(first: \[17, 42\]\)",
    ):
        H.apply(shaky, probs, indices=np.array([5, 17, 30, 42]))
