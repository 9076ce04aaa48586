"""loop.wait(): which rounds cover the labels and settings committed before it, and when it refuses."""

import threading

import pytest

import al_widget as alw

from conftest import CentroidLearner, HeldLearner

CLASSES = ["dark", "bright"]


def commit(loop, labels, indices):
    for i in indices:
        loop.commit(int(i), alw.Label(int(labels[i])))


def cancelled_while_training(two_class, loop_factory):
    """A loop whose first round, training on two labels, was cancelled; `wait()` said False.
    Returns the loop and its learner, still held in fit."""
    images, labels = two_class
    learner = HeldLearner()
    loop = loop_factory(alw.Dataset(images, CLASSES), learner, query_size=2)
    learner.hold = True
    commit(loop, labels, [0, 1])
    assert learner.entered.wait(10)
    loop.cancel()
    assert loop.wait(10) is False
    return loop, learner


def test_wait_after_a_rerank_trains_on_the_labels_committed_before_it(
    two_class, centroid, loop_factory
):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=2)
    commit(loop, labels, [0, 1])
    assert loop.wait(10)
    commit(loop, labels, [2])  # short of query_size: no round of its own
    loop.heuristic = "entropy"  # a round that only ranks is due
    assert loop.wait(10)
    last = loop.history[-1]
    assert last.retrained
    assert last.n_labels == 3
    assert loop.model_version == 2


def test_a_rerank_keeps_the_count_of_new_labels_toward_query_size(two_class, loop_factory):
    images, labels = two_class
    learner = CentroidLearner(2)
    loop = loop_factory(alw.Dataset(images, CLASSES), learner, query_size=4)
    reranked, trained_again = threading.Event(), threading.Event()

    @loop.on_ranking
    def seen(ranking):
        if ranking.heuristic == "entropy":
            reranked.set()
        if ranking.model_version == 2:
            trained_again.set()

    commit(loop, labels, range(4))
    assert loop.wait(10)
    commit(loop, labels, [4, 5])
    loop.heuristic = "entropy"
    assert reranked.wait(10)
    commit(loop, labels, [6, 7])  # the 4th label since the last training round
    assert trained_again.wait(10), "4 labels since the last fit started no round"
    assert learner.fit_sizes_ == [4, 8]


def test_wait_returns_false_when_the_round_training_on_the_labels_is_cancelled(
    two_class, loop_factory
):
    loop, _ = cancelled_while_training(two_class, loop_factory)
    assert loop.history[-1].error == "cancelled"
    assert loop.model_version == 0


def test_wait_after_a_cancelled_round_starts_no_round_of_its_own(two_class, loop_factory):
    loop, learner = cancelled_while_training(two_class, loop_factory)
    learner.release.set()  # a round that started now would train
    assert loop.wait(10) is False
    assert len(loop.history) == 1
    assert loop.model_version == 0


def test_wait_trains_again_after_a_cancel_once_asked_to_retrain(two_class, loop_factory):
    loop, learner = cancelled_while_training(two_class, loop_factory)
    learner.release.set()
    loop.retrain()
    assert loop.wait(10)
    assert loop.model_version == 1
    assert loop.history[-1].n_labels == 2


def test_wait_inside_an_observer_raises_instead_of_waiting_for_itself(
    two_class, centroid, loop_factory
):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=2)
    raised = []

    @loop.on_ranking
    def waits(ranking):
        try:
            loop.wait()
        except RuntimeError as error:
            raised.append(str(error))

    commit(loop, labels, [0, 1])
    assert loop.wait(10)
    assert raised
    assert "observer" in raised[0]
    assert "worker" in raised[0]


def test_wait_before_start_raises_saying_to_start_the_loop(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=2, start=False)
    commit(loop, labels, [0, 1])
    with pytest.raises(RuntimeError, match=r"call loop\.start\(\) first"):
        loop.wait(0.1)
    loop.start()
    assert loop.wait(10)
