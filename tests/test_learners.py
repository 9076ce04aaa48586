import threading

import numpy as np
import pytest
import torch

import al_widget as alw
from al_widget.learners import Cancelled, Classifier, Learner


@pytest.fixture(scope="module")
def digits_rgb():
    images, labels = alw.datasets.digits()
    return np.repeat(images[..., None], 3, axis=3), labels


def test_classifier_follows_the_learner_protocol():
    assert isinstance(Classifier(3), Learner)


def test_classifier_learns_digits_well_above_chance(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10)
    model.fit(images[:300], labels[:300])
    accuracy = (
        model.predict_proba(images[1000:1400])[:, :, 0].argmax(1) == labels[1000:1400]
    ).mean()
    assert accuracy > 0.8


def test_predict_proba_returns_n_c_i_probabilities(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=20, min_steps=20)
    model.fit(images[:50], labels[:50])
    probs = model.predict_proba(images[:7], mc_samples=4)
    assert probs.shape == (7, 10, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_mc_dropout_samples_differ_and_a_single_pass_is_deterministic(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=30, min_steps=30)
    model.fit(images[:50], labels[:50])
    sampled = model.predict_proba(images[:5], mc_samples=8)
    assert sampled.std(axis=2).max() > 1e-4
    np.testing.assert_array_equal(model.predict_proba(images[:5]), model.predict_proba(images[:5]))


def test_fit_reports_progress_up_to_one(digits_rgb):
    images, labels = digits_rgb
    seen = []
    Classifier(10, max_steps=25, min_steps=25).fit(images[:40], labels[:40], seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


def test_fit_stops_between_batches_when_asked(digits_rgb):
    images, labels = digits_rgb
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled, match="stopped at step 3"):
        Classifier(10).fit(images[:40], labels[:40], should_stop=should_stop)


def test_reset_gives_the_same_weights_for_the_same_seed_and_round(digits_rgb):
    images, labels = digits_rgb
    a, b = Classifier(10, max_steps=10, min_steps=10), Classifier(10, max_steps=10, min_steps=10)
    a.fit(images[:30], labels[:30])
    b.fit(images[:30], labels[:30])
    np.testing.assert_allclose(a.predict_proba(images[:3]), b.predict_proba(images[:3]))


def test_warm_start_keeps_the_network_between_fits(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, warm_start=True, max_steps=10, min_steps=10)
    model.fit(images[:30], labels[:30])
    net = model.net
    model.fit(images[:40], labels[:40])
    assert model.net is net


def test_images_of_another_size_are_resized_to_the_trained_size(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=10, min_steps=10)
    model.fit(images[:30], labels[:30])
    bigger = np.repeat(np.repeat(images[:3], 2, axis=1), 2, axis=2)
    assert model.predict_proba(bigger).shape == (3, 10, 1)


def test_targets_out_of_range_are_refused(digits_rgb):
    images, _ = digits_rgb
    with pytest.raises(ValueError, match=r"class ids in 0..2, got 0..9"):
        Classifier(3).fit(images[:10], np.arange(10))


def test_training_respects_torch_set_num_threads(digits_rgb):
    images, labels = digits_rgb
    seen = []

    def train():
        torch.set_num_threads(1)
        Classifier(10, max_steps=5, min_steps=5).fit(images[:20], labels[:20])
        seen.append(torch.get_num_threads())

    thread = threading.Thread(target=train)
    thread.start()
    thread.join(60)
    assert seen == [1]
