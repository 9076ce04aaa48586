"""The panel's heuristic picker, budget, status words, curve and error lines, driven as a user would."""

import errno

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from al_widget import _journal, heuristics

from conftest import CentroidLearner

CLASSES = ["dark", "bright"]


class EmbeddingCentroid(CentroidLearner):
    """A centroid learner with ``embed``, so that the batch selectors can pick with it."""

    def embed(self, images):
        return images.reshape(len(images), -1).astype(np.float32) / 255


class FailsOnce(CentroidLearner):
    """A centroid learner whose first fit raises."""

    def fit(self, images, targets, progress, should_stop):
        if not hasattr(self, "failed_"):
            self.failed_ = True
            raise RuntimeError("fit exploded")
        return super().fit(images, targets, progress, should_stop)


@pytest.fixture
def panels(loop_factory):
    """Make panels over loops of a labeled-by-index two-class pool; closed after the test."""
    made = []

    def make(images, learner=None, task="classify", classes=None, **kwargs):
        classes = classes or (CLASSES if task == "classify" else ["bg", "cat", "dog"])
        ds = alw.Dataset(images, classes, task=task)
        if learner is None and task == "classify":
            learner = CentroidLearner(len(classes))
        panel = alw.Panel(loop_factory(ds, learner, **kwargs))
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()


def gray_photos(folder, n):
    """`n` 4x4 gray PNG files in `folder`, each a shade darker than the next; their paths."""
    paths = []
    for i in range(n):
        path = folder / f"photo{i:02d}.png"
        Image.fromarray(np.full((4, 4), 20 * i, np.uint8)).save(path)
        paths.append(path)
    return paths


def label_shown(panel, labels):
    """Press the digit of the shown image's true class."""
    panel.handle_key({"key": str(int(labels[panel.current]) + 1)})


# -- the heuristic picker (items 3, 4, 5) ---------------------------------------------------------


def test_registering_a_heuristic_never_sets_the_loops_heuristic(two_class, panels, monkeypatch):
    panel = panels(two_class[0], heuristic="entropy")
    loop = panel.loop
    setting = type(loop).heuristic
    set_to = []

    def record(self, value):
        set_to.append(value)
        setting.fset(self, value)

    monkeypatch.setattr(type(loop), "heuristic", property(setting.fget, record))
    heuristics.register("aaa_first_in_the_list")(lambda p: np.zeros(len(p)))
    try:
        assert "aaa_first_in_the_list" in panel.heuristic_picker.options
        assert set_to == []
        assert panel.heuristic_picker.value == "entropy"
        assert loop.heuristic == "entropy"
    finally:
        heuristics.unregister("aaa_first_in_the_list")


def test_the_picker_follows_a_heuristic_set_in_code(two_class, panels):
    panel = panels(two_class[0])
    panel.loop.heuristic = "entropy"
    assert panel.heuristic_picker.value == "entropy"


def test_a_loop_with_a_plain_function_as_heuristic_is_shown_under_its_name(two_class, panels):
    def first_class(probs):
        return probs.mean(axis=2)[:, 0]

    panel = panels(two_class[0], heuristic=first_class)
    assert panel.heuristic_picker.label == "first_class"
    assert panel.loop.heuristic is first_class
    panel.heuristic_picker.value = "margin"
    assert panel.loop.heuristic == "margin"


def test_a_lambda_heuristic_is_shown_as_written(two_class, panels):
    panel = panels(two_class[0], heuristic=lambda p: p.mean(axis=2)[:, 0])
    assert panel.heuristic_picker.label == "<lambda>"  # a dropdown shows its labels as text


