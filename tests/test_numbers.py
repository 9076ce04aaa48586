"""check_int: the one check of an int parameter, for the loop's settings and the learners alike."""

import numpy as np
import pytest

from al_widget._numbers import NotAnIntError, check_int


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(1)])
def test_an_int_at_or_above_the_minimum_passes(value):
    check_int("n", value, 1)


@pytest.mark.parametrize("value", [-5, 0, np.int32(-1)])
def test_without_a_minimum_any_int_passes(value):
    check_int("seed", value)


def test_none_passes_when_optional():
    check_int("budget", None, 0, optional=True)


@pytest.mark.parametrize("value", [2.5, 3.0, "3", True, np.bool_(True), None, [1]])
def test_what_is_not_an_int_is_refused_as_both_a_value_error_and_a_type_error(value):
    with pytest.raises(NotAnIntError) as error:
        check_int("n", value, 1)
    assert isinstance(error.value, ValueError)
    assert isinstance(error.value, TypeError)
    assert str(error.value) == f"n must be an int >= 1, got {value!r}"


@pytest.mark.parametrize("value", [0, -3, np.int64(0)])
def test_an_int_below_the_minimum_is_a_value_error_only(value):
    with pytest.raises(ValueError, match=rf"^n must be an int >= 1, got {int(value)}$") as error:
        check_int("n", value, 1)
    assert not isinstance(error.value, TypeError)


def test_the_error_says_none_is_allowed_when_optional():
    with pytest.raises(ValueError, match=r"^rounds must be an int >= 0 or None, got -1$"):
        check_int("rounds", -1, 0, optional=True)


def test_without_a_minimum_the_error_asks_for_an_int():
    with pytest.raises(TypeError, match=r"^seed must be an int, got 1.5$"):
        check_int("seed", 1.5)


def test_a_note_follows_what_is_allowed():
    with pytest.raises(
        ValueError, match=r"^pool_sample must be an int >= 1 or None \(score all\), got 0$"
    ):
        check_int("pool_sample", 0, 1, optional=True, note="(score all)")
