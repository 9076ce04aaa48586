"""The panel's and the canvas's keys and gestures, in one table, and what is derived from it.

The panel's help line, its key dispatch, the README's key table and the canvas's ``keymap`` trait
(which ``js/src/keymap.js`` looks keys up in) all come from ``BINDINGS``.

A key is written as a *chord*: ``KeyboardEvent.key`` with the modifiers before it, in the order
``Ctrl+Alt+Shift+``. Ctrl stands for Ctrl or Meta (Cmd). A letter is written in lower case and
takes ``Shift+`` when Shift is held; other printable keys already show Shift in their ``key``
(``Shift+[`` is ``{``), so they never take it. Named keys (``Enter``, ``Delete``) take it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Where = Literal["panel", "canvas"]

CANVAS_MODES = ("classify", "box", "mask", "instance")
"""The canvas modes (``Canvas.mode``); ``layout.MODE_OF_TASK`` gives each task's."""

DIGITS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")
"""The keys that pick classes 0 to 9, in order."""

DWELL_MS = 150
"""How long an image is on screen before it takes a key or click that labels or leaves it
(``Canvas.dwell_ms``, ``Panel(dwell_ms=...)``). A labeler answers an image some 200 ms or more
after it appears; a key sooner than this was meant for the image before (a double press, a key
the first one's early paint overtook, two keydowns a busy browser delivers together), never for
this one, which nobody has seen yet."""


@dataclass(frozen=True)
class Binding:
    """One key or mouse gesture and what it does.

    Parameters
    ----------
    label
        The key or gesture as the user reads it: ``"Ctrl+Z"``, ``"wheel"``.
    action
        The id the code dispatches on (unique in the table).
    where
        ``"panel"``: heard while the panel has keyboard focus (click it: its focus ring shows);
        ``"canvas"``: heard while the canvas has focus (click the image).
    description
        What it does, in a few words.
    keys
        The chords that trigger it (see the module docstring); empty for a mouse gesture.
    modes
        The canvas modes in which it acts.
    """

    label: str
    action: str
    where: Where
    description: str
    keys: tuple[str, ...] = ()
    modes: tuple[str, ...] = CANVAS_MODES


_BOX = ("box",)
_MASK = ("mask",)
_INSTANCE = ("instance",)
_PAINT = ("mask", "instance")
_DRAFTS = ("box", "instance")
_EDIT = ("box", "mask", "instance")
_THRESHOLD = _EDIT  # the modes whose drafts have a threshold (draftbar.py)

IDENTIFIED_ACTIONS = ("submit", "no_objects", "skip")
"""The panel's actions that move on to the next image: their keys and buttons name the image they
were made on (js/src/panelkeys.js's panelKeys adds its ``image_id``), so a second one for the
same image is ignored. A button of these carries the CSS class ``alw-act-<action>``."""