def test_a_function_named_as_a_registered_heuristic_is_told_apart(two_class, panels):
    def margin(probs):
        return -probs.mean(axis=2)[:, 0]

    panel = panels(two_class[0], heuristic=margin)
    assert panel.heuristic_picker.label == "margin (your function)"
    assert panel.loop.heuristic is margin


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_detection_and_segmentation_panels_offer_the_batch_selectors(gray_images, panels, task):
    panel = panels(gray_images, task=task)  # the default Detector / Segmenter can embed
    offered = set(panel.heuristic_picker.options)
    assert {"coreset", "cluster_margin", "badge"} <= offered
    assert {"margin", "entropy", "random"} <= offered


def test_a_classification_panel_with_an_embedding_learner_offers_the_batch_selectors(
    two_class, panels
):
    panel = panels(two_class[0], learner=EmbeddingCentroid(2))
    assert {"coreset", "cluster_margin", "badge"} <= set(panel.heuristic_picker.options)


# -- unreadable images (item 6) -------------------------------------------------------------------


def test_unreadable_images_met_by_the_queue_strip_are_named_once(tmp_path, loop_factory):
    paths = gray_photos(tmp_path, 12)
    loop = loop_factory(alw.Dataset(paths, CLASSES), CentroidLearner(2), start=False)
    _shown_first, *rest = loop.queue.tolist()
    spoiled = rest[2:6]  # in the strip, not the image shown first
    for i in spoiled:
        paths[i].write_bytes(b"not a png")
    panel = alw.Panel(loop)
    try:
        said = panel.error_line.value
        assert "4 images could not be read and were left out of the queue" in said
        assert f"photo{spoiled[0]:02d}.png" in said
        assert "loop.broken" in said
        assert set(loop.broken) == set(spoiled)
        panel.pick(0)
        panel.submit()
        assert "could not be read" not in panel.error_line.value  # said once
    finally:
        panel.close()


def test_an_unreadable_image_the_strip_meets_after_a_skip_is_named_at_once(tmp_path, loop_factory):
    paths = gray_photos(tmp_path, 12)
    loop = loop_factory(alw.Dataset(paths, CLASSES), CentroidLearner(2), start=False)
    panel = alw.Panel(loop)
    try:
        # past the strip's 8 thumbnails and the one read ahead for the row after the next image
        beyond = loop.queue.tolist()[panel.queue_strip.count + 2]
        paths[beyond].write_bytes(b"not a png")
        panel.handle_key({"key": "s"})
        assert f"photo{beyond:02d}.png" in panel.error_line.value
        assert "1 image could not be read and was left out of the queue" in panel.error_line.value
    finally:
        panel.close()


def test_the_end_screen_counts_the_unreadable_images_left_out(tmp_path, loop_factory):
    paths = []
    for i in range(3):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((4, 4), 50 * i, np.uint8)).save(path)
        paths.append(path)
    loop = loop_factory(alw.Dataset(paths, CLASSES), CentroidLearner(2), start=False)
    head = loop.next()
    for i in range(3):
        if i != head:
            paths[i].write_bytes(b"garbage")
    panel = alw.Panel(loop)
    try:
        panel.pick(0)
        panel.submit()
        assert panel.current is None
        assert "2 unreadable images left out, see loop.broken" in panel.header.value
    finally:
        panel.close()


# -- the budget (item 7) --------------------------------------------------------------------------


def test_at_the_budget_labeling_keys_are_refused_saying_why(two_class, panels):
    images, labels = two_class
    panel = panels(images, budget=2)
    label_shown(panel, labels)
    label_shown(panel, labels)
    shown = panel.current
    label_shown(panel, labels)
    panel.pick(0)
    panel.handle_key({"key": "Enter"})
    assert len(panel.dataset.labeled) == 2
    assert panel.current == shown
    assert "the budget of 2 labels is reached" in panel.error_line.value
    assert "Continue past the budget" in panel.error_line.value
    assert panel.canvas.finished  # the browser shows it, and paints no next image early


def test_at_the_budget_the_panel_says_so_and_offers_to_continue(two_class, panels):
    images, labels = two_class
    panel = panels(images, budget=1)
    assert panel.continue_button.layout.display == "none"
    label_shown(panel, labels)
    assert "the budget of 1 label is reached" in panel.stop_line.value
    assert panel.continue_button.layout.display != "none"


