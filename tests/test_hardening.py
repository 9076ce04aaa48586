"""Bad input and misbehaving learners found by a break-it probe: each refused clearly, nothing lost."""

import sys

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget import heuristics

from conftest import CentroidLearner

CLASSES = ["dark", "bright"]


class ExitingLearner(CentroidLearner):
    """A learner whose fit calls sys.exit, as a careless script might."""

    def fit(self, images, targets, progress, should_stop):
        raise SystemExit(3)


class ShortLearner(CentroidLearner):
    """Returns one row too few per chunk."""

    def predict_proba(self, images, mc_samples=1):
        return super().predict_proba(images, mc_samples)[1:]


class ThreeClassLearner(CentroidLearner):
    """Returns 3 classes for a 2-class dataset."""

    def predict_proba(self, images, mc_samples=1):
        probs = super().predict_proba(images, mc_samples)
        return np.concatenate([probs, np.zeros_like(probs[:, :1])], axis=1)


def test_a_learner_raising_system_exit_fails_its_round_and_the_worker_lives(
    two_class, loop_factory
):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), ExitingLearner(2), query_size=1)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert loop.history[-1].error == "SystemExit: 3"
    loop.commit(1, alw.Label(int(labels[1])))
    assert loop.wait(10)
    assert len(loop.history) == 2


def test_a_ranking_observer_raising_system_exit_fails_its_round_and_wait_returns(
    two_class, centroid, loop_factory
):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=1)
    errors = []
    loop.on_error(errors.append)
    loop.on_ranking(lambda ranking: sys.exit(2))
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert loop.history[-1].error == "SystemExit in a ranking observer: 2"
    assert [e.error for e in errors] == ["SystemExit in a ranking observer: 2"]


def test_an_error_observer_raising_system_exit_keeps_the_rounds_own_error(two_class, loop_factory):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), ExitingLearner(2), query_size=1)
    loop.on_error(lambda record: sys.exit("bye"))
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert loop.history[-1].error == "SystemExit in an error observer (after SystemExit: 3): bye"


def test_a_round_start_observer_raising_keyboard_interrupt_fails_only_its_round(
    two_class, centroid, loop_factory
):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), centroid, query_size=1)

    @loop.on_round_start
    def interrupted(number):
        if number == 1:
            raise KeyboardInterrupt("stop")

    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    assert loop.history[-1].error == "KeyboardInterrupt: stop"
    loop.commit(1, alw.Label(int(labels[1])))
    assert loop.wait(10)
    assert loop.history[-1].ok


def test_wait_returns_when_the_worker_thread_dies(two_class, centroid, monkeypatch, loop_factory):
    from al_widget import round_worker

    def broken_setup():
        raise RuntimeError("no torch on this thread")

    monkeypatch.setattr(round_worker, "worker_setup", broken_setup)
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.commit(0, alw.Label("dark"))
    assert loop.wait(None) is False


@pytest.mark.parametrize(
    ("make", "returned"),
    [(ShortLearner, "ShortLearner.predict_proba returned shape (58, 2, 1) for 59 images"),
     (ThreeClassLearner, "ThreeClassLearner.predict_proba returned shape (59, 3, 1) for 59 images")],
)  # fmt: skip
def test_probabilities_of_the_wrong_shape_fail_the_round_naming_the_learner(
    two_class, loop_factory, make, returned
):
    images, labels = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), make(2), query_size=1, pool_sample=None)
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    expected = "expected (n images, n classes, mc_samples) = (59, 2, 1)"
    assert loop.history[-1].error == f"ValueError: {returned}; {expected}"
    assert loop.ranking.model_version == 0


class SpoilingLearner(CentroidLearner):
    """Spoils its probabilities with `spoil(probs, is_target)`; the target is one image, by its pixels."""

    def __init__(self, n_classes, spoil=None, target=None):
        super().__init__(n_classes)
        self.spoil, self.target = spoil, target

    def predict_proba(self, images, mc_samples=1):
        probs = super().predict_proba(images, mc_samples)
        is_target = (images == self.target).all(axis=(1, 2, 3))
        return self.spoil(probs, is_target)


def only_target(change):
    def spoil(probs, is_target):
        probs = probs.copy()
        probs[is_target] = change(probs[is_target])
        return probs

    return spoil


SPOILED = {
    "negative": (only_target(lambda p: p - 0.75), "must be probabilities in [0, 1]"),
    "summing to 2": (only_target(lambda p: p * 2), "must be probabilities in [0, 1]"),
    "logits": (only_target(lambda p: np.log(p) + 1.0), "If these are logits, pass them through"),
    "NaN": (only_target(lambda p: p * np.nan), "has NaN or infinite values in 1 images"),
    "inf": (only_target(lambda p: p * np.inf), "has NaN or infinite values in 1 images"),
}


