import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from PIL import Image

import al_widget as alw
from al_widget import heuristics
from al_widget import session as session_module

from conftest import BrightIsSquare, CentroidLearner, HeldLearner

CLASSES = ["dark", "bright"]


class FailingLearner(CentroidLearner):
    def fit(self, images, targets, progress, should_stop):
        raise RuntimeError("out of memory on purpose")


class NaNLearner(CentroidLearner):
    def predict_proba(self, images, mc_samples=1):
        probs = super().predict_proba(images, mc_samples)
        probs[2] = np.nan
        return probs


def label_of(images, i):
    return alw.Label(int(images[i].mean() > 120))


def test_the_queue_starts_random_over_a_pool_sample(two_class, centroid, loop_factory):
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, pool_sample=15)
    assert len(loop.queue) == 15
    assert loop.ranking.heuristic == "random"
    assert loop.model_version == 0
    assert loop.next() == loop.queue[0]


def test_commit_returns_while_the_round_trains(two_class, loop_factory):
    images, labels = two_class
    learner = HeldLearner(hold=True)
    loop = loop_factory(alw.Dataset(images, CLASSES), learner, query_size=1)
    loop.commit(0, alw.Label(int(labels[0])))
    assert learner.entered.wait(10)
    loop.commit(1, alw.Label(int(labels[1])))  # would hang here if commit waited on training
    assert loop.state == "training"
    learner.release.set()
    assert loop.wait(10)


def test_labels_committed_during_a_round_are_all_in_the_next_round(two_class, loop_factory):
    images, labels = two_class
    learner = HeldLearner(hold=True)
    loop = loop_factory(alw.Dataset(images, CLASSES), learner, query_size=1)
    loop.commit(0, alw.Label(int(labels[0])))
    assert learner.entered.wait(10)
    for i in range(1, 8):
        loop.commit(i, alw.Label(int(labels[i])))
    learner.release.set()
    assert loop.wait(10)
    assert learner.fit_sizes_[-1] == 8
    assert loop.history[-1].n_labels == 8


def test_quick_commits_coalesce_into_few_rounds(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=1)
    for i in range(10):
        loop.commit(i, alw.Label(int(labels[i])))
    assert loop.wait(10)
    assert centroid.n_fits_ <= 3
    assert loop.history[-1].n_labels == 10


def test_a_round_starts_after_query_size_new_labels(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=5)
    for i in range(4):
        loop.commit(i, alw.Label(int(labels[i])))
    threading.Event().wait(0.3)
    assert not hasattr(centroid, "n_fits_")
    loop.commit(4, alw.Label(int(labels[4])))
    assert loop.wait(10)
    assert centroid.n_fits_ == 1


def test_wait_trains_on_labels_short_of_query_size(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=50)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert loop.history[-1].n_labels == 1


def test_after_a_round_the_queue_is_ranked_by_the_heuristic(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, pool_sample=None, query_size=4)
    for i in range(4):
        loop.commit(i, alw.Label(int(labels[i])))
    assert loop.wait(10)
    ranked = loop.ranking
    assert ranked.model_version == 1
    assert ranked.heuristic == "margin"
    assert np.all(np.diff(ranked.scores) <= 0)
    assert not set(loop.queue.tolist()) & {0, 1, 2, 3}


def test_a_heuristic_registered_in_a_cell_is_used_by_name(two_class, centroid, loop_factory):
    images, labels = two_class

    @heuristics.register("most_bright")
    def most_bright(probs):
        return np.asarray(probs).mean(axis=-1)[:, 1]

    try:
        loop = loop_factory(
            alw.Dataset(images, CLASSES), centroid, heuristic="most_bright", pool_sample=None
        )
        for i in range(4):
            loop.commit(i, alw.Label(int(labels[i])))
        assert loop.wait(10)
        assert loop.ranking.heuristic == "most_bright"
        assert labels[loop.queue[:10]].tolist() == [1] * 10
    finally:
        heuristics.unregister("most_bright")


