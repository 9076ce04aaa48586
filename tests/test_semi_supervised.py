"""Semi-supervised training: the classifier learns from unlabeled pool images, the loop feeds them,
and what it guesses for them stays a training target, never a label."""

import numpy as np
import pytest
import torch

import al_widget as alw
from al_widget.learners import Classifier
from al_widget.learners.base import unlabeled_wanted
from al_widget.records import RoundRecord, semi_supervised_note

from conftest import CentroidLearner


@pytest.fixture(scope="module")
def digits_rgb():
    images, labels = alw.datasets.digits()
    return np.repeat(images[..., None], 3, axis=3), labels


def _weights(model):
    return torch.cat([p.detach().flatten() for p in model.net_.parameters()])


def _seed_labels(labels, per_class):
    """Indices of the first `per_class` images of every class."""
    return np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)])


def test_semi_supervised_off_trains_exactly_as_on_the_labels_alone(digits_rgb):
    images, labels = digits_rgb
    params = {"max_steps": 30, "min_steps": 30}
    given = Classifier(10, semi_supervised=False, **params)
    given.fit(images[:40], labels[:40], unlabeled=images[100:1300])
    alone = Classifier(10, semi_supervised=False, **params).fit(images[:40], labels[:40])
    torch.testing.assert_close(_weights(given), _weights(alone), rtol=0, atol=0)
    assert given.semi_supervised_ is None
    assert given.unlabeled_wanted() == 0


def test_a_fit_given_too_few_unlabeled_images_trains_on_the_labels_alone(digits_rgb):
    images, labels = digits_rgb
    params = {"max_steps": 30, "min_steps": 30}
    given = Classifier(10, **params).fit(images[:40], labels[:40], unlabeled=images[100:400])
    alone = Classifier(10, semi_supervised=False, **params).fit(images[:40], labels[:40])
    torch.testing.assert_close(_weights(given), _weights(alone), rtol=0, atol=0)
    assert given.semi_supervised_ is None


def test_a_semi_supervised_fit_counts_its_pseudo_labels_and_threshold(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=60, threshold=0.5)
    model.fit(images[:200], labels[:200], unlabeled=images[200:1400])
    report = model.semi_supervised_
    assert report["unlabeled"] == 1200
    assert report["threshold"] == 0.5
    assert 0 < report["pseudo_labels"] <= 1200


def test_a_semi_supervised_fit_goes_on_training_the_previous_network(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=10)
    before = _weights(model.fit(images[:30], labels[:30], unlabeled=images[200:1400]))
    model.set_params(lr=1e-12).fit(images[:40], labels[:40], unlabeled=images[200:1400])
    torch.testing.assert_close(_weights(model), before)


@pytest.mark.slow
def test_unlabeled_images_lift_the_accuracy_of_few_labels(digits_rgb):
    images, labels = digits_rgb
    seed = _seed_labels(labels[:1000], 3)  # 30 labels
    test = slice(1400, None)

    def accuracy(model):
        predicted = model.predict_proba(images[test])[:, :, 0].argmax(1)
        return (predicted == labels[test]).mean()

    alone = Classifier(10, semi_supervised=False).fit(images[seed], labels[seed])
    semi = Classifier(10)
    for _ in range(3):  # three rounds, as a loop warm-starts them
        semi.fit(images[seed], labels[seed], unlabeled=images[:1400])
    assert accuracy(semi) > accuracy(alone) + 0.03


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"semi_supervised": "yes"}, "semi_supervised must be True or False, got 'yes'"),
        ({"threshold": 0}, r"threshold must be in \(0, 1\], got 0"),
        ({"threshold": 1.5}, r"threshold must be in \(0, 1\], got 1.5"),
        ({"unlabeled_sample": -1}, "unlabeled_sample must be"),
    ],
)
def test_fit_refuses_invalid_semi_supervised_parameters_by_name(digits_rgb, params, message):
    images, labels = digits_rgb
    with pytest.raises(ValueError, match=message):
        Classifier(10, **params).fit(images[:20], labels[:20])


class _Wanting(CentroidLearner):
    """A centroid learner that asks the loop for unlabeled images and records what it got."""

    def __init__(self, n_classes, wanted=50):
        super().__init__(n_classes)
        self.wanted = wanted

    def unlabeled_wanted(self):
        return self.wanted

    def fit(self, images, targets, progress, should_stop, unlabeled=None):
        self.unlabeled_seen_ = [*getattr(self, "unlabeled_seen_", []), unlabeled]
        return super().fit(images, targets, progress, should_stop)


def test_the_loop_passes_a_sample_of_unlabeled_pool_images_to_a_learner_that_wants_them(
    loop_factory,
):
    rng = np.random.default_rng(0)
    # Each image's pixels are its index, so the images the learner got tell which they were.
    images = np.repeat(np.arange(200, dtype=np.uint8)[:, None, None], 4, 1).repeat(4, 2)
    ds = alw.Dataset(images, classes=["a", "b"])
    learner = _Wanting(2, wanted=50)
    loop = loop_factory(ds, learner, query_size=4, seed=1)
    for i in rng.permutation(200)[:4]:
        loop.commit(int(i), alw.Label(int(i) % 2))
    assert loop.wait(timeout=30)
    (got,) = learner.unlabeled_seen_
    shown = got[:, 0, 0, 0].astype(int)
    assert got.shape == (50, 4, 4, 3)
    assert len(set(shown)) == 50
    assert not set(shown) & set(ds.labeled.tolist())


