"""Detector: a DetectionLearner by scikit-learn's conventions, warm-started between rounds."""

import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

import al_widget as alw
from al_widget.learners import Cancelled, Detector, clone
from al_widget.learners.base import DetectionLearner
from al_widget.metrics import mean_ap

FAST = {"longest_side": 64, "min_steps": 3, "max_steps": 3}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # tiny networks: a second thread costs more in synchronisation than it gains, and much
    # more while other processes compete for the cores
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _targets(data):
    return [{"boxes": b.xyxy, "labels": b.class_ids(data.classes)} for b in data.boxes]


@pytest.fixture(scope="module")
def data():
    return alw.datasets.shapes(8, size=64, seed=0)


@pytest.fixture(scope="module")
def fitted(data):
    # a low threshold, so that a barely trained detector still finds boxes
    return Detector(3, score_threshold=0.01, **FAST).fit(list(data.images), _targets(data))


def _weights(detector):
    return {k: v.detach().clone() for k, v in detector.net_.state_dict().items()}


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_a_new_detector_stores_its_parameters_and_is_unfitted():
    detector = Detector(3, max_steps=7, dropout=0.2)
    assert detector.get_params()["max_steps"] == 7
    assert detector.get_params()["dropout"] == 0.2
    assert not hasattr(detector, "net_")
    assert not hasattr(detector, "n_fits_")


def test_repr_shows_the_parameters_that_differ_from_the_defaults():
    assert repr(Detector(3, max_steps=50)) == "Detector(n_classes=3, max_steps=50)"


def test_detector_is_a_detection_learner():
    detector = Detector(3)
    assert isinstance(detector, DetectionLearner)
    assert detector.task == "detect"


def test_fit_returns_the_detector_fitted(data):
    detector = Detector(3, **FAST)
    assert detector.fit(list(data.images), _targets(data)) is detector
    assert detector.n_fits_ == 1
    assert detector.steps_ == 3
    assert detector.device_ == torch.device("cpu")
    assert not detector.net_.training


def test_clone_gives_an_unfitted_detector_with_equal_parameters(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "net_")


def test_invalid_parameters_are_refused_by_fit(data):
    with pytest.raises(ValueError, match="dropout must be in"):
        Detector(3, dropout=1.0, **FAST).fit(list(data.images), _targets(data))


def test_a_longest_side_below_32_is_refused_by_fit_naming_it(data):
    with pytest.raises(ValueError, match="^longest_side must be an int >= 32, got 16$"):
        Detector(3, **{**FAST, "longest_side": 16}).fit(list(data.images), _targets(data))


def test_predict_before_fit_is_refused():
    with pytest.raises(RuntimeError, match="not fitted"):
        Detector(3).predict([np.zeros((32, 32, 3), np.uint8)])


def test_predict_refuses_mc_samples_below_one_naming_them(fitted, data):
    with pytest.raises(ValueError, match="mc_samples must be an int >= 1, got 0"):
        fitted.predict(list(data.images[:1]), mc_samples=0)


def test_predict_refuses_an_image_that_is_not_a_numpy_array(fitted):
    with pytest.raises(
        ValueError, match=r"image 0 must be a non-empty \(H, W, 3\) uint8 RGB array, got a list"
    ):
        fitted.predict([np.zeros((8, 8, 3), np.uint8).tolist()])


def test_predict_gives_one_detections_dict_per_image_with_documented_shapes(fitted, data):
    found = fitted.predict(list(data.images[:3]), mc_samples=4)
    assert len(found) == 3
    for result in found:
        k = len(result["boxes"])
        assert k > 0
        assert result["boxes"].shape == (k, 4)
        assert result["boxes"].dtype == np.float32
        assert result["labels"].shape == (k,)
        assert result["labels"].dtype == np.int64
        assert result["scores"].shape == (k,)
        assert result["probs"].shape == (k, 4, 4)
        assert set(result["labels"].tolist()) <= {0, 1, 2}


def test_box_probabilities_sum_to_one_over_the_classes_and_background(fitted, data):
    for mc_samples in (1, 3):
        for result in fitted.predict(list(data.images[:3]), mc_samples=mc_samples):
            np.testing.assert_allclose(result["probs"].sum(1), 1.0, rtol=1e-9)
            assert (result["probs"] >= 0).all()


def test_scores_exceed_the_threshold_and_come_best_first(fitted, data):
    for result in fitted.predict(list(data.images[:3])):
        assert (result["scores"] > 0.01).all()
        assert (result["scores"] <= 1).all()
        assert (np.diff(result["scores"]) <= 0).all()


def test_max_detections_bounds_the_boxes_per_image(fitted, data):
    capped = clone(fitted).set_params(max_detections=2)
    capped.net_, capped.device_ = fitted.net_, fitted.device_
    assert max(len(r["boxes"]) for r in capped.predict(list(data.images[:3]))) <= 2


