"""Instance segmentation in the loop: MaskAL-style ranking, drafts as Instances, describe, mask mAP."""

import numpy as np
import pytest
import torch

import al_widget as alw
from al_widget.learners import InstanceSegmenter, ParamsMixin

CLASSES = ["thing"]


def blob_images(n, seed=0, empty_every=0):
    """Dark 24x32 images with one bright square each (none in every `empty_every`-th); the squares."""
    rng = np.random.default_rng(seed)
    images, truth = [], []
    for k in range(n):
        image = np.zeros((24, 32, 3), np.uint8)
        mask = np.zeros((24, 32), bool)
        if not (empty_every and k % empty_every == 0):
            side = int(rng.integers(4, 10))
            y, x = int(rng.integers(0, 24 - side)), int(rng.integers(0, 32 - side))
            mask[y : y + side, x : x + side] = True
            image[mask] = 200
        images.append(image)
        truth.append(
            alw.Instances(mask[None], CLASSES) if mask.any() else alw.Instances.empty((32, 24))
        )
    return np.stack(images), truth


class BrightObjects(ParamsMixin):
    """Finds the bright pixels as one object; its masks in odd MC passes lose their left half
    in images whose square is wider than `wobbly_from` pixels (spatial disagreement)."""

    task = "instances"

    def __init__(self, wobbly_from=100):
        self.wobbly_from = wobbly_from

    def fit(self, images, targets, progress, should_stop):
        assert all(
            t["masks"].shape[1:] == i.shape[:2] for t, i in zip(targets, images, strict=True)
        )
        assert all((t["labels"] == 0).all() for t in targets)  # class ids from 0
        self.seen_mc_ = []
        progress(1.0)
        return self

    def predict(self, images, mc_samples=1):
        self.seen_mc_.append(mc_samples)
        out = []
        for image in images:
            mask = image[..., 0] > 100
            ys, xs = np.nonzero(mask)
            if not len(xs):
                out.append(
                    {
                        "boxes": np.zeros((0, 4)),
                        "labels": np.zeros(0, np.int64),
                        "scores": np.zeros(0),
                        "probs": np.zeros((0, 2, mc_samples)),
                        "masks": np.zeros((0, *mask.shape), bool),
                        "mask_samples": np.zeros((0, mc_samples, 8, 8), bool),
                    }
                )
                continue
            grid = np.ones((mc_samples, 8, 8), bool)
            if xs.max() - xs.min() + 1 > self.wobbly_from:
                grid[1::2, :, :4] = False
            out.append(
                {
                    "boxes": np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], float),
                    "labels": np.zeros(1, np.int64),
                    "scores": np.full(1, 0.9),
                    "probs": np.tile([[0.9], [0.1]], (1, 1, mc_samples)),
                    "masks": mask[None],
                    "mask_samples": grid[None],
                }
            )
        return out


def _loop(loop_factory, images, truth, learner, **kwargs):
    ds = alw.Dataset(images, CLASSES, task="instances")
    loop = loop_factory(ds, learner, query_size=2, pool_sample=None, **kwargs)
    loop.commit(1, truth[1])
    loop.commit(2, truth[2])
    assert loop.wait(20)
    assert loop.history[-1].ok, loop.history[-1].error
    return loop


def test_an_image_where_nothing_is_found_comes_before_those_with_sure_objects(loop_factory):
    images, truth = blob_images(20, empty_every=5)
    loop = _loop(loop_factory, images, truth, BrightObjects())
    empty = {0, 5, 10, 15}
    assert set(loop.queue[:4].tolist()) == empty
    assert "no object found" in loop.describe(int(loop.queue[0])).why


def test_objects_whose_masks_disagree_across_passes_rank_first(loop_factory):
    images, truth = blob_images(20)
    widths = [int(t.boxes[0, 2] - t.boxes[0, 0]) for t in truth]
    learner = BrightObjects(wobbly_from=7)
    loop = _loop(loop_factory, images, truth, learner)
    wobbly = {i for i, w in enumerate(widths) if w > 7} - {1, 2}
    assert set(loop.queue[: len(wobbly)].tolist()) == wobbly


def test_scoring_samples_masks_by_default_and_not_for_random(loop_factory):
    images, truth = blob_images(10)
    learner = BrightObjects()
    _loop(loop_factory, images, truth, learner)
    assert set(learner.seen_mc_) == {8}
    learner = BrightObjects()
    _loop(loop_factory, images, truth, learner, heuristic="random")
    assert set(learner.seen_mc_) == {1}


def test_the_prediction_is_instances_with_one_object_per_draft(loop_factory):
    images, truth = blob_images(10)
    loop = _loop(loop_factory, images, truth, BrightObjects())
    i = int(loop.queue[0])
    found = loop.prediction(i)
    assert isinstance(found, alw.Instances)
    assert found.classes == ("thing",)
    np.testing.assert_array_equal(found.masks, truth[i].masks)


def test_where_nothing_is_found_the_prediction_is_no_objects_on_an_image_of_its_size(loop_factory):
    images, truth = blob_images(10, empty_every=5)  # 24 high, 32 wide
    loop = _loop(loop_factory, images, truth, BrightObjects())
    found = loop.prediction(5)
    assert len(found) == 0
    assert found.canvas_size == (24, 32)


def test_describe_names_the_objects_that_made_the_image_uncertain(loop_factory):
    images, truth = blob_images(10)
    loop = _loop(loop_factory, images, truth, BrightObjects(wobbly_from=0))
    why = loop.describe(int(loop.queue[0])).why
    assert "object 0 (thing)" in why
    assert "mask 0." in why
    assert "found in 8 of 8 passes" in why


@pytest.mark.slow
def test_the_default_learner_raises_mask_map_over_rounds_on_shapes(loop_factory):
    torch.set_num_threads(1)
    data = alw.datasets.shapes(140, size=96, seed=3, task="instances")
    pool, test = slice(0, 100), slice(100, None)
    ds = alw.Dataset(data.images[pool], list(data.classes), task="instances")
    learner = InstanceSegmenter(3, longest_side=96, min_steps=60, max_steps=120, seed=0)
    loop = loop_factory(
        ds,
        learner,
        query_size=10,
        pool_sample=None,
        eval_set=(data.images[test], data.annotations[test]),
    )
    truth = data.annotations[pool]
    for i in range(10):
        loop.commit(i, truth[i])
    assert loop.wait(300)
    for _ in range(3):
        for i in loop.queue[:15].tolist():
            loop.commit(int(i), truth[int(i)])
        assert loop.wait(300)
    rounds = [r for r in loop.history if r.retrained]
    assert all(r.ok for r in rounds), [r.error for r in rounds]
    assert rounds[0].metric_name == "mask mAP"
    assert "AP50" in rounds[-1].details
    assert rounds[-1].metric > rounds[0].metric + 0.05


def test_the_default_learner_of_an_instances_dataset_is_the_warm_started_instance_segmenter(
    loop_factory,
):
    images, _ = blob_images(4)
    loop = loop_factory(alw.Dataset(images, CLASSES, task="instances"), start=False)
    assert isinstance(loop.learner, InstanceSegmenter)
    assert loop.learner.n_classes == 1
    assert loop.learner.max_steps == 150
    assert loop.learner.warm_start
