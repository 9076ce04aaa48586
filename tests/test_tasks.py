"""Detection and segmentation in the loop, driven by tiny hand-written learners of each protocol."""

import numpy as np
import pytest

import al_widget as alw
from al_widget.learners import ParamsMixin

CLASSES = ["thing"]
SEG_CLASSES = ["background", "thing"]


def blob_images(sizes, seed=0):
    """Dark images of the given (H, W) sizes, each with one bright square; and its box."""
    rng = np.random.default_rng(seed)
    images, boxes = [], []
    for h, w in sizes:
        image = np.zeros((h, w, 3), np.uint8)
        side = int(rng.integers(3, min(h, w) // 2))
        y, x = int(rng.integers(0, h - side)), int(rng.integers(0, w - side))
        image[y : y + side, x : x + side] = 200
        images.append(image)
        boxes.append(alw.Boxes([[x, y, x + side, y + side]], ["thing"]))
    return images, boxes


class BrightBoxes(ParamsMixin):
    """Finds the bounding box of bright pixels; confidence grows with the labels it has seen."""

    task = "detect"

    def __init__(self, n_classes=1, threshold=100, extra=None):
        self.n_classes, self.threshold, self.extra = n_classes, threshold, extra

    def fit(self, images, targets, progress, should_stop):
        assert all(t["boxes"].shape[1] == 4 and t["labels"].dtype == np.int64 for t in targets)
        self.seen_ = len(images)
        progress(1.0)
        return self

    def predict(self, images, mc_samples=1):
        out = []
        for image in images:
            ys, xs = np.nonzero(image[..., 0] > self.threshold)
            if not len(xs):
                out.append(empty(self.n_classes, mc_samples))
                continue
            box = [[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]]
            if self.extra is not None:
                box.append(self.extra)
            k = len(box)
            sure = min(0.95, 0.5 + 0.05 * self.seen_)
            probs = np.tile([[sure, 1 - sure]], (k, 1))[:, :, None].repeat(mc_samples, axis=2)
            out.append(
                {
                    "boxes": np.array(box, float),
                    "labels": np.zeros(k, np.int64),
                    "scores": np.full(k, sure),
                    "probs": probs,
                }
            )
        return out


def empty(n_classes, mc_samples):
    return {
        "boxes": np.zeros((0, 4)),
        "labels": np.zeros(0, np.int64),
        "scores": np.zeros(0),
        "probs": np.zeros((0, n_classes + 1, mc_samples)),
    }


class BrightPixels(ParamsMixin):
    """Labels bright pixels as class 1, at half resolution."""

    task = "segment"

    def __init__(self, n_classes=2, classes_out=None):
        self.n_classes, self.classes_out = n_classes, classes_out

    def fit(self, images, targets, progress, should_stop):
        assert all(t.shape == i.shape[:2] for t, i in zip(targets, images, strict=True))
        self.fitted_ = True
        return self

    def predict_proba(self, images, mc_samples=1):
        out = []
        for image in images:
            bright = image[::2, ::2, 0] > 100
            p = np.where(bright, 0.9, 0.2)
            probs = np.stack([1 - p, p])[..., None].repeat(mc_samples, axis=3)
            if self.classes_out is not None:
                probs = np.concatenate([probs, np.zeros_like(probs[:1])])
            out.append(probs)
        return out


@pytest.fixture
def boxes_loop(loop_factory):
    images, boxes = blob_images([(20, 30)] * 30)
    ds = alw.Dataset(np.stack(images), CLASSES, task="detect")

    def make(learner=None, **kwargs):
        loop = loop_factory(ds, learner or BrightBoxes(), query_size=2, pool_sample=None, **kwargs)
        loop.commit(0, boxes[0])
        loop.commit(1, boxes[1])
        assert loop.wait(10)
        return loop

    make.boxes = boxes
    return make


def test_a_detection_loop_ranks_the_pool_with_the_users_detector(boxes_loop):
    loop = boxes_loop()
    assert loop.history[-1].ok, loop.history[-1].error
    assert loop.ranking.model_version == 1
    assert loop.ranking.heuristic == "margin"


def test_the_detectors_boxes_are_the_drafts_of_each_scored_image(boxes_loop):
    loop = boxes_loop()
    head = loop.next()
    draft = loop.prediction(head)
    assert isinstance(draft, alw.Boxes)
    np.testing.assert_array_equal(draft.xyxy, boxes_loop.boxes[head].xyxy)
    assert draft.labels == ("thing",)


def test_no_prediction_before_a_model(loop_factory):
    images, _ = blob_images([(20, 30)] * 5)
    loop = loop_factory(alw.Dataset(np.stack(images), CLASSES, task="detect"), BrightBoxes())
    assert loop.prediction(0) is None


def test_a_record_counts_the_boxes_drawn(boxes_loop):
    assert boxes_loop().history[-1].n_boxes == 2


def test_degenerate_boxes_from_the_model_are_dropped_and_counted(boxes_loop):
    loop = boxes_loop(BrightBoxes(extra=[5.0, 5.0, 5.0, 9.0]))
    record = loop.history[-1]
    assert record.ok, record.error
    assert record.n_dropped == 28
    assert len(loop.prediction(loop.next())) == 1


def test_boxes_outside_the_image_fail_the_round_and_labeling_goes_on(boxes_loop):
    loop = boxes_loop(BrightBoxes(extra=[0.0, 0.0, 31.0, 5.0]))
    record = loop.history[-1]
    assert "BrightBoxes.predict for image" in record.error
    assert "returned box [0.0, 0.0, 31.0, 5.0] outside the 30x20 image" in record.error
    loop.commit(loop.next(), boxes_loop.boxes[loop.next()])


def test_an_image_where_nothing_is_found_counts_as_uncertain(loop_factory):
    images, boxes = blob_images([(20, 30)] * 6)
    images[5][:] = 0  # nothing to find here
    ds = alw.Dataset(np.stack(images), CLASSES, task="detect")
    loop = loop_factory(ds, BrightBoxes(), query_size=2, pool_sample=None)
    loop.commit(0, boxes[0])
    loop.commit(1, boxes[1])
    assert loop.wait(10)
    assert loop.next() == 5


def test_images_of_different_sizes_are_detected_in_their_own_pixels(loop_factory):
    images, boxes = blob_images([(20, 30), (40, 25), (33, 33), (16, 50), (24, 24)])
    loop = loop_factory(alw.Dataset(images, CLASSES, task="detect"), BrightBoxes(), query_size=1)
    loop.commit(0, boxes[0])
    assert loop.wait(10)
    assert loop.history[-1].ok, loop.history[-1].error
    for i in range(1, 5):
        np.testing.assert_array_equal(loop.prediction(i).xyxy, boxes[i].xyxy)


def test_the_reduction_is_a_setting_that_re_ranks(boxes_loop):
    loop = boxes_loop()
    rounds = len(loop.history)
    loop.reduction = "sum"
    assert loop.wait(10)
    assert len(loop.history) == rounds + 1
    assert loop.reduction == "sum"


def test_an_unknown_reduction_is_refused(boxes_loop):
    loop = boxes_loop()
    with pytest.raises(ValueError, match="unknown reduction 'median'"):
        loop.reduction = "median"


@pytest.fixture
def mask_data():
    images, _ = blob_images([(20, 30)] * 12)
    masks = []
    for image in images:
        masks.append(alw.Mask((image[..., 0] > 100).astype(np.uint8)))
    return images, masks


def test_a_segmentation_loop_ranks_with_the_users_segmenter(mask_data, loop_factory):
    images, masks = mask_data
    ds = alw.Dataset(np.stack(images), SEG_CLASSES, task="segment")
    loop = loop_factory(ds, BrightPixels(), query_size=1, pool_sample=None)
    loop.commit(0, masks[0])
    assert loop.wait(10)
    assert loop.history[-1].ok, loop.history[-1].error
    assert loop.ranking.model_version == 1


def test_the_segmenters_mask_at_the_images_size_is_the_draft(mask_data, loop_factory):
    images, masks = mask_data
    ds = alw.Dataset(np.stack(images), SEG_CLASSES, task="segment")
    loop = loop_factory(ds, BrightPixels(), query_size=1, pool_sample=None)
    loop.commit(0, masks[0])
    assert loop.wait(10)
    draft = loop.prediction(3)
    assert draft.canvas_size == (20, 30)
    assert (draft.class_map == masks[3].class_map).mean() > 0.9


class SpoiledBoxProbs(BrightBoxes):
    """BrightBoxes whose box probabilities go through `spoil`."""

    def __init__(self, n_classes=1, threshold=100, extra=None, spoil=None):
        super().__init__(n_classes, threshold, extra)
        self.spoil = spoil

    def predict(self, images, mc_samples=1):
        found = super().predict(images, mc_samples)
        for result in found:
            result["probs"] = self.spoil(np.asarray(result["probs"]))
        return found


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda p: p * 2, "must be probabilities in [0, 1]"),
        (lambda p: p.astype(str), "must be numbers, got dtype <U"),
    ],
)
def test_box_probabilities_that_are_not_probabilities_fail_the_round_naming_learner_and_image(
    loop_factory, spoil, message
):
    images, boxes = blob_images([(20, 30)] * 4)
    ds = alw.Dataset(np.stack(images), CLASSES, task="detect")
    loop = loop_factory(ds, SpoiledBoxProbs(spoil=spoil), query_size=1, pool_sample=None)
    loop.commit(0, boxes[0])
    assert loop.wait(10)
    error = loop.history[-1].error
    assert error.startswith("ValueError: SpoiledBoxProbs.predict for image ")
    assert f"(probs of its boxes) {message}" in error


