"""A round runs on its task's strategy: settings and hooks in, the ranking out."""

import numpy as np
from torch import nn

import al_widget as alw
from al_widget import tasks
from al_widget.learners import EmbeddingClassifier
from al_widget.rounds import RoundRunner
from al_widget.scoring import Inline
from al_widget.settings import Settings
from al_widget.tasks.cached import CachedEmbeddingStrategy
from al_widget.tasks.strategies import DirectStrategy, Hooks

from conftest import CentroidLearner


def strategy_of(task, learner, n_images=4):
    images = np.zeros((n_images, 8, 8, 3), np.uint8)
    classes = ["background", "thing"] if task == "segment" else ["a", "b"]
    dataset = alw.Dataset(images, classes, task=task)
    return tasks.for_dataset(task).strategy(
        learner, dataset, executor=Inline(), chunk_size=8, cache_dir=None
    )


def test_a_classifier_with_cacheable_embeddings_rounds_on_the_embedding_cache():
    backbone = nn.Sequential(nn.Conv2d(3, 4, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    learner = EmbeddingClassifier(2, backbone=backbone, weights=None, input_size=(8, 8))
    found = strategy_of("classify", learner)
    assert isinstance(found, CachedEmbeddingStrategy)
    assert found.cold_starts


def test_other_learners_and_tasks_round_on_the_images_directly():
    for task in ("classify", "detect", "segment"):
        found = strategy_of(task, CentroidLearner(2))
        assert isinstance(found, DirectStrategy)
        assert not found.cold_starts


def test_rank_takes_the_settings_and_hooks_and_publishes_each_part(two_class):
    images, labels = two_class
    dataset = alw.Dataset(images, ["dark", "bright"])
    for i in (0, 1, 2, 3):
        dataset.annotate(i, alw.Label(int(labels[i])))
    runner = RoundRunner(
        dataset,
        CentroidLearner(2),
        executor=Inline(),
        chunk_size=8,
        eval_set=None,
        rng=np.random.default_rng(0),
    )
    runner.train(dataset.snapshot(), lambda f: None, lambda: False)
    published = []
    hooks = Hooks(lambda: False, publish=published.append)
    candidates = np.arange(4, len(images))
    ranked, _scored = runner.rank(
        candidates, Settings(heuristic="entropy", pool_sample=None), hooks, data_version=7
    )
    assert sorted(ranked.indices.tolist()) == candidates.tolist()
    assert ranked.heuristic == "entropy"
    assert ranked.data_version == 7
    assert published
    assert all(p.pending > 0 for p in published)
