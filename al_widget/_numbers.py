"""What counts as an int, and as a number, in what users and files give: a bool is neither."""

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
