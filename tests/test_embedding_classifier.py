"""EmbeddingClassifier: a frozen backbone by name or module, its weights, a dropout head; Classifier.embed."""

import logging
import socket
import time
import urllib.request

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision import models

import al_widget as alw
from al_widget import ImageError
from al_widget.learners import Classifier, EmbeddingClassifier, WeightsUnavailable, clone

SMALL = {"input_size": (32, 32)}


def tiny_backbone(width=6):
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()
    )


@pytest.fixture
def dark_and_bright():
    """60 RGB 16x16 images: class 0 dark, class 1 bright, class 2 bright red."""
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 3
    images = rng.integers(0, 60, (60, 16, 16, 3)).astype(np.uint8)
    images[labels == 1] += 150
    images[labels == 2, ..., 0] += 190
    return images, labels


def test_init_only_stores_its_parameters_and_clone_gives_an_unfitted_twin(dark_and_bright):
    images, labels = dark_and_bright
    learner = EmbeddingClassifier(3, backbone=tiny_backbone(), weights=None, head="mlp", **SMALL)
    assert not hasattr(learner, "backbone_")
    learner.fit(images, labels)
    twin = clone(learner)
    assert twin.get_params()["head"] == "mlp"
    assert not hasattr(twin, "head_")
    assert not hasattr(twin, "backbone_")
    assert "head='mlp'" in repr(learner)


@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_the_head_learns_classes_its_embeddings_separate(head, dark_and_bright):
    images, labels = dark_and_bright
    learner = EmbeddingClassifier(3, backbone=tiny_backbone(), weights=None, head=head, **SMALL)
    probs = learner.fit(images[:45], labels[:45]).predict_proba(images[45:])
    assert probs.shape == (15, 3, 1)
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    assert (probs[:, :, 0].argmax(1) == labels[45:]).mean() >= 0.9


def test_mc_samples_draw_the_heads_dropout_and_one_sample_is_deterministic(dark_and_bright):
    images, labels = dark_and_bright
    learner = EmbeddingClassifier(3, backbone=tiny_backbone(), weights=None, **SMALL)
    learner.fit(images, labels)
    sampled = learner.predict_proba(images[:10], mc_samples=8)
    assert sampled.shape == (10, 3, 8)
    assert sampled.std(axis=2).max() > 0
    assert np.array_equal(learner.predict_proba(images[:10]), learner.predict_proba(images[:10]))


def test_fit_embeddings_trains_on_vectors_as_fit_does_on_images(dark_and_bright):
    images, labels = dark_and_bright
    net = tiny_backbone()
    a = EmbeddingClassifier(3, backbone=net, weights=None, **SMALL).fit(images, labels)
    b = EmbeddingClassifier(3, backbone=net, weights=None, **SMALL)
    b.fit_embeddings(b.embed(images).astype(np.float16), labels)
    assert np.allclose(a.predict_proba(images), b.predict_proba(images), atol=2e-2)


def test_embed_gives_one_float_vector_per_image_of_any_size(dark_and_bright):
    images, _ = dark_and_bright
    learner = EmbeddingClassifier(3, backbone="mobilenet_v3_small", weights=None, **SMALL)
    z = learner.embed(images[:5])
    assert z.shape == (5, 576)
    assert z.dtype == np.float32
    bigger = np.repeat(np.repeat(images[:5], 3, axis=1), 3, axis=2)
    assert learner.embed(bigger).shape == (5, 576)


def _features(net, images):
    net.fc = nn.Identity()
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        return net.eval()((x - mean) / std).numpy()


@pytest.mark.parametrize("without_last_layer", [False, True])
def test_a_state_dict_path_loads_into_the_named_backbone(
    without_last_layer, dark_and_bright, tmp_path
):
    images, _ = dark_and_bright
    torch.manual_seed(7)
    saved = models.resnet18(weights=None)
    state = saved.state_dict()
    if without_last_layer:
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    torch.save(state, tmp_path / "mine.pth")
    learner = EmbeddingClassifier(2, weights=tmp_path / "mine.pth", input_size=(16, 16))
    assert np.allclose(learner.embed(images[:4]), _features(saved, images[:4]), atol=1e-4)
    assert learner.weights_ == str(tmp_path / "mine.pth")


def test_a_state_dict_of_another_model_is_refused_naming_the_file(tmp_path):
    torch.save(models.mobilenet_v3_small(weights=None).state_dict(), tmp_path / "other.pth")
    learner = EmbeddingClassifier(2, weights=str(tmp_path / "other.pth"), **SMALL)
    with pytest.raises(ValueError, match=r"other\.pth does not fit ResNet"):
        learner.embed(np.zeros((1, 8, 8, 3), np.uint8))


def test_a_missing_state_dict_file_is_named(tmp_path):
    learner = EmbeddingClassifier(2, weights=str(tmp_path / "none.pth"), **SMALL)
    with pytest.raises(FileNotFoundError, match=r"none\.pth"):
        learner.embed(np.zeros((1, 8, 8, 3), np.uint8))


