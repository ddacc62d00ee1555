"""Recording grids: which steps and times a simulation stores."""

import numpy as np
import pytest

from gradflow.numerics.grids import log_steps, log_times, record_steps
from gradflow.theory.errors import ParameterError


@pytest.mark.parametrize("n", [0, 1, 7, 100_000])
def test_every_step_while_short(n):
    np.testing.assert_array_equal(record_steps(n), np.arange(n + 1))


@pytest.mark.parametrize("n", [100_001, 10**7])
def test_log_spaced_beyond(n):
    steps = record_steps(n)
    assert steps[0] == 0 and steps[-1] == n and np.all(np.diff(steps) > 0)
    decades = np.log10(n)
    assert len(steps) <= 200 * decades + 4  # about 200 a decade, not every step
    np.testing.assert_array_equal(steps, log_steps(n, 200))


def test_grids_refuse_bad_lengths():
    with pytest.raises(ParameterError, match="n_steps"):
        record_steps(-1)
    with pytest.raises(ParameterError, match="t_end"):
        log_times(float("inf"))
