"""A closed panel acts on nothing, and is collected as any object once unreferenced, while its
loop lives on; a panel on a closed loop says the loop is closed."""

import gc
import html
import weakref

import pytest

import al_widget as alw

from conftest import CentroidLearner

CLASSES = ["dark", "bright"]


@pytest.fixture
def closed_panel(two_class, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), CentroidLearner(2), start=False)
    panel = alw.Panel(loop)
    panel.close()
    return panel


def test_a_closed_panel_labels_nothing_on_a_class_key(closed_panel):
    closed_panel.handle_key({"key": "1"})
    assert len(closed_panel.dataset.labeled) == 0


def test_a_closed_panel_submits_nothing(closed_panel):
    closed_panel.pick(0)
    assert closed_panel.submit() is None
    assert len(closed_panel.dataset.labeled) == 0


def test_a_closed_panel_skips_nothing(closed_panel):
    assert closed_panel.skip() is None
    assert closed_panel.loop.skipped == frozenset()


def test_a_closed_panel_undoes_nothing(two_class, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), CentroidLearner(2), start=False)
    panel = alw.Panel(loop)
    shown = panel.current
    panel.handle_key({"key": "1"})
    panel.close()
    assert panel.undo() is None
    assert panel.dataset.annotation(shown) == alw.Label("dark")


def test_a_closed_panel_opens_no_image(closed_panel):
    shown = closed_panel.current
    closed_panel.open_image(3 if shown != 3 else 4)
    assert closed_panel.current == shown


def test_a_panel_on_a_closed_loop_says_the_loop_is_closed(two_class, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), CentroidLearner(2))
    loop.close(10)
    panel = alw.Panel(loop)
    try:
        status = html.unescape(panel.status.value)
        assert "the loop is closed" in status
        assert "idle" not in status
    finally:
        panel.close()


def test_a_closed_panel_is_collected_while_its_loop_lives(two_class, loop_factory):
    loop = loop_factory(alw.Dataset(two_class[0], CLASSES), CentroidLearner(2), start=False)
    panel = alw.Panel(loop)
    gone = weakref.ref(panel)
    panel.close()
    del panel
    gc.collect()
    assert gone() is None
