"""What the labeler draws in the panel lies on the pixels the canvas showed, read in one EXIF
orientation: a photo another program turned (or replaced by one of another size) between the
panel showing it and the submit is not labeled. The submit is refused with a notice naming the
image and both orientations, the edit stays on the canvas, and nothing is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_journal_orientation import entries, photo
from tests.turned_panels import SQUARE, TASKS, draw, press

H, W = SQUARE  # turned a quarter, the photo keeps its size


@pytest.mark.parametrize("task", TASKS)
def test_a_label_drawn_on_a_photo_turned_since_it_was_shown_is_not_stored(
    photo_panels: Any, task: str
) -> None:
    panel, paths, journal = photo_panels(task)
    shown = panel.current
    draw(panel, width=6)
    photo(Path(paths[shown]), 6, (H, W))  # a photo app turns it a quarter: same size
    press(panel, "Enter")
    assert panel.dataset.annotation(shown) is None
    assert entries(journal) == []


def test_the_refusal_names_the_image_its_file_and_both_orientations(photo_panels: Any) -> None:
    panel, paths, _ = photo_panels()
    shown = panel.current
    draw(panel, width=6)
    photo(Path(paths[shown]), 6, (H, W))
    press(panel, "Enter")
    assert (
        f"not submitted: image {shown} ({paths[shown]}) was turned by another program since it "
        "was shown (EXIF orientation 1 → 6)"
    ) in panel.error_line.value


def test_the_edit_stays_on_the_canvas_when_the_submit_is_refused(photo_panels: Any) -> None:
    panel, paths, _ = photo_panels()
    shown = panel.current
    draw(panel, width=6)
    drawn = panel.canvas.boxes
    photo(Path(paths[shown]), 6, (H, W))
    assert panel.submit() is None
    assert panel.current == shown
    assert panel.canvas.boxes == drawn


def test_a_label_drawn_on_the_image_sent_ahead_before_its_photo_was_turned_is_refused(
    photo_panels: Any,
) -> None:
    # The browser shows the copy sent ahead (read in orientation 1): what is drawn lies on it,
    # whatever the file says by the time the image comes up
    panel, paths, journal = photo_panels()
    first, following = panel.current, int(panel.canvas.ahead_key)
    photo(Path(paths[following]), 6, (H, W))
    draw(panel, width=6)
    press(panel, "Enter")
    assert panel.current == following
    draw(panel, width=6)
    press(panel, "Enter")
    assert panel.dataset.annotation(following) is None
    assert [entry["i"] for entry in entries(journal)] == [first]


def test_boxes_drawn_on_a_photo_replaced_by_one_of_another_size_since_are_not_stored(
    photo_panels: Any,
) -> None:
    panel, paths, journal = photo_panels()
    shown = panel.current
    draw(panel, width=6)  # the box fits the wider photo too
    photo(Path(paths[shown]), 1, (H, W + 8))
    press(panel, "Enter")
    assert panel.dataset.annotation(shown) is None
    assert entries(journal) == []
    assert (
        f"not submitted: image {shown}: boxes were drawn on a ({H}, {W}) canvas but the image "
        f"is ({H}, {W + 8})"
    ) in panel.error_line.value
