"""Batch selectors: exactly k distinct images, diverse where the heuristic alone is not, by name in a loop."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize("task", ["detect", "segment"])
@pytest.mark.parametrize("name", ["coreset", "cluster_margin", "badge"])
def test_a_batch_selector_set_on_a_detection_or_segmentation_loop_is_refused(
    loop_factory, gray_images, task, name
):
    ds = alw.Dataset(gray_images, ["bg", "cat"], task=task)
    loop = loop_factory(ds, start=False)
    with pytest.raises(ValueError, match=rf"heuristic '{name}' does not work here: .*'{task}'"):
        loop.heuristic = name
    assert loop.heuristic == "margin"
    with pytest.raises(ValueError, match="choose one of .*'margin'"):
        loop_factory(ds, heuristic=name, start=False)