def test_changing_the_heuristic_reranks_without_retraining(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=2)
    loop.commit(0, alw.Label(int(labels[0])))
    loop.commit(1, alw.Label(int(labels[1])))
    assert loop.wait(10)
    loop.heuristic = "entropy"
    assert loop.wait(10)
    assert loop.ranking.heuristic == "entropy"
    assert centroid.n_fits_ == 1
    assert loop.history[-1].retrained is False


def test_an_unknown_heuristic_is_refused_and_the_old_one_kept(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    with pytest.raises(ValueError, match="unknown heuristic 'best'; choose one of"):
        loop.heuristic = "best"
    assert loop.heuristic == "margin"


def test_changing_pool_sample_changes_how_many_are_scored(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, pool_sample=10, query_size=2)
    loop.commit(0, alw.Label(int(labels[0])))
    loop.commit(1, alw.Label(int(labels[1])))
    assert loop.wait(10)
    assert loop.history[-1].n_scored == 10
    loop.pool_sample = None
    assert loop.wait(10)
    assert loop.history[-1].n_scored == 58


def test_a_model_that_raises_is_recorded_and_labeling_goes_on(two_class, loop_factory):
    images, labels = two_class
    errors = []
    loop = loop_factory(alw.Dataset(images, CLASSES), FailingLearner(2), query_size=1)
    loop.on_error(errors.append)
    before = loop.ranking
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert loop.history[-1].error == "RuntimeError: out of memory on purpose"
    assert errors[0].error == "RuntimeError: out of memory on purpose"
    assert loop.ranking is before
    loop.commit(1, alw.Label(int(labels[1])))
    assert loop.dataset.labeled.tolist() == [0, 1]
    assert loop.next() is not None


def test_nan_model_outputs_fail_the_round_naming_the_learner_and_image(two_class, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), NaNLearner(2), query_size=1)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert re.search(
        r"NaNLearner.predict_proba has NaN or infinite values in 1 images \(first: \[\d+\]\)",
        loop.history[-1].error,
    )


def test_nan_scores_fail_the_round_naming_the_images_by_dataset_index(two_class, loop_factory):
    images, labels = two_class

    def nan_for_the_surest_bright(probs):
        scores = 1 - probs.mean(-1).max(1)
        scores[np.argmax(probs[:, 1, 0])] = np.nan
        return scores

    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), nan_for_the_surest_bright, None, 1
    )
    loop.commit(0, alw.Label(int(labels[0])))
    loop.commit(1, alw.Label(int(labels[1])))
    assert loop.wait(10)
    pool = np.arange(2, len(images))
    surest = pool[np.argmax(loop.learner.predict_proba(loop.dataset.batch(pool))[:, 1, 0])]
    assert loop.history[-1].error.endswith(f"for 1 images (first: [{surest}])")


