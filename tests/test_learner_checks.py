"""The checks every learner makes of a call before it predicts or embeds, one checker each."""

from types import SimpleNamespace

import numpy as np
import pytest

from al_widget.learners import (
    Classifier,
    Detector,
    EmbeddingClassifier,
    InstanceSegmenter,
    Segmenter,
)
from al_widget.learners._checks import check_fitted, check_image, check_images, check_mc_samples

IMAGES = [np.zeros((16, 16, 3), np.uint8)]


@pytest.mark.parametrize("mc_samples", [1, 8, np.int64(3)])
def test_mc_samples_of_at_least_one_pass(mc_samples):
    check_mc_samples(mc_samples)


@pytest.mark.parametrize("mc_samples", [0, -2, np.int64(0)])
def test_mc_samples_below_one_are_a_value_error_naming_them(mc_samples):
    with pytest.raises(ValueError, match=rf"mc_samples must be an int >= 1, got {mc_samples}"):
        check_mc_samples(mc_samples)


@pytest.mark.parametrize("mc_samples", [2.0, "4", None, True])
def test_mc_samples_that_are_not_an_int_are_a_type_error_naming_them(mc_samples):
    with pytest.raises(TypeError, match=r"mc_samples must be an int >= 1, got"):
        check_mc_samples(mc_samples)


@pytest.mark.parametrize("mc_samples", [2.0, "4", True])
def test_mc_samples_that_are_not_an_int_are_a_value_error_too(mc_samples):
    with pytest.raises(ValueError, match=r"mc_samples must be an int >= 1, got"):
        check_mc_samples(mc_samples)


def test_a_fitted_attribute_is_given_back():
    net = object()
    assert check_fitted(SimpleNamespace(net_=net), "net_") is net


@pytest.mark.parametrize("learner", [SimpleNamespace(), SimpleNamespace(net_=None)])
def test_a_missing_or_none_fitted_attribute_says_to_fit_first_naming_the_class(learner):
    with pytest.raises(
        RuntimeError, match="^this SimpleNamespace is not fitted yet: call fit first$"
    ):
        check_fitted(learner, "net_")


UNFITTED_CALLS = {
    "Classifier.predict_proba": lambda: Classifier(3).predict_proba(np.stack(IMAGES)),
    "Classifier.embed": lambda: Classifier(3).embed(np.stack(IMAGES)),
    "EmbeddingClassifier.predict_proba": lambda: EmbeddingClassifier(3).predict_proba(
        np.stack(IMAGES)
    ),
    "EmbeddingClassifier.predict_proba_embeddings": lambda: EmbeddingClassifier(
        3
    ).predict_proba_embeddings(np.zeros((1, 8), np.float32)),
    "Detector.predict": lambda: Detector(3).predict(IMAGES),
    "Detector.embed": lambda: Detector(3).embed(IMAGES),
    "Segmenter.predict_proba": lambda: Segmenter(3).predict_proba(IMAGES),
    "Segmenter.embed": lambda: Segmenter(3).embed(IMAGES),
    "InstanceSegmenter.predict": lambda: InstanceSegmenter(3).predict(IMAGES),
    "InstanceSegmenter.embed": lambda: InstanceSegmenter(3).embed(IMAGES),
}


@pytest.mark.parametrize("method", UNFITTED_CALLS)
def test_every_learner_refuses_to_predict_or_embed_before_fit_naming_itself(method):
    learner = method.split(".")[0]
    with pytest.raises(RuntimeError, match=f"^this {learner} is not fitted yet: call fit first$"):
        UNFITTED_CALLS[method]()


def test_an_h_w_3_uint8_array_is_an_image():
    image = np.zeros((4, 5, 3), np.uint8)
    assert check_image(image, 0) is image


@pytest.mark.parametrize(
    ("image", "got"),
    [
        (np.zeros((4, 5, 3), np.float64), r"shape \(4, 5, 3\) and dtype float64"),
        (np.zeros((4, 5), np.uint8), r"shape \(4, 5\) and dtype uint8"),
        (np.zeros((4, 5, 4), np.uint8), r"shape \(4, 5, 4\) and dtype uint8"),
        (np.zeros((0, 5, 3), np.uint8), r"shape \(0, 5, 3\) and dtype uint8"),
        ([[[0, 0, 0]]], "a list"),
    ],
)
def test_anything_else_is_refused_naming_the_image_and_what_it_is(image, got):
    with pytest.raises(
        ValueError, match=rf"^image 2 must be a non-empty \(H, W, 3\) uint8 RGB array, got {got}$"
    ):
        check_image(image, 2)


def test_images_may_be_a_list_or_an_n_h_w_3_array():
    check_images([np.zeros((4, 5, 3), np.uint8), np.zeros((6, 2, 3), np.uint8)])
    check_images(np.zeros((2, 4, 5, 3), np.uint8))


def test_images_name_the_first_image_refused():
    images = [np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5), np.uint8), np.zeros((4, 5))]
    with pytest.raises(ValueError, match="^image 1 must be"):
        check_images(images)


def test_one_image_given_as_the_images_is_refused_saying_to_put_it_in_a_list():
    with pytest.raises(
        ValueError, match=r"got one array of shape \(4, 5, 3\): put a single image in a list"
    ):
        check_images(np.zeros((4, 5, 3), np.uint8))


FITS = {
    "Detector": lambda images: Detector(3).fit(images, [{"boxes": [], "labels": []}] * 2),
    "InstanceSegmenter": lambda images: InstanceSegmenter(3).fit(
        images, [{"boxes": [], "labels": [], "masks": []}] * 2
    ),
    "Segmenter": lambda images: Segmenter(3).fit(images, [np.zeros((8, 8), np.uint8)] * 2),
}


@pytest.mark.parametrize("learner", FITS)
def test_every_image_learner_refuses_a_bad_image_with_the_one_message(learner):
    images = [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.float32)]
    with pytest.raises(
        ValueError,
        match=r"^image 1 must be a non-empty \(H, W, 3\) uint8 RGB array, got shape \(8, 8, 3\) "
        r"and dtype float32$",
    ):
        FITS[learner](images)
