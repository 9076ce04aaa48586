"""The key table: one source for the panel's dispatch, its help line, the README and the canvas."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from al_widget.widget import keys

REPO = Path(__file__).resolve().parents[1]
README_TABLE = re.compile(r"<!-- keys:[^\n]*-->\n(.*?)\n<!-- /keys -->", re.S)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"key": "a"}, "a"),
        ({"key": "A", "shiftKey": True}, "Shift+a"),
        ({"key": "A"}, "a"),  # Caps Lock: the letter, not Shift
        ({"key": "z", "ctrlKey": True}, "Ctrl+z"),
        ({"key": "z", "metaKey": True}, "Ctrl+z"),
        ({"key": "Z", "ctrlKey": True, "shiftKey": True}, "Ctrl+Shift+z"),
        ({"key": "1", "altKey": True}, "Alt+1"),
        ({"key": "{", "shiftKey": True}, "{"),  # Shift is in the key already
        ({"key": " ", "shiftKey": True}, " "),
        ({"key": "Enter", "shiftKey": True}, "Shift+Enter"),
        ({"key": "Delete"}, "Delete"),
    ],
)
def test_chord_writes_modifiers_then_the_key(event: dict[str, object], expected: str) -> None:
    assert keys.chord(event) == expected


def test_action_ids_are_unique() -> None:
    actions = [b.action for b in keys.BINDINGS]
    assert len(actions) == len(set(actions))


def test_no_chord_is_bound_twice() -> None:
    chords = [k for b in keys.BINDINGS for k in b.keys]
    assert len(chords) == len(set(chords))


def test_panel_keys_have_no_command_modifier() -> None:
    for b in keys.bindings("panel"):
        for chord in b.keys:
            assert not chord.startswith(("Ctrl+", "Alt+")), b


def test_every_binding_acts_in_a_known_mode() -> None:
    for b in keys.BINDINGS:
        assert b.modes, b
        assert set(b.modes) <= set(keys.CANVAS_MODES), b


@pytest.mark.parametrize(
    ("event", "action"),
    [
        ({"key": "Enter"}, "submit"),
        ({"key": "s"}, "skip"),
        ({"key": "S", "shiftKey": True}, "skip"),
        ({"key": "z"}, "undo_submit"),
        ({"key": "Z", "shiftKey": True}, "redo_submit"),
        ({"key": "7"}, "pick_class"),
        ({"key": "z", "ctrlKey": True}, None),
        ({"key": "b"}, None),
    ],
)
def test_action_for_the_panel(event: dict[str, object], action: str | None) -> None:
    assert keys.action_for(event, "panel") == action


def test_action_for_the_canvas() -> None:
    assert keys.action_for({"key": "z", "ctrlKey": True}, "canvas") == "undo"
    assert keys.action_for({"key": "Z", "ctrlKey": True, "shiftKey": True}, "canvas") == "redo"
    assert keys.action_for({"key": "A", "shiftKey": True}, "canvas") == "accept_all"
    assert keys.action_for({"key": "Enter"}, "canvas") is None


def test_digits_pick_classes_in_keyboard_order() -> None:
    assert [keys.class_index(d) for d in "1234567890"] == list(range(10))
    assert keys.class_index("a") is None


def test_canvas_keymap_holds_the_canvas_keys_as_json() -> None:
    keymap = keys.canvas_keymap()
    assert json.loads(json.dumps(keymap)) == keymap
    assert {b["action"] for b in keymap} == {b.action for b in keys.bindings("canvas") if b.keys}
    undo = {
        "action": "undo",
        "keys": ["Ctrl+z"],
        "modes": ["box", "mask", "instance"],
        "label": "Ctrl+Z",
    }
    assert undo in (keymap)


def test_every_canvas_key_action_is_implemented_in_the_js() -> None:
    source = (REPO / "js" / "src" / "canvaskeys.js").read_text()
    table = source[source.index("const actions = {") :]
    table = table[: table.index("\n  };")]
    for b in keys.canvas_keymap():
        assert re.search(rf"^    {b['action']}\b", table, re.M), b["action"]


def test_help_line_names_every_binding() -> None:
    text = keys.help_html()
    for b in keys.BINDINGS:
        assert f"{b.label}: {b.description}" in text


def test_help_line_for_a_mode_leaves_out_the_other_modes_bindings() -> None:
    text = keys.help_html("box")
    assert "Shift+A: accept all predictions" in text
    assert "B: brush" not in text
    assert "Enter: submit" in text


def test_readme_key_table_is_the_one_keys_renders() -> None:
    found = README_TABLE.search((REPO / "README.md").read_text())
    assert found, "README.md has no <!-- keys --> ... <!-- /keys --> table"
    assert found.group(1) == keys.markdown_table(), (
        "README.md's key table is out of date: paste `python -m al_widget.widget.keys` into it"
    )


def test_the_panel_chords_are_the_panel_bindings_keys() -> None:
    chords = keys.panel_chords()
    assert {"1", "0", "Enter", "s", "z", "Shift+z", "n"} <= set(chords)
    assert not any(c.startswith("Ctrl+") for c in chords)


def test_named_class_keys_leave_a_command_key_to_its_command_in_its_mode():
    named, keyless = keys.named_class_keys(["n", "s", "b"], [0, 1, 2], "box")
    assert named == {"b": 2}
    assert keyless == ["n", "s"]


def test_named_class_keys_give_an_upper_case_letter_shift_and_its_letter():
    named, keyless = keys.named_class_keys(["A", "a", "Z"], [0, 1, 2], "classify")
    assert named == {"Shift+a": 0, "a": 1}
    assert keyless == ["Z"]  # Shift+Z redoes


def test_named_class_keys_give_a_key_that_is_a_command_only_in_other_modes():
    named, keyless = keys.named_class_keys(["n", "b"], [0, 1], "classify")
    assert named == {"n": 0, "b": 1}
    assert keyless == []