def test_skip_takes_an_image_out_of_the_queue(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    head = loop.next()
    loop.skip(head)
    assert head not in loop.queue
    assert loop.next() != head


def test_undo_of_a_commit_unlabels_and_shows_the_image_again(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    head = loop.next()
    loop.commit(head, alw.Label("dark"))
    assert loop.next() != head
    assert loop.undo() == head
    assert loop.dataset.annotation(head) is None
    assert loop.next() == head


def test_undo_of_a_skip_brings_the_image_back_first(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    head = loop.next()
    loop.skip(head)
    assert loop.undo() == head
    assert loop.next() == head
    assert loop.undo() is None


def test_redo_after_undo_restores_the_label(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    head = loop.next()
    loop.commit(head, alw.Label("dark"))
    loop.undo()
    assert loop.redo() == head
    assert loop.dataset.annotation(head) == alw.Label("dark")
    assert loop.next() != head
    assert loop.undo() == head  # the redone commit is undone like any other


def test_redo_after_undo_of_a_replacement_restores_the_new_label(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(3, alw.Label("dark"))
    loop.commit(3, alw.Label("bright"), replace=True)
    loop.undo()
    assert loop.dataset.annotation(3) == alw.Label("dark")
    assert loop.redo() == 3
    assert loop.dataset.annotation(3) == alw.Label("bright")


def test_an_edit_noted_on_an_undone_image_is_known_until_it_is_committed_again(
    two_class, centroid, loop_factory
):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(3, alw.Label("dark"))
    loop.undo()
    loop.note_edited(3)
    assert loop.edited_since_undo(3)
    loop.commit(3, alw.Label("bright"))
    assert not loop.edited_since_undo(3)


def test_an_edit_noted_on_an_undone_image_is_kept_when_its_skip_before_is_undone(
    two_class, centroid, loop_factory
):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.skip(3)
    loop.commit(3, alw.Label("dark"))
    loop.undo()  # the commit
    loop.note_edited(3)
    loop.undo()  # the skip: nothing stored comes back, the edit is still unsaved
    assert loop.edited_since_undo(3)


def test_an_edit_noted_on_an_undone_image_is_kept_when_its_skip_before_is_redone(
    two_class, centroid, loop_factory
):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.skip(3)
    loop.commit(3, alw.Label("dark"))
    loop.undo()  # the commit
    loop.note_edited(3)
    loop.undo()  # the skip
    assert loop.redo() == 3  # the skip again: the edit is still unsaved
    assert loop.edited_since_undo(3)  # the commit still to redo would store over it


def test_an_edit_of_an_image_no_undo_brought_back_is_not_noted(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(3, alw.Label("dark"))
    loop.undo()
    loop.note_edited(4)
    assert not loop.edited_since_undo(4)


def test_redo_of_a_skip_takes_the_image_out_of_the_queue_again(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    head = loop.next()
    loop.skip(head)
    loop.undo()
    assert loop.undone == ("skip", head, None)
    assert loop.redo() == head
    assert head in loop.skipped
    assert loop.undone is None


def test_redo_replays_undos_in_reverse_order(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(1, alw.Label("dark"))
    loop.commit(2, alw.Label("bright"))
    loop.undo()
    loop.undo()
    assert loop.undone == ("commit", 1, alw.Label("dark"))
    assert (loop.redo(), loop.redo(), loop.redo()) == (1, 2, None)
    assert loop.dataset.labeled.tolist() == [1, 2]


def test_a_new_commit_after_undo_leaves_nothing_to_redo(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(1, alw.Label("dark"))
    loop.undo()
    loop.commit(2, alw.Label("bright"))
    assert loop.undone is None
    assert loop.redo() is None
    assert loop.dataset.labeled.tolist() == [2]


def test_a_new_skip_after_undo_leaves_nothing_to_redo(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(1, alw.Label("dark"))
    loop.undo()
    loop.skip(2)
    assert loop.redo() is None
    assert loop.dataset.annotation(1) is None


def test_redo_with_nothing_undone_does_nothing(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(1, alw.Label("dark"))
    assert loop.redo() is None
    assert loop.dataset.version == 1


def test_a_double_submit_is_refused_and_the_first_label_kept(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(3, alw.Label("dark"))
    with pytest.raises(ValueError, match="image 3 is already labeled .* pass replace=True"):
        loop.commit(3, alw.Label("bright"))
    assert loop.dataset.annotation(3) == alw.Label("dark")
    loop.commit(3, alw.Label("bright"), replace=True)
    assert loop.dataset.annotation(3) == alw.Label("bright")


def test_a_commit_for_an_index_that_does_not_exist_changes_nothing(
    two_class, centroid, loop_factory
):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    with pytest.raises(IndexError, match="index 999 is out of range"):
        loop.commit(999, alw.Label("dark"))
    assert loop.dataset.version == 0
    assert loop.undo() is None


def test_a_commit_with_an_unknown_class_changes_nothing(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    with pytest.raises(ValueError, match="unknown class 'grey'"):
        loop.commit(0, alw.Label("grey"))
    assert len(loop.dataset.labeled) == 0


def void_masks_loop(loop_factory):
    """A segmentation loop over ten 8x8 images, nothing labeled."""
    images = np.zeros((10, 8, 8, 3), np.uint8)
    images[:, 2:6, 2:6] = 200
    return loop_factory(alw.Dataset(images, ["bg", "square"], task="segment"), BrightIsSquare())


def test_a_mask_that_labels_no_pixel_is_refused_at_commit_and_nothing_stored(loop_factory):
    loop = void_masks_loop(loop_factory)
    void = alw.Mask(np.full((8, 8), alw.Mask.IGNORE, np.uint8))
    with pytest.raises(ValueError, match="image 3: a mask must label at least one pixel"):
        loop.commit(3, void)
    assert loop.dataset.annotation(3) is None
    assert loop.undo() is None


def test_a_commit_whose_agreement_cannot_be_measured_stores_nothing(
    two_class, centroid, loop_factory, monkeypatch
):
    def fails(*args, **kwargs):
        raise ValueError("agreement failed")

    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    monkeypatch.setattr(session_module, "agreement", fails)
    with pytest.raises(ValueError, match="agreement failed"):
        loop.commit(3, alw.Label("dark"))
    assert loop.dataset.annotation(3) is None
    assert loop.undo() is None


def test_a_commit_whose_drafts_cannot_be_compared_stores_nothing(loop_factory, monkeypatch):
    def fails(*args, **kwargs):
        raise ValueError("comparison failed")

    loop = void_masks_loop(loop_factory)
    monkeypatch.setattr(session_module, "outcome_of", fails)
    with pytest.raises(ValueError, match="comparison failed"):
        loop.commit(3, alw.Mask(np.zeros((8, 8), np.uint8)))
    assert loop.dataset.annotation(3) is None
    assert loop.undo() is None


def test_budget_stops_the_loop(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, budget=3)
    for i in range(3):
        assert not loop.is_done
        loop.commit(i, alw.Label(int(labels[i])))
    assert loop.is_done
    assert loop.stop_reason == "budget reached (budget 3 / 3)"


def test_rounds_stop_the_loop(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, rounds=2, query_size=1)
    for i in range(2):
        loop.commit(i, alw.Label(int(labels[i])))
        assert loop.wait(10)
    assert loop.is_done
    assert loop.stop_reason.startswith("rounds reached")


def test_a_target_accuracy_on_an_eval_set_stops_the_loop(two_class, centroid, loop_factory):
    images, labels = two_class
    ds = alw.Dataset(images[:40], CLASSES)
    loop = loop_factory(ds, centroid, target=0.9, query_size=4, eval_set=(images[40:], labels[40:]))
    for i in range(4):
        loop.commit(i, alw.Label(int(labels[i])))
    assert loop.wait(10)
    assert loop.history[-1].metric_name == "accuracy"
    assert loop.metric >= 0.9
    assert loop.is_done


def test_an_empty_pool_is_done(centroid, loop_factory):
    images = np.zeros((2, 3, 3), np.uint8)
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid)
    loop.commit(0, alw.Label("dark"))
    loop.commit(1, alw.Label("dark"))
    assert loop.next() is None
    assert loop.stop_reason == "no unlabeled images left"


def test_observers_hear_round_start_progress_and_ranking_on_the_worker_thread(
    two_class, centroid, loop_factory
):
    images, labels = two_class
    heard = []
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=1)
    loop.on_round_start(lambda n: heard.append(("start", n, threading.current_thread().name)))
    loop.on_progress(lambda f: heard.append(("progress", f, threading.current_thread().name)))

    @loop.on_ranking
    def ranked(ranking):
        heard.append(("ranking", ranking.model_version, threading.current_thread().name))

    assert callable(ranked)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert [h[:2] for h in heard] == [("start", 1), ("progress", 1.0), ("ranking", 1)]
    assert {h[2] for h in heard} == {"al_widget-loop"}


def test_a_failing_observer_does_not_stop_the_loop(two_class, centroid, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=1)
    loop.on_ranking(lambda ranking: 1 / 0)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert loop.history[-1].ok


def test_wait_times_out_while_a_round_is_stuck(two_class, loop_factory):
    images, labels = two_class
    learner = HeldLearner(hold=True)
    loop = loop_factory(alw.Dataset(images, CLASSES), learner, query_size=1)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(0.2) is False
    learner.release.set()
    assert loop.wait(10)


def test_close_cancels_training_and_is_safe_twice(two_class):
    images, labels = two_class
    ds = alw.Dataset(np.repeat(images, 20, axis=0), CLASSES)
    loop = alw.ActiveLoop(
        ds, alw.learners.Classifier(2, min_steps=100_000, max_steps=100_000), query_size=1
    )
    loop.commit(0, alw.Label(int(labels[0])))
    loop.commit(1, alw.Label(int(labels[1])))
    for _ in range(200):
        if loop.state == "training":
            break
        threading.Event().wait(0.05)
    assert loop.close(timeout=10)
    assert loop.close(timeout=10)
    assert ds.labeled.tolist() == [0, 1]


def test_the_worker_leaves_a_core_to_the_kernel(two_class, loop_factory):
    images, labels = two_class
    seen = []

    class Probe(CentroidLearner):
        def fit(self, *args):
            seen.append(torch.get_num_threads())
            super().fit(*args)

    loop = loop_factory(alw.Dataset(images, CLASSES), Probe(2), query_size=1)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert seen[0] == max(1, os.cpu_count() - 1)


def test_scoring_goes_through_a_given_executor(two_class, centroid, loop_factory):
    images, labels = two_class
    calls = []

    class Counting(ThreadPoolExecutor):
        def map(self, fn, *iterables, **kwargs):
            calls.append(1)
            return super().map(fn, *iterables, **kwargs)

    with Counting(2) as pool:
        loop = loop_factory(
            alw.Dataset(images, CLASSES), centroid, pool_sample=None, executor=pool, chunk_size=16
        )
        loop.commit(0, alw.Label(int(labels[0])))
        assert loop.wait(10)
        assert calls
        assert loop.history[-1].n_scored == 59


def test_unreadable_images_are_left_out_of_the_queue_with_their_reason(
    tmp_path, centroid, loop_factory
):
    paths = []
    for i in range(6):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((4, 4), 40 * i, np.uint8)).save(path)
        paths.append(path)
    paths[4].write_bytes(b"broken")
    loop = loop_factory(alw.Dataset(paths, CLASSES), centroid, pool_sample=None, query_size=2)
    loop.commit(0, alw.Label("dark"))
    loop.commit(5, alw.Label("bright"))
    assert loop.wait(10)
    assert loop.history[-1].ok
    assert list(loop.broken) == [4]
    assert "could not be decoded" in loop.broken[4]
    assert 4 not in loop.queue


@pytest.mark.parametrize(
    ("task", "default"),
    [("classify", "Classifier"), ("detect", "Detector"), ("segment", "Segmenter")],
)
def test_every_task_has_a_default_learner_seeded_by_the_loop(gray_images, task, default):
    loop = alw.ActiveLoop(alw.Dataset(gray_images, ["bg", "x"], task=task), seed=3, start=False)
    assert type(loop.learner).__name__ == default
    assert loop.learner.get_params()["seed"] == 3


class CommitUndoSkipRetrain(RuleBasedStateMachine):
    """Whatever the order of commits, undos, skips and retrains, no label is lost."""

    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.labels = np.arange(30) % 2
        images = (self.labels[:, None, None] * 150 + rng.integers(0, 100, (30, 3, 3))).astype(
            np.uint8
        )
        self.loop = alw.ActiveLoop(
            alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=2, pool_sample=8
        )
        self.expected: dict[int, int] = {}
        self.actions: list[tuple[str, int]] = []

    @precondition(lambda self: self.loop.next() is not None)
    @rule()
    def commit_next(self):
        i = self.loop.next()
        self.loop.commit(i, alw.Label(int(self.labels[i])))
        self.expected[i] = int(self.labels[i])
        self.actions.append(("commit", i))

    @precondition(lambda self: self.loop.next() is not None)
    @rule()
    def skip_next(self):
        i = self.loop.next()
        self.loop.skip(i)
        self.actions.append(("skip", i))

    @rule()
    def undo(self):
        undone = self.loop.undo()
        if self.actions:
            action, i = self.actions.pop()
            assert undone == i
            if action == "commit":
                del self.expected[i]
        else:
            assert undone is None

    @rule()
    def retrain(self):
        self.loop.retrain()

    @rule(timeout=st.sampled_from([0.0, 0.05]))
    def pause(self, timeout):
        self.loop.wait(timeout)

    @invariant()
    def dataset_holds_exactly_the_committed_labels(self):
        ds = self.loop.dataset
        assert sorted(ds.labeled.tolist()) == sorted(self.expected)
        for i, label in self.expected.items():
            assert ds.annotation(i).class_id(CLASSES) == label

    @invariant()
    def the_queue_holds_no_labeled_or_skipped_image(self):
        queue = set(self.loop.queue.tolist())
        assert not queue & set(self.expected)
        assert not queue & self.loop.skipped

    def teardown(self):
        assert self.loop.wait(10)
        last = self.loop.history[-1] if self.loop.history else None
        if last is not None and last.retrained:
            assert last.n_labels == len(self.expected)
        assert self.loop.close(10)


TestCommitUndoSkipRetrain = CommitUndoSkipRetrain.TestCase
TestCommitUndoSkipRetrain.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None
)


def test_an_eval_set_with_a_label_per_image_missing_is_refused(two_class, centroid):
    images, labels = two_class
    with pytest.raises(ValueError, match="eval_set needs one label per image: 10 images, 9 labels"):
        alw.ActiveLoop(
            alw.Dataset(images, CLASSES), centroid, eval_set=(images[:10], labels[:9]), start=False
        )


def test_a_learner_class_is_refused_saying_to_write_an_instance(two_class):
    with pytest.raises(
        TypeError,
        match=r"learner must be an instance, got the class CentroidLearner; write CentroidLearner\(\)",
    ):
        alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), CentroidLearner, start=False)


class EstimatorLike(CentroidLearner):
    """fit and predict_proba as a scikit-learn estimator has them."""

    def fit(self, X, y, sample_weight=None):
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


def test_a_learner_whose_fit_takes_other_arguments_is_refused_naming_the_protocol(two_class):
    with pytest.raises(
        TypeError,
        match=r"EstimatorLike.fit\(X, y, sample_weight=None\) cannot be called as the loop calls "
        r"it: a learner has fit\(images, targets, progress, should_stop\) and "
        r"predict_proba\(images, mc_samples\).*al_widget/learners/base.py",
    ):
        alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), EstimatorLike(2), start=False)


def test_a_learner_whose_predict_proba_takes_no_sample_count_is_refused(two_class):
    class OneArgument(CentroidLearner):
        def predict_proba(self, images):
            return np.full((len(images), 2, 1), 0.5)

    with pytest.raises(TypeError, match=r"OneArgument.predict_proba\(images\) cannot be called"):
        alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), OneArgument(2), start=False)


def test_an_eval_set_of_images_alone_is_refused_asking_for_images_and_labels(two_class, centroid):
    with pytest.raises(ValueError, match=r"eval_set must be \(images, labels\).*got an array"):
        alw.ActiveLoop(
            alw.Dataset(two_class[0], CLASSES), centroid, eval_set=two_class[0][:10], start=False
        )


def test_observers_see_the_state_the_loop_is_in(two_class, centroid, loop_factory):
    images, labels = two_class
    seen = []
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=1)
    loop.on_round_start(lambda n: seen.append(("start", loop.state)))
    loop.on_ranking(lambda r: seen.append(("ranking", loop.state)))
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert seen == [("start", "training"), ("ranking", "idle")]


def test_the_worker_keeps_the_gil_switch_interval_short_for_kernel_replies(
    two_class, centroid, loop_factory
):
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid, query_size=1)
        loop.commit(0, alw.Label("dark"))
        assert loop.wait(10)
        assert sys.getswitchinterval() <= 0.001
    finally:
        sys.setswitchinterval(before)


def test_progress_reports_are_throttled_but_the_last_one_always_arrives(two_class, loop_factory):
    images, labels = two_class
    heard = []

    class Chatty(CentroidLearner):
        def fit(self, images, targets, progress, should_stop):
            for step in range(1, 101):
                progress(step / 100)
            super().fit(images, targets, progress, should_stop)

    loop = loop_factory(alw.Dataset(images, CLASSES), Chatty(2), query_size=1)
    loop.on_progress(heard.append)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert heard[-1] == 1.0
    assert len(heard) <= 5


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="thread priorities are a Linux feature")
def test_the_worker_thread_runs_at_a_lower_cpu_priority(two_class, loop_factory):
    images, labels = two_class
    seen = []

    class Probe(CentroidLearner):
        def fit(self, *args):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            super().fit(*args)

    loop = loop_factory(alw.Dataset(images, CLASSES), Probe(2), query_size=1)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert seen[0] > os.getpriority(os.PRIO_PROCESS, 0)