def test_pixel_probabilities_of_the_wrong_class_count_fail_the_round_clearly(
    mask_data, loop_factory
):
    images, masks = mask_data
    ds = alw.Dataset(np.stack(images), SEG_CLASSES, task="segment")
    loop = loop_factory(ds, BrightPixels(classes_out=3), query_size=1, pool_sample=None)
    loop.commit(0, masks[0])
    assert loop.wait(10)
    error = loop.history[-1].error
    assert "BrightPixels.predict_proba for image" in error
    assert (
        "returned shape (3, 10, 15, 1); expected (n classes, h, w, mc_samples) = (2, h, w, 1)"
        in error
    )


def test_mean_iou_on_an_eval_set_is_the_segmentation_metric(mask_data, loop_factory):
    images, masks = mask_data
    ds = alw.Dataset(np.stack(images[:8]), SEG_CLASSES, task="segment")
    loop = loop_factory(
        ds, BrightPixels(), query_size=1, eval_set=(np.stack(images[8:]), masks[8:])
    )
    loop.commit(0, masks[0])
    assert loop.wait(10)
    record = loop.history[-1]
    assert record.metric_name == "mIoU"
    assert record.metric > 0.8


def test_an_eval_set_of_the_wrong_annotation_type_is_refused(mask_data):
    images, masks = mask_data
    ds = alw.Dataset(np.stack(images[:8]), CLASSES, task="detect")
    with pytest.raises(ValueError, match="eval_set annotation 0 must be Boxes, got Mask"):
        alw.ActiveLoop(ds, BrightBoxes(), eval_set=(np.stack(images[8:]), masks[8:]), start=False)


