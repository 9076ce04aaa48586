import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch
from PIL import Image

import al_widget as alw
from al_widget.learners import Cancelled, Segmenter, clone
from al_widget.learners.base import SegmentationLearner
from al_widget.learners.segmenter import UNet
from al_widget.metrics import mean_iou


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # tiny networks: a second thread costs more in synchronisation than it gains
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def squares(n: int, size: int = 32, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """`n` noisy dark images with one bright square each (class 1) or a dim one (class 2)."""
    rng = np.random.default_rng(seed)
    images, maps = [], []
    for _ in range(n):
        image = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
        class_map = np.zeros((size, size), np.uint8)
        side = int(rng.integers(size // 4, size // 2))
        y, x = rng.integers(0, size - side, 2)
        kind = int(rng.integers(1, 3))
        image[y : y + side, x : x + side] = 250 if kind == 1 else 140
        class_map[y : y + side, x : x + side] = kind
        images.append(image)
        maps.append(class_map)
    return images, maps


def quick(**params) -> Segmenter:
    """A Segmenter small and short enough for a test."""
    settings = {"input_size": 32, "min_steps": 10, "max_steps": 10, "width": 4}
    return Segmenter(3, **(settings | params))


@pytest.fixture(scope="module")
def fitted() -> Segmenter:
    images, maps = squares(16)
    return quick().fit(images, maps)


def test_segmenter_follows_the_segmentation_learner_protocol():
    assert isinstance(Segmenter(3), SegmentationLearner)
    assert Segmenter(3).task == "segment"


def test_the_default_unet_has_about_120_thousand_parameters():
    n = sum(p.numel() for p in UNet(4).parameters())
    assert 100_000 < n < 140_000


def test_init_stores_the_parameters_and_nothing_fitted():
    model = Segmenter(4, input_size=96, seed=3)
    assert model.get_params()["input_size"] == 96
    assert model.get_params()["seed"] == 3
    assert not [name for name in vars(model) if name.endswith("_")]
    assert repr(model) == "Segmenter(n_classes=4, input_size=96, seed=3)"


def test_clone_gives_an_unfitted_segmenter_with_equal_parameters(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "net_")


def test_fit_returns_self_and_sets_the_fitted_attributes():
    images, maps = squares(4)
    model = quick()
    assert model.fit(images, maps) is model
    assert model.n_fits_ == 1
    assert model.n_steps_ == 10
    assert model.input_size_ == (32, 32)
    assert model.device_ == torch.device("cpu")


def test_predict_proba_before_fit_says_to_fit_first():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        Segmenter(3).predict_proba([np.zeros((8, 8, 3), np.uint8)])


def test_predict_proba_refuses_mc_samples_below_one_naming_them(fitted):
    with pytest.raises(ValueError, match="mc_samples must be an int >= 1, got 0"):
        fitted.predict_proba([np.zeros((8, 8, 3), np.uint8)], mc_samples=0)


def test_predict_proba_refuses_one_image_given_as_the_images(fitted):
    with pytest.raises(ValueError, match="put a single image in a list"):
        fitted.predict_proba(np.zeros((8, 8, 3), np.uint8))


def test_predict_proba_takes_an_image_in_any_array_like_form(fitted):
    image = np.full((8, 8, 3), 90, np.uint8)
    (probs,) = fitted.predict_proba([Image.fromarray(image)])
    np.testing.assert_array_equal(probs, fitted.predict_proba([image])[0])


def test_predict_proba_gives_c_h_w_i_probabilities_per_image(fitted):
    images, _ = squares(3, seed=1)
    probs = fitted.predict_proba(images, mc_samples=4)
    assert len(probs) == 3
    for p in probs:
        assert p.shape == (3, 32, 32, 4)
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=1e-5)


def test_images_of_different_sizes_come_at_the_working_resolution(fitted):
    images = [np.zeros((20, 45, 3), np.uint8), np.full((64, 16, 3), 200, np.uint8)]
    probs = fitted.predict_proba(images)
    assert [p.shape for p in probs] == [(3, 32, 32, 1), (3, 32, 32, 1)]


def test_fit_takes_images_of_different_sizes():
    images, maps = squares(2, size=40)
    small, small_maps = squares(2, size=24)
    model = quick().fit(images + small, maps + small_maps)
    assert model.n_fits_ == 1


def test_predict_proba_of_no_images_is_an_empty_list(fitted):
    assert fitted.predict_proba([], mc_samples=3) == []


def test_mc_samples_differ(fitted):
    images, _ = squares(2, seed=2)
    probs = fitted.predict_proba(images, mc_samples=6)
    assert max(p.std(axis=-1).max() for p in probs) > 1e-4


def test_a_single_sample_is_deterministic(fitted):
    images, _ = squares(2, seed=2)
    first, second = fitted.predict_proba(images), fitted.predict_proba(images)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sampling_leaves_the_deterministic_prediction_unchanged(fitted):
    images, _ = squares(2, seed=2)
    before = fitted.predict_proba(images)
    fitted.predict_proba(images, mc_samples=5)
    for a, b in zip(before, fitted.predict_proba(images), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_warm_start_goes_on_from_the_last_weights():
    images, maps = squares(8)
    model = quick(min_steps=1, max_steps=1, lr=1e-9).fit(images, maps)
    before = {k: v.clone() for k, v in model.net_.state_dict().items()}
    model.fit(images, maps)
    after = model.net_.state_dict()
    assert model.n_fits_ == 2
    # with a vanishing learning rate, one more step changes the weights next to nothing
    for key, value in before.items():
        if value.is_floating_point() and "running" not in key:
            torch.testing.assert_close(after[key], value, atol=1e-6, rtol=0)


def test_without_warm_start_each_fit_starts_anew():
    images, maps = squares(8)
    model = quick(min_steps=1, max_steps=1, lr=1e-9, warm_start=False).fit(images, maps)
    first = model.net_.backbone.down[0][0].weight.clone()
    model.fit(images, maps)  # seeded with seed + 1: other initial weights
    assert not torch.allclose(model.net_.backbone.down[0][0].weight, first)


def test_fit_reports_progress_every_step_up_to_one():
    images, maps = squares(4)
    seen: list[float] = []
    quick().fit(images, maps, seen.append)
    assert len(seen) == 10
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


def test_fit_stops_with_cancelled_when_asked_and_keeps_the_previous_model(fitted):
    images, maps = squares(4)
    model = clone(fitted).fit(images, maps)
    net, calls = model.net_, []

    def stop_at_third_step():
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(Cancelled, match="step 2 of 10"):
        model.fit(images, maps, should_stop=stop_at_third_step)
    assert model.net_ is net
    assert model.n_fits_ == 1


def test_fit_refuses_class_ids_beyond_the_classes():
    images, maps = squares(2)
    maps[1][0, 0] = 7
    with pytest.raises(ValueError, match=r"class map 1 holds ids 0\.\.7, outside 0\.\.2"):
        quick().fit(images, maps)


def test_fit_refuses_a_class_map_of_another_size_than_its_image():
    images, maps = squares(2)
    maps[0] = maps[0][:10]
    with pytest.raises(ValueError, match=r"class map 0 has shape \(10, 32\)"):
        quick().fit(images, maps)


def test_fit_takes_masks_as_targets():
    images, maps = squares(2)
    assert quick().fit(images, [alw.Mask(m) for m in maps]).n_fits_ == 1


def test_the_default_unet_refuses_named_pretrained_weights():
    images, maps = squares(2)
    with pytest.raises(ValueError, match="path to a state dict"):
        quick(weights="DEFAULT").fit(images, maps)


def test_weights_from_a_state_dict_file_are_loaded(fitted, tmp_path):
    path = tmp_path / "segmenter.pt"
    torch.save(fitted.net_.state_dict(), path)
    loaded = quick(weights=path, lr=1e-9, min_steps=1, max_steps=1).fit(*squares(2))
    # one step at a vanishing learning rate: the weights are still those saved
    torch.testing.assert_close(
        loaded.net_.backbone.down[0][0].weight, fitted.net_.backbone.down[0][0].weight
    )


def test_a_state_dict_for_other_classes_gets_a_new_class_layer(fitted, tmp_path):
    path = tmp_path / "segmenter.pt"
    torch.save(fitted.net_.state_dict(), path)
    images, maps = squares(2)
    model = Segmenter(5, weights=path, input_size=32, width=4, min_steps=1, max_steps=1)
    assert model.fit(images, maps).predict_proba(images[:1])[0].shape == (5, 32, 32, 1)


def test_a_state_dict_of_another_architecture_is_refused(fitted, tmp_path):
    path = tmp_path / "segmenter.pt"
    torch.save(fitted.net_.state_dict(), path)
    with pytest.raises(ValueError, match="does not fit UNet"):
        quick(weights=path, width=8).fit(*squares(1))


def test_a_torchvision_model_is_built_by_name_for_the_classes():
    images, maps = squares(2)
    model = quick(model="lraspp_mobilenet_v3_large", min_steps=1, max_steps=1).fit(images, maps)
    assert [p.shape for p in model.predict_proba(images[:1], mc_samples=2)] == [(3, 32, 32, 2)]


def test_an_unknown_model_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown segmentation model 'resnet18'.*'unet'"):
        quick(model="resnet18").fit(*squares(1))


def test_pretrained_weights_that_cannot_be_fetched_name_the_alternatives(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    model = quick(model="lraspp_mobilenet_v3_large", weights="DEFAULT")
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="cannot fetch the pretrained weights") as error:
        model.fit(*squares(1))
    assert time.perf_counter() - start < 10
    message = str(error.value)
    assert "weights=None" in message
    assert "path of a state dict" in message
    assert "model='unet'" in message
    assert not hasattr(model, "net_")
    assert not list(tmp_path.rglob("*.pth*"))


def test_a_weights_server_that_never_answers_fails_after_the_timeout(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections in the backlog, never answers
    real = urllib.request.urlopen
    address = f"http://127.0.0.1:{silent.getsockname()[1]}/weights.pth"
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, timeout: real(address, timeout=timeout)
    )
    model = quick(model="lraspp_mobilenet_v3_large", weights="DEFAULT", download_timeout=0.5)
    start = time.perf_counter()
    try:
        with pytest.raises(RuntimeError, match="cannot fetch the pretrained weights"):
            model.fit(*squares(1))
    finally:
        silent.close()
    assert time.perf_counter() - start < 10


def test_unknown_weights_for_a_torchvision_model_list_the_choices():
    with pytest.raises(ValueError, match=r"unknown weights 'BEST'.*DEFAULT"):
        quick(model="lraspp_mobilenet_v3_large", weights="BEST").fit(*squares(1))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n_classes", 1),
        ("dropout", 1.0),
        ("input_size", 0),
        ("lr", 0.0),
        ("max_steps", 0),
        ("download_timeout", 0),
    ],
)
def test_fit_refuses_invalid_parameters(name, value):
    with pytest.raises((ValueError, TypeError), match=name):
        quick(**{name: value}).fit(*squares(1))


@pytest.mark.slow
def test_the_default_unet_learns_synthetic_shapes_to_a_mean_iou_of_080():
    # about two minutes of one CPU core: 2000 steps of 8 images at the default 64 pixels
    train = alw.datasets.shapes(400, seed=1, task="segment")
    test = alw.datasets.shapes(64, seed=2, task="segment")
    model = Segmenter(4, min_steps=2000, max_steps=2000)
    model.fit(list(train.images), [mask.class_map for mask in train.masks])
    probs = model.predict_proba(list(test.images))
    predicted = [
        torch.nn.functional.interpolate(
            torch.from_numpy(p[..., 0]).argmax(0)[None, None].float(), size=(128, 128)
        )[0, 0]
        .numpy()
        .astype(np.uint8)
        for p in probs
    ]
    assert mean_iou(predicted, [mask.class_map for mask in test.masks], 4) >= 0.8


def test_pixels_marked_ignore_are_not_trained_on():
    # Uniform images: only class 1 is labeled (the left half), the right half is marked
    # ignore. Learned as any class, the right half would pull class 1 down to about 0.5
    # everywhere (0.47 when it is taken for the background, 0.50 for class 2); left out, it
    # lets class 1 take the whole image (0.89).
    images = [np.full((16, 16, 3), 120, np.uint8)] * 4
    class_map = np.full((16, 16), alw.Mask.IGNORE, np.uint8)
    class_map[:, :8] = 1
    model = quick(input_size=16, min_steps=80, max_steps=80, lr=1e-2)
    [probs] = model.fit(images, [class_map] * 4).predict_proba(images[:1])
    assert probs[1, :, 8:].mean() > 0.7


def test_a_class_map_with_no_labeled_pixel_leaves_the_weights_finite():
    images, maps = squares(2)
    maps[1][:] = alw.Mask.IGNORE
    model = quick(batch_size=1).fit(images, maps)
    assert all(torch.isfinite(p).all() for p in model.net_.parameters())


def test_n_classes_leaves_room_for_the_ignore_value():
    with pytest.raises(ValueError, match="n_classes must be at most 255"):
        Segmenter(256, input_size=16, max_steps=1).fit(*squares(1, size=16))
