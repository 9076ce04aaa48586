"""What every learner checks of a call before it predicts or embeds: the ``mc_samples`` asked for."""

from __future__ import annotations

from typing import Any

from ._params import check_int


def check_mc_samples(mc_samples: Any) -> None:
    """Refuse an `mc_samples` that is not an int (bools refused) of at least 1.

    Parameters
    ----------
    mc_samples : object
        The number of samples a prediction was asked for.

    Raises
    ------
    TypeError
        When it is not an int.
    ValueError
        When it is below 1.
    """
    check_int("mc_samples", mc_samples, 1)
