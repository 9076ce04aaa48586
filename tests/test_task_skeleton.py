"""A task whose learner predicts image by image supplies only its per-image step; scoring is shared."""

import numpy as np

import al_widget as alw
from al_widget.scoring import Inline
from al_widget.tasks.base import ImageScore, PerImageTask


class Brightness:
    """Predicts each image's mean brightness, one number per image."""

    def predict(self, images, mc_samples=1):
        return [float(image.mean()) for image in images]


class BrightnessTask(PerImageTask):
    """A task of its own: the score is the brightness, the draft a note of it."""

    name = "brightness"
    default_reduction = "max"
    chunk_limit = 2
    predict_method = "predict"

    def score_image(
        self, learner, dataset, index, found, *, heuristic, reduction, mc_samples, keep_probs
    ):
        probs = np.array([found / 255, 1 - found / 255]) if keep_probs else None
        return ImageScore(found, f"{reduction}:{found:.0f}", np.array([1.0]), probs, dropped=index)

    def fit(self, learner, dataset, snapshot, progress, should_stop):
        return {}

    def prepare_eval(self, eval_set, classes):
        return eval_set

    def measure(self, learner, prepared, n_classes):
        return None


def dataset():
    images = [np.full((4, 4, 3), v, np.uint8) for v in (10, 200, 60, 120, 30)]
    return alw.Dataset(images, ["light", "dark"])


def score(task, heuristic="entropy", reduction=None):
    return task.score(
        Brightness(),
        dataset(),
        np.array([4, 1, 3]),
        heuristic=heuristic,
        reduction=reduction,
        mc_samples=1,
        executor=Inline(),
        chunk_size=10,
        should_stop=lambda: False,
    )


def test_a_per_image_task_gets_scores_and_drafts_in_pool_order_from_its_per_image_step():
    scored = score(BrightnessTask())
    assert scored.indices.tolist() == [4, 1, 3]
    assert scored.scores.tolist() == [30.0, 200.0, 120.0]
    assert scored.drafts == {4: "max:30", 1: "max:200", 3: "max:120"}
    assert scored.dropped == 4 + 1 + 3


def test_a_per_image_task_scores_with_the_reduction_set_over_its_default():
    assert score(BrightnessTask(), reduction="mean").drafts[1] == "mean:200"


def test_a_per_image_task_keeps_class_probabilities_only_for_a_batch_selector():
    assert score(BrightnessTask()).probs is None
    probs = score(BrightnessTask(), heuristic="badge").probs
    assert probs.shape == (3, 2)
    assert np.allclose(probs[1], [200 / 255, 55 / 255])
