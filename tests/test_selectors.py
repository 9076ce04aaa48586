"""Batch selectors: exactly k distinct images, diverse where the heuristic alone is not, by name in a loop."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import al_widget as alw
from al_widget import heuristics, selectors

from conftest import CentroidLearner

BUILT_IN = ["badge", "cluster_margin", "coreset"]


def _batch(n, rng, dim=4, classes=3, labeled=0, duplicates=False):
    embeddings = rng.normal(size=(n, dim)).astype(np.float32)
    if duplicates:
        embeddings[: n // 2] = embeddings[0]
    probs = rng.dirichlet(np.ones(classes), size=n)
    return selectors.Batch(
        heuristics.margin(probs), probs, embeddings, rng.normal(size=(labeled, dim))
    )


@pytest.mark.parametrize("name", BUILT_IN)
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 60),
    k=st.integers(1, 80),
    labeled=st.integers(0, 5),
    duplicates=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_a_selector_picks_exactly_min_k_n_distinct_images(name, n, k, labeled, duplicates, seed):
    rng = np.random.default_rng(seed)
    batch = _batch(n, rng, labeled=labeled, duplicates=duplicates)
    picked = selectors.get(name).select(batch, k, rng)
    assert len(picked) == min(k, n)
    assert len(set(picked.tolist())) == len(picked)
    assert ((picked >= 0) & (picked < n)).all()


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_pool_of_identical_images_still_gives_k_distinct_picks(name):
    rng = np.random.default_rng(0)
    probs = np.tile([[0.5, 0.3, 0.2]], (30, 1))
    batch = selectors.Batch(heuristics.margin(probs), probs, np.ones((30, 8), np.float32))
    picked = selectors.get(name).select(batch, 10, rng)
    assert len(picked) == 10
    assert len(set(picked.tolist())) == 10


def _copies_and_singles(rng):
    """40 copies of one uncertain image (positions 0..39), then 5 distinct uncertain ones."""
    embeddings = np.vstack([np.tile(rng.normal(size=(1, 6)), (40, 1)), 5 * rng.normal(size=(5, 6))])
    probs = np.tile([[0.45, 0.40, 0.15]], (45, 1))
    probs[:40] = [0.36, 0.34, 0.30]  # the copies are the most uncertain by margin
    return selectors.Batch(heuristics.margin(probs), probs, embeddings.astype(np.float32))


@pytest.mark.parametrize("name", BUILT_IN)
def test_near_duplicates_are_asked_for_once_where_margin_takes_them_all(name):
    rng = np.random.default_rng(1)
    batch = _copies_and_singles(rng)
    margin_top = np.argsort(-batch.scores, kind="stable")[:5]
    assert (margin_top < 40).all()
    picked = selectors.get(name).select(batch, 5, rng)
    assert (picked < 40).sum() <= 1


def test_coreset_first_asks_for_the_cluster_far_from_every_labeled_image():
    rng = np.random.default_rng(2)
    near = rng.normal(size=(20, 2)) * 0.1
    far = rng.normal(size=(20, 2)) * 0.1 + [10, 0]
    batch = selectors.Batch(
        np.zeros(40), np.full((40, 2), 0.5), np.vstack([near, far]), labeled=np.zeros((3, 2))
    )
    assert selectors.coreset(batch, 1, rng)[0] >= 20


def test_badge_starts_from_the_longest_gradient():
    probs = np.array([[0.99, 0.01], [0.5, 0.5], [0.9, 0.1]])
    batch = selectors.Batch(heuristics.margin(probs), probs, np.ones((3, 4), np.float32))
    assert selectors.badge(batch, 1, np.random.default_rng(0)).tolist() == [1]


def test_cluster_margin_picks_only_from_the_most_uncertain_ten_k():
    rng = np.random.default_rng(3)
    batch = _batch(200, rng)
    picked = selectors.cluster_margin(batch, 3, rng)
    assert set(picked.tolist()) <= set(np.argsort(-batch.scores)[:30].tolist())


@pytest.mark.parametrize("part", ["probs", "embeddings"])
def test_a_batch_whose_rows_do_not_line_up_with_its_scores_is_refused(part):
    parts = {"probs": np.full((5, 2), 0.5), "embeddings": np.ones((5, 3), np.float32)}
    parts[part] = parts[part][:4]
    with pytest.raises(ValueError, match=rf"Batch: {part} has 4 rows for 5 scores"):
        selectors.Batch(np.zeros(5), parts["probs"], parts["embeddings"])


def test_the_selectors_are_listed_as_selectors_and_as_heuristics_for_the_panel_picker():
    assert selectors.names() == BUILT_IN
    assert set(BUILT_IN) <= set(heuristics.names())


def test_a_selector_scores_with_its_base_heuristic():
    probs = np.random.default_rng(4).dirichlet(np.ones(4), size=10)
    assert np.allclose(heuristics.get("coreset")(probs), heuristics.margin(probs))


def test_an_unknown_selector_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown selector 'kcenter'.*coreset"):
        selectors.get("kcenter")


def test_a_built_in_selector_cannot_be_replaced():
    with pytest.raises(ValueError, match="built-in"):
        selectors.register("coreset")(lambda batch, k, rng: np.arange(k))


def test_a_selector_needs_a_plain_heuristic_as_its_base():
    with pytest.raises(ValueError, match="unknown heuristic 'nope'"):
        selectors.register("on_nothing", heuristic="nope")
    with pytest.raises(ValueError, match="must be a heuristic"):
        selectors.register("on_a_selector", heuristic="badge")


@pytest.fixture
def registered():
    """Names registered by a test, removed after it."""
    names = []
    yield names
    for name in names:
        heuristics.unregister(name)


@pytest.mark.parametrize(
    ("pick", "message"),
    [
        (lambda batch, k, rng: np.zeros(k, np.int64), "picked the same image twice"),
        (lambda batch, k, rng: np.arange(k - 1), "must pick exactly"),
        (lambda batch, k, rng: np.arange(k) + len(batch), "outside the pool"),
        (lambda batch, k, rng: np.arange(k) * 0.5, "int positions"),
    ],
)
def test_a_users_selector_that_breaks_the_contract_is_refused_by_name(pick, message, registered):
    selectors.register("broken_pick")(pick)
    registered.append("broken_pick")
    batch = _batch(20, np.random.default_rng(0))
    with pytest.raises(ValueError, match=rf"selector 'broken_pick'.*{message}"):
        selectors.get("broken_pick").select(batch, 4, np.random.default_rng(0))


def test_rerunning_the_cell_that_registers_a_selector_replaces_it(registered):
    def lowest(batch, k, rng):
        return np.argsort(batch.scores)[:k]

    selectors.register("lowest")(lowest)
    registered.append("lowest")
    selectors.register("lowest")(lowest)  # the same cell run again
    assert selectors.names().count("lowest") == 1


def _label_first(loop, labels, n):
    for i in loop.queue[:n]:
        loop.commit(int(i), alw.Label(str(labels[i])))
    assert loop.wait(60)


def test_the_loop_puts_a_selectors_batch_first_in_its_pick_order(loop_factory, registered):
    @selectors.register("most_certain")
    def most_certain(batch, k, rng):
        return np.argsort(batch.scores, kind="stable")[:k]  # the least uncertain, in that order

    registered.append("most_certain")
    images, labels = alw.datasets.digits()
    ds = alw.Dataset(images[:300], classes=alw.datasets.DIGIT_CLASSES)
    loop = loop_factory(ds, heuristic="most_certain", pool_sample=None, query_size=5)
    _label_first(loop, labels, 20)
    ranked = loop.ranking
    assert ranked.heuristic == "most_certain"
    assert ranked.scores[:5].tolist() == np.sort(ranked.scores)[:5].tolist()
    assert (np.diff(ranked.scores[5:]) <= 0).all()  # the rest: most uncertain first
    assert loop.queue[:5].tolist() == ranked.indices[:5].tolist()


@pytest.mark.parametrize("name", BUILT_IN)
def test_an_active_loop_with_a_selector_runs_rounds_end_to_end(name, loop_factory):
    images, labels = alw.datasets.digits()
    ds = alw.Dataset(images[:400], classes=alw.datasets.DIGIT_CLASSES)
    loop = loop_factory(ds, heuristic=name, pool_sample=200, query_size=10)
    for _ in range(3):
        _label_first(loop, labels, 10)
    assert [r.error for r in loop.history if r.retrained] == [None] * 3
    assert loop.ranking.model_version == 3
    assert loop.ranking.heuristic == name
    assert len(set(loop.queue[:10].tolist())) == 10


def test_a_selector_with_a_learner_that_cannot_embed_is_refused_saying_why(loop_factory):
    images = np.zeros((40, 4, 4), np.uint8)
    ds = alw.Dataset(images, classes=["a", "b"])
    with pytest.raises(ValueError, match=r"'coreset' does not work here: .*embed\(images\)"):
        loop_factory(ds, CentroidLearner(2), heuristic="coreset", query_size=2)


def _scenes(task):
    """Twelve 32 px shapes scenes of a detection or segmentation dataset."""
    data = alw.datasets.shapes(12, size=32, seed=0, task=task)
    return data, alw.Dataset(data.images, list(data.classes), task=task)


def _small_learner(task, n_classes):
    if task == "detect":
        return alw.learners.Detector(n_classes, longest_side=32, min_steps=2, max_steps=2)
    return alw.learners.Segmenter(n_classes, input_size=16, min_steps=2, max_steps=2)


@pytest.mark.parametrize("task", ["detect", "segment"])
@pytest.mark.parametrize("name", ["coreset", "cluster_margin", "badge"])
def test_a_detection_or_segmentation_loop_ranks_with_a_batch_selector(loop_factory, task, name):
    data, ds = _scenes(task)
    learner = _small_learner(task, len(data.classes))
    loop = loop_factory(ds, learner, heuristic=name, pool_sample=None, query_size=2)
    loop.commit(0, data.annotations[0])
    loop.commit(1, data.annotations[1])
    assert loop.wait(60)
    assert loop.history[-1].error is None
    assert (loop.ranking.heuristic, loop.ranking.model_version) == (name, 1)
    assert len(set(loop.queue[:2].tolist())) == 2


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_detection_and_segmentation_learners_embed_images_as_pooled_features(task):
    data, _ = _scenes(task)
    targets = (
        [{"boxes": a.xyxy, "labels": a.class_ids(data.classes)} for a in data.annotations[:2]]
        if task == "detect"
        else [a.class_map for a in data.annotations[:2]]
    )
    learner = _small_learner(task, len(data.classes))
    learner.fit(list(data.images[:2]), targets, lambda f: None, lambda: False)
    found = learner.embed(data.images[:3])
    assert found.shape[0] == 3
    assert found.dtype == np.float32
    assert np.isfinite(found).all()


@pytest.mark.parametrize("task", ["detect", "segment"])
@pytest.mark.parametrize("name", ["coreset", "cluster_margin", "badge"])
def test_a_batch_selector_is_refused_for_a_detection_or_segmentation_learner_without_embed(
    loop_factory, gray_images, task, name
):
    ds = alw.Dataset(gray_images, ["bg", "cat"], task=task)
    learner = NoEmbedBoxes() if task == "detect" else NoEmbedPixels()
    loop = loop_factory(ds, learner, start=False)
    with pytest.raises(ValueError, match=rf"heuristic '{name}' does not work here: .*'{task}'"):
        loop.heuristic = name
    assert loop.heuristic == "margin"
    with pytest.raises(ValueError, match="choose one of .*'margin'"):
        loop_factory(ds, learner, heuristic=name, start=False)


class NoEmbedBoxes:
    """A detection learner with no ``embed``: finds nothing."""

    task = "detect"

    def fit(self, images, targets, progress, should_stop):
        return self

    def predict(self, images, mc_samples=1):
        return [
            {
                "boxes": np.zeros((0, 4)),
                "labels": np.zeros(0, np.int64),
                "scores": np.zeros(0),
                "probs": np.zeros((0, 3, mc_samples)),
            }
            for _ in images
        ]


class NoEmbedPixels:
    """A segmentation learner with no ``embed``: every pixel background."""

    task = "segment"

    def fit(self, images, targets, progress, should_stop):
        return self

    def predict_proba(self, images, mc_samples=1):
        probs = np.zeros((2, 4, 4, mc_samples))
        probs[0] = 1.0
        return [probs for _ in images]


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_scoring_no_image_of_boxes_or_masks_keeps_empty_class_probabilities(task):
    from al_widget import tasks

    ds = alw.Dataset(np.zeros((3, 4, 4, 3), np.uint8), ["bg", "cat"], task=task)
    learner = NoEmbedBoxes() if task == "detect" else NoEmbedPixels()
    scored = tasks.for_dataset(task).score(
        learner,
        ds,
        np.zeros(0, np.int64),
        heuristic="coreset",
        reduction=None,
        mc_samples=1,
        executor=alw.scoring.Inline(),
        chunk_size=8,
        should_stop=lambda: False,
    )
    assert scored.probs.shape == (0, 3 if task == "detect" else 2)


class _Gray(CentroidLearner):
    """Probabilities and a one-number embedding that both say how bright an image is, so a
    batch lines up when ``probs[:, 1] == embeddings[:, 0]``; moves `moved` away once the pool
    (more than 20 images) has been scored."""

    def __init__(self, moved):
        super().__init__(2)
        self.moved = moved

    def predict_proba(self, images, mc_samples=1):
        v = self.embed(images)
        if len(images) > 20 and os.path.exists(self.moved):
            os.rename(self.moved, f"{self.moved}.moved")
        return np.repeat(np.hstack([1 - v, v])[:, :, None], mc_samples, axis=2)

    def embed(self, images):
        return images.reshape(len(images), -1).mean(1, keepdims=True) / 255


def test_an_image_gone_between_scoring_and_the_selector_is_broken_and_the_rest_line_up(
    loop_factory, registered, tmp_path
):
    paths = [tmp_path / f"i{i:02d}.png" for i in range(40)]
    for i, path in enumerate(paths):
        Image.fromarray(np.full((8, 8, 3), 5 * i, np.uint8)).save(path)
    batches = []

    @selectors.register("recorded")
    def recorded(batch, k, rng):
        batches.append(batch)
        return np.arange(k)

    registered.append("recorded")
    ds = alw.Dataset([str(p) for p in paths], classes=["a", "b"])
    loop = loop_factory(ds, _Gray(str(paths[5])), heuristic="recorded", pool_sample=None)
    loop.commit(0, alw.Label(0))
    loop.commit(1, alw.Label(1))
    assert loop.wait(60)
    assert loop.history[-1].error is None
    (batch,) = batches
    assert len(batch) == 37  # 40 images, 2 labeled, 1 gone
    assert np.allclose(batch.probs[:, 1], batch.embeddings[:, 0], atol=1e-3)  # float16 rows
    assert "file not found" in loop.broken[5]
    assert 5 not in loop.queue.tolist()