def first_of_pool(images, labels, learner, loop_factory, heuristic="margin"):
    """The failed round's error after labeling image 0, scoring every other image."""
    loop = loop_factory(
        alw.Dataset(images, CLASSES), learner, query_size=1, pool_sample=None, heuristic=heuristic
    )
    loop.commit(0, alw.Label(int(labels[0])))
    assert loop.wait(10)
    return loop


@pytest.mark.parametrize("name", SPOILED)
def test_probabilities_that_are_not_probabilities_fail_the_round_naming_learner_and_image(
    two_class, loop_factory, name
):
    images, labels = two_class
    spoil, message = SPOILED[name]
    gray = np.repeat(images[7][:, :, None], 3, axis=2)
    loop = first_of_pool(images, labels, SpoilingLearner(2, spoil, gray), loop_factory)
    error = loop.history[-1].error
    assert error.startswith("ValueError: SpoilingLearner.predict_proba ")
    assert message in error
    assert "in 1 images (first: [7])" in error
    assert loop.ranking.model_version == 0


def test_a_heuristic_that_checks_nothing_never_ranks_broken_probabilities(two_class, loop_factory):
    images, labels = two_class

    def first_class(probs):  # a user's heuristic that trusts its input
        return np.asarray(probs)[:, 0, 0]

    spoil, _ = SPOILED["summing to 2"]
    gray = np.repeat(images[7][:, :, None], 3, axis=2)
    learner = SpoilingLearner(2, spoil, gray)
    loop = first_of_pool(images, labels, learner, loop_factory, heuristic=first_class)
    assert "SpoilingLearner.predict_proba must be probabilities" in loop.history[-1].error
    assert loop.ranking.model_version == 0


def test_probabilities_as_strings_are_refused_as_not_numbers(two_class, loop_factory):
    images, labels = two_class
    learner = SpoilingLearner(2, lambda probs, target: probs.astype(str))
    loop = first_of_pool(images, labels, learner, loop_factory)
    assert loop.history[-1].error.startswith(
        "ValueError: SpoilingLearner.predict_proba must be numbers, got dtype <U"
    )


def test_probabilities_in_rows_of_different_lengths_are_refused_naming_the_learner(
    two_class, loop_factory
):
    images, labels = two_class
    learner = SpoilingLearner(2, lambda probs, target: [[0.5, 0.5], [1.0], *probs[2:, :, 0]])
    loop = first_of_pool(images, labels, learner, loop_factory)
    assert loop.history[-1].error.startswith(
        "ValueError: SpoilingLearner.predict_proba returned rows of different lengths (list)"
    )


def test_probabilities_without_the_sample_axis_are_taken_when_one_sample_is_asked(
    two_class, loop_factory
):
    images, labels = two_class
    learner = SpoilingLearner(2, lambda probs, target: probs[:, :, 0])
    loop = first_of_pool(images, labels, learner, loop_factory)
    assert loop.history[-1].ok
    assert loop.ranking.model_version == 1


def test_a_learner_of_another_task_is_refused_naming_both_tasks(gray_images, centroid):
    with pytest.raises(
        ValueError,
        match="CentroidLearner is a learner for 'classify' but the dataset's task is 'detect'",
    ):
        alw.ActiveLoop(alw.Dataset(gray_images, ["bg", "x"], task="detect"), centroid, start=False)


def test_after_close_a_commit_is_refused(two_class, centroid):
    loop = alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.close()
    with pytest.raises(RuntimeError, match="the loop is closed: no round can run"):
        loop.commit(0, alw.Label("dark"))
    assert loop.dataset.labeled.tolist() == []


def test_after_close_wait_is_refused(two_class, centroid):
    loop = alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), centroid)
    loop.close()
    with pytest.raises(RuntimeError, match="the loop is closed"):
        loop.wait(1)


def test_a_heuristic_name_with_markup_is_shown_as_text(two_class, loop_factory):
    images, labels = two_class
    name = "<img src=x onerror=alert(1)>"
    heuristics.register(name)(heuristics.margin)
    try:
        loop = loop_factory(
            alw.Dataset(images, CLASSES), CentroidLearner(2), heuristic=name, query_size=2
        )
        loop.commit(0, alw.Label(int(labels[0])))
        loop.commit(1, alw.Label(int(labels[1])))
        assert loop.wait(10)
        panel = alw.Panel(loop)
        try:
            assert "<img" not in panel.header.value
            assert "&lt;img_src=x_onerror=alert(1)&gt;" in panel.header.value
        finally:
            panel.close()
    finally:
        heuristics.unregister(name)


def test_a_closed_pil_image_is_an_image_error_naming_it():
    image = Image.new("RGB", (4, 4))
    image.close()
    ds = alw.Dataset([image], CLASSES)
    with pytest.raises(alw.ImageError, match="image 0 could not be read"):
        ds.image(0)


