"""heuristic="auto": the loop's online choice among heuristics (EXP4.P over their top choices)."""

import re

import numpy as np
import pytest

import al_widget as alw
from al_widget import auto, bandit, heuristics
from al_widget.learners import ParamsMixin
from al_widget.settings import Settings

from conftest import CentroidLearner, HeldLearner, SquareAndSpeck

CLASSES = ["dark", "bright"]


def label_all(loop, labels, rounds, k):
    """Label the head of the queue `rounds` times, `k` images each, waiting for each round."""
    for _ in range(rounds):
        for i in loop.queue[:k]:
            loop.commit(int(i), alw.Label(int(labels[i])))
        assert loop.wait(10)


def test_auto_is_a_heuristic_name_the_settings_accept():
    assert "auto" in heuristics.names()
    assert Settings(heuristic="auto").heuristic == "auto"


def test_auto_refuses_to_score_by_itself_naming_its_heuristics():
    with pytest.raises(ValueError, match="'auto' has no scores of its own.*margin"):
        heuristics.apply("auto", np.full((2, 2), 0.5))


def test_the_default_arms_add_bald_and_variance_with_mc_dropout():
    assert auto.Auto().arms_for(None) == ("random", "margin", "entropy")
    assert auto.Auto().arms_for(1) == ("random", "margin", "entropy")
    assert auto.Auto().arms_for(10) == ("random", "margin", "entropy", "bald", "variance")


def test_own_arms_are_checked_when_given():
    assert auto.Auto(arms=["random", "Least Confidence"]).arms_for(None) == (
        "random",
        "least_confidence",
    )
    with pytest.raises(ValueError, match="unknown heuristic 'nope'"):
        auto.Auto(arms=["random", "nope"])
    with pytest.raises(ValueError, match="not 'auto' itself"):
        auto.Auto(arms=["random", "auto"])


def test_an_auto_round_draws_the_head_of_the_queue_from_the_arms(two_class, loop_factory):
    images, labels = two_class
    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), "auto", pool_sample=None, query_size=5
    )
    label_all(loop, labels, 1, 5)
    drawn = loop.ranking.drawn
    assert loop.ranking.heuristic == "auto"
    assert list(drawn.order) == loop.queue[:5].tolist()
    assert {p.arm for p in drawn.picks.values()} <= {"random", "margin", "entropy"}
    assert all(0 < p.probability <= 1 for p in drawn.picks.values())


def test_history_records_each_rounds_draws_weights_and_reward(two_class, loop_factory):
    images, labels = two_class
    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), "auto", pool_sample=None, query_size=5
    )
    label_all(loop, labels, 4, 5)
    records = [r.auto for r in loop.history if r.auto is not None]
    assert len(records) == 4
    assert all(sum(c.drawn.values()) == 5 for c in records)
    assert all(sum(c.weights.values()) == pytest.approx(1.0) for c in records)
    assert records[-1].reward is not None  # the first draws were labeled and learned from
    assert records[-1].quality == "agreement"  # no eval set: the labels themselves


def loop_with_an_eval_set(two_class, loop_factory):
    """An "auto" loop on the first 40 images, 5 queries a round, the rest its eval set."""
    images, labels = two_class
    return loop_factory(
        alw.Dataset(images[:40], CLASSES),
        CentroidLearner(2),
        "auto",
        pool_sample=None,
        query_size=5,
        eval_set=(images[40:], labels[40:]),
    )


def test_a_new_round_size_retunes_the_bandit_for_its_rounds_and_keeps_its_weights(
    two_class, loop_factory
):
    loop = loop_with_an_eval_set(two_class, loop_factory)
    label_all(loop, two_class[1], 3, 5)
    learned = loop.bandit
    assert learned.horizon == bandit.rounds_for(5)
    loop.query_size = 2
    label_all(loop, two_class[1], 1, 2)
    assert loop.bandit.horizon == bandit.rounds_for(2)
    assert loop.bandit.floor == bandit.start(learned.arms, horizon=bandit.rounds_for(2)).floor
    assert loop.bandit.updates > learned.updates  # the same bandit, rewarded on


