"""Detector and Segmenter on a frozen ImageNet backbone: only the head trains, the backbone's
features are cached, weights come from ImageNet, a file, or stay random with a warning."""

import numpy as np
import pytest
import torch

import al_widget as alw
from al_widget.learners import Detector, Segmenter, _detection_nets, _frozen

STEPS = {"min_steps": 2, "max_steps": 2}


@pytest.fixture(scope="module")
def boxes():
    data = alw.datasets.shapes(6, size=64, seed=0, task="detect")
    targets = [{"boxes": a.xyxy, "labels": a.class_ids(data.classes)} for a in data.annotations]
    return data, targets


@pytest.fixture(scope="module")
def masks():
    data = alw.datasets.shapes(6, size=64, seed=0, task="segment")
    return data, [a.class_map for a in data.annotations]


def trunk_of(learner):
    return learner.net_.backbone.trunk  # the Detector's neck and the Segmenter's both hold it


def test_a_frozen_backbone_detector_trains_its_head_only(boxes):
    data, targets = boxes
    learner = Detector(len(data.classes), model="frozen_resnet18", longest_side=32, **STEPS)
    learner.fit(list(data.images), targets)
    before = {k: v.clone() for k, v in learner.net_.state_dict().items()}
    learner.fit(list(data.images), targets)  # a warm start: trains on from the last fit
    after = learner.net_.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed
    assert not any(k.startswith("backbone.trunk.") for k in changed)
    found = learner.predict(list(data.images[:2]))
    assert len(found) == 2
    assert found[0]["probs"].shape[1] == len(data.classes) + 1


def test_a_frozen_backbone_segmenter_predicts_class_probabilities(masks):
    data, targets = masks
    learner = Segmenter(len(data.classes), model="frozen_resnet18", input_size=64, **STEPS)
    learner.fit(list(data.images), targets)
    probs = learner.predict_proba(list(data.images[:2]), mc_samples=3)
    assert probs[0].shape == (len(data.classes), 64, 64, 3)
    np.testing.assert_allclose(probs[0].sum(axis=0), 1.0, atol=1e-5)


def test_the_backbone_computes_each_inputs_features_once_across_fits(masks, monkeypatch):
    data, targets = masks
    learner = Segmenter(
        len(data.classes), model="frozen_mobilenet_v3_large", input_size=64, flip=False, **STEPS
    )
    learner.fit(list(data.images), targets)
    computed = []
    body = trunk_of(learner).body
    monkeypatch.setattr(body, "forward", lambda x: computed.append(len(x)) or torch.zeros(0))
    learner.fit(list(data.images), targets)  # the same inputs again: all from the cache
    learner.predict_proba(list(data.images))
    assert computed == []


def test_weights_that_cannot_be_fetched_leave_the_backbone_random_with_a_warning(
    boxes, monkeypatch
):
    def unreachable(name, url, timeout):
        raise _detection_nets.WeightsUnavailable(f"cannot fetch the pretrained weights of {name}")

    monkeypatch.setattr(_detection_nets, "fetch_weights", unreachable)
    data, targets = boxes
    learner = Detector(
        len(data.classes), model="frozen_resnet18", weights="DEFAULT", longest_side=64, **STEPS
    )
    with pytest.warns(UserWarning, match="resnet18 backbone keeps random weights"):
        learner.fit(list(data.images), targets)
    assert learner.n_fits_ == 1


def test_a_state_dict_path_gives_the_backbone_its_weights(masks, tmp_path):
    import torchvision

    torch.manual_seed(1)
    saved = torchvision.models.resnet18(weights=None)
    torch.save(saved.state_dict(), tmp_path / "resnet18.pth")
    data, targets = masks
    learner = Segmenter(
        len(data.classes),
        model="frozen_resnet18",
        weights=tmp_path / "resnet18.pth",
        input_size=64,
        **STEPS,
    )
    learner.fit(list(data.images), targets)
    first_conv = trunk_of(learner).body[0].weight
    assert torch.equal(first_conv.cpu(), saved.conv1.weight)


def test_a_state_dict_of_another_model_is_refused_naming_the_backbone(masks, tmp_path):
    torch.save({"weight": torch.zeros(3)}, tmp_path / "other.pth")
    data, targets = masks
    learner = Segmenter(
        len(data.classes), model="frozen_resnet18", weights=tmp_path / "other.pth", **STEPS
    )
    with pytest.raises(ValueError, match="does not fit torchvision's resnet18 classification"):
        learner.fit(list(data.images), targets)


def test_unknown_backbone_weights_are_refused_listing_the_choices(boxes):
    data, targets = boxes
    learner = Detector(len(data.classes), model="frozen_resnet18", weights="COCO", **STEPS)
    with pytest.raises(ValueError, match="unknown weights 'COCO' for the resnet18 backbone"):
        learner.fit(list(data.images), targets)


def test_the_feature_cache_forgets_the_oldest_inputs_beyond_its_size():
    cache = _frozen.FeatureCache(size=2)
    for key in (b"a", b"b", b"c"):
        cache.put(key, torch.zeros(1))
    assert (cache.get(b"a"), len(cache)) == (None, 2)


# -- the default learner for photos ----------------------------------------------------------------


def scenes(n: int, size: int, task: str) -> alw.Dataset:
    """`n` unlabeled shapes scenes of `size` pixels a side."""
    truth = alw.datasets.shapes(n, size=size, seed=0, task=task)
    return alw.Dataset(truth.images, truth.classes, task=task)


def first_round(loop: alw.ActiveLoop) -> None:
    """Start `loop`'s worker and wait for its first round."""
    loop.start()
    assert loop.wait(120)


@pytest.mark.parametrize(("task", "learner"), [("detect", Detector), ("segment", Segmenter)])
def test_photos_get_a_frozen_pretrained_backbone_by_default(task, learner, caplog):
    photos = scenes(2, 320, task)
    with caplog.at_level("INFO", logger="al_widget"):
        loop = alw.ActiveLoop(photos, start=False)
    assert isinstance(loop.learner, learner)
    params = loop.learner.get_params()
    assert (params["model"], params["weights"]) == ("frozen_resnet18", "DEFAULT")
    assert "photos (the first is 320x320 pixels)" in caplog.text


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_scenes_no_larger_than_the_networks_input_keep_the_model_trained_from_scratch(task):
    params = alw.ActiveLoop(scenes(2, 160, task), start=False).learner.get_params()
    assert (params["model"], params["weights"]) != ("frozen_resnet18", "DEFAULT")


def test_a_loop_on_photos_offline_trains_its_frozen_default_with_random_weights_and_a_warning(
    monkeypatch,
):
    def unreachable(name, url, timeout):
        raise _detection_nets.WeightsUnavailable(f"cannot fetch the pretrained weights of {name}")

    monkeypatch.setattr(_detection_nets, "fetch_weights", unreachable)
    truth = alw.datasets.shapes(6, size=200, seed=0, task="detect")
    photos = alw.Dataset(truth.images, truth.classes, task="detect")
    loop = alw.ActiveLoop(photos, start=False, pool_sample=None)
    loop.learner.set_params(min_steps=2, max_steps=2)
    for i in range(4):
        loop.commit(i, truth.boxes[i])
    with pytest.warns(UserWarning, match="resnet18 backbone keeps random weights"):
        first_round(loop)
    assert loop.history[-1].ok, loop.history[-1].error
    assert loop.learner.n_fits_ == 1
    assert sorted(loop.ranking.indices) == [4, 5]
