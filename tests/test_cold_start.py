"""The cold start: before any model, a loop with cached embeddings queues typical images first,
one from each part of the pool (TypiClust), instead of random ones."""

import numpy as np
import pytest
from torch import nn

import al_widget as alw
from al_widget.cold_start import typical_and_spread, typicality
from al_widget.learners import EmbeddingClassifier


def _blobs(sizes, rng, spread=0.3):
    """Points around one centre per group, far apart; the group of each point."""
    centres = rng.normal(0, 10, (len(sizes), 8))
    groups = np.repeat(np.arange(len(sizes)), sizes)
    return centres[groups] + rng.normal(0, spread, (len(groups), 8)), groups, centres


def test_the_chosen_rows_cover_every_group_even_a_small_one():
    rng = np.random.default_rng(0)
    points, groups, _ = _blobs([300, 60, 12], rng)
    chosen, _ = typical_and_spread(points, 3, np.random.default_rng(1))
    assert sorted(groups[chosen].tolist()) == [0, 1, 2]
    assert groups[chosen[0]] == 0  # the largest group's first


def test_each_chosen_row_is_near_the_centre_of_its_group():
    rng = np.random.default_rng(0)
    points, groups, centres = _blobs([200, 200], rng)
    chosen, _ = typical_and_spread(points, 2, np.random.default_rng(1))
    for row in chosen:
        distances = np.linalg.norm(points[groups == groups[row]] - centres[groups[row]], axis=1)
        mine = np.linalg.norm(points[row] - centres[groups[row]])
        assert mine <= np.quantile(distances, 0.25)


def test_typicality_is_higher_in_dense_regions():
    rng = np.random.default_rng(0)
    dense = rng.normal(0, 0.1, (50, 2))
    sparse = rng.normal(5, 3.0, (50, 2))
    found = typicality(np.concatenate([dense, sparse]), neighbours=5)
    assert found[:50].min() > found[50:].max()


def tiny_backbone():
    return nn.Sequential(nn.Conv2d(3, 4, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())


@pytest.fixture
def coloured_pool():
    """300 8x8 images in three colours, 240 red, 45 green and 15 blue, with a little noise."""
    rng = np.random.default_rng(0)
    colours = np.repeat([0, 1, 2], [240, 45, 15])
    images = rng.integers(0, 30, (300, 8, 8, 3)).astype(np.uint8)
    images[np.arange(300), :, :, colours] += 200
    order = rng.permutation(300)
    return images[order], colours[order]


def test_a_loop_with_cached_embeddings_queues_one_typical_image_of_each_colour_first(
    loop_factory, coloured_pool
):
    images, colours = coloured_pool
    ds = alw.Dataset(images, classes=["red", "green", "blue"])
    learner = EmbeddingClassifier(
        3, backbone=tiny_backbone(), weights=None, input_size=(8, 8), seed=0
    )
    loop = loop_factory(ds, learner, pool_sample=None, query_size=3)
    assert loop.wait(timeout=60)
    assert loop.model_version == 0
    assert loop.ranking.heuristic == "typical"
    assert sorted(colours[loop.queue[:3]].tolist()) == [0, 1, 2]
    assert "typical" in loop.describe(int(loop.queue[0])).why


def test_a_loop_whose_dataset_has_labels_does_not_rank_before_training(loop_factory, coloured_pool):
    images, colours = coloured_pool
    ds = alw.Dataset(images, classes=["red", "green", "blue"])
    ds.annotate(0, alw.Label(int(colours[0])))
    learner = EmbeddingClassifier(3, backbone=tiny_backbone(), weights=None, input_size=(8, 8))
    loop = loop_factory(ds, learner, pool_sample=None, query_size=3)
    assert loop.wait(timeout=60)
    assert loop.ranking.heuristic != "typical"


def test_cold_start_random_keeps_the_random_first_queue(loop_factory, coloured_pool):
    images, _ = coloured_pool
    ds = alw.Dataset(images, classes=["red", "green", "blue"])
    learner = EmbeddingClassifier(3, backbone=tiny_backbone(), weights=None, input_size=(8, 8))
    loop = loop_factory(ds, learner, pool_sample=None, cold_start="random")
    assert loop.wait(timeout=60)
    assert loop.ranking.heuristic == "random"
    assert loop.history == ()


def test_an_unknown_cold_start_is_refused_listing_the_choices():
    ds = alw.Dataset(np.zeros((4, 8, 8), np.uint8), classes=["a", "b"])
    with pytest.raises(ValueError, match="cold_start must be one of 'typical', 'random', got 'k'"):
        alw.ActiveLoop(ds, cold_start="k", start=False)
