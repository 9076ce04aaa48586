import threading

import numpy as np
import pytest
import torch

import al_widget as alw
from al_widget.learners import Cancelled, Classifier, Learner, ParamsMixin, clone
from al_widget.learners.base import input_size_of


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
    # GPU kernels may sum in another order from run to run: equal up to float32 rounding.
    np.testing.assert_allclose(
        a.predict_proba(images[:3]), b.predict_proba(images[:3]), rtol=1e-5, atol=1e-6
    )


def _weights(model):
    return torch.cat([p.detach().flatten() for p in model.net_.parameters()])


def test_warm_start_goes_on_training_the_previous_network(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, warm_start=True, max_steps=10, min_steps=10)
    before = _weights(model.fit(images[:30], labels[:30]))
    model.set_params(lr=1e-12).fit(images[:40], labels[:40])
    torch.testing.assert_close(_weights(model), before)


def test_without_warm_start_each_fit_starts_a_new_network(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=10, min_steps=10)
    before = _weights(model.fit(images[:30], labels[:30]))
    model.set_params(lr=1e-12).fit(images[:30], labels[:30])
    assert not torch.allclose(_weights(model), before)


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


def test_a_cancelled_fit_keeps_the_previous_model(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=10, min_steps=10).fit(images[:30], labels[:30])
    net, before = model.net_, model.predict_proba(images[:3])
    with pytest.raises(Cancelled):
        model.fit(images[:40], labels[:40], should_stop=lambda: True)
    assert model.net_ is net
    assert model.n_fits_ == 1
    np.testing.assert_array_equal(model.predict_proba(images[:3]), before)


def test_predict_before_fit_is_refused():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        Classifier(10).predict_proba(np.zeros((1, 8, 8, 3), np.uint8))


def test_predict_proba_refuses_an_mc_samples_that_is_not_an_int_naming_it(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=1, min_steps=1).fit(images[:20], labels[:20])
    with pytest.raises(TypeError, match="mc_samples must be an int >= 1, got 2.5"):
        model.predict_proba(images[:2], mc_samples=2.5)


# -- scikit-learn's conventions ----------------------------------------------------------------


def test_init_only_stores_its_parameters():
    model = Classifier(10, device="cpu", input_size=[8, 8])
    assert vars(model) == model.get_params()
    assert model.device == "cpu"
    assert model.input_size == [8, 8]
    assert not hasattr(model, "device_")
    assert not hasattr(model, "net_")


def test_init_does_not_validate_and_fit_names_the_invalid_parameter(digits_rgb):
    images, _ = digits_rgb
    model = Classifier(1)
    with pytest.raises(ValueError, match="n_classes must be an int >= 2, got 1"):
        model.fit(images[:10], np.zeros(10, np.int64))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"width": 0}, "width must be an int >= 1, got 0"),
        ({"max_steps": 2.5}, "max_steps must be an int >= 1, got 2.5"),
        ({"lr": 0.0}, "lr must be positive, got 0.0"),
        ({"weight_decay": -1.0}, r"weight_decay must be at least 0, got -1.0"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"input_size": (8,)}, r"input_size must be None or a \(height, width\) pair"),
        ({"device": "abacus"}, "device must be None, a torch.device or a name"),
    ],
)
def test_fit_refuses_an_invalid_parameter_by_name(digits_rgb, params, message):
    images, labels = digits_rgb
    with pytest.raises((ValueError, TypeError), match=message):
        Classifier(10, **params).fit(images[:10], labels[:10])


def test_fit_returns_self_with_the_fitted_attributes(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=5, min_steps=5)
    assert model.fit(images[:20], labels[:20]) is model
    assert isinstance(model.device_, torch.device)
    assert model.input_size_ == (8, 8)
    assert model.gray_ is True
    assert model.n_fits_ == 1


def test_device_forces_where_the_network_trains(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, device="cpu", max_steps=5, min_steps=5).fit(images[:20], labels[:20])
    assert model.device_ == torch.device("cpu")
    assert {p.device for p in model.net_.parameters()} == {torch.device("cpu")}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_without_device_a_visible_gpu_is_used(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=5, min_steps=5).fit(images[:20], labels[:20])
    assert model.device_.type == "cuda"
    assert model.predict_proba(images[:4]).shape == (4, 10, 1)


def test_input_size_forces_the_size_images_are_scaled_to(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, input_size=(12, 10), max_steps=5, min_steps=5)
    assert model.fit(images[:20], labels[:20]).input_size_ == (12, 10)