def test_skipping_an_index_that_does_not_exist_is_refused(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    with pytest.raises(IndexError, match="index 60 is out of range for a dataset of 60 images"):
        loop.skip(60)
    assert loop.skipped == frozenset()
    assert loop.undo() is None


def test_a_wait_while_the_round_tells_its_observers_asks_for_no_second_round(
    two_class, centroid, loop_factory
):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=1)
    telling, told = threading.Event(), threading.Event()

    @loop.on_ranking
    def slow_observer(ranking):  # e.g. a panel drawing the new queue
        telling.set()
        told.wait(5)

    loop.commit(0, alw.Label(CLASSES[labels[0]]))
    assert telling.wait(5)
    assert not loop.wait(0.05)  # the round has not finished: it is still telling
    told.set()
    assert loop.wait(5)
    time.sleep(0.5)  # a second round, had one been asked for, would have run by now
    assert len(loop.history) == 1


def test_after_close_an_undo_is_refused_and_the_label_kept(two_class, centroid):
    loop = alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(7, alw.Label("dark"))
    loop.close()
    with pytest.raises(RuntimeError, match="the loop is closed"):
        loop.undo()
    assert loop.dataset.annotation(7) == alw.Label("dark")
    assert loop.undone is None


def test_after_close_a_skip_is_refused(two_class, centroid):
    loop = alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.close()
    with pytest.raises(RuntimeError, match="the loop is closed"):
        loop.skip(8)
    assert loop.skipped == frozenset()


