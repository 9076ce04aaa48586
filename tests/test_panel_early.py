"""The front end's early path, as the protocol carries it: the image the browser painted early
stays, the whole panel's next state is sent ahead, and keys dropped by the dwell are counted."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

import al_widget as alw
from al_widget.ranking import Ranking
from tests.conftest import CentroidLearner

CLASSES = ["dark", "bright"]


@pytest.fixture
def panel(two_class, loop_factory):
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=1000)
    made = alw.Panel(loop)
    yield made
    made.close()


def publish_with_first(loop: alw.ActiveLoop, first: int) -> None:
    """Publish a new ranking (as a round does) that puts image `first` at the head."""
    old = loop.ranking
    order = np.concatenate([[first], old.indices[old.indices != first]]).astype(np.int64)
    ranking = Ranking(
        order,
        np.linspace(1, 0, len(order)),
        np.zeros(len(order), np.int64),
        model_version=old.model_version + 1,
        data_version=old.data_version,
        heuristic="margin",
    )
    loop._worker._publish_early(ranking)  # the worker's way: the loop's ranking, then observers
    assert loop.next() == first


def early(panel: alw.Panel, content: dict, painted: int) -> None:
    """A key or click the browser sent after painting image `painted` early, on the image shown."""
    made = {"image_id": panel.canvas.image_id, "shown": str(panel.current)}
    panel.canvas._handle_custom_msg(content | made | {"early": True, "painted": str(painted)}, [])


def other_than(panel: alw.Panel, *taken: int) -> int:
    return next(int(i) for i in panel.loop.queue if int(i) not in (panel.current, *taken))


@pytest.mark.parametrize(
    "content",
    [
        {"kind": "key", "key": "bright"},
        {"kind": "key", "key": "s"},
        {"kind": "action", "action": "skip"},
    ],
    ids=["class key", "S", "Skip button"],
)
def test_the_image_painted_early_stays_when_a_new_ranking_puts_another_first(panel, content):
    painted = int(panel.canvas.ahead_key)
    publish_with_first(panel.loop, other_than(panel, painted))
    early(panel, content, painted)
    assert panel.current == painted
    assert panel.canvas.image_key == str(painted)


def test_the_image_painted_early_gives_way_when_it_was_labeled_meanwhile(panel):
    painted = int(panel.canvas.ahead_key)
    head = other_than(panel, painted)
    publish_with_first(panel.loop, head)
    panel.loop.commit(painted, alw.Label("dark"))  # labeled elsewhere (code, another view)
    early(panel, {"kind": "key", "key": "bright"}, painted)
    assert panel.current == head
    assert panel.dataset.annotation(painted) == alw.Label("dark")


def test_a_painted_key_that_names_no_image_is_ignored(panel):
    head = other_than(panel)
    early(panel, {"kind": "key", "key": "s"}, 10**6)  # forged: not an index of the dataset
    assert panel.current == head


def test_what_is_sent_ahead_is_what_the_whole_panel_shows_with_the_next_image(two_class, panel):
    _, labels = two_class
    for _ in range(3):  # the first image, then images shown after a label
        key, ahead = panel.canvas.ahead_key, panel.info.parts["ahead"]
        picker, row = panel.canvas.ahead_picker, panel.queue_strip._ahead
        panel.handle_key(
            {"key": CLASSES[int(labels[panel.current])], "image_id": panel.canvas.image_id}
        )
        assert str(panel.current) == key == ahead["key"] == row[0]
        assert panel.info.parts["header"] == ahead["header"]
        assert panel.queue_strip._shown == row[1]
        assert panel.picker.index == (None if picker == -1 else picker)


def test_enter_accepting_the_model_class_may_show_the_next_image_early(panel):
    assert panel.canvas.swap_keys["Enter"] == "submit"


def test_a_key_dropped_by_the_dwell_is_counted_and_labels_nothing(panel):
    shown, labeled = panel.current, len(panel.dataset.labeled)
    for key in ("bright", "Submit"):
        panel.canvas._handle_custom_msg({"kind": "dropped", "key": key}, [])
    assert panel.dropped_keys == 2
    assert len(panel.dataset.labeled) == labeled
    assert panel.current == shown


def test_the_dwell_is_a_panel_setting_the_browser_reads(two_class, loop_factory):
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=1000)
    panel = alw.Panel(loop, dwell_ms=250)
    assert panel.canvas.dwell_ms == 250
    assert "dwell_ms" in panel.canvas.keys  # synced
    panel.close()


@pytest.mark.parametrize("bad", [-1, 5000])
def test_a_dwell_out_of_range_is_refused_by_name(two_class, loop_factory, bad):
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=1000)
    with pytest.raises(traitlets.TraitError, match=r"dwell_ms must be in \[0, 2000\] ms"):
        alw.Panel(loop, dwell_ms=bad)


def test_the_images_sent_ahead_are_the_next_of_the_queue_not_the_one_shown(panel):
    ahead = panel.sent_ahead
    assert int(panel.canvas.ahead_key) in ahead
    assert panel.current not in ahead
    assert set(ahead) <= {int(i) for i in panel.loop.queue}


@pytest.mark.parametrize("painted", ["\u00b2", "9" * 5000], ids=["superscript two", "5000 digits"])
def test_a_key_naming_no_image_key_as_painted_leaves_the_panel_on_its_image(panel, painted):
    shown = panel.current
    key = {"kind": "key", "key": "dark", "image_id": panel.canvas.image_id, "shown": str(shown)}
    panel.canvas._handle_custom_msg(key | {"early": True, "painted": painted}, [])
    assert panel.current == shown
    assert panel.dataset.labeled.tolist() == []
