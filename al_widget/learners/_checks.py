"""What every learner checks of a call before it predicts or embeds: that it is fitted, and the
``mc_samples`` asked for."""

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


def check_fitted(learner: object, attribute: str) -> Any:
    """The fitted `attribute` of `learner` (its network, say), refused while it is not fitted.

    Parameters
    ----------
    learner : object
        The learner asked to predict or embed.
    attribute : str
        The fitted attribute it needs, set by its ``fit`` (``"net_"``, ``"head_"``, ...).

    Returns
    -------
    object
        The attribute's value.

    Raises
    ------
    RuntimeError
        When the attribute is missing or None: the learner has not been fitted.
    """
    value = getattr(learner, attribute, None)
    if value is None:
        raise RuntimeError(f"this {type(learner).__name__} is not fitted yet: call fit first")
    return value
