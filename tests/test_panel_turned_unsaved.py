"""Work left unsaved on an image lies on the pixels the canvas showed then: when another program
turns the photo (rewrites its EXIF orientation) or replaces it by one of another size before the
labeler comes back, the work is not shown on the new pixels. It is dropped, with a notice
naming the image, its file and what changed, and nothing is stored. Work that names no pixels
(a class chosen) comes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import al_widget as alw
from tests.test_journal_orientation import entries, photo
from tests.turned_panels import TASKS, WIDE, draw, press


def click(panel: alw.Panel, i: int) -> None:
    """Click image `i`'s thumbnail, as the browser sends it."""
    panel.queue_strip._handle_custom_msg({"kind": "open", "index": i}, [])


def leave(panel: alw.Panel) -> int:
    """Open another image of the strip, leaving the work on the one shown; returns the one
    left."""
    left = panel.current
    click(panel, next(i for i in panel.queue_strip.indices if i != left))
    return left


def held(panel: alw.Panel) -> bool:
    """Whether the canvas shows any work: a box, a painted pixel or an object."""
    canvas = panel.canvas
    painted = bool(canvas.mask) and np.frombuffer(canvas.mask, np.uint8).any()
    return bool(canvas.boxes or painted or canvas.objects)


@pytest.mark.parametrize("task", TASKS)
def test_unsaved_work_on_a_photo_replaced_by_one_of_another_size_is_not_shown_on_it(
    photo_panels: Any, task: str
) -> None:
    panel, paths, _ = photo_panels(task, WIDE)
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    photo(Path(paths[drawn_on]), 1, WIDE[::-1])  # another program replaces it: 16 x 12
    click(panel, drawn_on)
    assert panel.current == drawn_on
    assert (panel.canvas.height, panel.canvas.width) == WIDE[::-1]
    assert not held(panel)


@pytest.mark.parametrize("task", TASKS)
def test_unsaved_work_on_a_square_photo_turned_since_is_not_shown_on_the_turned_pixels(
    photo_panels: Any, task: str
) -> None:
    panel, paths, _ = photo_panels(task)
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    photo(Path(paths[drawn_on]), 6, (16, 16))  # a photo app turns it a quarter: same size
    click(panel, drawn_on)
    assert panel.current == drawn_on
    assert not held(panel)


def test_an_unsaved_mask_is_not_reshaped_onto_a_photo_turned_a_quarter_since(
    photo_panels: Any,
) -> None:
    # As many pixels, another shape: the mask must not come back scrambled
    panel, paths, _ = photo_panels("segment", WIDE)
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    photo(Path(paths[drawn_on]), 6, WIDE)
    click(panel, drawn_on)
    assert (panel.canvas.height, panel.canvas.width) == WIDE[::-1]
    assert not held(panel)


def test_the_notice_names_the_image_its_file_the_work_and_both_orientations(
    photo_panels: Any,
) -> None:
    panel, paths, _ = photo_panels()
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    photo(Path(paths[drawn_on]), 6, (16, 16))
    click(panel, drawn_on)
    assert (
        f"image {drawn_on} ({paths[drawn_on]}) was turned by another program (EXIF orientation "
        "1 → 6) after its work was drawn on it (1 unsaved box): that work was dropped, not "
        "shown on the turned photo; nothing was stored"
    ) in panel.error_line.value


def test_the_notice_names_both_sizes_of_a_photo_replaced_by_one_of_another_size(
    photo_panels: Any,
) -> None:
    panel, paths, _ = photo_panels("segment", WIDE)
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    photo(Path(paths[drawn_on]), 1, WIDE[::-1])
    click(panel, drawn_on)
    assert (
        f"image {drawn_on} ({paths[drawn_on]}) was replaced by another program with a photo of "
        "another size (16x12 → 12x16, width x height) after its work was drawn on it (an "
        "unsaved mask)"
    ) in panel.error_line.value


def test_enter_on_a_photo_turned_since_its_work_was_left_stores_nothing(photo_panels: Any) -> None:
    panel, paths, journal = photo_panels()
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    photo(Path(paths[drawn_on]), 6, (16, 16))
    click(panel, drawn_on)
    press(panel, "Enter")
    assert panel.dataset.annotation(drawn_on) is None
    assert entries(journal) == []


def test_work_dropped_from_a_turned_photo_does_not_come_back_when_it_is_turned_back(
    photo_panels: Any,
) -> None:
    # Dropped, not kept aside: what the labeler sees is what the panel holds
    panel, paths, _ = photo_panels()
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    photo(Path(paths[drawn_on]), 6, (16, 16))
    click(panel, drawn_on)
    leave(panel)
    photo(Path(paths[drawn_on]), 1, (16, 16))
    click(panel, drawn_on)
    assert not held(panel)


def test_the_class_chosen_for_an_image_comes_back_on_its_photo_turned_since(
    photo_panels: Any,
) -> None:
    # A class names the whole image, however it is turned
    panel, paths, _ = photo_panels("classify")
    drawn_on = panel.current
    chosen = 0 if panel.picker.value == 1 else 1
    panel.picker.value = chosen  # a click on its button, as the browser sets it
    leave(panel)
    photo(Path(paths[drawn_on]), 6, (16, 16))
    click(panel, drawn_on)
    assert panel.picker.value == chosen
    assert panel.error_line.value == ""


@pytest.mark.parametrize("task", TASKS)
def test_a_label_undone_after_its_photo_was_replaced_by_one_of_another_size_is_not_shown_on_it(
    photo_panels: Any, task: str
) -> None:
    panel, paths, _ = photo_panels(task, WIDE)
    drawn_on = panel.current
    draw(panel)
    press(panel, "Enter")
    photo(Path(paths[drawn_on]), 1, WIDE[::-1])
    press(panel, "z")
    assert panel.current == drawn_on
    assert not held(panel)


@pytest.mark.parametrize("task", TASKS)
def test_a_label_undone_after_its_square_photo_was_turned_is_not_shown_on_the_turned_pixels(
    photo_panels: Any, task: str
) -> None:
    panel, paths, _ = photo_panels(task)
    drawn_on = panel.current
    draw(panel)
    press(panel, "Enter")
    photo(Path(paths[drawn_on]), 6, (16, 16))
    press(panel, "z")
    assert panel.current == drawn_on
    assert not held(panel)


def test_a_label_undone_on_its_photo_as_it_was_comes_back_to_edit(photo_panels: Any) -> None:
    # Its frame is the one it was drawn on: nothing changed, nothing is dropped
    panel, _, _ = photo_panels("segment", WIDE)
    drawn_on = panel.current
    draw(panel)
    press(panel, "Enter")
    press(panel, "z")
    assert panel.current == drawn_on
    assert held(panel)
    assert panel.error_line.value == ""
