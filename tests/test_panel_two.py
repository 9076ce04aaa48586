"""Two panels on one loop share its undo stack: Z in one takes back the loop's last label or skip,
whichever panel or cell made it. The panel says whose it took back, and the panel whose label or
skip was undone outside it is told."""

from __future__ import annotations

import html

import pytest

import al_widget as alw
from tests.conftest import CentroidLearner

CLASSES = ["dark", "bright"]


@pytest.fixture
def two(two_class, loop_factory):
    """Two panels, A and B, on one loop (no rounds), each showing its first image."""
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), start=False)
    a, b = alw.Panel(loop), alw.Panel(loop)
    yield a, b
    a.close()
    b.close()


def press(panel: alw.Panel, key: str) -> None:
    """Press `key` on the image `panel` shows, as the browser sends it."""
    made = {"image_id": panel.canvas.image_id, "shown": str(panel.current)}
    panel.canvas._handle_custom_msg({"kind": "key", "key": key} | made, [])


def notice(panel: alw.Panel) -> str:
    return html.unescape(panel.notice.value)


def test_z_says_when_the_label_it_takes_back_was_made_in_another_panel(two):
    a, b = two
    labeled = a.current
    press(a, "1")
    b.undo()
    assert b.current == labeled
    assert f"undid the submit of image {labeled}, made outside this panel" in notice(b)


def test_z_on_the_panel_s_own_label_names_no_other(two):
    a, _ = two
    press(a, "1")
    a.undo()
    assert "undid the submit of image" in notice(a)
    assert "outside this panel" not in notice(a)


def test_a_panel_is_told_when_another_panel_undoes_its_label(two):
    a, b = two
    labeled = a.current
    press(a, "1")
    b.undo()
    assert f"your label of image {labeled} was undone outside this panel" in notice(a)


def test_a_panel_is_told_when_a_cell_undoes_its_skip(two):
    a, _ = two
    skipped = a.current
    press(a, "s")
    a.loop.undo()
    assert f"your skip of image {skipped} was undone outside this panel" in notice(a)


def test_a_panel_is_not_told_of_an_undo_of_another_panel_s_label(two):
    a, b = two
    press(a, "1")
    before = notice(b)
    a.undo()
    assert notice(b) == before


def test_the_notice_of_an_image_labeled_in_another_panel_says_whose_label_z_undoes(two):
    a, b = two
    assert a.current == b.current  # both show the loop's next image
    press(a, "1")
    press(b, "2")  # meant for the image A labeled: B moves on
    assert "Z here undoes the loop's last label or skip, whichever panel or cell made it" in notice(
        b
    )


def test_the_loop_tells_each_undo_to_its_observers(two_class, loop_factory):
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), start=False)
    heard: list[tuple[str, int]] = []
    loop.on_undo(lambda action, i: heard.append((action, i)))
    loop.commit(3, alw.Label("dark"))
    loop.skip(4)
    loop.undo()
    loop.undo()
    assert heard == [("skip", 4), ("commit", 3)]
