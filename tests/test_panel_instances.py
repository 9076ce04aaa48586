"""The panel on an instance segmentation loop, driven as the browser would drive it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import al_widget as alw

W, H = 32, 24
CLASSES = ["cat", "dog"]


def square(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    out = np.zeros((H, W), bool)
    out[y0:y1, x0:x1] = True
    return out


FOUND = [(square(2, 2, 10, 10), 0), (square(10, 2, 18, 10), 0), (square(20, 12, 28, 20), 1)]


class FixedObjects:
    """Finds the FOUND objects on every image, surer on brighter images; instant."""

    task = "instances"

    def fit(self, images: Any, targets: Any, progress: Any, should_stop: Any) -> None:
        progress(1.0)

    def predict(self, images: Any, mc_samples: int = 1) -> list[dict[str, np.ndarray]]:
        masks = np.stack([m for m, _ in FOUND])
        out = []
        for image in images:
            sure = 0.5 + float(image[0, 0, 0]) / 600
            probs = np.full((len(FOUND), len(CLASSES) + 1, mc_samples), (1 - sure) / 2)
            for k, (_, c) in enumerate(FOUND):
                probs[k, c] = sure
            out.append(
                {
                    "boxes": alw.Instances(masks, [0] * len(FOUND)).boxes.astype(float),
                    "labels": np.array([c for _, c in FOUND], np.int64),
                    "scores": np.array([sure, sure - 0.01, sure - 0.02]),
                    "probs": probs,
                    "masks": masks,
                    "mask_samples": np.ones((len(FOUND), mc_samples, 8, 8), bool),
                }
            )
        return out


@pytest.fixture
def panel(loop_factory: Any) -> Any:
    images = [np.full((H, W, 3), 10 * k, np.uint8) for k in range(8)]
    loop = loop_factory(
        alw.Dataset(images, CLASSES, task="instances"), FixedObjects(), pool_sample=None
    )
    truth = alw.Instances(np.stack([m for m, _ in FOUND]), [c for _, c in FOUND])
    loop.commit(0, truth)
    assert loop.wait(20), loop.history
    made = alw.Panel(loop)
    made.draft_bar.set_by_hand(0.0)  # every draft shown: none calibrated yet
    yield made
    made.close()


def send(panel: Any, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
    canvas = panel.canvas
    canvas._handle_custom_msg({"image_id": canvas.image_id, **content}, buffers or [])


def test_the_panel_opens_the_models_objects_as_drafts_in_instance_mode(panel: Any) -> None:
    assert panel.canvas.mode == "instance"
    assert [(o.id, o.label, o.draft) for o in panel.canvas.objects] == [
        (1, 0, True),
        (2, 0, True),
        (3, 1, True),
    ]


def test_each_draft_reaches_the_browser_with_its_confidence(panel: Any) -> None:
    scores = [o["score"] for o in panel.canvas.loaded_instances]
    sure = panel.loop.draft_confidences(panel.current)
    assert scores == pytest.approx(sure.tolist(), abs=1e-4)


def test_no_instance_draft_is_shown_before_drafts_have_been_worth_it(panel: Any) -> None:
    panel.draft_bar.use_calibrated()
    assert panel.loop.draft_threshold is None
    assert panel.canvas.objects == ()


def test_a_threshold_hides_the_objects_below_it_and_a_lower_one_shows_them_again(
    panel: Any,
) -> None:
    shown = panel.current
    sure = panel.loop.draft_confidences(shown)  # the three objects', highest first
    panel.draft_bar.set_by_hand(float(sure[1]) - 0.001)  # the slider keeps 4 places
    assert [o.id for o in panel.canvas.objects] == [1, 2]
    panel.draft_bar.set_by_hand(0.0)
    assert [o.id for o in panel.canvas.objects] == [1, 2, 3]
    assert panel.current == shown


def test_a_new_threshold_leaves_an_image_with_an_accepted_draft_as_it_is(panel: Any) -> None:
    content = {"kind": "instance", "id": 1, "label": 0, "draft": False, "rect": [0, 0, W, H]}
    send(panel, content, [FOUND[0][0].astype(np.uint8).tobytes()])
    panel.draft_bar.set_by_hand(1.0)
    assert [(o.id, o.draft) for o in panel.canvas.objects] == [(1, False), (2, True), (3, True)]


def test_redo_of_a_skip_is_made_after_a_new_threshold_redrafts_the_image_it_brought_back(
    panel: Any,
) -> None:
    i = panel.current
    assert panel.skip() == i
    assert panel.undo() == i  # back with the model's objects, drafts
    panel.draft_bar.set_by_hand(1.0)  # none of them shown now
    assert panel.canvas.objects == ()
    assert panel.redo() == i
    assert i in panel.loop.skipped


def test_enter_with_only_undecided_drafts_is_refused_and_labels_nothing(panel: Any) -> None:
    shown = panel.current
    panel.handle_key({"key": "Enter"})
    assert "no objects: accept drafts (A, or Shift+A for all), draw one" in (panel.error_line.value)
    assert panel.dataset.annotation(shown) is None


def test_enter_stores_the_objects_accepted_drops_the_undecided_and_says_so(panel: Any) -> None:
    shown = panel.current
    content = {"kind": "instance", "id": 1, "label": 0, "draft": False, "rect": [0, 0, W, H]}
    send(panel, content, [FOUND[0][0].astype(np.uint8).tobytes()])
    panel.handle_key({"key": "Enter"})
    assert panel.dataset.annotation(shown) == alw.Instances(FOUND[0][0][None], ["cat"])
    assert f"image {shown} stored what was drawn and accepted; 2 undecided drafts dropped" in (
        panel.notice.value
    )
    assert panel.loop.draft_history[-1].savings == alw.drafts.Savings(accepted=1, deleted=2)


def test_the_objects_left_are_committed_and_z_brings_them_back(panel: Any) -> None:
    shown = panel.current
    first, second = FOUND[0][0], FOUND[1][0]
    full = [0, 0, W, H]
    for obj_id, mask in ((1, first), (2, second)):
        content = {"kind": "instance", "id": obj_id, "label": 1, "draft": False, "rect": full}
        send(panel, content, [mask.astype(np.uint8).tobytes()])
    send(panel, {"kind": "instance_delete", "id": 3})
    panel.handle_key({"key": "Enter"})
    stored = panel.dataset.annotation(shown)
    assert stored == alw.Instances(np.stack([first, second]), ["dog", "dog"])
    assert panel.current != shown

    panel.handle_key({"key": "z"})
    assert panel.current == shown
    assert panel.dataset.annotation(shown) is None
    assert [(o.label, o.draft) for o in panel.canvas.objects] == [(1, False), (1, False)]


def test_two_objects_drawn_with_one_mask_are_refused_named_by_their_classes(panel: Any) -> None:
    # The canvas tags objects by class: their positions in the label are nowhere on screen
    shown = panel.current
    full = [0, 0, W, H]
    for obj_id, label in ((7, 0), (8, 1)):  # a 'cat' and a 'dog', one mask
        content = {"kind": "instance", "id": obj_id, "label": label, "draft": False, "rect": full}
        send(panel, content, [square(0, 0, 4, 4).astype(np.uint8).tobytes()])
    panel.handle_key({"key": "Enter"})
    assert panel.dataset.annotation(shown) is None
    assert (
        "not submitted: the 'cat' and 'dog' objects have the same mask (x 0..4, y 0..4): one "
        "object drawn twice; delete one of them"
    ) in panel.error_line.value.replace("&#x27;", "'")


def test_two_objects_of_one_class_drawn_with_one_mask_are_refused_as_two_of_it(
    panel: Any,
) -> None:
    full = [0, 0, W, H]
    for obj_id in (7, 8):
        content = {"kind": "instance", "id": obj_id, "label": 1, "draft": False, "rect": full}
        send(panel, content, [square(0, 0, 4, 4).astype(np.uint8).tobytes()])
    panel.handle_key({"key": "Enter"})
    assert "not submitted: two 'dog' objects have the same mask" in (
        panel.error_line.value.replace("&#x27;", "'")
    )


def test_n_with_an_object_accepted_is_refused(panel: Any) -> None:
    shown = panel.current
    content = {"kind": "instance", "id": 1, "label": 0, "draft": False, "rect": [0, 0, W, H]}
    send(panel, content, [FOUND[0][0].astype(np.uint8).tobytes()])
    panel.handle_key({"key": "n"})
    assert "the image has objects; delete them first" in panel.error_line.value
    assert panel.dataset.annotation(shown) is None


def test_n_drops_the_undecided_drafts_and_commits_no_objects(panel: Any) -> None:
    shown = panel.current
    panel.handle_key({"key": "n"})
    assert panel.dataset.annotation(shown) == alw.Instances.empty((W, H))
    assert "3 undecided drafts dropped" in panel.notice.value


def test_n_on_an_image_without_objects_commits_no_objects(panel: Any) -> None:
    shown = panel.current
    for obj_id in (1, 2, 3):
        send(panel, {"kind": "instance_delete", "id": obj_id})
    panel.handle_key({"key": "n"})
    assert panel.dataset.annotation(shown) == alw.Instances.empty((W, H))
    assert panel.current != shown
