"""Lane simulators take parameters by name: ``{name: number or one value per lane}``.

Oracle: the positional (lanes, P) array in the system's own order (the fast path underneath) and,
for the map itself, a NumPy loop of the same update.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from gradflow.numerics import LaneSimulator
from gradflow.numerics.drivers.lanes import lane_parameters
from gradflow.theory.errors import ParameterError
from gradflow.theory.flow import Flow, Map

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset

x = sp.Symbol("x", real=True)
rate, shift, scale = sp.symbols("rate shift scale", real=True)
# parameters deliberately not in alphabetical order: the system's order is what counts
DAMPED = Map((x,), (x + rate * (shift - x) * scale,), (shift, rate, scale), name="damped step")
RELAX = Flow((x,), (rate * (shift - x),), (shift, rate), name="relaxation")


@pytest.fixture(scope="module")
def damped():
    return LaneSimulator(DAMPED)


def test_named_parameters_equal_the_positional_array(damped):
    lanes = 5
    shifts = np.linspace(-1.0, 1.0, lanes)
    named = damped.iterate(np.zeros((lanes, 1)), {"rate": 0.3, "scale": 0.5, "shift": shifts}, 20)
    positional = damped.iterate(np.zeros((lanes, 1)), np.c_[shifts, np.full(lanes, 0.3), np.full(lanes, 0.5)], 20)
    np.testing.assert_array_equal(named.states, positional.states)
    # and both are the map itself
    m = np.zeros(lanes)
    for _ in range(20):
        m = m + 0.3 * (shifts - m) * 0.5
    np.testing.assert_allclose(named.states[-1, :, 0], m, rtol=1e-14, atol=1e-15)


def test_named_parameters_of_a_flow():
    sim = LaneSimulator(RELAX)
    times = np.array([0.0, 1.0, 2.0])
    traj = sim.integrate(np.zeros((2, 1)), {"rate": [1.0, 2.0], "shift": 3.0}, times, rtol=1e-12, atol=1e-14)
    exact = 3.0 * (1 - np.exp(-np.outer(times, [1.0, 2.0])))
    np.testing.assert_allclose(traj.states[..., 0], exact, rtol=1e-9, atol=1e-12)


def test_lane_parameters_order_and_broadcast():
    q = lane_parameters(DAMPED, {"scale": [1.0, 2.0, 3.0], "shift": 7.0, "rate": 0.5}, 3)
    np.testing.assert_array_equal(q, [[7.0, 0.5, 1.0], [7.0, 0.5, 2.0], [7.0, 0.5, 3.0]])


@pytest.mark.parametrize("params, needle", [
    ({"rate": 0.3, "scale": 0.5}, "shift: must be given"),
    ({"rate": 0.3, "scale": 0.5, "shift": 0.0, "eta": 1.0}, "eta: must be a parameter of damped step"),
    ({"rate": [0.3, 0.2], "scale": 0.5, "shift": 0.0}, "rate: must be a number or one value per lane (3)"),
    ({"rate": np.nan, "scale": 0.5, "shift": 0.0}, "params: must be finite numbers"),
])
def test_bad_named_parameters_name_the_parameter(damped, params, needle):
    with pytest.raises(ParameterError) as error:
        damped.iterate(np.zeros((3, 1)), params, 2)
    assert needle in str(error.value)
