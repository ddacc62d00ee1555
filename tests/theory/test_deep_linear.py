"""Symbolic claims of the two-layer linear network: simplification to 0 and random points."""

import dataclasses

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.theory.derivation import Derivation
from gradflow.theory.flow import ClosureError, Flow, Map
from gradflow.theory.laws import Law
from gradflow.theory.model import MatrixFlow, Model
from gradflow.theory.models import deep_linear as dl
from gradflow.theory.solve import Solution

DOC = dl.derive()
a, b, s, s0, sigma, eta = dl.a, dl.b, dl.s, dl.s0, dl.sigma, dl.eta
t = DOC.strength_flow.time

sigmas = st.floats(0.05, 20.0)
fractions = st.floats(1e-6, 0.9)  # s0 / sigma


# --- matrix model -----------------------------------------------------------------------------

@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_in=st.integers(1, 4), h=st.integers(1, 4), n_out=st.integers(1, 4))
def test_matrix_gradients_match_finite_differences_of_the_loss(seed, n_in, h, n_out):
    mdl = DOC.model
    rng = np.random.default_rng(seed)
    W1, W2, C = rng.standard_normal((h, n_in)), rng.standard_normal((n_out, h)), rng.standard_normal((n_out, n_in))
    # NumPy's printer has no Trace: evaluate c * Trace(M) as c * np.trace(M)
    coefficient, trace = mdl.loss().as_coeff_Mul()
    inner = sp.lambdify((dl.W1, dl.W2, dl.C), trace.arg, modules="numpy")

    def loss(*arrays):
        return float(coefficient) * np.trace(inner(*arrays))

    for index, parameter in enumerate((dl.W1, dl.W2)):
        gradient = sp.lambdify((dl.W1, dl.W2, dl.C), DOC.gradients[parameter], modules="numpy")(W1, W2, C)
        arrays = [W1, W2]
        step = 1e-6
        numeric = np.zeros_like(arrays[index])
        for entry in np.ndindex(numeric.shape):
            plus, minus = [x.copy() for x in arrays], [x.copy() for x in arrays]
            plus[index][entry] += step
            minus[index][entry] -= step
            numeric[entry] = (float(loss(*plus, C)) - float(loss(*minus, C))) / (2 * step)
        assert np.allclose(gradient, numeric, rtol=1e-6, atol=1e-6)


def test_mode_form_is_invariant_and_moves_like_the_lane():
    assert DOC.mode_form_verified
    assert sp.expand(DOC.mode_velocities[dl.W1] - DOC.lane_flow.rhs[0]) == 0
    assert sp.expand(DOC.mode_velocities[dl.W2] - DOC.lane_flow.rhs[1]) == 0
    assert DOC.mode_form_numeric_error < 1e-12


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sizes=st.tuples(st.integers(3, 6), st.integers(3, 6), st.integers(3, 6)),
       modes=st.integers(1, 3))
def test_mode_form_numerically_at_random_frames(seed, sizes, modes):
    assert dl.mode_form_numeric_error(DOC.model, seed, sizes, modes) < 1e-12


def test_mode_form_detects_a_term_outside_the_frame():
    assert dl._core_between(dl.R * dl.A * dl.V.T + dl.U * dl.B * dl.R.T, dl.R, dl.V.T) is None
    core = dl._core_between(dl.R * dl.A * dl.B * dl.V.T - 2 * dl.R * dl.Sigma * dl.V.T, dl.R, dl.V.T)
    assert sp.expand(dl._diagonal_to_scalar(core) - (a * b - 2 * sigma)) == 0
    with pytest.raises(ValueError):
        dl._diagonal_to_scalar(dl.U.T * dl.U)


# --- one mode ---------------------------------------------------------------------------------

def test_lane_flow_is_minus_the_gradient_of_the_lane_loss():
    lane = DOC.lane_flow
    assert lane.states == (a, b) and lane.params == (sigma,)
    assert sp.expand(lane.rhs[0] - b * (sigma - a * b)) == 0  # oracle typed in by hand
    assert sp.expand(lane.rhs[1] - a * (sigma - a * b)) == 0