def test_the_loop_reads_the_fitted_input_size_else_the_parameter(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=5, min_steps=5)
    assert input_size_of(model) is None
    assert input_size_of(model.set_params(input_size=[12, 10])) == (12, 10)
    model.set_params(input_size=None).fit(images[:20], labels[:20])
    assert input_size_of(model.set_params(input_size=(12, 10))) == (8, 8)


def test_get_params_lists_every_init_parameter_in_signature_order():
    params = Classifier(10, width=8).get_params()
    assert list(params)[:3] == ["n_classes", "width", "epochs"]
    assert params["n_classes"] == 10
    assert params["width"] == 8
    assert params["seed"] == 0


def test_set_params_sets_by_name_and_returns_self():
    model = Classifier(10)
    assert model.set_params(width=8, seed=3) is model
    assert (model.width, model.seed) == (8, 3)


def test_set_params_refuses_an_unknown_name_listing_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"no parameter 'widht'; valid parameters: n_classes, width"
    ):
        Classifier(10).set_params(widht=8)


def test_repr_shows_the_parameters_that_differ_from_their_defaults():
    assert repr(Classifier(10)) == "Classifier(n_classes=10)"
    assert (
        repr(Classifier(10, width=8, device="cpu"))
        == "Classifier(n_classes=10, width=8, device='cpu')"
    )


def test_clone_gives_an_unfitted_learner_with_equal_parameters():
    model = Classifier(10, width=8)
    copy = clone(model)
    assert type(copy) is Classifier
    assert copy is not model
    assert copy.get_params() == model.get_params()


def test_clone_copies_the_parameter_values():
    model = Classifier(10, input_size=[8, 8])
    assert clone(model).input_size is not model.input_size


def test_cloning_a_fitted_learner_gives_an_unfitted_one(digits_rgb):
    images, labels = digits_rgb
    model = Classifier(10, max_steps=5, min_steps=5).fit(images[:20], labels[:20])
    copy = clone(model)
    assert not hasattr(copy, "net_")
    assert not hasattr(copy, "n_fits_")
    assert hasattr(model, "net_")


def test_scikit_learn_can_clone_a_classifier():
    sklearn_base = pytest.importorskip("sklearn.base")
    copy = sklearn_base.clone(Classifier(10, width=8))
    assert copy.get_params() == Classifier(10, width=8).get_params()


class MeanLearner:
    """A user's learner by scikit-learn's conventions, without al_widget's mixin."""

    def __init__(self, n_classes, smoothing=1.0):
        self.n_classes = n_classes
        self.smoothing = smoothing

    def get_params(self, deep=True):
        return {"n_classes": self.n_classes, "smoothing": self.smoothing}

    def fit(self, images, targets, progress, should_stop):
        counts = np.bincount(targets, minlength=self.n_classes) + self.smoothing
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, images, mc_samples=1):
        return np.broadcast_to(
            self.prior_[None, :, None], (len(images), self.n_classes, mc_samples)
        )


def test_clone_accepts_a_conventions_following_learner_without_the_mixin():
    model = MeanLearner(3, smoothing=0.5)
    model.fit(np.zeros((2, 4, 4, 3), np.uint8), np.array([0, 1]), print, lambda: False)
    copy = clone(model)
    assert type(copy) is MeanLearner
    assert copy.get_params() == {"n_classes": 3, "smoothing": 0.5}
    assert not hasattr(copy, "prior_")


def test_clone_of_a_learner_without_get_params_is_a_type_error_naming_it():
    class Plain:
        def fit(self, images, targets, progress, should_stop): ...

        def predict_proba(self, images, mc_samples=1): ...

    with pytest.raises(TypeError, match=r"cannot clone .*Plain.*: it has no get_params\(\) method"):
        clone(Plain())


def test_the_mixin_reads_parameters_from_the_subclass_signature():
    class Tiny(ParamsMixin):
        def __init__(self, n_classes, *, depth=2):
            self.n_classes = n_classes
            self.depth = depth

    assert Tiny(4).get_params() == {"n_classes": 4, "depth": 2}
    assert repr(Tiny(4, depth=3)) == "Tiny(n_classes=4, depth=3)"


def test_an_int_input_size_means_a_square():
    assert input_size_of(alw.learners.Segmenter(3, input_size=64)) == (64, 64)
