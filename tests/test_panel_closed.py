"""A closed panel acts on nothing; a panel on a closed loop says the loop is closed."""

import html

import al_widget as alw

from conftest import CentroidLearner

CLASSES = ["dark", "bright"]


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