def test_the_panel_opens_a_detection_image_with_the_models_boxes_as_drafts(boxes_loop):
    loop = boxes_loop()
    panel = alw.Panel(loop)
    try:
        i = panel.current
        assert panel.canvas.boxes == []
        assert [d["xyxy"] for d in panel.canvas.drafts] == boxes_loop.boxes[i].xyxy.tolist()
    finally:
        panel.close()


def test_the_panel_opens_a_segmentation_image_with_the_models_mask(mask_data, loop_factory):
    images, masks = mask_data
    ds = alw.Dataset(np.stack(images), SEG_CLASSES, task="segment")
    loop = loop_factory(ds, BrightPixels(), query_size=1, pool_sample=None)
    loop.commit(0, masks[0])
    assert loop.wait(10)
    panel = alw.Panel(loop)
    try:
        panel.draft_bar.set_by_hand(0.0)  # every region shown: nothing calibrated it yet
        np.testing.assert_array_equal(
            panel.canvas.mask_array(), loop.prediction(panel.current).class_map
        )
    finally:
        panel.close()


def test_simulate_runs_a_detection_oracle_and_measures_map_against_boxes_drawn():
    images, boxes = blob_images([(20, 30)] * 20)
    curve = alw.simulate(
        np.stack(images), boxes, task="detect", classes=CLASSES, learner=BrightBoxes(),
        seed_size=2, query_size=2, budget=6, progress=False,
    )  # fmt: skip
    assert curve.metric_name == "mAP"
    assert curve.n_labels.tolist() == [2, 4, 6]
    assert curve.x("boxes").tolist() == [2, 4, 6]
    assert curve.metric.min() > 0.5