def test_an_empty_mask_is_refused():
    with pytest.raises(
        ValueError, match=r"class_map must be 2-D \(H, W\) and not empty, got shape \(0, 5\)"
    ):
        alw.Mask(np.zeros((0, 5), np.uint8))


def test_a_zero_width_image_is_refused():
    ds = alw.Dataset([np.zeros((5, 0, 3), np.uint8)], CLASSES)
    with pytest.raises(alw.ImageError, match=r"image 0 must not be empty, got shape \(5, 0, 3\)"):
        ds.image(0)


def test_commit_replace_then_two_undos_leave_no_duplicate_in_the_queue(
    two_class, centroid, loop_factory
):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    i = loop.next()
    loop.commit(i, alw.Label("dark"))
    loop.commit(i, alw.Label("bright"), replace=True)
    loop.undo()
    loop.undo()
    queue = loop.queue.tolist()
    assert queue.count(i) == 1


def test_marking_an_index_out_of_range_broken_is_refused(two_class, centroid, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)
    with pytest.raises(IndexError, match="index 1000000000 is out of range"):
        loop.mark_broken(10**9, "gone")
    assert loop.broken == {}


def test_is_labeled_refuses_a_negative_index(gray_images):
    with pytest.raises(IndexError, match="index -1 is out of range for a dataset of 20 images"):
        alw.Dataset(gray_images, CLASSES).is_labeled([-1])


@pytest.mark.parametrize("bad", [[1.7], [True]])
def test_batch_refuses_indices_that_are_not_ints(gray_images, bad):
    with pytest.raises(ValueError, match="indices must be ints"):
        alw.Dataset(gray_images, CLASSES).batch(bad)


def test_boxes_refuse_a_bare_string_for_their_labels():
    with pytest.raises(
        ValueError, match=r"labels must be a list, got the string 'cd'; write \['cd'\]"
    ):
        alw.Boxes([[0, 0, 1, 1], [1, 1, 2, 2]], "cd")


def test_a_dataset_refuses_a_bare_string_for_its_classes(gray_images):
    with pytest.raises(ValueError, match="classes must be a list, got the string 'ab'"):
        alw.Dataset(gray_images, "ab")


def test_a_huge_first_photo_does_not_set_the_training_size(loop_factory):
    learner = CentroidLearner(2)
    photos = [np.zeros((3000, 4000, 3), np.uint8), np.full((30, 40, 3), 200, np.uint8)]
    loop = loop_factory(alw.Dataset(photos, CLASSES), learner, query_size=2)
    loop.commit(0, alw.Label("dark"))
    loop.commit(1, alw.Label("bright"))
    assert loop.wait(30)
    assert learner.fit_shapes_ == [(2, 168, 224, 3)]


def png_pool(tmp_path, n=6, garbage=()):
    """`n` 4x4 PNG files, dark then bright in turn; those at `garbage` hold no image."""
    paths = []
    for i in range(n):
        path = tmp_path / f"{i:03d}.png"
        Image.fromarray(np.full((4, 4), 40 + 150 * (i % 2), np.uint8)).save(path)
        if i in garbage:
            path.write_bytes(b"not a png")
        paths.append(path)
    return paths


def test_an_unreadable_first_labeled_image_is_reported_and_the_others_train(tmp_path, loop_factory):
    learner = CentroidLearner(2)  # declares no input size before its first fit
    dataset = alw.Dataset(png_pool(tmp_path, garbage=(0,)), CLASSES)
    loop = loop_factory(dataset, learner, pool_sample=None, query_size=2, start=False)
    for i in (0, 1, 2):
        loop.commit(i, alw.Label(CLASSES[i % 2]))
    loop.start()
    assert loop.wait(10)
    assert loop.history[-1].ok
    assert loop.model_version == 1
    assert list(loop.broken) == [0]
    assert "could not be decoded" in loop.broken[0]
    assert learner.fit_shapes_ == [(2, 4, 4, 3)]


def test_small_images_train_at_their_own_size(two_class, loop_factory):
    learner = CentroidLearner(2)
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), learner, query_size=1)
    loop.commit(0, alw.Label("dark"))
    assert loop.wait(10)
    assert learner.fit_shapes_ == [(1, 4, 4, 3)]


def test_a_tiny_image_labeled_first_does_not_set_the_training_size(tmp_path, loop_factory):
    # A learner without an input size trains at the labeled images' middle size, not the first's
    paths = png_pool(tmp_path)
    Image.fromarray(np.full((1, 1), 40, np.uint8)).save(paths[0])  # a 1x1 image, labeled first
    learner = CentroidLearner(2)
    loop = loop_factory(alw.Dataset(paths, CLASSES), learner, query_size=2, start=False)
    for i in (0, 1, 2):
        loop.commit(i, alw.Label(CLASSES[i % 2]))
    loop.start()
    assert loop.wait(10)
    assert learner.fit_shapes_ == [(3, 4, 4, 3)]