def test_conservation_of_the_imbalance():
    lane = DOC.lane_flow
    assert DOC.conserved_rate == 0
    assert lane.time_derivative(a ** 2 + b ** 2) != 0  # the check can fail


@settings(max_examples=25, deadline=None)
@given(x=st.floats(-5, 5), y=st.floats(-5, 5), q=sigmas)
def test_conservation_at_random_points(x, y, q):
    f, g = (float(r.subs({a: x, b: y, sigma: q})) for r in DOC.lane_flow.rhs)
    assert 2 * x * f - 2 * y * g == pytest.approx(0.0, abs=1e-9 * (1 + abs(x * f) + abs(y * g)))


def test_balanced_reduction_is_closed_and_logistic():
    assert sp.expand(DOC.strength_flow.rhs[0] - 2 * s * (sigma - s)) == 0
    assert DOC.strength_flow.params == (sigma,)


@settings(max_examples=25, deadline=None)
@given(x=st.floats(1e-4, 5), q=sigmas)
def test_strength_flow_is_the_lane_flow_on_the_balanced_line(x, q):
    root = np.sqrt(x)
    f, g = (float(r.subs({a: root, b: root, sigma: q})) for r in DOC.lane_flow.rhs)
    # d(ab)/dt = b da/dt + a db/dt by the chain rule, evaluated numerically
    reduced = float(DOC.strength_flow.rhs[0].subs({s: x, sigma: q}))
    assert root * f + root * g == pytest.approx(reduced, abs=1e-12 * x * (x + q))  # scale of the terms


def test_reduction_without_balance_is_not_closed():
    with pytest.raises(ClosureError):
        DOC.lane_flow.reduce({s: a * b}, {a: s / b})


@settings(max_examples=25, deadline=None)
@given(x=st.floats(1e-4, 5), q=sigmas, step=st.floats(1e-4, 0.5))
def test_strength_map_is_the_lane_map_on_the_balanced_line(x, q, step):
    lane_map, strength_map = DOC.lane_map, DOC.strength_map
    root = np.sqrt(x)
    stepped = [float(u.subs({a: root, b: root, sigma: q, eta: step})) for u in lane_map.update]
    reduced = float(strength_map.update[0].subs({s: x, sigma: q, eta: step}))
    scale = root * (1 + step * (q + x))  # size of the terms; the step can land near 0
    assert stepped[0] == pytest.approx(stepped[1], rel=1e-12, abs=1e-14 * scale)  # balance kept by GD
    assert stepped[0] * stepped[1] == pytest.approx(reduced, rel=1e-10, abs=1e-13 * scale ** 2)


# --- closed form and law ----------------------------------------------------------------------

def test_logistic_solves_the_ode_symbolically():
    solution = DOC.solution
    assert DOC.implicit_residual == 0 and DOC.explicit_residual == 0
    logistic = DOC.logistic
    assert sp.simplify(sp.diff(logistic, t) - 2 * logistic * (sigma - logistic)) == 0
    assert sp.simplify(logistic.subs(t, 0) - s0) == 0
    expected = sigma * s0 * sp.exp(2 * sigma * t) / (sigma + s0 * (sp.exp(2 * sigma * t) - 1))
    assert sp.simplify(logistic - expected) == 0
    assert sp.simplify(solution.explicit - logistic) == 0  # the decaying form of the same function


