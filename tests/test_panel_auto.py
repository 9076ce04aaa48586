"""heuristic="auto" in the panel: the picker offers it, a chart shows each heuristic's weight,
and the queue strip and the header say which heuristic drew each image."""

import pytest

import al_widget as alw

from conftest import CentroidLearner

CLASSES = ["dark", "bright"]


@pytest.fixture
def auto_panel(two_class, loop_factory):
    images, labels = two_class
    loop = loop_factory(
        alw.Dataset(images, CLASSES), CentroidLearner(2), "margin", pool_sample=None, query_size=3
    )
    panel = alw.Panel(loop)
    yield panel, labels
    panel.close()


def label_rounds(panel, labels, rounds):
    """Label the shown image `query_size` times per round, as a user pressing its digit."""
    for _ in range(rounds):
        for _ in range(panel.loop.query_size):
            panel.handle_key({"key": str(int(labels[panel.current]) + 1)})
        assert panel.loop.wait(10)


@pytest.mark.parametrize("task", ["classify", "detect", "segment"])
def test_the_picker_offers_auto_for_every_task(gray_images, loop_factory, task):
    classes = CLASSES if task == "classify" else ["bg", "cat", "dog"]
    learner = CentroidLearner(2) if task == "classify" else None
    loop = loop_factory(alw.Dataset(gray_images, classes, task=task), learner, start=False)
    panel = alw.Panel(loop)
    assert "auto" in panel.heuristic_picker.options
    panel.close()


def test_choosing_auto_in_the_picker_makes_the_loop_draw_from_the_heuristics(auto_panel):
    panel, labels = auto_panel
    panel.heuristic_picker.value = "auto"
    assert panel.loop.heuristic == "auto"
    label_rounds(panel, labels, 2)
    assert panel.loop.ranking.drawn is not None


def test_the_weights_chart_appears_once_auto_has_ranked(auto_panel):
    panel, labels = auto_panel
    label_rounds(panel, labels, 1)
    assert panel.auto_chart.layout.display == "none"  # margin: nothing to show
    panel.heuristic_picker.value = "auto"
    label_rounds(panel, labels, 3)
    chart = panel.auto_chart.value
    assert panel.auto_chart.layout.display is None
    assert chart.startswith("<svg")
    for arm in ("random", "margin", "entropy"):
        assert arm in chart
    assert "estimated agreement gain per label: random " in chart


def test_the_strip_captions_name_the_heuristic_that_drew_each_image(auto_panel):
    panel, labels = auto_panel
    panel.heuristic_picker.value = "auto"
    label_rounds(panel, labels, 2)
    panel._navigator.refresh_queue()
    drawn = panel.loop.ranking.drawn
    shown = dict(zip(panel.queue_strip.indices, panel.queue_strip.captions, strict=True))
    named = [i for i in shown if i in drawn.picks]
    assert named
    for i in named:
        assert shown[i].startswith(f"#{i} · {drawn.picks[i].arm}\n")


def test_the_header_says_which_heuristic_drew_the_shown_image(auto_panel):
    panel, labels = auto_panel
    panel.heuristic_picker.value = "auto"
    label_rounds(panel, labels, 2)
    panel.skip()  # the next image shown comes from the new ranking
    i = panel.current
    pick = panel.loop.ranking.drawn.picks.get(i)
    assert pick is not None
    assert "auto drew from the" in panel.header.value
    assert f"{pick.arm}&#x27;s " in panel.header.value


def test_switching_the_picker_away_from_auto_and_back_keeps_the_weights(auto_panel):
    panel, labels = auto_panel
    panel.heuristic_picker.value = "auto"
    label_rounds(panel, labels, 3)
    learned = panel.loop.bandit
    panel.heuristic_picker.value = "margin"
    assert panel.loop.wait(10)
    panel.heuristic_picker.value = "auto"
    assert panel.loop.wait(10)
    assert panel.loop.bandit.log_weights == learned.log_weights