@pytest.fixture
def silent_weights_server(tmp_path, monkeypatch):
    """torch's cache empty, every download sent to a local server that never answers."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections in the backlog, never answers
    real = urllib.request.urlopen
    address = f"http://127.0.0.1:{silent.getsockname()[1]}/resnet18.pth"
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, timeout: real(address, timeout=timeout)
    )
    yield tmp_path / "hub"
    silent.close()


def test_weights_that_cannot_be_fetched_fail_fast_naming_the_alternatives(silent_weights_server):
    learner = EmbeddingClassifier(2, weights="DEFAULT", download_timeout=0.5, **SMALL)
    start = time.perf_counter()
    with pytest.raises(WeightsUnavailable, match="cannot fetch the pretrained weights") as error:
        learner.fit(np.zeros((2, 8, 8, 3), np.uint8), np.array([0, 1]))
    assert time.perf_counter() - start < 10
    message = str(error.value)
    for alternative in ("weights=None", "resnet18-f37072fd.pth", "Classifier"):
        assert alternative in message
    assert str(silent_weights_server) in message  # where a file put by hand is found
    assert not hasattr(learner, "backbone_")
    assert not list(silent_weights_server.rglob("*.partial"))


def test_if_unavailable_random_goes_on_with_random_weights_and_says_so(
    silent_weights_server, caplog
):
    learner = EmbeddingClassifier(
        2, weights="DEFAULT", download_timeout=0.5, if_unavailable="random", **SMALL
    )
    with caplog.at_level(logging.WARNING, logger="al_widget"):
        learner.fit(np.zeros((2, 8, 8, 3), np.uint8), np.array([0, 1]))
    assert learner.weights_ == "random"
    assert "Going on with random weights" in caplog.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"backbone": "resnet19"}, r"unknown backbone 'resnet19'.*resnet18"),
        ({"backbone": "resnet18", "weights": "IMAGENET22K"}, r"unknown weights 'IMAGENET22K'.*V1"),
        ({"backbone": tiny_backbone(), "weights": "DEFAULT"}, r"backbone given by name"),
        ({"head": "forest"}, r"head must be one of"),
        ({"input_size": (0, 4)}, r"input_size must be"),
        ({"if_unavailable": "retry"}, r"if_unavailable must be one of"),
    ],
)
def test_bad_parameters_are_refused_naming_the_choices(params, message):
    learner = EmbeddingClassifier(2, **{"weights": None, **params})
    with pytest.raises(ValueError, match=message):
        learner.embed(np.zeros((1, 8, 8, 3), np.uint8))


def test_the_embedding_key_changes_with_backbone_weights_and_input_size():
    def key(**params):
        return EmbeddingClassifier(2, **{"weights": None, **SMALL, **params}).embedding_key()

    base = key(backbone="mobilenet_v3_small")
    assert key(backbone="mobilenet_v3_small") == base
    assert key(backbone="mobilenet_v3_small", head="mlp") == base  # the head is not embedded
    assert key(backbone="resnet18") != base
    assert key(backbone="mobilenet_v3_small", seed=1) != base  # other random weights
    assert key(backbone="mobilenet_v3_small", input_size=(48, 48)) != base


def _layers(activation=nn.ReLU, pool=nn.AdaptiveAvgPool2d):
    """tiny_backbone's layers with another activation or pooling: the same weights (seeded)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), activation(), pool(2), nn.Flatten())


def _module_key(net):
    return EmbeddingClassifier(2, backbone=net, weights=None, **SMALL).embedding_key()


@pytest.mark.parametrize(
    "other",
    [{"activation": nn.Tanh}, {"pool": nn.AdaptiveMaxPool2d}],
    ids=["another activation", "another pooling"],
)
def test_the_embedding_key_changes_with_layers_that_hold_no_weights(other):
    assert _module_key(_layers()) == _module_key(_layers())
    assert _module_key(_layers(**other)) != _module_key(_layers())


def test_the_embedding_key_changes_with_a_buffer_left_out_of_the_state_dict():
    def normalised(mean):
        net = _layers()
        net.register_buffer("mean", torch.tensor([mean]), persistent=False)
        return net

    assert _module_key(normalised(0.5)) == _module_key(normalised(0.5))
    assert _module_key(normalised(0.4)) != _module_key(normalised(0.5))


def test_predict_before_fit_is_refused():
    learner = EmbeddingClassifier(2, backbone=tiny_backbone(), weights=None, **SMALL)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        learner.predict_proba(np.zeros((1, 8, 8, 3), np.uint8))


def test_predict_proba_refuses_an_mc_samples_that_is_not_an_int_naming_it(dark_and_bright):
    images, labels = dark_and_bright
    learner = EmbeddingClassifier(3, backbone=tiny_backbone(), weights=None, **SMALL)
    learner.fit(images, labels)
    with pytest.raises(TypeError, match="mc_samples must be an int >= 1, got 2.5"):
        learner.predict_proba(images[:2], mc_samples=2.5)


