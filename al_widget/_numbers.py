"""What counts as an int, and as a number, in what users and files give (a bool is neither),
and the one check of an int parameter."""

from __future__ import annotations

from typing import Any, TypeGuard

import numpy as np


def is_int(value: Any) -> TypeGuard[int]:
    """Whether `value` is an int (Python's or NumPy's, which acts as one), not a bool.

    Parameters
    ----------
    value : object
        What a user or a file gave.
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: Any) -> TypeGuard[float]:
    """Whether `value` is an int or a float (Python's or NumPy's, which act as them), not a bool.

    Parameters
    ----------
    value : object
        What a user or a file gave.
    """
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


class NotAnIntError(ValueError, TypeError):
    """A value that is not an int where one is wanted.

    Both a ValueError (as the loop's settings refuse any bad value) and a TypeError (as
    scikit-learn refuses a parameter of the wrong type), as scikit-learn's own
    ``InvalidParameterError`` is, so that either kind of caller catches it.
    """


def check_int(
    name: str, value: Any, minimum: int | None = None, *, optional: bool = False, note: str = ""
) -> None:
    """Refuse a `value` that is not an int (a bool is not) >= `minimum`, or None when `optional`.

    Not an int raises `NotAnIntError`; an int below `minimum`, ValueError. Both say
    "{name} must be {what is allowed}, got {what was given}".

    Parameters
    ----------
    name : str
        The parameter's name, for the error.
    value : object
        What was given.
    minimum : int, optional
        The least value allowed; None: any int.
    optional : bool, default False
        Whether None is allowed.
    note : str, default ""
        Words the error adds after what is allowed, e.g. what None means.
    """
    if value is None and optional:
        return
    allowed = "an int" + ("" if minimum is None else f" >= {minimum}")
    allowed += (" or None" if optional else "") + (f" {note}" if note else "")
    if not is_int(value):
        raise NotAnIntError(f"{name} must be {allowed}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {allowed}, got {int(value)}")
