"""Classes named like a key: the key picks the class, unless it is a command key (S, Z, Enter,
N...), which keeps its command; such a class is clicked or picked by its digit."""

import html
import string

import numpy as np
import pytest

import al_widget as alw

from conftest import CentroidLearner

LETTERS = list(string.ascii_lowercase)  # as in EMNIST letters


@pytest.fixture
def panels(loop_factory):
    made = []

    def make(classes, task="classify"):
        images = np.random.default_rng(0).integers(0, 255, (10, 8, 8)).astype(np.uint8)
        learner = CentroidLearner(len(classes)) if task == "classify" else None
        loop = loop_factory(alw.Dataset(images, classes, task=task), learner, start=False)
        panel = alw.Panel(loop)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()


def press(panel, key, **fields):
    panel.handle_key({"key": key, "image_id": panel.canvas.image_id, **fields})


def test_z_undoes_the_last_submit_with_a_class_named_z(panels):
    panel = panels(LETTERS)
    first = panel.current
    press(panel, "1")
    second = panel.current
    press(panel, "z")
    assert panel.dataset.annotation(first) is None  # undone
    assert panel.dataset.annotation(second) is None  # not labeled "z"
    assert panel.current == first


def test_s_skips_with_a_class_named_s(panels):
    panel = panels(LETTERS)
    shown = panel.current
    press(panel, "s")
    assert shown in panel.loop.skipped
    assert panel.dataset.annotation(shown) is None


def test_enter_submits_the_picked_class_with_a_class_named_enter(panels):
    panel = panels(["Enter", "cat"])
    shown = panel.current
    panel.pick(1)
    press(panel, "Enter")
    assert panel.dataset.annotation(shown) == alw.Label("cat")


def test_n_stores_no_objects_in_detection_with_a_class_named_n(panels):
    panel = panels(["n", "cat"], task="detect")
    shown = panel.current
    press(panel, "n")
    stored = panel.dataset.annotation(shown)
    assert isinstance(stored, alw.Boxes)
    assert len(stored) == 0  # "no objects", not a pick of class "n"


def test_a_letter_class_that_is_no_command_key_is_labeled_by_its_key(panels):
    panel = panels(LETTERS)
    shown = panel.current
    press(panel, "b")
    assert panel.dataset.annotation(shown) == alw.Label("b")


def test_a_class_named_as_a_command_key_is_still_labeled_by_its_digit(panels):
    panel = panels(["z", "cat"])
    shown = panel.current
    press(panel, "1")
    assert panel.dataset.annotation(shown) == alw.Label("z")


def test_the_panel_names_the_classes_named_as_a_command_key_when_it_opens(panels):
    panel = panels(LETTERS)
    notice = html.unescape(panel.notice.value)
    assert "classes 'r', 's', 'z' are named as a key of the panel" in notice


def test_the_browser_sends_no_command_key_as_a_class_label(panels):
    panel = panels(LETTERS)
    assert panel.canvas.swap_keys.get("z") != "label"
    assert panel.canvas.swap_keys["s"] == "skip"
    assert panel.canvas.swap_keys["b"] == "label"


def test_an_upper_case_letter_class_is_labeled_by_shift_and_its_letter(panels):
    panel = panels(list(string.ascii_uppercase))  # as in EMNIST's upper-case classes
    shown = panel.current
    press(panel, "B", shiftKey=True)
    assert panel.dataset.annotation(shown) == alw.Label("B")


def test_the_browser_sends_shift_and_the_letter_of_an_upper_case_class_as_a_label(panels):
    panel = panels(list(string.ascii_uppercase))
    assert "Shift+b" in panel.canvas.panel_keys
    assert panel.canvas.swap_keys["Shift+b"] == "label"
    assert "b" not in panel.canvas.panel_keys


def test_both_cases_of_a_letter_each_label_their_own_class(panels):
    panel = panels(["A", "a"])
    first = panel.current
    press(panel, "a")
    second = panel.current
    press(panel, "A", shiftKey=True)
    assert panel.dataset.annotation(first) == alw.Label("a")
    assert panel.dataset.annotation(second) == alw.Label("A")


def test_shift_z_redoes_with_a_class_named_upper_case_z(panels):
    panel = panels(["Z", "cat"])
    first = panel.current
    press(panel, "2")
    press(panel, "z")
    press(panel, "Z", shiftKey=True)
    assert panel.dataset.annotation(first) == alw.Label("cat")  # redone, not labeled "Z"
