"""InstanceSegmenter: an instance learner by scikit-learn's conventions, warm-started between rounds."""

import numpy as np
import pytest
import torch

import al_widget as alw
from al_widget.learners import Cancelled, InstanceSegmenter, clone
from al_widget.learners.base import InstanceLearner

FAST = {"longest_side": 64, "min_steps": 3, "max_steps": 3}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _targets(data):
    return [
        {"boxes": b.xyxy, "labels": b.class_ids(data.classes), "masks": m}
        for b, m in zip(data.boxes, data.instances, strict=True)
    ]


@pytest.fixture(scope="module")
def data():
    return alw.datasets.shapes(8, size=64, seed=0)


@pytest.fixture(scope="module")
def fitted(data):
    # a low threshold, so that a barely trained model still finds objects
    return InstanceSegmenter(3, score_threshold=0.01, **FAST).fit(list(data.images), _targets(data))


def _weights(model):
    return {k: v.detach().clone() for k, v in model.net_.state_dict().items()}


def test_a_new_model_stores_its_parameters_and_is_unfitted():
    model = InstanceSegmenter(3, max_steps=7, dropout=0.2)
    assert model.get_params()["max_steps"] == 7
    assert model.task == "instances"
    assert not hasattr(model, "net_")


def test_clone_gives_an_unfitted_model_with_equal_parameters(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "net_")


def test_predict_gives_objects_with_masks_at_each_images_size_and_mask_samples(fitted, data):
    found = fitted.predict([data.images[0], data.images[1][:40, :50]], mc_samples=3)
    assert len(found) == 2
    for result, (height, width) in zip(found, [(64, 64), (40, 50)], strict=True):
        k = len(result["boxes"])
        assert k > 0
        assert result["boxes"].shape == (k, 4)
        assert result["labels"].shape == result["scores"].shape == (k,)
        assert result["probs"].shape == (k, 4, 3)
        np.testing.assert_allclose(result["probs"].sum(axis=1), 1.0, atol=1e-6)
        assert result["masks"].shape == (k, height, width)
        assert result["masks"].dtype == bool
        assert result["mask_samples"].shape == (k, 3, 28, 28)
        assert result["mask_samples"].dtype == bool


def test_one_sample_is_deterministic(fitted, data):
    a = fitted.predict(list(data.images[:2]))
    b = fitted.predict(list(data.images[:2]))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x["masks"], y["masks"])
        np.testing.assert_array_equal(x["probs"], y["probs"])


def test_predict_refuses_mc_samples_below_one_naming_them(fitted, data):
    with pytest.raises(ValueError, match="mc_samples must be an int >= 1, got 0"):
        fitted.predict(list(data.images[:1]), mc_samples=0)


def test_mc_samples_vary_the_masks_but_keep_the_deterministic_boxes():
    data = alw.datasets.shapes(4, size=64, seed=1)
    model = InstanceSegmenter(3, score_threshold=0.01, dropout=0.5, **FAST)
    model.fit(list(data.images), _targets(data))
    once = model.predict(list(data.images))
    sampled = model.predict(list(data.images), mc_samples=6)
    for a, b in zip(once, sampled, strict=True):
        np.testing.assert_array_equal(a["boxes"], b["boxes"])
    grids = np.concatenate([s["mask_samples"] for s in sampled]).reshape(-1, 6, 28 * 28)
    assert (grids != grids[:, :1]).any(), "dropout should change some sampled mask"


def test_a_second_fit_continues_from_the_first_fits_weights(data):
    model = InstanceSegmenter(3, **FAST).fit(list(data.images), _targets(data))
    first = _weights(model)
    model.set_params(max_steps=1, min_steps=1, lr=1e-9)
    model.fit(list(data.images), _targets(data))
    second = _weights(model)
    # one step at a tiny learning rate from the first fit's weights stays next to them
    assert all(torch.allclose(first[k].float(), second[k].float(), atol=1e-4) for k in first)
    assert model.n_fits_ == 2


