"""The refusal of a message from the browser, and how a value it sent is shown in one.

Everything the browser sends is untrusted: an error message shows a value through `shown`,
which takes bounded time and stack whatever was sent (JSON nested hundreds deep, ints with more
digits than Python prints).
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence

SHOWN_CHARS = 80  # of a value from the browser in an error message


class ProtocolError(ValueError):
    """A message from the browser that the canvas refuses."""


class StaleEdit(ProtocolError):
    """An edit made on another load of the canvas than the one shown (its ``image_id``,
    `made_on`): another image, or the same one loaded again (an undo, new drafts)."""

    def __init__(self, message: str, made_on: int) -> None:
        super().__init__(message)
        self.made_on = made_on


def as_list(value: object, name: str) -> Sequence[object]:
    """`value`, refused unless it is a list (a JSON array) or a tuple."""
    if not isinstance(value, (list, tuple)):
        raise ProtocolError(f"{name} must be a list, got {type(value).__name__}")
    return value


_REPR = reprlib.Repr()
# A few levels and items of a container, so that showing one takes bounded time and stack
# whatever the browser sent (a list nested 900 deep overflows repr's stack in a kernel).
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 8
_REPR.maxstring = _REPR.maxother = SHOWN_CHARS
_REPR.maxlong = 2 * SHOWN_CHARS  # long enough to be cut like any other text


def shown(value: object) -> str:
    """A value from the browser as an error message shows it: its repr, bounded and cut short.

    Never raises: nesting, length and ints too long to print are all shown cut short.
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # an int with more digits than Python will print, or worse
        return f"<{type(value).__name__} too long to show>"
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."
