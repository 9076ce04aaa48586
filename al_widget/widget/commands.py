"""What a key pressed over the panel asks for, by the key table (``keys.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import keys


def key_command(
    event: Mapping[str, Any], mode: str, class_for_key: Callable[[str], int | None]
) -> tuple[str | None, int | None]:
    """What a key pressed over the panel asks for: ``(command, class)``.

    The command is ``"label"`` (a class key in classify mode: label and submit), ``"pick"``
    (a class key in another mode: pick the class), an action of the panel's key table
    (``"submit"``, ``"no_objects"``, ``"skip"``, ``"undo_submit"``, ``"redo_submit"``,
    ``"lower_drafts"``, ``"raise_drafts"``), or None.

    Parameters
    ----------
    event : mapping
        The keydown's fields (``key``, ``shiftKey``, ...); ``action``, when the browser names
        it (a button), decides.
    mode : str
        The canvas mode (``keys.CANVAS_MODES``): a binding acts only in its modes.
    class_for_key : callable
        The class a key's chord (``keys.chord``) picks, or None (``Editor.class_for_key``).
    """
    class_id = class_for_key(keys.chord(event))
    if class_id is not None:
        return ("label" if mode == "classify" else "pick"), class_id
    return event.get("action") or keys.action_for(event, "panel", mode), None
