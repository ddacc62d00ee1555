"""Symbolic claims of the associative memory: simplification and random points."""

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.theory.cross_entropy import M, label_logit_gradient, logit_gradient, logits
from gradflow.theory.models import associative_memory as am

R = am.derive()


def test_logit_gradient_is_softmax():
    derivative, softmax = logit_gradient()
    assert sp.simplify(derivative - softmax) == 0


def test_label_logit_gradient_is_softmax_minus_one_symbolically_and_at_random_points():
    derivative, expected = label_logit_gradient()
    assert sp.simplify(derivative - expected) == 0
    rng = np.random.default_rng(3)
    for size in (2, 5):
        s = rng.normal(size=size)
        values = {logits[i]: s[i] for i in range(size)}
        label_derivative = float(derivative.subs(M, size).doit().subs(values))
        h = 1e-6  # central difference of the loss in the label's logit (label 0)
        loss = lambda shift: np.log(np.sum(np.exp(s + shift))) - (s + shift)[0]
        bump = np.zeros(size)
        bump[0] = h
        assert label_derivative == pytest.approx((loss(bump) - loss(-bump)) / (2 * h), abs=1e-8)
        assert label_derivative == pytest.approx(np.exp(s[0]) / np.exp(s).sum() - 1, abs=1e-12)


def test_the_logit_gradient_step_states_both_cases():
    step = next(s for s in R.steps if s.title == "Logit gradient of one input")
    assert r"j = y" in step.latex and r"j \ne y" in step.latex and "- 1" in step.latex
    assert step.checked_by  # both cases were checked


def test_margin_flow_and_map_match_the_published_formulas():
    # the published formulas, typed in here only as the oracle
    flow_by_hand = am.M * am.p / (sp.exp(am.m) + am.M - 1)
    assert sp.simplify(R.margin_flow.rhs[0] - flow_by_hand) == 0
    map_by_hand = am.m + am.eta * am.M * am.p * sp.exp(-am.m) / (1 + (am.M - 1) * sp.exp(-am.m))
    assert sp.simplify(R.margin_map.update[0] - map_by_hand) == 0
    assert R.first_step == am.eta * am.p


@settings(max_examples=25)
@given(m=st.floats(-30, 30), p=st.floats(1e-3, 1), M=st.integers(2, 50))
def test_margin_flow_at_random_points(m, p, M):
    value = float(R.margin_flow.rhs[0].subs({am.m: m, am.p: p, am.M: M}))
    assert value == pytest.approx(M * p / (np.exp(m) + M - 1), rel=1e-12)


def test_implicit_and_explicit_solution_symbolically():
    sol = R.solution
    assert sol.implicit_residual_of_ode() == 0
    assert sol.explicit_residual() == 0
    c = 1 + am.M * am.p * am.t
    assert sp.simplify(R.implicit.lhs - (sp.exp(am.m) + (am.M - 1) * am.m)) == 0
    assert sp.simplify(R.implicit.rhs - c) == 0


@settings(max_examples=20)
@given(t=st.floats(1e-3, 1e6), p=st.floats(1e-3, 1), M=st.integers(2, 50))
def test_lambert_form_solves_ode_at_random_points(t, p, M):
    mpmath.mp.dps = 40
    f = sp.lambdify((am.t, am.p, am.M), R.solution.explicit, modules="mpmath")
    t, p = mpmath.mpf(t), mpmath.mpf(p)
    m = f(t, p, M)
    # implicit relation and the ODE by a central difference in high precision
    assert abs(mpmath.e**m + (M - 1) * m - (1 + M * p * t)) < 1e-25 * (1 + M * p * t)
    h = mpmath.mpf(t) * mpmath.mpf("1e-12")
    slope = (f(t + h, p, M) - f(t - h, p, M)) / (2 * h)
    assert float(abs(slope - M * p / (mpmath.e**m + M - 1))) < 1e-10 * float(M * p)


def test_laws_constants():
    gd = R.gd_expansion.constants
    assert sp.simplify(gd["rate"] - am.eta * am.M * am.p) == 0
    assert sp.simplify(gd["log_coefficient"] - (am.eta * am.M * am.p / 2 - (am.M - 1))) == 0
    assert sp.simplify(R.flow_law.leading - sp.log(am.M * am.p * R.flow_law.variable)) == 0
    assert sp.simplify(R.gd_law.leading - sp.log(am.eta * am.M * am.p * R.gd_law.variable)) == 0
    assert sp.simplify(R.loss_law.leading - am.N * (am.M - 1) / am.M) == 0


def test_conservation_of_logit_sum():
    assert R.conserved_rate == 0
    # and a quantity that is not conserved is detected as such
    assert R.symmetric_flow.time_derivative(am.correct) != 0


def test_matrix_reductions():
    G = R.model.loss_gradient_symbol
    assert sp.simplify(R.logit_flow.rhs[0] + am.K * G * am.Gram_out) == sp.ZeroMatrix(*am.S.shape)
    assert sp.simplify(R.output_flow.rhs[0] + am.E.T * G) == sp.ZeroMatrix(*am.Omega.shape)
    assert R.stored_products_verified
    flow_W = R.model.gradient_flow()
    assert not flow_W.verify_ansatz({am.W: am.W0 + am.U.T * am.Q.T * am.E}, {am.Q: G})


def test_output_particles_sum_conserved_needs_softmax_rows_summing_to_one():
    # d/dt sum_y w_y = -E^T G 1 and each row of G = P (Pi - Y) sums to 0
    s = sp.IndexedBase("s")
    M = 5
    logits = [s[i] for i in range(M)]
    Z = sum(sp.exp(v) for v in logits)
    row = [sp.exp(v) / Z - (1 if i == 2 else 0) for i, v in enumerate(logits)]
    assert sp.simplify(sum(row)) == 0


def test_derivation_document():
    doc = am.derive()
    latex = doc.to_latex()
    for needle in (r"\frac{d m}{d t}", "W\\left(", r"\log{\left(M \eta p t \right)}", r"\frac{N \left(M - 1\right)}{M}"):
        assert needle in latex
    assert all(step.latex for step in doc.steps)


def test_margin_flow_claim_is_the_lane_loss_route_not_a_restatement_of_the_reduction():
    assert "margin ODE from the symmetric logit flow" not in R.claims
    assert R.claims["margin flow is the lane loss's gradient flow"].holds
    labels = {step.title: step.checked_by for step in R.steps}
    assert not labels["Gradient (matrix chain rule)"] and labels["Conservation"]


def test_the_systems_derived_alone_are_the_full_derivations():
    # a cold simulate derives these alone; the generated code must be that of the full derivation's systems
    full = am.derive()
    margins, particles = am.derive_margin_systems(), am.derive_logit_particles()
    assert margins.margin_map == full.margin_map and margins.margin_flow == full.margin_flow
    assert sp.simplify(margins.lane_loss - full.lane_loss) == 0 and margins.lane_loss == full.lane_loss
    assert particles.logit_flow == full.logit_flow
    assert particles.model.prediction == full.model.prediction and particles.model.parameters == full.model.parameters