def test_after_close_a_redo_of_a_skip_is_refused(two_class, centroid):
    loop = alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.skip(8)
    loop.undo()
    loop.close()
    with pytest.raises(RuntimeError, match="the loop is closed"):
        loop.redo()
    assert loop.skipped == frozenset()


def test_after_close_an_image_that_cannot_be_read_is_still_noted_broken(two_class, centroid):
    """A panel left open on a closed loop still reads images: noting one unreadable changes no
    label, so it is not refused (the panel's handler would raise)."""
    loop = alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.close()
    loop.mark_broken(9, "truncated file")
    assert loop.broken == {9: "truncated file"}


def test_skipping_an_image_already_labeled_is_refused_naming_it(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(4, alw.Label("dark"))
    with pytest.raises(
        ValueError, match="image 4 is already labeled .*only an image still to label"
    ):
        loop.skip(4)
    assert loop.skipped == frozenset()
    assert loop.undo() == 4  # the commit is still the last action


@pytest.mark.parametrize("reason", [None, 3, ""])
def test_marking_an_image_broken_without_a_reason_in_words_is_refused(
    two_class, centroid, loop_factory, reason
):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    with pytest.raises(
        ValueError,
        match=f"image 10 was not marked broken: reason must be a non-empty str.*got {reason!r}",
    ):
        loop.mark_broken(10, reason)
    assert loop.broken == {}


def test_a_target_is_not_reached_before_any_round_measured_a_metric(
    two_class, centroid, loop_factory
):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid, target=0.0)
    assert loop.metric is None
    assert not loop.is_done
    assert str(loop.criteria()[0]) == "target metric none yet / 0.000"