def test_boxes_lie_inside_images_of_different_sizes_and_have_area(fitted):
    rng = np.random.default_rng(0)
    images = [
        rng.integers(0, 256, size, dtype=np.uint8)
        for size in [(64, 64, 3), (40, 100, 3), (130, 30, 3), (7, 9, 3)]
    ]
    found = fitted.predict(images)
    assert sum(len(r["boxes"]) for r in found) > 0
    for image, result in zip(images, found, strict=True):
        height, width = image.shape[:2]
        boxes = result["boxes"]
        assert (boxes[:, :2] >= 0).all()
        assert (boxes[:, 2] <= width).all()
        assert (boxes[:, 3] <= height).all()
        assert (boxes[:, 2:] > boxes[:, :2]).all()


def test_predict_on_no_images_gives_an_empty_list(fitted):
    assert fitted.predict([]) == []


def test_one_sample_is_deterministic(fitted, data):
    first, second = (fitted.predict(list(data.images[:2])) for _ in range(2))
    for a, b in zip(first, second, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_mc_samples_vary_but_boxes_stay_those_of_the_deterministic_pass(fitted, data):
    plain = fitted.predict(list(data.images[:2]))
    sampled = fitted.predict(list(data.images[:2]), mc_samples=5)
    for a, b in zip(plain, sampled, strict=True):
        np.testing.assert_array_equal(a["boxes"], b["boxes"])
        np.testing.assert_array_equal(a["labels"], b["labels"])
        assert b["probs"].std(axis=2).max() > 0


def test_sampling_leaves_the_network_deterministic_afterwards(fitted, data):
    before = fitted.predict(list(data.images[:1]))[0]["probs"]
    fitted.predict(list(data.images[:1]), mc_samples=3)
    np.testing.assert_array_equal(fitted.predict(list(data.images[:1]))[0]["probs"], before)


def test_progress_is_reported_every_step_and_ends_at_one(data):
    seen = []
    Detector(3, **FAST).fit(list(data.images), _targets(data), seen.append, lambda: False)
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_should_stop_cancels_and_keeps_the_previous_model(data):
    detector = Detector(3, **FAST).fit(list(data.images), _targets(data))
    net, weights = detector.net_, _weights(detector)
    calls = []

    def stop_at_second_step():
        calls.append(1)
        return len(calls) >= 2

    with pytest.raises(Cancelled):
        detector.fit(list(data.images), _targets(data), lambda f: None, stop_at_second_step)
    assert detector.net_ is net
    assert _same(_weights(detector), weights)
    assert detector.n_fits_ == 1


def test_a_second_fit_continues_from_the_first_fits_weights(data):
    detector = Detector(3, **FAST).fit(list(data.images), _targets(data))
    weights = _weights(detector)
    detector.set_params(lr=1e-12).fit(list(data.images), _targets(data))
    after = _weights(detector)
    assert detector.n_fits_ == 2
    assert all(torch.allclose(after[k].float(), weights[k].float(), atol=1e-6) for k in weights)


def test_without_warm_start_a_second_fit_starts_afresh(data):
    detector = Detector(3, warm_start=False, **FAST).fit(list(data.images), _targets(data))
    weights = _weights(detector)
    detector.set_params(lr=1e-12).fit(list(data.images), _targets(data))
    assert not _same(_weights(detector), weights)


def test_a_fit_trains_a_copy_and_swaps_it_in_when_done(data):
    detector = Detector(3, **FAST).fit(list(data.images), _targets(data))
    net, weights = detector.net_, _weights(detector)
    during = []
    detector.fit(
        list(data.images),
        _targets(data),
        lambda fraction: during.append(detector.net_ is net and _same(_weights(detector), weights)),
    )
    assert during == [True, True, True]
    assert detector.net_ is not net


def test_the_same_seed_gives_the_same_fit(data):
    a, b = (Detector(3, **FAST).fit(list(data.images), _targets(data)) for _ in range(2))
    assert _same(_weights(a), _weights(b))


def test_images_without_boxes_train(data):
    targets = _targets(data)
    targets[0] = {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, np.int64)}
    Detector(3, **FAST).fit(list(data.images), targets)


def test_images_of_different_sizes_train():
    rng = np.random.default_rng(0)
    images = [
        rng.integers(0, 256, (48, 80, 3), np.uint8),
        rng.integers(0, 256, (90, 40, 3), np.uint8),
    ]
    targets = [
        {"boxes": np.array([[10.0, 5, 40, 30]]), "labels": np.array([1])},
        {"boxes": np.array([[2.0, 50, 30, 88]]), "labels": np.array([0])},
    ]
    assert Detector(2, **FAST).fit(images, targets).n_fits_ == 1