def test_continuing_past_the_budget_labels_again(two_class, panels):
    images, labels = two_class
    panel = panels(images, budget=1)
    label_shown(panel, labels)
    panel.continue_button.click()
    label_shown(panel, labels)
    label_shown(panel, labels)
    assert len(panel.dataset.labeled) == 3
    assert panel.loop.budget == 1
    assert panel.canvas.finished == ""
    assert panel.continue_button.layout.display == "none"


def test_raising_the_budget_in_code_lets_labeling_go_on(two_class, panels):
    images, labels = two_class
    panel = panels(images, budget=1)
    label_shown(panel, labels)
    panel.loop.budget = 3
    assert panel.canvas.finished == ""
    assert "reached" not in panel.stop_line.value
    label_shown(panel, labels)
    label_shown(panel, labels)
    label_shown(panel, labels)
    assert len(panel.dataset.labeled) == 3


def test_redoing_a_submit_at_the_budget_is_refused_saying_why(two_class, panels):
    images, labels = two_class
    panel = panels(images, budget=2)
    label_shown(panel, labels)
    label_shown(panel, labels)
    panel.handle_key({"key": "z"})
    panel.loop.budget = 1
    panel.handle_key({"key": "Z", "shiftKey": True})
    assert len(panel.dataset.labeled) == 1
    assert "not redone: the budget of 1 label is reached" in panel.error_line.value


def test_undo_at_the_budget_lets_that_image_be_labeled_again(two_class, panels):
    images, labels = two_class
    panel = panels(images, budget=1)
    label_shown(panel, labels)
    panel.handle_key({"key": "z"})
    label_shown(panel, labels)
    assert len(panel.dataset.labeled) == 1


# -- status words (item 9) ------------------------------------------------------------------------


def test_rounds_done_count_only_the_trainings_that_worked(two_class, panels):
    images, labels = two_class
    panel = panels(images, learner=FailsOnce(2), query_size=1)
    label_shown(panel, labels)
    assert panel.loop.wait(10)
    assert panel.status.value.startswith("0 rounds done (1 failed) · 1 label ·")
    label_shown(panel, labels)
    assert panel.loop.wait(10)
    panel.loop.heuristic = "entropy"  # a round that only re-ranks
    assert panel.loop.wait(10)
    assert panel.status.value.startswith("1 round done (1 failed) · 2 labels ·")


# -- undo on a full disk (item 12) ----------------------------------------------------------------


def test_undo_on_a_full_disk_says_why_and_keeps_the_label(
    tmp_path, two_class, monkeypatch, loop_factory
):
    images, _ = two_class
    ds = alw.Dataset(images, CLASSES, journal=tmp_path / "j.jsonl")
    panel = alw.Panel(loop_factory(ds, CentroidLearner(2)))
    try:
        first = panel.current
        panel.handle_key({"key": "1"})
        shown = panel.current

        def fail(fd, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(_journal, "_write_fd", fail)
        panel.handle_key({"key": "z"})  # must not raise
        assert "not undone" in panel.error_line.value
        assert "No space left on device" in panel.error_line.value
        assert ds.annotation(first) == alw.Label("dark")
        assert panel.current == shown
    finally:
        panel.close()


# -- the loop's settings observers, which the panel follows ------------------------------------


def test_setting_observers_hear_each_change_on_the_changing_thread(two_class, loop_factory):
    import threading

    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), CentroidLearner(2), start=False)
    heard = []
    loop.on_settings(lambda s: heard.append((s.budget, threading.current_thread())))
    loop.budget = 7
    assert heard == [(7, threading.current_thread())]


# -- the learning curve without an eval set (item 8) ---------------------------------------------


