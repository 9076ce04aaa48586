"""What a label costs the browser: the widgets and messages the panel sends, and in what order."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest
from ipywidgets.widgets import widget as widget_module

import al_widget as alw
from al_widget.widget.ahead import PREFETCH
from al_widget.widget.layout import descendants
from tests.conftest import DEEP, CentroidLearner, from_deep_stack, nested

CLASSES = ["dark", "bright"]


@pytest.fixture
def sent(monkeypatch):
    """Every message the widgets send to the browser, as (widget, message), in order."""
    log: list[tuple[widgets.Widget, dict]] = []
    original = widgets.Widget._send

    def record(self, msg, buffers=None):
        log.append((self, msg))
        return original(self, msg, buffers=buffers)

    monkeypatch.setattr(widgets.Widget, "_send", record)
    return log


@pytest.fixture
def panel(two_class, loop_factory):
    images, _ = two_class
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=1000)
    made = alw.Panel(loop)
    yield made
    made.close()


def label_by_key(panel, labels):
    """Press the current image's class, named as a key, on the image shown (as the browser does)."""
    panel.handle_key(
        {"key": CLASSES[int(labels[panel.current])], "image_id": panel.canvas.image_id}
    )


def test_no_widget_is_created_or_closed_per_label_over_1000_submits(loop_factory, monkeypatch):
    rng = np.random.default_rng(0)
    labels = np.arange(1001) % 2
    images = (labels[:, None, None] * 150 + rng.integers(0, 100, (1001, 4, 4))).astype(np.uint8)
    loop = loop_factory(alw.Dataset(images, CLASSES), CentroidLearner(2), query_size=10**6)
    panel = alw.Panel(loop)
    label_by_key(panel, labels)
    opened, closed = [], []
    monkeypatch.setattr(widgets.Widget, "open", lambda self: opened.append(self))
    original_close = widgets.Widget.close

    def close(self: widgets.Widget) -> None:
        # A widget closed already, as an earlier test's closed panel is collected, is no close
        if self.comm is not None:
            closed.append(self)
        original_close(self)

    monkeypatch.setattr(widgets.Widget, "close", close)
    live = set(widget_module._instances)
    for _ in range(1000):
        label_by_key(panel, labels)
    assert len(panel.dataset.labeled) == 1001
    assert (opened, closed) == ([], [])
    assert set(widget_module._instances) == live
    monkeypatch.undo()
    panel.close()


def test_undo_and_redo_create_and_close_no_widget(two_class, panel):
    _, labels = two_class
    label_by_key(panel, labels)
    live = set(widget_module._instances)
    for _ in range(20):
        panel.undo()
        panel.redo()
    assert set(widget_module._instances) == live


def test_a_label_sends_the_next_image_first_and_one_message_per_widget(two_class, panel, sent):
    _, labels = two_class
    label_by_key(panel, labels)
    sent.clear()
    label_by_key(panel, labels)
    senders = [type(w).__name__ for w, _ in sent]
    assert senders[0] == "Canvas"
    assert "image_id" in sent[0][1]["state"]
    before_ahead = senders[: senders.index("Canvas", 1)] if "Canvas" in senders[1:] else senders
    assert sorted(before_ahead) == sorted(set(before_ahead))  # one message each
    assert set(before_ahead) <= {"Canvas", "Info", "QueueStrip", "ToggleButtons"}


def test_the_next_image_is_sent_ahead_and_shown_without_its_pixels(two_class, sent, panel):
    _, labels = two_class
    ahead = [
        m["content"]["key"]
        for w, m in sent
        if m.get("method") == "custom" and m["content"].get("kind") == "image"
    ]
    assert len(ahead) == PREFETCH
    sent.clear()
    label_by_key(panel, labels)
    assert str(panel.current) in ahead
    load = next(
        m["state"] for w, m in sent if isinstance(w, alw.Canvas) and "image_id" in m["state"]
    )
    assert load["image_key"] == str(panel.current)
    assert not panel.canvas.image  # the browser has the pixels: none are sent again


