"""Binary memory theory (two classes, any embeddings): derived objects against typed-in oracles, random points
and NumPy."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from gradflow.theory.errors import ParameterError
from gradflow.theory.flow import ClosureError
from gradflow.theory.laws import Law
from gradflow.theory.models import binary_memory as bm
from gradflow.theory.verify import Claim

DOC = bm.derive()


def test_every_claim_and_reduction_holds():
    failed = [name for name, claim in DOC.claims.items() if not claim.holds]
    assert not failed
    assert len(DOC.reductions) == 1 + 4 + 8 and all(DOC.reductions.values())


def test_loss_and_sigma_match_the_typed_forms():
    assert sp.simplify(DOC.loss - sp.log(1 + sp.exp(-bm.m))) == 0
    assert sp.simplify(DOC.sigma_minus - 1 / (1 + sp.exp(bm.m))) == 0
    # label 0: +kappa sigma(-m), label 1: -kappa sigma(-m)
    assert sp.simplify(DOC.residuals[0] - bm.kappa * DOC.sigma_minus) == 0
    assert sp.simplify(DOC.residuals[1] + bm.kappa * DOC.sigma_minus) == 0


@settings(max_examples=20, deadline=None)
@given(m=st.floats(-30, 30), kappa=st.floats(0.01, 4.0))
def test_row_lemma_at_random_points(m, kappa):
    loss = float(DOC.loss.subs(bm.m, sp.Float(m, 40)).evalf(30))  # 30 digits: the form may cancel
    assert loss == pytest.approx(np.logaddexp(0.0, -m), rel=1e-12, abs=1e-300)
    assert float(DOC.residuals[1].subs({bm.m: m, bm.kappa: kappa})) == pytest.approx(-kappa * expit(-m), rel=1e-12)


def test_wrong_margin_convention_is_not_closed_or_not_equal():
    # the reduction machinery must be able to fail: the label-(0, 0) increments do not give the map of labels (0, 1)
    sigma = DOC.sigma_minus
    assert bm._matches_canonical(2, (0, 1), bm.reduce_logit_gd(2, (0, 1), False), sigma)
    assert not bm._matches_canonical(2, (0, 1), bm.reduce_logit_gd(2, (0, 0), False), sigma)
    # and a change of variables that leaves the gauge logit behind raises ClosureError
    with pytest.raises(ClosureError):
        bm._closed(sp.exp(bm.s1) / (1 + sp.exp(bm.s0)), bm.s1)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_lane_map_equals_the_typed_formula(n):
    mp = bm.binary_margin_map(n)
    ms = [sp.Symbol(f"m_{a}", real=True) for a in range(n)]
    kt = bm._kt_symbols(n)
    ps = [sp.Symbol(f"p_{a}", positive=True) for a in range(n)]
    for a in range(n):
        typed = ms[a] + bm.eta * bm.kappa * sum(kt[(a, b)] * ps[b] / (1 + sp.exp(ms[b])) for b in range(n))
        assert sp.simplify(mp.update[a] - typed) == 0
    assert len(mp.params) == n * (n + 1) // 2 + n + 2


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), eta=st.floats(1e-3, 100.0), kappa=st.floats(0.05, 4.0))
def test_lane_map_at_random_points_vs_numpy(seed, eta, kappa):
    rng = np.random.default_rng(seed)
    n = 3
    A = rng.standard_normal((n, n))
    Kt = A @ A.T
    p = rng.random(n) + 0.1
    p /= p.sum()
    m = rng.uniform(-20, 20, n)
    mp = bm.binary_margin_map(n)
    values = dict(zip(mp.params, bm.lane_parameters(Kt, p, kappa, eta)))
    values.update(dict(zip(mp.states, m)))
    got = np.array([float(u.subs(values)) for u in mp.update])
    np.testing.assert_allclose(got, m + eta * kappa * Kt @ (p * expit(-m)), rtol=1e-12, atol=1e-12)


def test_separable_laws_and_constants():
    assert sp.simplify(DOC.c_limit - sp.expand_log(sp.log(bm.kappa * bm.p[bm.x] / bm.lam[bm.x]), force=True)) == 0
    assert sp.simplify(DOC.per_input_rate - bm.lam[bm.j] / bm.kappa) == 0
    assert DOC.loss_law.leading == 1 / (bm.kappa * bm.gamma_star ** 2)
    assert DOC.loss_law.kind == "limit" and DOC.margin_law.kind == "limit"
    assert sp.simplify(DOC.margin_law.leading - sp.log(bm.kappa * bm.p[bm.x] / bm.lam[bm.x])) == 0
    assert sp.simplify(DOC.stability_law.leading - 2 / (bm.kappa * bm.h_max)) == 0
    # stationarity is 1 = kappa sum_j Kt p_j e^{-c_j}
    assert DOC.stationarity.lhs == 1
    assert any("ASSUMED" in a for a in DOC.margin_law.assumptions)


def test_two_particle_values():
    a = sp.Symbol("alpha", real=True)
    assert sp.simplify(DOC.two_particle.rate - 1 / (1 - a)) == 0
    assert sp.simplify(sp.exp(DOC.two_particle.c) - 2 * (1 - a) * sp.Symbol("p_1", positive=True)) == 0


@settings(max_examples=20, deadline=None)
@given(alpha=st.floats(-0.9, 0.9), p1=st.floats(0.5, 0.95), kappa=st.floats(0.1, 4.0))
def test_separable_constants_two_particles(alpha, p1, kappa):
    Kt = np.array([[1.0, -alpha], [-alpha, 1.0]])
    p = np.array([p1, 1 - p1])
    const = bm.separable_constants(Kt, p, kappa, DOC)
    np.testing.assert_allclose(const.lam, 1 / (1 - alpha), rtol=1e-12)
    assert const.eta_t_loss == pytest.approx(2 / (kappa * (1 - alpha)), rel=1e-12)
    np.testing.assert_allclose(const.c, np.log(kappa * (1 - alpha) * p), rtol=1e-12, atol=1e-12)
    assert const.gamma_star == pytest.approx(np.sqrt((1 - alpha) / 2), rel=1e-12)


@pytest.mark.parametrize("call, parameter", [
    (lambda: bm.separable_constants(np.array([[4.0, 1.5], [1.5, 1.0]]), np.array([0.5, 0.5]), 2.0, DOC), "lambda"),
    (lambda: bm.separable_constants(np.eye(2), np.array([0.5, 0.5]), 0.0, DOC), "kappa"),
    (lambda: bm.separable_constants(np.eye(2), np.array([0.5, 0.6]), 2.0, DOC), "p"),
    (lambda: bm.separable_constants(np.eye(2), np.array([1.0]), 2.0, DOC), "p"),
    (lambda: bm.separable_constants(np.ones((2, 3)), np.array([0.5, 0.5]), 2.0, DOC), "Kt"),
    (lambda: bm.separable_constants(np.ones((2, 2)), np.array([0.5, 0.5]), 2.0, DOC), "Kt"),
    (lambda: bm.lane_parameters(np.eye(2), np.array([0.5, 0.5]), 2.0, 0.0), "eta"),
    (lambda: bm.lane_parameters(np.eye(2), np.array([0.5, 0.5]), 2.0, -1.0), "eta"),
    (lambda: bm.lane_parameters(np.eye(2), np.array([0.5, 0.5]), -2.0, 1.0), "kappa"),
    (lambda: bm.lane_parameters(np.eye(3), np.array([0.5, 0.5]), 2.0, 1.0), "p"),
    (lambda: bm.lane_parameters(np.array([[1.0, 0.2], [0.3, 1.0]]), np.array([0.5, 0.5]), 2.0, 1.0), "Kt"),
    (lambda: bm.binary_margin_map(0), "n"),
    (lambda: bm.binary_margin_map(bm.MAX_LANE_N + 1), "n"),
    (lambda: bm.per_example_loss(2), "label"),
])
def test_bad_input_names_the_parameter(call, parameter):
    with pytest.raises(ParameterError) as info:
        call()
    assert info.value.parameter == parameter


def test_derivation_document_states_derived_and_assumed():
    latex = DOC.to_latex()
    markdown = DOC.to_markdown()
    for needle in (r"\kappa", r"\tilde K", r"\gamma_{*}", "Assumed", "support vector"):
        assert needle in latex or needle in markdown
    assert all(step.latex for step in DOC.steps)
    assert sum(1 for step in DOC.steps if step.checked_by) >= 8


def test_the_derivation_is_typed():
    assert isinstance(DOC, bm.BinaryMemoryDerivation) and not hasattr(DOC, "results")
    for name in ("loss", "sigma_minus", "kappa_of_gamma", "increment", "c_limit", "per_input_rate", "approach_drift"):
        assert isinstance(getattr(DOC, name), sp.Expr), name
    for name in ("margin_law", "loss_law", "stability_law"):
        assert isinstance(getattr(DOC, name), Law), name
    assert isinstance(DOC.stationarity, sp.Eq) and isinstance(DOC.hessian_v, sp.MatrixBase)
    assert DOC.hessian_v.shape == (2, 2) and set(DOC.residuals) == {0, 1}
    assert all(isinstance(claim, Claim) for claim in DOC.claims.values()) and len(DOC.claims) == 17
    assert isinstance(DOC.two_particle, bm.TwoParticleConstants)
    assert DOC.two_particle.lam.shape == (2, 1)
    a = sp.Symbol("alpha", real=True)
    assert all(sp.simplify(entry - 1 / (1 - a)) == 0 for entry in DOC.two_particle.lam)
    assert DOC.kappa_of_gamma == bm.KAPPA_OF_GAMMA
    # the margin law's offset is the derived c_x, and the stability law's sharpness is kappa h_max
    assert DOC.margin_law.constants["c_x"] == DOC.c_limit
    assert DOC.stability_law.constants["sharpness"] == bm.kappa * bm.h_max
    # the linearised drift of the approach is -Kt(x, j) lambda_j
    assert sp.simplify(DOC.approach_drift + bm.Kt[bm.x, bm.j] * bm.lam[bm.j]) == 0


def test_the_row_lemma_is_typed_and_shared():
    lemma = bm.row_lemma()
    assert isinstance(lemma, bm.RowLemma)
    assert lemma.loss == DOC.loss and lemma.sigma_minus == DOC.sigma_minus
    assert dict(lemma.residuals) == dict(DOC.residuals)
    assert set(lemma.claims) <= set(DOC.claims) and all(claim.holds for claim in lemma.claims.values())


def test_separable_constants_are_typed_and_default_to_the_derivation():
    const = bm.separable_constants(np.eye(2), np.array([0.25, 0.75]), 2.0)
    assert isinstance(const, bm.SeparableConstants)
    np.testing.assert_allclose(const.lam, [1.0, 1.0])
    np.testing.assert_allclose(const.c, np.log(2.0 * np.array([0.25, 0.75])), rtol=1e-15)
    assert const.eta_t_loss == pytest.approx(1.0) and const.approach_exponent == pytest.approx(1.0)
    assert const.gamma_star == pytest.approx(1 / np.sqrt(2))