def test_without_warm_start_a_second_fit_starts_afresh(data):
    model = InstanceSegmenter(3, warm_start=False, **FAST).fit(list(data.images), _targets(data))
    first = _weights(model)
    model.set_params(max_steps=1, min_steps=1, lr=1e-9, seed=5)
    model.fit(list(data.images), _targets(data))
    second = _weights(model)
    assert not all(torch.allclose(first[k].float(), second[k].float(), atol=1e-4) for k in first)


def test_should_stop_cancels_and_keeps_the_previous_model(fitted, data):
    model = clone(fitted).fit(list(data.images), _targets(data))
    before = _weights(model)
    with pytest.raises(Cancelled):
        model.fit(list(data.images), _targets(data), should_stop=lambda: True)
    after = _weights(model)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_images_without_objects_train(data):
    empty = {
        "boxes": np.zeros((0, 4)),
        "labels": np.zeros(0, np.int64),
        "masks": np.zeros((0, 64, 64), bool),
    }
    InstanceSegmenter(3, **FAST).fit(list(data.images[:2]), [empty, _targets(data)[1]])


def test_masks_of_the_wrong_size_are_refused_naming_the_target(data):
    targets = _targets(data)
    targets[2] = dict(targets[2], masks=targets[2]["masks"][:, :10])
    with pytest.raises(ValueError, match="target 2: masks must be"):
        InstanceSegmenter(3, **FAST).fit(list(data.images), targets)


def test_an_unknown_model_name_is_refused_naming_valid_ones(data):
    with pytest.raises(ValueError, match="maskrcnn_resnet50_fpn"):
        InstanceSegmenter(3, model="nope", **FAST).fit(list(data.images), _targets(data))


def test_a_detection_model_without_masks_is_refused(data):
    with pytest.raises(ValueError, match="not an instance segmentation model"):
        InstanceSegmenter(3, model="fasterrcnn_mobilenet_v3_large_320_fpn", **FAST).fit(
            list(data.images), _targets(data)
        )


@pytest.mark.slow
def test_a_torchvision_mask_rcnn_trains_from_scratch_and_predicts_masks(data):
    model = InstanceSegmenter(3, model="maskrcnn_resnet50_fpn", score_threshold=0.0, **FAST)
    model.fit(list(data.images[:2]), _targets(data)[:2])
    found = model.predict(list(data.images[:1]), mc_samples=2)[0]
    k = len(found["boxes"])
    assert found["masks"].shape == (k, 64, 64)
    assert found["probs"].shape == (k, 4, 2)
    assert found["mask_samples"].shape[:2] == (k, 2)


def test_weights_load_from_a_saved_state_dict(fitted, data, tmp_path):
    path = tmp_path / "instances.pt"
    torch.save(fitted.net_.state_dict(), path)
    loaded = InstanceSegmenter(3, weights=str(path), score_threshold=0.01, **FAST)
    loaded.fit(list(data.images), _targets(data), should_stop=lambda: False)
    assert loaded.n_fits_ == 1


def test_embed_gives_one_row_of_pooled_features_per_image(fitted, data):
    rows = fitted.embed(list(data.images[:3]))
    assert rows.shape[0] == 3
    assert rows.dtype == np.float32


def test_a_batch_selector_ranks_an_instances_loop_with_the_default_learner(loop_factory, data):
    truth = alw.datasets.shapes(12, size=64, seed=2, task="instances")
    ds = alw.Dataset(truth.images, list(truth.classes), task="instances")
    learner = InstanceSegmenter(3, **FAST)
    loop = loop_factory(ds, learner, heuristic="coreset", query_size=3, pool_sample=None)
    for i in range(3):
        loop.commit(i, truth.annotations[i])
    assert loop.wait(60)
    assert loop.history[-1].ok, loop.history[-1].error
    assert len(loop.queue) == 9


def test_the_model_is_an_instance_learner():
    assert isinstance(InstanceSegmenter(3), InstanceLearner)
