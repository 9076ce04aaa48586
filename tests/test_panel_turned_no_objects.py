"""N ("no objects", "all background") labels the pixels the canvas showed, as Enter's label
does: on a photo another program replaced by one of another size (or turned) since it was shown,
N is refused as Enter is, with the same notice naming both sizes (both orientations), nothing is
stored, and the panel goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_journal_orientation import entries, photo
from tests.turned_panels import TASKS, WIDE, draw, press

# What Enter says of a label drawn on a (12, 16) canvas of a photo now (16, 12)
REFUSED = {
    "detect": "boxes were drawn on a (12, 16) canvas but the image is (16, 12) (H, W)",
    "segment": "mask has shape (12, 16) but the image is (16, 12) (H, W)",
    "instances": "instance masks are (12, 16) (H, W) but the image is (16, 12)",
}


def replace(path: str) -> None:
    """Another program replaces the WIDE photo at `path` by a (16, 12) one."""
    photo(Path(path), 1, WIDE[::-1])


@pytest.mark.parametrize("task", TASKS)
def test_n_on_a_photo_replaced_by_one_of_another_size_while_shown_stores_nothing(
    photo_panels: Any, task: str
) -> None:
    panel, paths, journal = photo_panels(task, WIDE)
    shown = panel.current
    replace(paths[shown])
    press(panel, "n")
    assert panel.dataset.annotation(shown) is None
    assert entries(journal) == []


@pytest.mark.parametrize("task", TASKS)
def test_n_is_refused_as_enter_is_naming_both_sizes(photo_panels: Any, task: str) -> None:
    panel, paths, _ = photo_panels(task, WIDE)
    shown = panel.current
    replace(paths[shown])
    press(panel, "n")
    assert f"not submitted: image {shown}: {REFUSED[task]}" in panel.error_line.value


def test_the_panel_stays_on_the_image_after_the_refusal_and_s_skips_it(photo_panels: Any) -> None:
    panel, paths, _ = photo_panels("segment", WIDE)
    shown = panel.current
    replace(paths[shown])
    press(panel, "n")
    assert panel.current == shown
    press(panel, "s")
    assert shown in panel.loop.skipped
    assert panel.current not in (None, shown)


@pytest.mark.parametrize("task", TASKS)
def test_n_on_the_image_sent_ahead_before_its_photo_was_replaced_stores_nothing(
    photo_panels: Any, task: str
) -> None:
    # The browser shows the copy sent ahead (12 x 16): N labels those pixels, whatever the
    # file holds by the time the image comes up
    panel, paths, journal = photo_panels(task, WIDE)
    first, following = panel.current, int(panel.canvas.ahead_key)
    replace(paths[following])
    draw(panel)
    press(panel, "Enter")
    assert panel.current == following
    press(panel, "n")
    assert panel.dataset.annotation(following) is None
    assert [entry["i"] for entry in entries(journal)] == [first]
    assert f"not submitted: image {following}: {REFUSED[task]}" in panel.error_line.value


@pytest.mark.parametrize("task", TASKS)
def test_n_on_an_image_z_brought_back_before_its_photo_was_replaced_stores_nothing(
    photo_panels: Any, task: str
) -> None:
    panel, paths, journal = photo_panels(task, WIDE)
    shown = panel.current
    press(panel, "n")
    press(panel, "z")  # the "nothing here" label comes back to edit
    assert panel.current == shown
    replace(paths[shown])
    press(panel, "n")
    assert panel.dataset.annotation(shown) is None
    assert [entry.get("op") for entry in entries(journal)] == ["annotate", "remove"]


@pytest.mark.parametrize("task", TASKS)
def test_n_on_a_square_photo_turned_since_it_was_shown_is_refused_naming_both_orientations(
    photo_panels: Any, task: str
) -> None:
    panel, paths, journal = photo_panels(task, (16, 16))
    shown = panel.current
    photo(Path(paths[shown]), 6, (16, 16))  # a photo app turns it a quarter: same size
    press(panel, "n")
    assert panel.dataset.annotation(shown) is None
    assert entries(journal) == []
    assert (
        f"not submitted: image {shown} ({paths[shown]}) was turned by another program since it "
        "was shown (EXIF orientation 1 → 6)"
    ) in panel.error_line.value