def test_without_an_eval_set_a_classification_curve_plots_agreement_with_recent_labels(
    two_class, panels
):
    images, labels = two_class
    panel = panels(images, query_size=1)
    for _ in range(8):
        label_shown(panel, labels)
        assert panel.loop.wait(10)
    assert panel.curve.value.startswith("<svg")
    assert "agreement with your recent labels" in panel.curve.value


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_without_an_eval_set_detection_and_segmentation_curves_plot_agreement(
    panels, task, loop_factory
):
    from test_tasks import BrightBoxes, BrightPixels, blob_images

    images, boxes = blob_images([(16, 16)] * 30)
    classes = ["thing"] if task == "detect" else ["background", "thing"]
    learner = BrightBoxes() if task == "detect" else BrightPixels()
    ds = alw.Dataset(images, classes, task=task)
    panel = alw.Panel(loop_factory(ds, learner, query_size=1))
    try:
        for _ in range(8):
            # The labeler accepts the model's boxes or mask where there are some, else draws.
            canvas, i, submit = panel.canvas, panel.current, panel.submit
            if task == "detect":
                drawn = canvas.drafts or [{"xyxy": boxes[i].xyxy[0].tolist(), "label": 0}]
                content = {"kind": "boxes", "image_id": canvas.image_id, "boxes": drawn}
                canvas._handle_custom_msg({**content, "drafts": []}, [])
            elif canvas.mask_draft:  # A: the model's mask, accepted as it is
                canvas._handle_custom_msg({"kind": "mask_accept", "image_id": canvas.image_id}, [])
            else:  # no mask drafted: N, all background on purpose
                submit = panel.submit_no_objects
            assert submit() == i
            assert panel.loop.wait(10)
        assert panel.curve.value.startswith("<svg")
        assert "agreement with your recent labels" in panel.curve.value
        assert 0 < panel.loop.metric <= 1
    finally:
        panel.close()


def test_at_the_budget_a_skip_shows_the_next_image_dimmed_too(two_class, panels):
    images, labels = two_class
    panel = panels(images, budget=1)
    label_shown(panel, labels)
    panel.handle_key({"key": "s"})
    assert panel.canvas.finished == "The budget of 1 label is reached"


def test_a_round_that_works_clears_the_error_a_failed_one_left(two_class, panels):
    images, labels = two_class
    panel = panels(images, learner=FailsOnce(2), query_size=1)
    label_shown(panel, labels)
    assert panel.loop.wait(10)
    assert "round 1 failed" in panel.error_line.value
    panel.heuristic_picker.value = "entropy"  # a round that re-ranks, and works
    assert panel.loop.wait(10)
    assert panel.error_line.value == ""


@pytest.mark.parametrize("value", [50, 333])
def test_the_pool_sample_picker_shows_a_pool_sample_set_in_code(two_class, panels, value):
    panel = panels(two_class[0], pool_sample=250)
    panel.loop.pool_sample = value
    assert panel.pool_picker.value == value
    assert (f"{value:,}", value) in panel.pool_picker.options


def test_a_failed_rounds_error_stays_when_another_image_is_shown(two_class, panels):
    images, labels = two_class
    panel = panels(images, learner=FailsOnce(2), query_size=1)
    label_shown(panel, labels)
    assert panel.loop.wait(10)
    panel.open_image(next(i for i in panel.queue_strip.indices if i != panel.current))
    assert "round 1 failed" in panel.error_line.value


def test_an_unreadable_image_opened_is_named_under_the_image_shown_instead(tmp_path, loop_factory):
    paths = gray_photos(tmp_path, 6)
    loop = loop_factory(alw.Dataset(paths, CLASSES), CentroidLearner(2), start=False)
    panel = alw.Panel(loop)
    try:
        spoiled = next(i for i in range(6) if i != panel.current)
        paths[spoiled].write_bytes(b"not a png")
        panel.open_image(spoiled)
        assert panel.current not in (spoiled, None)
        assert "it was left out and the next image loaded" in panel.error_line.value
    finally:
        panel.close()
