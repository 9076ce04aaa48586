"""Z takes back the label stored for an image and brings it back to edit, on the pixels it was
drawn on: when another program turned the photo (rewrote its EXIF orientation) or replaced it by
one of another size since the submit, the label is not shown on the new pixels. The undo is
done, and the panel says so truly: the undone label (how many boxes) was drawn on the photo
before it changed, it is not shown, the image is unlabeled, to label again; no redo is promised,
and no unsaved work is said to be dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import al_widget as alw
from tests.test_journal_orientation import entries, photo
from tests.turned_panels import WIDE, draw, press


def submitted_then_turned(photo_panels: Any, task: str = "detect") -> tuple[alw.Panel, str, int]:
    """Draw on the image shown and submit it; a photo app then turns its photo a quarter (the
    same size): (the panel, its file, its index)."""
    panel, paths, _ = photo_panels(task)
    labeled = panel.current
    draw(panel)
    press(panel, "Enter")
    photo(Path(paths[labeled]), 6, (16, 16))
    return panel, paths[labeled], labeled


def test_z_on_a_photo_turned_since_its_submit_takes_its_label_back(photo_panels: Any) -> None:
    panel, _, labeled = submitted_then_turned(photo_panels)
    press(panel, "z")
    assert panel.current == labeled
    assert panel.dataset.annotation(labeled) is None


def test_the_error_line_says_the_undone_label_was_drawn_before_the_photo_was_turned(
    photo_panels: Any,
) -> None:
    panel, file, labeled = submitted_then_turned(photo_panels)
    press(panel, "z")
    assert (
        f"undid the submit of image {labeled} ({file}), whose photo was turned by another "
        "program (EXIF orientation 1 → 6) after that label (1 box) was drawn on it: the label "
        "is not shown on the turned photo, and the image is unlabeled now, to label again"
    ) in panel.error_line.value


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_the_label_taken_back_is_not_called_work_left_on_the_image(
    photo_panels: Any, task: str
) -> None:
    panel, _, _ = submitted_then_turned(photo_panels, task)
    press(panel, "z")
    assert "its work was drawn on it" not in panel.error_line.value
    assert "unsaved box" not in panel.error_line.value
    assert "unsaved mask" not in panel.error_line.value
    assert "nothing was stored" not in panel.error_line.value


def test_no_redo_is_promised(photo_panels: Any) -> None:
    panel, _, _ = submitted_then_turned(photo_panels)
    press(panel, "z")
    assert "Shift+Z" not in panel.notice.value
    assert "back to edit" not in panel.notice.value
    assert "Shift+Z" not in panel.error_line.value


def test_the_error_line_names_both_sizes_of_a_photo_replaced_since_the_submit(
    photo_panels: Any,
) -> None:
    panel, paths, _ = photo_panels("segment", WIDE)
    labeled = panel.current
    draw(panel)
    press(panel, "Enter")
    photo(Path(paths[labeled]), 1, WIDE[::-1])
    press(panel, "z")
    assert (
        f"undid the submit of image {labeled} ({paths[labeled]}), whose photo was replaced by "
        "another program with a photo of another size (16x12 → "
        "12x16, width x height) after that label (a mask) was drawn on it: the label is not "
        "shown on the new photo, and the image is unlabeled now, to label again"
    ) in panel.error_line.value


def test_an_image_whose_earlier_label_the_undo_restores_is_said_to_hold_it_again(
    photo_panels: Any,
) -> None:
    # A cell labels an image not sent ahead on the turned photo, then replaces that label on
    # the photo turned back; the photo is turned again, and Z takes the second label back
    panel, paths, journal = photo_panels()
    loop, queued = panel.loop, panel._navigator.ahead
    image = next(k for k in range(4) if k != panel.current and k not in queued)
    photo(Path(paths[image]), 6, (16, 16))
    loop.commit(image, alw.Boxes([[0, 0, 3, 3]], ["thing"]))
    photo(Path(paths[image]), 1, (16, 16))
    loop.commit(image, alw.Boxes([[0, 0, 3, 3], [1, 1, 4, 4]], ["thing"] * 2), replace=True)
    photo(Path(paths[image]), 6, (16, 16))
    press(panel, "z")
    assert len(panel.dataset.annotation(image)) == 1
    assert (
        "after that label (2 boxes) was drawn on it: the label is not shown on the turned "
        "photo, and the image holds again its label from before that submit (1 box)"
    ) in panel.error_line.value
    assert [entry["orientation"] for entry in entries(journal)] == [6, 1, 6]


def test_z_on_a_photo_as_it_was_still_brings_the_label_back_and_promises_shift_z(
    photo_panels: Any,
) -> None:
    panel, _, _ = photo_panels()
    labeled = panel.current
    draw(panel)
    press(panel, "Enter")
    press(panel, "z")
    assert (
        f"undid the submit of image {labeled}: it is back to edit (1 unsaved box restored); "
        "Shift+Z redoes"
    ) in panel.notice.value
    assert panel.error_line.value == ""


def test_z_of_a_skip_says_the_unsaved_work_left_on_the_turned_photo_was_dropped(
    photo_panels: Any,
) -> None:
    # A skip keeps the work on the image: that work, not a label, is what was dropped
    panel, paths, _ = photo_panels()
    skipped = panel.current
    draw(panel)
    press(panel, "s")
    photo(Path(paths[skipped]), 6, (16, 16))
    press(panel, "z")
    assert "after its work was drawn on it (1 unsaved box)" in panel.error_line.value
    assert f"undid the skip of image {skipped}: it is back to edit" in panel.notice.value