def test_a_loop_with_an_eval_set_rewards_the_change_in_its_metric(two_class, loop_factory):
    loop = loop_with_an_eval_set(two_class, loop_factory)
    label_all(loop, two_class[1], 4, 5)
    assert loop.history[-1].auto.quality == "accuracy"
    assert loop.history[-1].auto.reward is not None


def test_with_an_eval_set_a_rounds_draws_are_rewarded_by_the_next_model(two_class, loop_factory):
    loop = loop_with_an_eval_set(two_class, loop_factory)
    labels = two_class[1]
    label_all(loop, labels, 1, 5)  # the first model: it draws the first queries
    first = loop.history[-1]
    assert first.auto.reward is None
    label_all(loop, labels, 1, 5)  # those queries labeled: the next model learned from them
    after = loop.history[-1]
    assert after.auto.reward == pytest.approx(after.metric - first.metric)
    assert after.auto.rewarded == 5
    assert loop.bandit.updates == 1


def test_describe_says_which_heuristic_drew_the_image(two_class, loop_factory):
    images, labels = two_class
    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), "auto", pool_sample=None, query_size=5
    )
    label_all(loop, labels, 1, 5)
    head = int(loop.queue[0])
    arm = loop.ranking.drawn.picks[head].arm
    described = loop.describe(head)
    assert described.arm == arm
    assert described.why.startswith("query 1 of 5 auto drew from the ")
    assert f"{arm}'s " in described.why
    assert loop.describe(int(loop.queue[6])).arm is None


def test_switching_away_from_auto_and_back_keeps_what_it_learned(two_class, loop_factory):
    images, labels = two_class
    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), "auto", pool_sample=None, query_size=5
    )
    label_all(loop, labels, 4, 5)
    learned = loop.bandit
    assert learned.updates >= 1
    loop.heuristic = "margin"
    assert loop.wait(10)  # the queue is margin's now
    label_all(loop, labels, 1, 5)
    assert loop.ranking.drawn is None
    assert loop.bandit == learned
    loop.heuristic = "auto"
    assert loop.wait(10)
    assert loop.bandit.log_weights == learned.log_weights
    assert loop.bandit.updates == learned.updates
    label_all(loop, labels, 2, 5)
    assert loop.bandit.updates > learned.updates


class NearestLearner(ParamsMixin):
    """1-nearest-neighbour with inverse-distance probabilities; blind to corrupted images.

    A corrupted image (its first pixel saturated) carries no information: the learner leaves
    it out when it trains and is evenly unsure about it (so margin and entropy always rank
    the corrupted images first, and their labels teach the model nothing).
    """

    def __init__(self, n_classes=2):
        self.n_classes = n_classes

    def fit(self, images, targets, progress, should_stop):
        x = images.reshape(len(images), -1).astype(np.float64)
        keep = x[:, 0] != 255
        self.x_, self.y_ = x[keep], np.asarray(targets)[keep]
        progress(1.0)
        return self

    def predict_proba(self, images, mc_samples=1):
        x = images.reshape(len(images), -1).astype(np.float64)
        d = np.sqrt(((x[:, None] - self.x_[None]) ** 2).sum(-1))
        near = np.stack(
            [
                d[:, self.y_ == c].min(1) if (self.y_ == c).any() else np.full(len(x), 1e6)
                for c in range(self.n_classes)
            ],
            1,
        )
        p = 1 / (near + 1e-6)
        p /= p.sum(1, keepdims=True)
        p[x[:, 0] == 255] = 1 / self.n_classes
        return np.repeat(p[:, :, None], mc_samples, 2)


