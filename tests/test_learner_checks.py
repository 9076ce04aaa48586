"""The checks every learner makes of a call before it predicts or embeds, one checker each."""

import numpy as np
import pytest

from al_widget.learners._checks import check_mc_samples


@pytest.mark.parametrize("mc_samples", [1, 8, np.int64(3)])
def test_mc_samples_of_at_least_one_pass(mc_samples):
    check_mc_samples(mc_samples)


@pytest.mark.parametrize("mc_samples", [0, -2, np.int64(0)])
def test_mc_samples_below_one_are_a_value_error_naming_them(mc_samples):
    with pytest.raises(ValueError, match=rf"mc_samples must be at least 1, got {mc_samples}"):
        check_mc_samples(mc_samples)


@pytest.mark.parametrize("mc_samples", [2.0, "4", None, True])
def test_mc_samples_that_are_not_an_int_are_a_type_error_naming_them(mc_samples):
    with pytest.raises(TypeError, match=r"mc_samples must be an int, got"):
        check_mc_samples(mc_samples)