def test_a_view_without_the_image_sent_ahead_gets_it_when_it_asks(two_class, panel, sent):
    _, labels = two_class
    label_by_key(panel, labels)
    key = panel.canvas.image_key
    sent.clear()
    panel.canvas._handle_custom_msg({"kind": "need", "key": key}, [])
    ((_, message),) = sent
    assert message["content"] | {"key": key} == message["content"]
    assert message["content"]["kind"] == "image"


def test_the_queue_strip_changes_with_one_message_per_label(two_class, panel, sent):
    _, labels = two_class
    label_by_key(panel, labels)
    sent.clear()
    label_by_key(panel, labels)
    strip = [m for w, m in sent if isinstance(w, type(panel.queue_strip))]
    assert len(strip) == 1
    assert 1 <= len(strip[0]["content"]["thumbs"]) <= 2


def test_a_click_on_a_thumbnail_opens_its_image(panel):
    third = panel.queue_strip.indices[2]
    panel.queue_strip._handle_custom_msg({"kind": "open", "index": third}, [])
    assert panel.current == third


def test_a_click_on_an_image_not_in_the_strip_is_refused(panel):
    shown = panel.current
    panel.queue_strip._handle_custom_msg({"kind": "open", "index": 10**6}, [])
    assert panel.current == shown


def test_a_submit_button_click_names_the_image_it_was_made_on(two_class, panel):
    first, shown_id = panel.current, panel.canvas.image_id
    panel.pick(0)
    click = {"kind": "action", "action": "submit", "image_id": shown_id}
    panel.canvas._handle_custom_msg(click, [])
    panel.canvas._handle_custom_msg(click, [])  # the second click of a double click
    assert panel.dataset.labeled.tolist() == [first]


def test_an_action_the_panel_does_not_know_is_refused(panel):
    panel.canvas._handle_custom_msg({"kind": "action", "action": "delete_all"}, [])
    assert "without a known action" in panel.canvas.rejected[-1]


def test_closing_the_panel_closes_every_widget_in_it(panel):
    inside = descendants(panel)
    panel.close()
    assert len(inside) > 20
    assert all(w.comm is None for w in inside)


def test_the_words_and_bar_of_a_label_go_in_one_message(two_class, panel, sent):
    _, labels = two_class
    sent.clear()
    label_by_key(panel, labels)
    info = [m for w, m in sent if w is panel.info]
    assert len(info) == 1
    parts = info[0]["state"]["parts"]
    assert "· 1 label ·" in parts["status"]
    assert f"image {panel.current}" in parts["header"]


def test_info_lines_read_back_what_was_set_inside_a_batch():
    info = alw.widget.info.Info()
    with info.batch():
        info.header.value = "<b>image 3</b>"
        info.progress.value = 2.0
        assert info.header.value == "<b>image 3</b>"
        assert info.parts["header"] == ""  # not sent yet
    assert info.parts["header"] == "<b>image 3</b>"
    assert info.progress.value == 1.0  # a fraction: clipped to [0, 1]
    np.testing.assert_equal(info.progress.description, "idle")


def test_the_browser_is_told_which_image_comes_next_and_which_keys_may_show_it(panel):
    assert panel.canvas.ahead_key == str(next(i for i in panel.loop.queue if i != panel.current))
    assert panel.canvas.swap_keys["s"] == "skip"
    assert panel.canvas.swap_keys["1"] == "label"  # the digit that picks the first class


def test_a_key_made_on_the_image_shown_early_labels_that_image(two_class, panel):
    _, labels = two_class
    first, second = panel.current, int(panel.canvas.ahead_key)
    made_on = panel.canvas.image_id  # both keys leave before Python answers the first
    # The first paints the second image early (js/src/panelkeys.js); the second is made on it.
    paints = [{"early": True, "painted": str(second)}, {"early": False}]
    for shown, paint in zip((first, second), paints, strict=True):
        key = CLASSES[int(labels[shown])]
        made = {"kind": "key", "key": key, "image_id": made_on, "shown": str(shown)}
        panel.canvas._handle_custom_msg(made | paint, [])
    assert panel.dataset.labeled.tolist() == sorted([first, second])