def test_logistic_stays_finite_where_exp_2_sigma_t_overflows():
    # 2 sigma t = 2000: e^{2 sigma t} is inf in float64; the derived form must give sigma, not inf / inf
    f = sp.lambdify((t, sigma, s0), DOC.logistic, "numpy")
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is the point
        values = f(np.array([0.0, 1.0, 200.0]), 5.0, 1e-8)
    assert values[0] == pytest.approx(1e-8, rel=1e-12) and values[2] == pytest.approx(5.0, rel=1e-15)
    assert float(sp.N(DOC.solution.explicit.subs({t: 1, sigma: 5, s0: sp.Rational(1, 10 ** 8)}), 30)) == \
        pytest.approx(values[1], rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(q=sigmas, fraction=fractions, time=st.floats(0.0, 20.0))
def test_logistic_solves_the_ode_at_random_points(q, fraction, time):
    f = sp.lambdify((t, sigma, s0), DOC.logistic, modules="mpmath")
    mpmath.mp.dps = 40
    start = mpmath.mpf(q) * mpmath.mpf(fraction)
    value = f(mpmath.mpf(time), mpmath.mpf(q), start)
    h = mpmath.mpf("1e-15")
    slope = (f(time + h, q, start) - f(time - h, q, start)) / (2 * h)
    assert abs(float(slope - 2 * value * (q - value))) < 1e-12 * q * q


@settings(max_examples=25, deadline=None)
@given(q=sigmas, fraction=fractions)
def test_half_time_reaches_half_sigma(q, fraction):
    start = q * fraction
    half = float(DOC.half_time.subs({sigma: q, s0: start}))
    value = float(DOC.logistic.subs({t: half, sigma: q, s0: start}))
    assert value == pytest.approx(q / 2, rel=1e-10)


def test_time_to_learn_law():
    law = DOC.time_to_learn
    assert law.kind == "asymptotic" and law.variable == dl.rho
    assert DOC.half_time_limit == 0
    assert sp.simplify(law.leading.subs(dl.rho, sigma / s0) - sp.log(sigma / s0) / (2 * sigma)) == 0
    assert sp.simplify(law.constants["correction"] + 1 / (2 * sigma * dl.rho)) == 0
    # the exact half time minus the law's leading term really is O(1/rho)
    gap = (DOC.half_time - law.leading.subs(dl.rho, sigma / s0)).subs(s0, sigma / dl.rho)
    assert sp.limit(gap * dl.rho, dl.rho, sp.oo) == -1 / (2 * sigma)


def test_derivation_document():
    doc = dl.derive()
    titles = [step.title for step in doc.steps]
    assert "Logistic solution" in titles and "Time to learn" in titles
    checked = {step.title: step.checked_by for step in doc.steps}
    claims = ("Mode form is invariant", "Conservation", "Logistic solution", "Time to learn")
    assert all(checked[name] for name in claims)
    assert r"\begin{document}" in doc.to_latex() and "# Two-layer linear network" in doc.to_markdown()


def test_derivation_is_typed_and_frozen():
    assert type(DOC) is dl.DeepLinearDerivation and isinstance(DOC, Derivation)
    kinds = {"model": Model, "gradient_flow": MatrixFlow, "lane_flow": Flow, "strength_flow": Flow, "lane_map": Map,
             "strength_map": Map, "solution": Solution, "time_to_learn": Law, "mode_form_verified": bool,
             "mode_form_numeric_error": float}
    for name, kind in kinds.items():
        assert isinstance(getattr(DOC, name), kind), name
    for name in ("mode_matrix", "lane_loss", "conserved", "conserved_rate", "gd_imbalance", "implicit_residual",
                 "explicit_residual", "logistic", "half_time", "half_time_limit"):
        assert isinstance(getattr(DOC, name), sp.Basic), name
    assert set(DOC.gradients) == set(DOC.mode_velocities) == {dl.W1, dl.W2}  # keyed by the parameter
    assert not hasattr(DOC, "results")
    with pytest.raises(dataclasses.FrozenInstanceError):
        DOC.logistic = sp.Integer(0)


def test_unbacked_labels_are_gone():
    """The gradients are derived, not checked, in derive() (finite differences check them above) and the lane
    flow is -grad l by construction: neither step claims a SymPy check."""
    labels = {step.title: step.checked_by for step in DOC.steps}
    assert not labels["Gradients (matrix chain rule)"] and not labels["One mode (lane)"]
    assert labels["Conservation"] == "derivative along the flow simplifies to 0"