def test_embeddings_of_the_wrong_length_are_refused():
    learner = EmbeddingClassifier(2, backbone=tiny_backbone(), weights=None, **SMALL)
    with pytest.raises(ValueError, match=r"shape \(N, 24\)"):
        learner.fit_embeddings(np.zeros((4, 10)), np.array([0, 1, 0, 1]))


def test_the_cnn_embeds_images_into_its_penultimate_features(dark_and_bright):
    images, labels = dark_and_bright
    cnn = Classifier(3, max_steps=20, min_steps=20)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        cnn.embed(images)
    cnn.fit(images, labels)
    z = cnn.embed(images[:7])
    assert z.shape == (7, 128)
    assert np.array_equal(z, cnn.embed(images[:7]))
    logits = cnn.net_.head[-1](torch.from_numpy(z))
    probs = torch.softmax(logits, 1).detach().numpy()
    assert np.allclose(probs, cnn.predict_proba(images[:7])[:, :, 0], atol=1e-5)


def test_photos_get_the_embedding_classifier_by_default_and_small_images_the_cnn(caplog):
    photos = alw.Dataset(np.zeros((3, 96, 128, 3), np.uint8), ["a", "b"])
    with caplog.at_level(logging.INFO, logger="al_widget"):
        loop = alw.ActiveLoop(photos, start=False)
    assert isinstance(loop.learner, EmbeddingClassifier)
    assert loop.learner.get_params()["if_unavailable"] == "random"
    assert "photos (the first is 128x96 pixels)" in caplog.text
    digits = alw.Dataset(np.zeros((3, 64, 64), np.uint8), ["a", "b"])
    assert isinstance(alw.ActiveLoop(digits, start=False).learner, Classifier)


def test_an_unreadable_first_image_does_not_hide_that_the_images_are_photos(tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.zeros((96, 128, 3), np.uint8)).save(path)
        paths.append(path)
    paths[0].write_bytes(b"not a png")
    loop = alw.ActiveLoop(alw.Dataset(paths, ["a", "b"]), start=False)
    assert isinstance(loop.learner, EmbeddingClassifier)


def test_a_backbone_whose_embeddings_do_not_differ_is_reported(caplog):
    learner = EmbeddingClassifier(2, backbone=tiny_backbone(), weights=None, **SMALL)
    learner.embed(np.zeros((1, 8, 8, 3), np.uint8))
    with caplog.at_level(logging.WARNING, logger="al_widget"):
        learner.fit_embeddings(np.ones((4, 24)), np.array([0, 1, 0, 1]))
    assert "the same embedding for every image" in caplog.text


# -- the image forms a Dataset takes ---------------------------------------------------------------


def _rgb_images():
    """Six 16x16 RGB images, noise of different brightness."""
    rng = np.random.default_rng(1)
    return (rng.integers(0, 120, (6, 16, 16, 3)) + np.arange(6)[:, None, None, None] * 20).astype(
        np.uint8
    )


IMAGE_FORMS = {
    "N,H,W gray": lambda rgb: rgb[..., 0],
    "N,H,W,1 gray": lambda rgb: rgb[..., :1],
    "N,H,W,4 RGBA": lambda rgb: np.concatenate(
        [rgb, np.full((*rgb.shape[:3], 1), 255, np.uint8)], 3
    ),
    "16-bit": lambda rgb: rgb.astype(np.uint16) << 8 | 0x7F,
    "list of arrays": lambda rgb: list(rgb),
    "list of PIL images": lambda rgb: [Image.fromarray(image) for image in rgb],
}


@pytest.mark.parametrize("form", list(IMAGE_FORMS))
def test_embed_takes_every_image_form_a_dataset_takes(form):
    rgb = _rgb_images()
    as_rgb = rgb.copy()
    if "gray" in form:
        as_rgb[:] = rgb[..., :1]
    learner = EmbeddingClassifier(2, backbone=tiny_backbone(), weights=None, **SMALL)
    np.testing.assert_allclose(
        learner.embed(IMAGE_FORMS[form](rgb)), learner.embed(as_rgb), rtol=1e-5, atol=1e-6
    )


def test_fit_and_predict_proba_take_the_grayscale_digits():
    images, labels = alw.datasets.digits()
    learner = EmbeddingClassifier(10, backbone=tiny_backbone(), weights=None, **SMALL)
    probs = learner.fit(images[:100], labels[:100]).predict_proba(images[100:120])
    assert probs.shape == (20, 10, 1)


def test_embed_refuses_what_is_not_an_image_naming_the_problem():
    learner = EmbeddingClassifier(2, backbone=tiny_backbone(), weights=None, **SMALL)
    with pytest.raises(ImageError, match=r"must be uint8 \(or uint16, bool\), got dtype float32"):
        learner.embed(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ImageError, match=r"must have shape .* got \(2, 8, 8, 5\)"):
        learner.embed(np.zeros((2, 8, 8, 5), np.uint8))