BINDINGS: tuple[Binding, ...] = (
    # The panel (js/src/panelkeys.js's panelKeys sends them while the panel has focus;
    # Panel.handle_key acts on them).
    Binding(
        "1 … 9, 0",
        "pick_class",
        "panel",
        "pick a class; in classify mode, label and submit",
        DIGITS,
    ),
    Binding("Enter", "submit", "panel", "submit", ("Enter",)),
    Binding(
        "N",
        "no_objects",
        "panel",
        "submit: no objects here (no boxes or objects, or all background, on purpose)",
        ("n", "Shift+n"),
        _EDIT,
    ),
    Binding("S", "skip", "panel", "skip the image", ("s", "Shift+s")),
    Binding(
        "Z",
        "undo_submit",
        "panel",
        "undo the last submit or skip (the image comes back to edit)",
        ("z",),
    ),
    Binding("Shift+Z", "redo_submit", "panel", "redo the submit or skip undone", ("Shift+z",)),
    Binding(
        ",",
        "lower_drafts",
        "panel",
        "lower the draft threshold: more drafts (by hand for the session)",
        (",",),
        _THRESHOLD,
    ),
    Binding(
        ".",
        "raise_drafts",
        "panel",
        "raise the draft threshold: fewer drafts (by hand for the session)",
        (".",),
        _THRESHOLD,
    ),
    # The canvas's keys (js/src/canvaskeys.js, through Canvas.keymap and js/src/keymap.js).
    Binding("Ctrl+Z", "undo", "canvas", "undo", ("Ctrl+z",), _EDIT),
    Binding("Ctrl+Y", "redo", "canvas", "redo", ("Ctrl+y", "Ctrl+Shift+y", "Ctrl+Shift+z"), _EDIT),
    Binding(
        "Del",
        "delete",
        "canvas",
        "delete the selected box or object (polygon: its last point)",
        ("Delete", "Backspace"),
        _EDIT,
    ),
    Binding(
        "A",
        "accept",
        "canvas",
        "accept the selected prediction (mask mode: the predicted mask)",
        ("a",),
        _EDIT,
    ),
    Binding("Shift+A", "accept_all", "canvas", "accept all predictions", ("Shift+a",), _DRAFTS),
    Binding(
        "Shift+Del",
        "reject_all",
        "canvas",
        "reject every prediction left",
        ("Shift+Delete", "Shift+Backspace"),
        _DRAFTS,
    ),
    Binding("B", "brush", "canvas", "brush", ("b",), _PAINT),
    Binding("E", "eraser", "canvas", "eraser", ("e",), _PAINT),
    Binding("P", "polygon", "canvas", "polygon", ("p",), _PAINT),
    Binding("[", "brush_smaller", "canvas", "smaller brush", ("[",), _PAINT),
    Binding("]", "brush_larger", "canvas", "larger brush", ("]",), _PAINT),
    Binding(
        "O",
        "new_object",
        "canvas",
        "new object: deselect, the next stroke starts one",
        ("o",),
        _INSTANCE,
    ),
    Binding(
        "Ctrl+]",
        "raise_object",
        "canvas",
        "bring the selected object forward",
        ("Ctrl+]",),
        _INSTANCE,
    ),
    Binding(
        "Ctrl+[",
        "lower_object",
        "canvas",
        "send the selected object backward",
        ("Ctrl+[",),
        _INSTANCE,
    ),
    Binding(
        "Esc", "cancel", "canvas", "cancel the stroke or polygon, or deselect", ("Escape",), _EDIT
    ),
    Binding("R", "reset_view", "canvas", "reset zoom and pan", ("r",)),
    Binding("space-drag", "pan", "canvas", "pan", (" ",)),
    # The canvas's mouse gestures (js/src/pointer.js).
    Binding("wheel", "zoom", "canvas", "zoom at the cursor"),
    Binding("middle-drag", "pan_drag", "canvas", "pan"),
    Binding(
        "drag", "draw_box", "canvas", "draw a box (inside a box too, if not selected)", modes=_BOX
    ),
    Binding(
        "click",
        "select",
        "canvas",
        "select a box or prediction; again: the next one under the pointer",
        modes=_BOX,
    ),
    Binding(
        "drag the selected box or a handle", "move_box", "canvas", "move or resize it", modes=_BOX
    ),
    Binding("double-click", "accept_click", "canvas", "accept a prediction", modes=_BOX),
    Binding("drag", "paint", "canvas", "paint (brush) or erase (eraser)", modes=_MASK),
    Binding(
        "click",
        "polygon_point",
        "canvas",
        "add a polygon point; the first point or a double-click fills it",
        modes=_MASK,
    ),
    Binding(
        "drag",
        "paint_object",
        "canvas",
        "brush: paint into the selected object, or a new one if none is; eraser: erase from it",
        modes=_INSTANCE,
    ),
    Binding(
        "click",
        "select_object",
        "canvas",
        "brush or eraser: select the object under the pointer (again: the next one under it); "
        "on empty space: none (the next stroke starts a new object)",
        modes=_INSTANCE,
    ),
    Binding(
        "click",
        "polygon_object",
        "canvas",
        "polygon: add a point; the first point, a double-click or Enter closes it as a new object",
        modes=_INSTANCE,
    ),
    Binding(
        "drag",
        "polygon_refine",
        "canvas",
        "polygon: a box, whose corners become the polygon to refine; on a point or an edge of the "
        "polygon: move the point, or add one there",
        modes=_INSTANCE,
    ),
)


def chord(event: Mapping[str, Any]) -> str:
    """Return the chord of a keydown event (``key``, ``ctrlKey``, ``metaKey``, ``altKey``, ``shiftKey``).

    Parameters
    ----------
    event
        The event's fields, as a browser ``KeyboardEvent`` names them.
    """
    key = str(event.get("key", ""))
    mods = []
    if event.get("ctrlKey") or event.get("metaKey"):
        mods.append("Ctrl")
    if event.get("altKey"):
        mods.append("Alt")
    is_letter = len(key) == 1 and key.lower() != key.upper()
    if event.get("shiftKey") and (is_letter or len(key) > 1):
        mods.append("Shift")
    if is_letter:
        key = key.lower()
    return "+".join([*mods, key])


def has_command_modifier(event: Mapping[str, Any]) -> bool:
    """Whether Ctrl, Meta or Alt was held: such keys are the canvas's, never the panel's."""
    return bool(event.get("ctrlKey") or event.get("metaKey") or event.get("altKey"))


def bindings(where: Where) -> tuple[Binding, ...]:
    """Return the bindings heard in the panel or in the canvas, keys and gestures."""
    return tuple(b for b in BINDINGS if b.where == where)


def action_for(event: Mapping[str, Any], where: Where, mode: str | None = None) -> str | None:
    """Return the action a keydown triggers in the panel or the canvas, or None.

    Parameters
    ----------
    event
        The keydown's fields (see ``chord``).
    where
        ``"panel"`` or ``"canvas"``.
    mode
        The canvas mode: a binding acts only in its modes. None: any mode.
    """
    pressed = chord(event)
    return next(
        (
            b.action
            for b in bindings(where)
            if pressed in b.keys and (mode is None or mode in b.modes)
        ),
        None,
    )


def class_index(key: str) -> int | None:
    """Return the class a digit key picks (``"1"`` is class 0, ``"0"`` class 9), or None."""
    return DIGITS.index(key) if key in DIGITS else None