def test_labels_outside_the_classes_are_refused(data):
    targets = _targets(data)
    targets[1] = {"boxes": np.array([[1.0, 1, 9, 9]]), "labels": np.array([3])}
    with pytest.raises(ValueError, match=r"target 1: labels must be class ids in 0\.\.2"):
        Detector(3, **FAST).fit(list(data.images), targets)


def test_boxes_without_area_are_refused(data):
    targets = _targets(data)
    targets[2] = {"boxes": np.array([[5.0, 5, 5, 9]]), "labels": np.array([0])}
    with pytest.raises(ValueError, match="target 2: every box needs x0 < x1"):
        Detector(3, **FAST).fit(list(data.images), targets)


def test_weights_load_from_a_saved_state_dict(fitted, data, tmp_path):
    torch.save(fitted.net_.state_dict(), tmp_path / "tiny.pt")
    loaded = Detector(3, weights=tmp_path / "tiny.pt", lr=1e-12, **FAST)
    loaded.fit(list(data.images), _targets(data))
    weights = _weights(fitted)
    after = _weights(loaded)
    assert all(torch.allclose(after[k].float(), weights[k].float(), atol=1e-6) for k in weights)


def test_an_unknown_model_name_is_refused_naming_valid_ones(data):
    with pytest.raises(ValueError, match="unknown model 'yolo'.*fasterrcnn"):
        Detector(3, model="yolo", **FAST).fit(list(data.images), _targets(data))


def test_a_torchvision_model_trains_from_scratch_with_background_handled(data):
    detector = Detector(
        3, model="fasterrcnn_mobilenet_v3_large_320_fpn", score_threshold=0.0, **FAST
    )
    detector.fit(list(data.images[:4]), _targets(data)[:4])
    found = detector.predict(list(data.images[:2]), mc_samples=2)
    assert detector.net_.roi_heads.box_predictor.cls_score[1].out_features == 4
    for result in found:
        assert result["probs"].shape[1:] == (4, 2)
        np.testing.assert_allclose(result["probs"].sum(1), 1.0, rtol=1e-9)
        assert set(result["labels"].tolist()) <= {0, 1, 2}


def test_a_model_family_without_per_box_class_probabilities_is_refused(data):
    detector = Detector(3, model="ssdlite320_mobilenet_v3_large", **FAST)
    with pytest.raises(ValueError, match="SSD models are not supported: use an FCOS"):
        detector.fit(list(data.images), _targets(data))


def test_unreachable_pretrained_weights_fail_at_once_naming_the_alternatives(
    data, tmp_path, monkeypatch
):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    detector = Detector(3, model="fasterrcnn_mobilenet_v3_large_320_fpn", weights="DEFAULT", **FAST)
    with pytest.raises(RuntimeError, match=r"weights=None.*state_dict.*Detector\(\)") as error:
        detector.fit(list(data.images), _targets(data))
    assert "fasterrcnn_mobilenet_v3_large_320_fpn" in str(error.value)
    assert not hasattr(detector, "net_")
    assert not list(tmp_path.rglob("*.partial"))


def test_a_weights_server_that_never_answers_fails_after_the_timeout(data, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections in the backlog, never answers
    real = urllib.request.urlopen
    address = f"http://127.0.0.1:{silent.getsockname()[1]}/weights.pth"
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, timeout: real(address, timeout=timeout)
    )
    detector = Detector(
        3,
        model="fasterrcnn_mobilenet_v3_large_320_fpn",
        weights="DEFAULT",
        download_timeout=0.5,
        **FAST,
    )
    start = time.perf_counter()
    try:
        with pytest.raises(RuntimeError, match="cannot fetch the pretrained weights"):
            detector.fit(list(data.images), _targets(data))
    finally:
        silent.close()
    assert time.perf_counter() - start < 10


def test_unknown_weights_names_are_refused_listing_the_valid_ones(data):
    detector = Detector(3, model="fasterrcnn_mobilenet_v3_large_320_fpn", weights="IMAGENET")
    with pytest.raises(ValueError, match="unknown weights 'IMAGENET'.*COCO_V1"):
        detector.fit(list(data.images), _targets(data))


@pytest.mark.slow
def test_forty_cpu_seconds_of_training_on_shapes_reach_ap50_of_08():
    # 900 steps of 4 images at 128 px: about 40 s of one CPU core
    train = alw.datasets.shapes(600, size=128, seed=0)
    test = alw.datasets.shapes(100, size=128, seed=1)
    detector = Detector(3, longest_side=128, min_steps=900, max_steps=900)
    detector.fit(list(train.images), _targets(train))
    ap = mean_ap(detector.predict(list(test.images)), _targets(test), 3)
    assert ap["ap50"] >= 0.8