def test_simulate_runs_a_segmentation_oracle_and_measures_mean_iou(mask_data):
    images, masks = mask_data
    curve = alw.simulate(
        np.stack(images), masks, task="segment", classes=SEG_CLASSES, learner=BrightPixels(),
        seed_size=2, query_size=2, budget=4, progress=False,
    )  # fmt: skip
    assert curve.metric_name == "mIoU"
    assert curve.metric.min() > 0.6  # the learner works at half resolution


def test_simulate_needs_class_names_for_boxes():
    images, boxes = blob_images([(20, 30)] * 6)
    with pytest.raises(ValueError, match=r"a 'detect' simulation needs classes=\[...\]"):
        alw.simulate(np.stack(images), boxes, task="detect", learner=BrightBoxes(), progress=False)


def test_simulate_refuses_truths_of_another_task():
    images, boxes = blob_images([(20, 30)] * 6)
    with pytest.raises(ValueError, match="a 'segment' simulation needs Mask truths, got Boxes"):
        alw.simulate(np.stack(images), boxes, task="segment", classes=SEG_CLASSES, progress=False)


def test_compare_plots_detection_curves_against_boxes_drawn():
    images, boxes = blob_images([(20, 30)] * 20)
    result = alw.compare(
        np.stack(images), boxes, ["random", "margin"], repeats=2, task="detect", classes=CLASSES,
        learner=BrightBoxes(), seed_size=2, query_size=2, budget=6, progress=False,
    )  # fmt: skip
    svg = result.svg(x="boxes")
    assert "boxes drawn" in svg
    assert "test mAP (mean ± std)" in svg


@pytest.fixture
def boxes_panel(boxes_loop):
    panel = alw.Panel(boxes_loop())
    yield panel
    panel.close()


def accept_all_drafts(panel):
    canvas = panel.canvas
    content = {
        "kind": "boxes",
        "image_id": canvas.image_id,
        "boxes": [*canvas.boxes, *canvas.drafts],
        "drafts": [],
    }
    canvas.comm.handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


def test_enter_with_no_boxes_is_refused_naming_the_no_objects_key(boxes_panel):
    canvas = boxes_panel.canvas
    canvas.load(np.zeros((20, 30, 3), np.uint8))
    assert boxes_panel.submit() is None
    assert "press N (No objects)" in boxes_panel.error_line.value


def test_n_labels_an_image_with_no_objects_on_purpose(boxes_panel):
    boxes_panel.canvas.load(np.zeros((20, 30, 3), np.uint8))
    i = boxes_panel.current
    boxes_panel.handle_key({"key": "n"})
    assert len(boxes_panel.loop.dataset.annotation(i)) == 0


