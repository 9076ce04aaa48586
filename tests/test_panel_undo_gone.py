"""Z brings the image of the last submit (or skip) back to edit: when its file is gone since
(moved, deleted), it could not be shown, so nothing is undone. The label stays stored (or the
image skipped), the image shown stays, and the error line names the image and says so; once
the file is back, Z undoes it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import al_widget as alw
from tests.test_journal_orientation import photo
from tests.turned_panels import SQUARE, draw, press


def submitted_then_gone(photo_panels: Any) -> tuple[alw.Panel, list[str], int]:
    """Draw on the image shown and submit it; its file is then deleted: (the panel, the
    photos' paths, its index)."""
    panel, paths, _ = photo_panels()
    labeled = panel.current
    draw(panel)
    press(panel, "Enter")
    os.remove(paths[labeled])
    return panel, paths, labeled


def test_z_keeps_the_label_of_an_image_whose_file_is_gone(photo_panels: Any) -> None:
    panel, _, labeled = submitted_then_gone(photo_panels)
    stored = panel.dataset.annotation(labeled)
    press(panel, "z")
    assert panel.dataset.annotation(labeled) == stored


def test_the_refusal_names_the_image_and_says_its_label_stays(photo_panels: Any) -> None:
    panel, paths, labeled = submitted_then_gone(photo_panels)
    press(panel, "z")
    assert (
        f"not undone: image {labeled} ({paths[labeled]}): file not found, so it could not be "
        "shown to edit; its label stays stored"
    ) in panel.error_line.value


def test_no_undo_is_said_to_be_done(photo_panels: Any) -> None:
    panel, _, _ = submitted_then_gone(photo_panels)
    press(panel, "z")
    assert "undid" not in panel.notice.value


def test_the_image_shown_stays_and_the_gone_one_is_not_left_out(photo_panels: Any) -> None:
    panel, _, labeled = submitted_then_gone(photo_panels)
    shown = panel.current
    press(panel, "z")
    assert panel.current == shown
    assert labeled not in panel.loop.broken


def test_once_the_file_is_back_z_undoes_the_submit(photo_panels: Any) -> None:
    panel, paths, labeled = submitted_then_gone(photo_panels)
    press(panel, "z")
    photo(Path(paths[labeled]), 1, SQUARE)
    press(panel, "z")
    assert panel.current == labeled
    assert panel.dataset.annotation(labeled) is None


def test_z_keeps_the_skip_of_an_image_whose_file_is_gone(photo_panels: Any) -> None:
    panel, paths, _ = photo_panels()
    skipped = panel.current
    press(panel, "s")
    os.remove(paths[skipped])
    press(panel, "z")
    assert skipped in panel.loop.skipped
    assert "it stays skipped" in panel.error_line.value


def labeled_ahead_then_gone(photo_panels: Any) -> tuple[alw.Panel, list[str], int]:
    """A cell labels an image the panel sent ahead (the browser holds its pixels), and its
    file is then deleted: (the panel, the photos' paths, its index)."""
    panel, paths, _ = photo_panels("classify")
    ahead = panel.sent_ahead[0]
    panel.loop.commit(ahead, alw.Label("thing"))
    os.remove(paths[ahead])
    return panel, paths, ahead


def test_z_keeps_the_label_of_an_image_sent_ahead_whose_file_is_gone(photo_panels: Any) -> None:
    panel, _, labeled = labeled_ahead_then_gone(photo_panels)
    shown = panel.current
    press(panel, "z")
    assert panel.dataset.annotation(labeled) == alw.Label("thing")
    assert panel.current == shown


def test_the_refusal_for_an_image_sent_ahead_says_its_file_is_gone(photo_panels: Any) -> None:
    panel, paths, labeled = labeled_ahead_then_gone(photo_panels)
    press(panel, "z")
    assert (
        f"not undone: image {labeled} ({paths[labeled]}): file not found"
    ) in panel.error_line.value


def test_z_undoes_the_label_of_an_image_sent_ahead_rewritten_since_and_shows_it_anew(
    photo_panels: Any,
) -> None:
    panel, paths, _ = photo_panels("classify")
    ahead = panel.sent_ahead[0]
    panel.loop.commit(ahead, alw.Label("thing"))
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(paths[ahead], format="JPEG")
    press(panel, "z")
    assert panel.current == ahead
    assert panel.dataset.annotation(ahead) is None
    assert panel.canvas.stamp == panel.dataset.oriented_image(ahead).stamp  # the file's now