def corrupted_pool(seed=0, clusters=100, per=4, corrupted=150, test_per=2):
    """Clusters of two classes (class = cluster parity) and many corrupted, randomly labeled images."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(30, 120, (clusters, 16))

    def around(n):
        c = np.repeat(np.arange(clusters), n)
        x = (centers[c] + rng.normal(0, 4, (len(c), 16))).clip(0, 250).astype(np.uint8)
        return x.reshape(-1, 4, 4), c % 2

    x, y = around(per)
    noise = rng.integers(0, 256, (corrupted, 16)).astype(np.uint8)
    noise[:, 0] = 255
    test = around(test_per)
    return (
        np.concatenate([x, noise.reshape(-1, 4, 4)]),
        np.concatenate([y, rng.integers(0, 2, corrupted)]),
        test,
    )


def test_the_weights_move_away_from_heuristics_that_ask_for_useless_images(loop_factory):
    # 150 of 550 images are corrupted: margin and entropy always ask for them and gain nothing;
    # random asks for useful images 73% of the time. Within 100 rounds of 2 labels (seed 0)
    # the bandit puts random first and the two bad arms below their starting third (with an
    # eval set each round follows one arm: over seeds 0-4 random is first in every seed from
    # 60 rounds on, its weight 0.48 on average after 60 rounds and 0.55 after 100).
    images, labels, test = corrupted_pool()
    loop = loop_factory(
        alw.Dataset(images, CLASSES),
        NearestLearner(),
        "auto",
        pool_sample=None,
        query_size=2,
        eval_set=test,
        seed=0,
        start=False,
    )
    for i in range(4):
        loop.commit(i, alw.Label(int(labels[i])))
    loop.start()
    assert loop.wait(10)
    label_all(loop, labels, 100, 2)
    weights = loop.bandit.weights
    assert weights["random"] > max(weights["margin"], weights["entropy"])
    assert weights["margin"] < 1 / 3
    assert weights["entropy"] < 1 / 3
    gain = loop.bandit.gain_per_label
    assert gain["random"] > max(gain["margin"], gain["entropy"])


def test_simulate_auto_gives_each_arms_weight_after_each_round(two_class):
    images, labels = two_class
    curve = alw.simulate(
        images, labels, "auto", seed_size=4, query_size=5, budget=30, learner=CentroidLearner(2),
        progress=False,
    )  # fmt: skip
    assert curve.heuristic == "auto"
    assert set(curve.weights) == {"random", "margin", "entropy"}
    assert all(len(w) == len(curve.n_labels) for w in curve.weights.values())
    total = np.sum(list(curve.weights.values()), axis=0)
    np.testing.assert_allclose(total, 1.0)


def test_the_weights_chart_draws_one_line_per_arm(two_class):
    images, labels = two_class
    curve = alw.simulate(
        images, labels, "auto", seed_size=4, query_size=5, budget=30, learner=CentroidLearner(2),
        progress=False,
    )  # fmt: skip
    svg = curve.weights_svg()
    assert svg.startswith("<svg")
    for arm in ("random", "margin", "entropy"):
        assert arm in svg
    assert "weight in auto" in svg
    assert ">0</text>" in svg  # weights are drawn on 0 .. 1, however little they moved
    assert ">1</text>" in svg


def test_a_fixed_heuristics_curve_has_no_weights_to_chart(two_class):
    images, labels = two_class
    curve = alw.simulate(
        images, labels, "margin", seed_size=4, query_size=5, budget=20, learner=CentroidLearner(2),
        progress=False,
    )  # fmt: skip
    assert curve.weights is None
    with pytest.raises(ValueError, match="no weights: they are for heuristic 'auto', got 'margin'"):
        curve.weights_svg()


def test_compare_runs_auto_beside_the_fixed_heuristics(two_class):
    images, labels = two_class
    result = alw.compare(
        images, labels, ("random", "auto"), repeats=2, progress=False, seed_size=4,
        query_size=5, budget=20, learner=CentroidLearner(2),
    )  # fmt: skip
    assert list(result.curves) == ["random", "auto"]
    assert [c.seed for c in result.curves["auto"]] == [0, 1]
    assert all(c.weights is not None for c in result.curves["auto"])


def last_auto_round_after_labeling(loop_factory, dataset, learner, truth):
    """What "auto" did in the last of 4 rounds of 2 labels (the true annotations) without an
    eval set."""
    loop = loop_factory(dataset, learner, "auto", query_size=2, pool_sample=None)
    for _ in range(4):
        for i in loop.queue[:2]:
            loop.commit(int(i), truth[int(i)])
        assert loop.wait(10)
    assert loop.history[-1].ok, loop.history[-1].error
    return loop.history[-1].auto


def test_auto_rewards_a_detector_with_the_agreement_of_its_boxes_with_the_labels(loop_factory):
    from test_tasks import BrightBoxes, blob_images

    images, boxes = blob_images([(20, 30)] * 30)
    dataset = alw.Dataset(np.stack(images), ["thing"], task="detect")
    done = last_auto_round_after_labeling(loop_factory, dataset, BrightBoxes(), boxes)
    assert done.reward is not None
    assert done.quality == "agreement"


def test_auto_rewards_a_segmenter_with_the_iou_of_its_drafts_against_the_masks(loop_factory):
    from test_tasks import BrightPixels, blob_images

    images, _ = blob_images([(20, 30)] * 20)
    masks = [alw.Mask((image[..., 0] > 100).astype(np.uint8)) for image in images]
    dataset = alw.Dataset(np.stack(images), ["background", "thing"], task="segment")
    done = last_auto_round_after_labeling(loop_factory, dataset, BrightPixels(), masks)
    assert done.reward is not None
    assert done.quality == "agreement"


def test_auto_rewards_an_instance_segmenter_with_the_agreement_of_its_objects(loop_factory):
    from test_instance_drafts import CLASSES as SQUARE
    from test_instance_drafts import squares

    images, truth = squares(20)
    dataset = alw.Dataset(images, SQUARE, task="instances")
    done = last_auto_round_after_labeling(loop_factory, dataset, SquareAndSpeck(), truth)
    assert done.reward is not None
    assert done.quality == "agreement"


def test_a_loop_chooses_among_the_arms_it_is_given(two_class, loop_factory):
    images, labels = two_class
    chooser = auto.Auto(arms=["random", "least_confidence"])
    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), chooser, pool_sample=None, query_size=5
    )
    label_all(loop, labels, 2, 5)
    assert loop.bandit.arms == ("random", "least_confidence")
    assert set(loop.history[-1].auto.drawn) == {"random", "least_confidence"}


class EmbeddingCentroid(CentroidLearner):
    """A centroid learner with ``embed``, so that the batch selectors can pick with it."""

    def embed(self, images):
        return images.reshape(len(images), -1).astype(np.float32) / 255


def test_a_batch_selector_can_be_an_arm(two_class, loop_factory):
    images, labels = two_class
    chooser = auto.Auto(arms=["random", "margin", "cluster_margin"])
    loop = loop_factory(
        alw.Dataset(images, CLASSES), EmbeddingCentroid(2), chooser, pool_sample=None, query_size=5
    )
    label_all(loop, labels, 3, 5)
    assert loop.history[-1].ok, loop.history[-1].error
    assert loop.bandit.arms == ("random", "margin", "cluster_margin")


def test_a_draw_whose_model_offered_nothing_for_its_labels_is_dropped_not_waited_on():
    chooser = auto.Chooser()
    chooser.arms(("random", "margin"), 5)
    pick = {0: bandit.Pick(0, "margin", 0.5, (0.0, 1.0))}
    for version in (1, 2, 3):
        chooser.add(auto.Draw(version, dict(pick), ranking=None))
        pick = {version: bandit.Pick(version, "margin", 0.5, (0.0, 1.0))}

    def labeled(indices):
        return np.ones(len(indices), bool)

    def nothing_for_image_1(ranking, i):
        return None if i == 1 else 1.0

    chooser.reward(4, None, labeled, nothing_for_image_1)
    # versions 1 and 3 are rewarded against each other; version 2 (image 1) is left out
    assert [d.model_version for d in chooser.draws] == [3]
    assert chooser.state.updates == 1


def test_auto_with_an_arm_the_learner_cannot_run_is_refused_naming_the_arm(two_class):
    chooser = auto.Auto(arms=["coreset", "margin"])
    with pytest.raises(ValueError, match="heuristic 'auto' does not work here: .*'coreset'"):
        alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), CentroidLearner(2), chooser, start=False)


def test_setting_auto_with_an_arm_the_learner_cannot_run_is_refused_and_the_old_kept(
    two_class, loop_factory
):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), CentroidLearner(2))
    with pytest.raises(ValueError, match="of its arms, the selector 'coreset' needs a learner"):
        loop.heuristic = auto.Auto(arms=["random", "coreset"])
    assert loop.heuristic == "margin"


def test_describe_ranks_an_image_after_the_draws_by_the_score_it_names(two_class, loop_factory):
    images, labels = two_class
    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), "auto", pool_sample=None, query_size=5
    )
    label_all(loop, labels, 1, 5)
    ranked = loop.ranking
    by_score = [int(i) for i in ranked.indices[np.argsort(-ranked.scores, kind="stable")]]
    for i in ranked.indices[5:10]:
        nth = by_score.index(int(i)) + 1
        assert re.match(rf"the {nth}(st|nd|rd|th) most uncertain ", loop.describe(int(i)).why)


def test_describe_gives_a_random_picks_chance_to_three_significant_digits(two_class, loop_factory):
    images, labels = two_class
    chooser = auto.Auto(arms=["random", "margin"])
    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), chooser, pool_sample=None, query_size=5
    )
    label_all(loop, labels, 1, 5)
    drawn = loop.ranking.drawn
    i = next(i for i in drawn.order if drawn.picks[i].arm == "random")
    shown = re.search(r"chance ([^;]+);", loop.describe(i).why).group(1)
    assert float(shown) == pytest.approx(drawn.picks[i].probability, rel=6e-3)


def test_a_draw_labeled_before_a_switch_earns_nothing_from_the_rounds_after(
    two_class, loop_factory
):
    loop = loop_with_an_eval_set(two_class, loop_factory)
    labels = two_class[1]
    label_all(loop, labels, 3, 5)
    learned = loop.bandit
    for i in loop.ranking.drawn.order[:4]:  # the draw labeled, short of query_size: no round yet
        loop.commit(int(i), alw.Label(int(labels[i])))
    loop.heuristic = "margin"
    assert loop.wait(10)
    label_all(loop, labels, 2, 5)  # models that learned from margin's queries too
    loop.heuristic = "auto"
    assert loop.wait(10)
    assert loop.history[-1].auto.reward is None
    assert loop.bandit.updates == learned.updates
    assert loop.bandit.log_weights == learned.log_weights


def test_a_draw_is_rewarded_only_for_the_queries_the_new_model_trained_on(two_class, loop_factory):
    images, labels = two_class
    learner = HeldLearner(2)
    loop = loop_factory(
        alw.Dataset(images[:40], CLASSES),
        learner,
        "auto",
        pool_sample=None,
        query_size=5,
        eval_set=(images[40:], labels[40:]),
    )
    label_all(loop, labels, 2, 5)
    drawn = [int(i) for i in loop.ranking.drawn.order]
    others = [int(i) for i in loop.queue[5:8]]
    learner.hold = True
    for i in drawn[:2] + others:  # the 5th label starts the round: it trains on these
        loop.commit(i, alw.Label(int(labels[i])))
    assert learner.entered.wait(10)
    for i in drawn[2:]:  # labeled while the model trains: not in its training data
        loop.commit(i, alw.Label(int(labels[i])))
    learner.hold = False
    learner.release.set()
    assert loop.wait(10)
    third = next(r for r in loop.history if r.retrained and r.model_version == 3)
    assert third.n_labels == 15
    assert third.auto.rewarded == 2


def test_with_an_eval_set_a_rounds_queries_all_follow_one_heuristic(two_class, loop_factory):
    loop = loop_with_an_eval_set(two_class, loop_factory)
    for _ in range(3):
        label_all(loop, two_class[1], 1, 5)
        picks = list(loop.ranking.drawn.picks.values())
        assert len({p.arm for p in picks}) == 1
        assert all(p.arm_probability is not None for p in picks)


def test_without_an_eval_set_each_query_draws_its_own_heuristic(two_class, loop_factory):
    images, labels = two_class
    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), "auto", pool_sample=None, query_size=5
    )
    label_all(loop, labels, 2, 5)
    assert all(p.arm_probability is None for p in loop.ranking.drawn.picks.values())


def test_describe_names_the_rounds_heuristic_when_the_round_follows_one(two_class, loop_factory):
    loop = loop_with_an_eval_set(two_class, loop_factory)
    label_all(loop, two_class[1], 1, 5)
    second = int(loop.queue[1])
    pick = loop.ranking.drawn.picks[second]
    why = loop.describe(second).why
    assert f"{pick.arm}'s " in why
    assert f"the round's heuristic, drawn with chance {pick.arm_probability:.2f}" in why