def test_a_learner_whose_unlabeled_wanted_is_not_a_count_is_refused_naming_it():
    learner = _Wanting(2, wanted=-3)
    with pytest.raises(
        ValueError, match=r"what _Wanting.unlabeled_wanted\(\) returns must be an int >= 0, got -3"
    ):
        unlabeled_wanted(learner)


def test_a_learner_without_unlabeled_wanted_wants_none():
    assert unlabeled_wanted(CentroidLearner(2)) == 0


@pytest.fixture(scope="module")
def semi_loop_run(tmp_path_factory):
    """A loop with the default classifier on digits, journaled, after two rounds: its dataset,
    the labels given and the history."""
    images, labels = alw.datasets.digits()
    journal = tmp_path_factory.mktemp("semi") / "labels.jsonl"
    classes = alw.datasets.DIGIT_CLASSES
    ds = alw.Dataset(images, classes=classes, journal=journal)
    given = {int(i): alw.Label(classes[labels[i]]) for i in _seed_labels(labels, 2)}
    with alw.ActiveLoop(ds, query_size=20, pool_sample=200) as loop:
        for i, label in given.items():
            loop.commit(i, label)
        assert loop.wait(timeout=900)
        loop.retrain()
        assert loop.wait(timeout=900)
        history = loop.history
    return ds, given, history, journal


@pytest.mark.slow
def test_the_history_records_the_pseudo_labels_a_round_trained_on(semi_loop_run):
    _, _, history, _ = semi_loop_run
    trained = [r for r in history if r.retrained]
    assert len(trained) == 2
    for record in trained:
        assert record.ok
        assert record.n_unlabeled == 1797 - 20  # the whole unlabeled pool: fewer than 2,000
        assert record.pseudo_threshold == 0.95
    assert trained[-1].n_pseudo_labels > 0


@pytest.mark.slow
def test_pseudo_labels_never_enter_the_dataset_or_an_export(semi_loop_run, tmp_path):
    ds, given, history, journal = semi_loop_run
    assert sum(r.n_pseudo_labels for r in history) > 0
    assert ds.labeled.tolist() == sorted(given)
    assert {i: ds.annotation(i) for i in ds.labeled.tolist()} == given
    rows = ds.to_records()
    assert sorted(row["index"] for row in rows) == sorted(given)
    ds.to_csv(tmp_path / "labels.csv")
    lines = (tmp_path / "labels.csv").read_text().splitlines()
    assert len(lines) == 1 + len(given)
    restored = alw.Dataset.restore(journal, alw.datasets.digits()[0], read_only=True)
    assert {i: restored.annotation(i) for i in restored.labeled.tolist()} == given


def test_a_semi_supervised_classifier_still_samples_mc_dropout(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=30).fit(images[:50], labels[:50], unlabeled=images[200:1400])
    assert model.semi_supervised_ is not None
    sampled = model.predict_proba(images[:5], mc_samples=8)
    assert sampled.std(axis=2).max() > 1e-4


def _record(**fields):
    base = dict(
        round=1,
        model_version=1,
        data_version=1,
        n_labels=20,
        heuristic="margin",
        retrained=True,
        n_scored=100,
        train_seconds=1.0,
        score_seconds=0.1,
    )
    return RoundRecord(**{**base, **fields})


def test_the_semi_supervised_note_describes_the_newest_trained_round():
    history = [
        _record(n_unlabeled=2000, n_pseudo_labels=10, pseudo_threshold=0.95),
        _record(round=2, n_unlabeled=2000, n_pseudo_labels=1455, pseudo_threshold=0.95),
        _record(round=3, retrained=False),
    ]
    assert semi_supervised_note(history) == (
        "learning from the pool: 1,455 pseudo-labels of 2,000 images (confidence >= 0.95)"
    )


def test_the_semi_supervised_note_is_empty_for_a_round_on_the_labels_alone():
    assert semi_supervised_note([_record()]) == ""
    assert semi_supervised_note([]) == ""


class _Reporting(_Wanting):
    """A centroid learner that takes pool images and reports pseudo-labels, as Classifier does."""

    def fit(self, images, targets, progress, should_stop, unlabeled=None):
        super().fit(images, targets, progress, should_stop, unlabeled)
        self.semi_supervised_ = {"unlabeled": len(unlabeled), "pseudo_labels": 7, "threshold": 0.9}
        return self


def test_the_panel_status_says_what_the_round_learned_from_the_pool(loop_factory):
    images = np.repeat(np.arange(200, dtype=np.uint8)[:, None, None], 4, 1).repeat(4, 2)
    loop = loop_factory(alw.Dataset(images, classes=["a", "b"]), _Reporting(2), query_size=4)
    panel = alw.Panel(loop)
    try:
        for i in range(4):
            loop.commit(i, alw.Label(i % 2))
        assert loop.wait(timeout=30)
        note = "learning from the pool: 7 pseudo-labels of 50 images (confidence &gt;= 0.9)"
        assert note in panel.status.value
    finally:
        panel.close()
