"""Label propagation on cached embeddings: labels spread over a kNN graph of the pool, the
embedding learner's head trains on them as soft targets, and the loop feeds it the cached pool."""

import numpy as np
import pytest
import torch
from torch import nn

import al_widget as alw
from al_widget.learners import EmbeddingClassifier
from al_widget.learners._propagation import propagate

SMALL = {"input_size": (16, 16)}


def tiny_backbone(width=6):
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()
    )


def two_moons(n, dim, rng):
    """`n` points on two interleaved half circles (class 0 and 1), in the first two of `dim` axes."""
    labels = np.arange(n) % 2
    angle = rng.uniform(0, np.pi, n)
    x = np.where(labels == 0, np.cos(angle), 1 - np.cos(angle))
    y = np.where(labels == 0, np.sin(angle), 0.5 - np.sin(angle))
    points = rng.normal(0, 0.02, (n, dim))
    points[:, 0] += x + rng.normal(0, 0.05, n)
    points[:, 1] += y + rng.normal(0, 0.05, n)
    return points.astype(np.float32), labels


def _ends(points, labels):
    """One labeled point per moon: each moon's leftmost point."""
    return np.array([np.flatnonzero(labels == c)[points[labels == c, 0].argmin()] for c in (0, 1)])


def test_labels_spread_along_the_structure_of_the_unlabeled_points():
    rng = np.random.default_rng(0)
    points, labels = two_moons(1200, 8, rng)
    seed = _ends(points, labels)
    rest = np.setdiff1d(np.arange(len(points)), seed)
    spread = propagate(points[seed], labels[seed], points[rest], 2)
    assert spread.targets.shape == (len(rest), 2)
    np.testing.assert_allclose(spread.targets.sum(1), 1.0, atol=1e-5)
    assert (spread.targets.argmax(1) == labels[rest]).mean() > 0.97
    assert ((spread.certainty >= 0) & (spread.certainty <= 1)).all()


def _fitted_on_moons(**params):
    rng = np.random.default_rng(1)
    learner = EmbeddingClassifier(
        2, backbone=tiny_backbone(), weights=None, head="mlp", seed=0, **SMALL, **params
    )
    learner._ensure_backbone()
    points, labels = two_moons(1600, learner.embedding_dim_, rng)
    seed = _ends(points, labels)
    pool = np.setdiff1d(np.arange(1200), seed)
    learner.fit_embeddings(points[seed], labels[seed], unlabeled=points[pool])
    probs = learner.predict_proba_embeddings(points[1200:])
    return learner, (probs[:, :, 0].argmax(1) == labels[1200:]).mean(), len(pool)


@pytest.mark.slow
def test_soft_targets_from_the_pool_lift_the_head_beyond_its_two_labels():
    semi, semi_accuracy, n_pool = _fitted_on_moons()
    _, alone_accuracy, _ = _fitted_on_moons(semi_supervised=False)
    # Two labels give a line through the moons' ends: about chance on the held-out points.
    assert semi_accuracy > 0.8
    assert semi_accuracy > alone_accuracy + 0.2
    report = semi.semi_supervised_
    assert report["unlabeled"] == n_pool
    assert report["threshold"] == 0.5
    assert 0 < report["pseudo_labels"] <= report["unlabeled"]


def test_semi_supervised_off_fits_the_head_exactly_as_on_the_labels_alone():
    rng = np.random.default_rng(2)
    make = lambda: EmbeddingClassifier(  # noqa: E731
        2, backbone=tiny_backbone(), weights=None, semi_supervised=False, **SMALL
    )
    given, alone = make(), make()
    given._ensure_backbone()
    points, labels = two_moons(1500, given.embedding_dim_, rng)
    given.fit_embeddings(points[:20], labels[:20], unlabeled=points[20:])
    alone.fit_embeddings(points[:20], labels[:20])
    for a, b in zip(given.head_.parameters(), alone.head_.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert given.semi_supervised_ is None


def test_unlabeled_embeddings_of_the_wrong_length_are_refused():
    learner = EmbeddingClassifier(2, backbone=tiny_backbone(), weights=None, **SMALL)
    learner._ensure_backbone()
    dim = learner.embedding_dim_
    with pytest.raises(
        ValueError, match=rf"unlabeled must have shape \(M, {dim}\), got \(1000, 3\)"
    ):
        learner.fit_embeddings(
            np.ones((2, dim), np.float32), np.array([0, 1]), unlabeled=np.ones((1000, 3))
        )


@pytest.fixture
def blobs_pool():
    """1,300 RGB 8x8 images: class 0 dark, class 1 bright, with noise."""
    rng = np.random.default_rng(0)
    labels = np.arange(1300) % 2
    images = rng.integers(0, 80, (1300, 8, 8, 3)).astype(np.uint8)
    images[labels == 1] += 150
    return images, labels


def test_the_loop_propagates_labels_over_the_cached_pool_embeddings(loop_factory, blobs_pool):
    images, labels = blobs_pool
    ds = alw.Dataset(images, classes=["dark", "bright"])
    learner = EmbeddingClassifier(2, backbone=tiny_backbone(), weights=None, **SMALL)
    # cold_start="random": no typical-first round embeds a part of the pool before the labels
    loop = loop_factory(ds, learner, pool_sample=None, query_size=4, cold_start="random")
    for i in range(4):
        loop.commit(i, alw.Label(int(labels[i])))
    assert loop.wait(timeout=60)  # round 1 trains on the labels, then embeds the pool
    loop.retrain()
    assert loop.wait(timeout=60)
    first, second = [r for r in loop.history if r.retrained]
    assert (first.n_unlabeled, first.pseudo_threshold) == (0, None)
    assert second.n_unlabeled == 1296
    assert second.pseudo_threshold == 0.5
    assert second.n_pseudo_labels > 0
    assert ds.labeled.tolist() == [0, 1, 2, 3]