def test_no_objects_is_refused_while_the_image_has_boxes(boxes_panel):
    i = boxes_panel.current
    accept_all_drafts(boxes_panel)
    assert boxes_panel.submit_no_objects() is None
    assert "the image has boxes" in boxes_panel.error_line.value
    assert boxes_panel.loop.dataset.annotation(i) is None


def test_accepted_drafts_submit_as_the_boxes_shown(boxes_panel):
    i = boxes_panel.current
    accept_all_drafts(boxes_panel)
    shown = [b["xyxy"] for b in boxes_panel.canvas.boxes]
    assert boxes_panel.submit() == i
    assert boxes_panel.loop.dataset.annotation(i).xyxy.tolist() == shown


def test_a_table_against_boxes_gives_each_heuristics_own_boxes_drawn():
    images, boxes = blob_images([(20, 30)] * 20)
    result = alw.compare(
        np.stack(images), boxes, ["random", "margin"], repeats=1, task="detect", classes=CLASSES,
        learner=BrightBoxes(), seed_size=2, query_size=2, budget=4, progress=False,
    )  # fmt: skip
    rows = result.table("boxes").splitlines()
    assert rows[1].split()[0] == "2"
    assert rows[-1].count("@ 4") == 2


@pytest.mark.slow
@pytest.mark.parametrize("task", ["detect", "segment"])
def test_the_default_learner_runs_background_rounds_on_a_pool_of_shapes(task, loop_factory):
    data = alw.datasets.shapes(1000, size=128, seed=0, task=task)
    ds = alw.Dataset(data.images, list(data.classes), task=task)
    loop = loop_factory(ds, pool_sample=100, query_size=10)
    for i in range(10):
        loop.commit(i, data.annotations[i])
    assert loop.wait(120)
    for i in loop.queue[:10]:
        loop.commit(int(i), data.annotations[int(i)])
    assert loop.wait(120)
    rounds = [r for r in loop.history if r.retrained]
    assert [r.ok for r in rounds] == [True, True], [r.error for r in rounds]
    assert loop.ranking.model_version == 2
    head = loop.next()
    assert isinstance(loop.prediction(head), alw.Boxes if task == "detect" else alw.Mask)


def void_borders(mask: alw.Mask) -> alw.Mask:
    """`mask` with the pixels on its class boundaries marked void, as Pascal VOC marks them."""
    class_map = mask.class_map.copy()
    padded = np.pad(mask.class_map, 1, mode="edge")
    inner = padded[1:-1, 1:-1]
    border = np.zeros(class_map.shape, bool)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        border |= padded[dy : dy + inner.shape[0], dx : dx + inner.shape[1]] != inner
    class_map[border] = alw.Mask.IGNORE
    return alw.Mask(class_map)


def test_mean_iou_on_an_eval_set_leaves_out_the_pixels_it_marks_void(mask_data, loop_factory):
    # BrightPixels works at half resolution: its errors lie on the blobs' borders. With the
    # borders marked void, as VOC marks them, the same predictions score higher.
    images, masks = mask_data
    scores = []
    for truths in (masks[8:], [void_borders(m) for m in masks[8:]]):
        dataset = alw.Dataset(np.stack(images[:8]), SEG_CLASSES, task="segment")
        loop = loop_factory(
            dataset, BrightPixels(), query_size=1, eval_set=(np.stack(images[8:]), truths)
        )
        loop.commit(0, masks[0])
        assert loop.wait(10)
        scores.append(loop.history[-1].metric)
    assert scores[1] == 1.0 > scores[0]


@pytest.mark.parametrize("task", ["classify", "detect", "segment", "instances"])
def test_every_task_refuses_an_eval_set_that_is_not_an_images_and_labels_pair(task):
    from al_widget import tasks

    images = np.zeros((5, 8, 8), np.uint8)
    with pytest.raises(
        ValueError, match=r"eval_set must be \(images, labels\).*got an array of shape \(5, 8, 8\)"
    ):
        tasks.for_dataset(task).prepare_eval(images, SEG_CLASSES)