def command_chords(mode: str) -> frozenset[str]:
    """Return the chords of the commands that act in canvas mode `mode`, in the panel or the
    canvas (every binding but the class keys): no class name takes one of them.

    Parameters
    ----------
    mode
        The canvas mode (``CANVAS_MODES``).
    """
    return frozenset(
        k for b in BINDINGS if b.action != "pick_class" and mode in b.modes for k in b.keys
    )


def named_class_keys(
    classes: Sequence[str], choices: Sequence[int], mode: str
) -> tuple[dict[str, int], list[str]]:
    """Return the classes by the chord of the key that picks each (``class_chord``: ``"a"`` for
    a class named ``"a"``, ``"Shift+a"`` for ``"A"``, as in EMNIST; ``"3"``; the browser sends
    the keys of one character), and the classes named as a command key, which get no key.

    A command key of the table always does its command: a class named ``"z"``, ``"Z"`` or
    ``"Enter"`` never takes Z (undo), Shift+Z (redo) or Enter (submit) in the mode where they
    act; it is clicked, or picked by its digit. Returns ``({chord: class_id}, [names of classes
    without their key])``.

    Parameters
    ----------
    classes
        The dataset's classes.
    choices
        The class ids the picker offers, in order.
    mode
        The canvas mode (``CANVAS_MODES``).
    """
    commands = command_chords(mode)
    named: dict[str, int] = {}
    clashing: list[str] = []
    for k in choices:
        name = classes[k]
        if class_chord(name) in commands or name in commands:
            clashing.append(name)
        else:
            named[class_chord(name)] = k
    return named, clashing


def class_chord(name: str) -> str:
    """Return the chord of the key that picks the class named `name` (``chord``): the key of
    that name, typed as it is written, so an upper-case letter takes Shift (``"A"``:
    ``"Shift+a"``; ``"a"``: ``"a"``).

    Parameters
    ----------
    name
        A class's name.
    """
    return chord({"key": name, "shiftKey": len(name) == 1 and name != name.lower()})


def panel_chords() -> list[str]:
    """Return the chords the panel acts on (digits included), which the browser sends it."""
    return [k for b in bindings("panel") for k in b.keys]


def digit_chords(n: int) -> list[str]:
    """The chords of the digits that pick the first `n` classes."""
    return list(DIGITS[:n])


def swap_chords(mode: str) -> dict[str, str]:
    """The panel chords after which the browser may show the next image early, and their action
    (see ``canvas.SWAP_ACTIONS``); class keys in classify mode are added by the panel."""
    found: dict[str, str] = {}
    for binding in bindings("panel"):
        if binding.action in IDENTIFIED_ACTIONS and (not binding.modes or mode in binding.modes):
            # In classify mode the browser swaps on a submit only while the picker shows a class
            # (the model's, or the one picked): js/src/panelglue.js's mayMoveEarly reads it.
            found |= dict.fromkeys(binding.keys, binding.action)
    return found


def canvas_keymap() -> list[dict[str, Any]]:
    """Return the canvas's keys as the ``Canvas.keymap`` trait sends them to the browser."""
    return [
        {"action": b.action, "keys": list(b.keys), "modes": list(b.modes), "label": b.label}
        for b in bindings("canvas")
        if b.keys
    ]


def _where(binding: Binding) -> str:
    if binding.where == "panel":
        if binding.modes == CANVAS_MODES:
            return "panel (click it)"
        return f"panel, {' / '.join(binding.modes)} mode"
    if binding.modes == CANVAS_MODES:
        return "canvas"
    return f"canvas, {' / '.join(binding.modes)} mode"


def help_html(mode: str | None = None) -> str:
    """Return the panel's one-line key help, as HTML.

    Parameters
    ----------
    mode
        Show only the canvas bindings that act in this canvas mode; None shows them all.
    """

    def part(where: Where) -> str:
        return " · ".join(
            f"{html.escape(b.label)}: {html.escape(b.description)}"
            for b in bindings(where)
            if mode is None or mode in b.modes
        )

    return f"<b>keys</b>: {part('panel')} · <b>in the canvas</b>: {part('canvas')}"


LABELING_RULES = (
    (
        "a labeling key or button: 1 … 0 in classify mode, Enter, N, S, Submit, No objects, Skip",
        f"taken only once its image has been on screen for the dwell ({DWELL_MS} ms, "
        "`Panel(dwell_ms=...)`); a sooner one is dropped with a brief cue and counted "
        "(`panel.dropped_keys`), never applied to another image",
    ),
    ("a key held down", "acts once: its auto-repeats never label"),
)
"""How the panel takes labeling keys (js/src/panelkeys.js's panelKeys and createGate), for the
README's table."""


def markdown_table() -> str:
    """Return the README's table of keys and gestures, as Markdown."""
    rows = ["| where | key or gesture | what it does |", "| --- | --- | --- |"]
    for b in BINDINGS:
        label = b.label.replace("|", "\\|")
        rows.append(f"| {_where(b)} | {label} | {b.description} |")
    rows += [f"| panel (click it) | {key} | {rule} |" for key, rule in LABELING_RULES]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
