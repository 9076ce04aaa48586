"""Two panels on one loop, each undoing on its own thread at the same moment (plain Python: no
event loop hands the calls on): neither waits for the other's lock, and each hears of the
other's undo once its own is done."""

from __future__ import annotations

import html
import threading
import time

import pytest

import al_widget as alw
from tests.conftest import CentroidLearner

CLASSES = ["dark", "bright"]


def press(panel: alw.Panel, key: str) -> None:
    """Press `key` on the image `panel` shows, as the browser sends it."""
    made = {"image_id": panel.canvas.image_id, "shown": str(panel.current)}
    panel.canvas._handle_custom_msg({"kind": "key", "key": key} | made, [])


@pytest.fixture
def undone_at_once(two_class, loop_factory):
    """Panel A labels two images; then A and B each press Z on their own thread, B while A's
    undo is under way: (A, B, the image A labeled first, the threads still running)."""
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), start=False)
    # Heard first: each undo dwells, so that the other thread undoes meanwhile.
    loop.on_undo(lambda action, i: time.sleep(0.3))
    a, b = alw.Panel(loop), alw.Panel(loop)
    first = a.current
    press(a, "1")
    press(a, "1")
    threads = [threading.Thread(target=p.undo, daemon=True) for p in (a, b)]
    threads[0].start()
    time.sleep(0.05)
    threads[1].start()
    for thread in threads:
        thread.join(5)
    running = [t for t in threads if t.is_alive()]
    yield a, b, first, running
    if not running:  # else closing would wait for the lock a stuck thread holds
        a.close()
        b.close()


def test_two_panels_undoing_at_once_on_two_threads_both_finish(undone_at_once):
    _, _, _, running = undone_at_once
    assert running == []


def test_a_panel_hears_of_another_s_undo_made_during_its_own(undone_at_once):
    a, _, first, _ = undone_at_once
    assert f"your label of image {first} was undone outside this panel" in html.unescape(
        a.notice.value
    )