def test_a_key_shown_early_that_does_not_move_on_sends_the_browser_back(panel, sent):
    stale = {"kind": "key", "key": "s", "shown": "not-this-image", "early": True}
    panel.canvas._handle_custom_msg(stale, [])
    back = [m["content"] for w, m in sent if m.get("method") == "custom"]
    assert back[-1] == {"kind": "stay", "image_id": panel.canvas.image_id}


def test_a_key_that_moves_on_sends_no_stay(two_class, panel, sent):
    _, labels = two_class
    key = CLASSES[int(labels[panel.current])]
    panel.canvas._handle_custom_msg(
        {"kind": "key", "key": key, "shown": str(panel.current), "early": True}, []
    )
    kinds = [m["content"]["kind"] for w, m in sent if m.get("method") == "custom"]
    assert "stay" not in kinds


def test_a_view_displayed_later_gets_the_images_sent_ahead_before_it_was_there(panel, sent):
    ahead = {str(i) for i in panel._navigator.ahead}
    panel.canvas._handle_custom_msg({"kind": "fetch"}, [])
    again = {
        m["content"]["key"]
        for w, m in sent
        if m.get("method") == "custom" and m["content"].get("kind") == "image"
    }
    assert ahead
    assert ahead <= again


def test_the_status_says_how_many_images_are_still_to_rank(panel, monkeypatch):
    whole = panel.loop.ranking
    partial = alw.ranking.Ranking(
        whole.indices[:16],
        whole.scores[:16],
        whole.predicted[:16],
        model_version=1,
        data_version=whole.data_version,
        heuristic="margin",
        pending=380,
    )
    monkeypatch.setattr(alw.ActiveLoop, "ranking", property(lambda loop: partial))
    panel._news.ranked(partial)
    assert "380 images still to rank" in panel.status.value


PANEL_FORGED = {
    "need key a list": {"kind": "need", "key": [1]},
    "key nested deep": {"kind": "key", "key": nested(DEEP)},
    "action a list": {"kind": "action", "action": ["submit"]},
    "action's key a list": {"kind": "action", "action": "submit", "key": [1]},
    "kind nested deep": {"kind": nested(DEEP)},
}


def panel_state(panel):
    return panel.current, panel.dataset.labeled.tolist(), panel.loop.skipped


@pytest.mark.parametrize("case", sorted(PANEL_FORGED))
def test_a_forged_canvas_message_to_a_panel_is_refused_and_changes_nothing(panel, case):
    before = panel_state(panel)
    canvas = panel.canvas
    from_deep_stack(lambda: canvas._on_browser_msg(canvas, PANEL_FORGED[case], []))
    assert panel_state(panel) == before
    assert len(canvas.rejected) == 1


STRIP_FORGED = {
    "message nested deep": nested(DEEP),
    "kind nested deep": {"kind": nested(DEEP)},
    "kind a list": {"kind": ["open"]},
    "index nested deep": {"kind": "open", "index": nested(DEEP)},
    "index a list": {"kind": "open", "index": [1]},
    "index a str": {"kind": "open", "index": "1"},
}


@pytest.mark.parametrize("case", sorted(STRIP_FORGED))
def test_a_forged_queue_strip_message_is_refused_with_a_short_logged_reason(panel, case, caplog):
    before = panel_state(panel)
    strip = panel.queue_strip
    with caplog.at_level("WARNING", logger="al_widget"):
        from_deep_stack(lambda: strip._on_browser_msg(strip, STRIP_FORGED[case], []))
    assert panel_state(panel) == before
    (reason,) = strip.rejected
    assert len(reason) < 200
    assert reason in caplog.text
