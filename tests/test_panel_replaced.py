"""What the labeler draws in the panel lies on the pixels the canvas showed: a photo another
program rewrote or replaced since it was shown, by another picture of the same size and EXIF
orientation, is not labeled. The file's stamp (inode, size, mtime, ctime: one stat) says it
may have changed, and its pixels read again say they did; the submit is refused naming the
image and its file, the edit stays on the canvas, and nothing is stored. Work left unsaved on it
is not shown on the new picture. A file only touched is labeled (``test_panel_touched.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import al_widget as alw
from tests.test_journal_orientation import entries, photo
from tests.test_panel_turned_unsaved import click, held, leave
from tests.turned_panels import SQUARE, TASKS, draw, press


def replace(path: str) -> None:
    """Another program replaces the photo at `path` by another picture of the same size and
    orientation (EXIF 1): written beside it, then moved over it, as editors save."""
    other = np.zeros((*SQUARE, 3), np.uint8)
    other[SQUARE[0] // 2 :, SQUARE[1] // 2 :] = 255  # a white block bottom-right, not top-left
    written = Path(path).with_suffix(".new.jpg")
    Image.fromarray(other).save(written, format="JPEG", quality=95)
    os.replace(written, path)


@pytest.mark.parametrize("task", TASKS)
def test_a_label_drawn_on_a_photo_replaced_by_one_of_the_same_size_is_not_stored(
    photo_panels: Any, task: str
) -> None:
    panel, paths, journal = photo_panels(task)
    shown = panel.current
    draw(panel, width=6)
    replace(paths[shown])
    press(panel, "Enter")
    assert panel.dataset.annotation(shown) is None
    assert entries(journal) == []


def test_a_class_picked_on_a_photo_replaced_since_it_was_shown_is_not_stored(
    photo_panels: Any,
) -> None:
    panel, paths, _ = photo_panels("classify")
    shown = panel.current
    replace(paths[shown])
    press(panel, "1")
    assert panel.dataset.annotation(shown) is None


def test_the_refusal_names_the_image_and_its_file(photo_panels: Any) -> None:
    panel, paths, _ = photo_panels()
    shown = panel.current
    draw(panel, width=6)
    replace(paths[shown])
    press(panel, "Enter")
    assert (
        f"not submitted: image {shown} ({paths[shown]}) was rewritten or replaced by another "
        "program since it was shown (its file changed)"
    ) in panel.error_line.value


def test_the_edit_stays_on_the_canvas_when_the_submit_is_refused(photo_panels: Any) -> None:
    panel, paths, _ = photo_panels()
    shown = panel.current
    draw(panel, width=6)
    drawn = panel.canvas.boxes
    replace(paths[shown])
    assert panel.submit() is None
    assert panel.current == shown
    assert panel.canvas.boxes == drawn


def test_a_label_drawn_on_the_copy_sent_ahead_before_its_photo_was_replaced_is_refused(
    photo_panels: Any,
) -> None:
    # The browser shows the copy sent ahead: what is drawn lies on it, whatever the file holds
    panel, paths, journal = photo_panels()
    first, following = panel.current, int(panel.canvas.ahead_key)
    replace(paths[following])
    draw(panel, width=6)
    press(panel, "Enter")
    assert panel.current == following
    draw(panel, width=6)
    press(panel, "Enter")
    assert panel.dataset.annotation(following) is None
    assert [entry["i"] for entry in entries(journal)] == [first]


def test_a_photo_shown_again_after_its_refusal_is_labeled_on_its_new_pixels(
    photo_panels: Any,
) -> None:
    panel, paths, _ = photo_panels()
    shown = panel.current
    draw(panel, width=6)
    replace(paths[shown])
    press(panel, "Enter")
    press(panel, "s")  # skipped, as the refusal offers; Z brings it back, read again
    press(panel, "z")
    assert panel.current == shown
    draw(panel, width=6)
    press(panel, "Enter")
    assert panel.dataset.annotation(shown) is not None


@pytest.mark.parametrize("task", TASKS)
def test_unsaved_work_on_a_photo_replaced_since_is_not_shown_on_it(
    photo_panels: Any, task: str
) -> None:
    panel, paths, _ = photo_panels(task)
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    replace(paths[drawn_on])
    click(panel, drawn_on)
    assert panel.current == drawn_on
    assert not held(panel)


def test_the_notice_names_the_image_its_file_and_the_work_dropped(photo_panels: Any) -> None:
    panel, paths, _ = photo_panels()
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    replace(paths[drawn_on])
    click(panel, drawn_on)
    assert (
        f"image {drawn_on} ({paths[drawn_on]}) was rewritten or replaced by another program "
        "(its file changed) after its work was drawn on it (1 unsaved box): that work was "
        "dropped, not shown on the new photo; nothing was stored"
    ) in panel.error_line.value


def test_unsaved_work_on_a_photo_left_as_it_was_comes_back(photo_panels: Any) -> None:
    panel, paths, _ = photo_panels()
    drawn_on = panel.current
    draw(panel)
    leave(panel)
    photo(Path(paths[-1]), 1, SQUARE)  # another photo of the folder changes: not this one
    click(panel, drawn_on)
    assert held(panel)


def test_an_image_in_memory_is_labeled_as_shown(loop_factory: Any) -> None:
    images = [np.zeros((*SQUARE, 3), np.uint8) for _ in range(3)]
    dataset = alw.Dataset(images, ["background", "thing"], task="detect")
    panel = alw.Panel(loop_factory(dataset, None, start=False))
    try:
        shown = panel.current
        draw(panel, width=6)
        press(panel, "Enter")
        assert panel.dataset.annotation(shown) is not None
    finally:
        panel.close()
