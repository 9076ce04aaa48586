"""What the labeler draws in the panel lies on the pixels the canvas showed, read in one EXIF
orientation: a photo another program turned (or replaced by one of another size) between the
panel showing it and the submit is not labeled. The submit is refused with a notice naming the
image and both orientations, the edit stays on the canvas, and nothing is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import al_widget as alw
from tests.test_journal_orientation import entries, photo

CLASSES = ["background", "thing"]
H = W = 16  # a square photo: turned a quarter, it keeps its size


@pytest.fixture
def panels(tmp_path: Path, loop_factory: Any):
    """Make a panel on four journaled photos of H x W stored pixels, EXIF orientation 1:
    (the panel, the photos' paths, the journal)."""
    made = []

    def make(task: str = "detect") -> tuple[alw.Panel, list[str], Path]:
        paths = [photo(tmp_path / f"p{k}.jpg", 1, (H, W)) for k in range(4)]
        journal = tmp_path / "labels.jsonl"
        dataset = alw.Dataset(paths, CLASSES, task=task, journal=journal)
        panel = alw.Panel(loop_factory(dataset, None, start=False))
        made.append(panel)
        return panel, paths, journal

    yield make
    for panel in made:
        panel.close()


def draw(panel: alw.Panel) -> None:
    """Draw on the image shown as the browser sends it: a box, a painted patch or an object."""
    canvas = panel.canvas
    shape = np.zeros((H, W), np.uint8)
    shape[:5, :6] = 1
    if canvas.mode == "box":
        box = {"xyxy": [0, 0, 6, 5], "label": 1}
        content = {"kind": "boxes", "boxes": [box], "drafts": []}
    elif canvas.mode == "mask":
        content = {"kind": "mask", "width": W, "height": H}
    else:
        content = {"kind": "instance", "id": 1, "label": 1, "draft": False, "rect": [0, 0, W, H]}
    buffers = [] if canvas.mode == "box" else [memoryview(shape.tobytes())]
    canvas._handle_custom_msg({"image_id": canvas.image_id, **content}, buffers)


def enter(panel: alw.Panel) -> None:
    """Press Enter on the image shown, as the browser sends it."""
    panel.handle_key({"key": "Enter", "image_id": panel.canvas.image_id})


@pytest.mark.parametrize("task", ["detect", "segment", "instances"])
def test_a_label_drawn_on_a_photo_turned_since_it_was_shown_is_not_stored(
    panels: Any, task: str
) -> None:
    panel, paths, journal = panels(task)
    shown = panel.current
    draw(panel)
    photo(Path(paths[shown]), 6, (H, W))  # a photo app turns it a quarter: same size
    enter(panel)
    assert panel.dataset.annotation(shown) is None
    assert entries(journal) == []


def test_the_refusal_names_the_image_its_file_and_both_orientations(panels: Any) -> None:
    panel, paths, _ = panels()
    shown = panel.current
    draw(panel)
    photo(Path(paths[shown]), 6, (H, W))
    enter(panel)
    assert (
        f"not submitted: image {shown} ({paths[shown]}) was turned by another program since it "
        "was shown (EXIF orientation 1 → 6)"
    ) in panel.error_line.value


def test_the_edit_stays_on_the_canvas_when_the_submit_is_refused(panels: Any) -> None:
    panel, paths, _ = panels()
    shown = panel.current
    draw(panel)
    drawn = panel.canvas.boxes
    photo(Path(paths[shown]), 6, (H, W))
    assert panel.submit() is None
    assert panel.current == shown
    assert panel.canvas.boxes == drawn


def test_a_label_drawn_on_the_image_sent_ahead_before_its_photo_was_turned_is_refused(
    panels: Any,
) -> None:
    # The browser shows the copy sent ahead (read in orientation 1): what is drawn lies on it,
    # whatever the file says by the time the image comes up
    panel, paths, journal = panels()
    first, following = panel.current, int(panel.canvas.ahead_key)
    photo(Path(paths[following]), 6, (H, W))
    draw(panel)
    enter(panel)
    assert panel.current == following
    draw(panel)
    enter(panel)
    assert panel.dataset.annotation(following) is None
    assert [entry["i"] for entry in entries(journal)] == [first]


def test_boxes_drawn_on_a_photo_replaced_by_one_of_another_size_since_are_not_stored(
    panels: Any,
) -> None:
    panel, paths, journal = panels()
    shown = panel.current
    draw(panel)  # the box fits the wider photo too
    photo(Path(paths[shown]), 1, (H, W + 8))
    enter(panel)
    assert panel.dataset.annotation(shown) is None
    assert entries(journal) == []
    assert (
        f"not submitted: image {shown}: boxes were drawn on a ({H}, {W}) canvas but the image "
        f"is ({H}, {W + 8})"
    ) in panel.error_line.value
