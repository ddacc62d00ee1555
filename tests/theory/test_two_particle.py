"""Two-particle (loss-spike) model of the associative memory: the derived formulas against their closed
forms (typed in here only as oracles), finite differences of a hand-written NumPy loss, the typed
derivation's fields, and bad input."""

import pickle

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from gradflow.theory.errors import ParameterError
from gradflow.theory.flow import ClosureError, Flow, Map
from gradflow.theory.laws import Law
from gradflow.theory.models import two_particle as tp

DOC = tp.derive()
p1, alpha, eta, m1, m2 = tp.p1, tp.alpha, tp.eta, tp.m1, tp.m2
p2 = 1 - p1

probabilities = st.floats(0.02, 0.98)
alphas = st.floats(-1.0, 1.0)


# --- NumPy oracles, written from the model definition (not from the derivation) --------------

def embeddings(a):
    return np.array([[1.0, 0.0], [a, np.sqrt(max(0.0, 1.0 - a * a))]])


def loss_W(w, p1_, a, labels=(0, 1)):
    """sum_x p_x [logsumexp(S_x) - S_{x, f*(x)}], S = E W^T (U = I), w = vec(W) row-major."""
    S = embeddings(a) @ w.reshape(2, 2).T
    p = np.array([p1_, 1 - p1_])
    return float(sum(p[x] * (np.logaddexp(S[x, 0], S[x, 1]) - S[x, labels[x]]) for x in range(2)))


def fd_hessian(f, w, h=1e-4):
    n = w.size
    H = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            e_i, e_j = np.eye(n)[i] * h, np.eye(n)[j] * h
            H[i, j] = (f(w + e_i + e_j) - f(w + e_i - e_j) - f(w - e_i + e_j) + f(w - e_i - e_j)) / (4 * h * h)
    return 0.5 * (H + H.T)


def closed_form_sharpness_at_zero(p1_, a):
    return (1 + np.sqrt(1 - 4 * p1_ * (1 - p1_) * (1 - a * a))) / 4


# --- symbolic claims -----------------------------------------------------------------------------

def test_every_claim_of_the_derivation_holds():
    bad = {name: str(c) for name, c in DOC.claims.items() if not c.holds}
    assert not bad, bad
    assert len(DOC.claims) >= 20


def test_first_step_and_binary_form_match_the_closed_forms():
    m_first, r_first = DOC.opposite.first_step
    assert sp.simplify(m_first - eta * (p1 - alpha * p2)) == 0
    assert sp.simplify(r_first - eta * (p2 - alpha * p1)) == 0
    same = DOC.same.first_step
    assert sp.simplify(same[0] - eta * (p1 + alpha * p2)) == 0
    # margin flow = kappa sum Kt p sigma(-m) with kappa = 2 (the binary-margin form), typed in as the oracle
    sig = lambda m: 1 / (1 + sp.exp(m))  # noqa: E731
    closed = (2 * (p1 * sig(m1) - alpha * p2 * sig(m2)), 2 * (p2 * sig(m2) - alpha * p1 * sig(m1)))
    for derived, expected in zip(DOC.opposite.margin_flow.rhs, closed):
        assert sp.simplify(derived - expected) == 0
    assert DOC.kappa == 2
    assert DOC.opposite.margin_map.params == (p1, alpha, eta) and DOC.opposite.margin_flow.states == (m1, m2)


def test_dip_threshold_and_sharpness_and_asymptotics_match_the_closed_forms():
    assert sp.simplify(DOC.dip_threshold - p2 / p1) == 0
    assert sp.simplify(DOC.sharpness_at_zero - (1 + sp.sqrt(1 - 4 * p1 * p2 * (1 - alpha**2))) / 4) == 0
    assert sp.simplify(DOC.stability_threshold - 2 / DOC.sharpness_at_zero) == 0
    opposite, same = DOC.opposite.asymptotics, DOC.same.asymptotics
    assert sp.simplify(opposite.eta_t_loss - 1 / (1 - alpha)) == 0
    assert sp.simplify(same.eta_t_loss - 1 / (1 + alpha)) == 0
    for x, px in enumerate((p1, p2)):
        assert sp.simplify(sp.exp(opposite.offsets[x]) - 2 * (1 - alpha) * px) == 0
        assert sp.simplify(sp.exp(same.offsets[x]) - 2 * (1 + alpha) * px) == 0
    law = opposite.laws[0]
    assert law.kind == "limit" and sp.simplify(law.leading - 1 / (1 - alpha)) == 0
    assert r"\lim_{t \to \infty}" in law.latex()


def test_hessian_eigenvalues_at_zero():
    eig = DOC.hessian_eigenvalues_at_zero
    assert eig.get(0) == 2 and sum(eig.values()) == 4
    rng = np.random.default_rng(0)
    for _ in range(5):
        point = {p1: float(rng.uniform(0.05, 0.95)), alpha: float(rng.uniform(-1, 1))}
        values = sorted(float(sp.re(e.subs(point))) for e in eig)
        assert values[-1] == pytest.approx(float(DOC.sharpness_at_zero.subs(point)), rel=1e-12)


def test_derivation_document():
    doc = tp.derive()
    tex = doc.to_latex()
    assert tex.count(r"\subsection*") == len(doc.steps) >= 12
    assert "Dip condition" in tex and "Sharpness at W = 0" in tex
    assert "closure in (m1, m2)" in doc.to_markdown()


def test_reduction_to_one_logit_is_not_closed():
    flow = tp.logit_flow("opposite")
    s00, s01 = tp.LOGITS[0, 0], tp.LOGITS[0, 1]
    with pytest.raises(ClosureError):
        flow.reduce({sp.Symbol("u"): s00}, {})
    # the margin of input 0 alone is closed only together with input 1's margin: its drift uses m2
    with pytest.raises(ClosureError):
        flow.reduce({m1: s00 - s01}, {s00: m1 + s01})


# --- the typed derivation ---------------------------------------------------------------------------

def test_derive_returns_typed_fields_per_labelling():
    assert isinstance(DOC, tp.TwoParticleDerivation) and not hasattr(DOC, "results")
    assert tuple(DOC.cases) == tuple(tp.LABELS) == ("opposite", "same")
    assert DOC.opposite is DOC.cases["opposite"] and DOC.same is DOC.cases["same"]
    for labels, case in DOC.cases.items():
        assert isinstance(case, tp.LabelCase) and isinstance(case.asymptotics, tp.Asymptotics)
        assert isinstance(case.logit_flow, Flow) and len(case.logit_flow.states) == 4
        assert isinstance(case.margin_flow, Flow) and isinstance(case.lane_flow, Flow)
        assert isinstance(case.margin_map, Map) and isinstance(case.lane_map, Map)
        assert case.lane_map.params == (p1, alpha, eta) and case.lane_flow.params == (p1, alpha)
        assert labels in case.margin_map.name and labels in case.lane_map.name
        assert len(case.first_step) == 2 and len(case.asymptotics.laws) == 3
        assert all(isinstance(law, Law) and law.kind == "limit" for law in case.asymptotics.laws)
        assert case.asymptotics.laws[0].leading == case.asymptotics.eta_t_loss
        assert case.Kt.shape == (2, 2) and case.asymptotics.support_weights.shape == (2, 1)
        assert case.asymptotics.max_margin_direction.shape == (2, 1)
    sign = {"opposite": -1, "same": 1}
    for labels, case in DOC.cases.items():  # Kt = [[1, s alpha], [s alpha, 1]], typed in as the oracle
        assert sp.simplify(case.Kt - sp.Matrix([[1, sign[labels] * alpha], [sign[labels] * alpha, 1]])) == sp.zeros(2)
    assert DOC.hessian.shape == DOC.hessian_at_zero.shape == (4, 4)
    assert DOC.dip_condition == sp.Gt(alpha, DOC.dip_threshold) and DOC.dip_set.left == DOC.dip_threshold
    assert DOC.sharpness.free_symbols == {m1, m2, p1, alpha}
    assert DOC.sharpness_in_weights.free_symbols >= set(sp.symbols("a1 a2", positive=True))


def test_typed_derivation_survives_the_disk_cache_format():
    clone = pickle.loads(pickle.dumps(DOC))
    assert isinstance(clone, tp.TwoParticleDerivation) and clone.steps == DOC.steps
    assert clone.opposite.lane_map.update == DOC.opposite.lane_map.update and list(clone.claims) == list(DOC.claims)


# --- numbers: NumPy oracles and finite differences -----------------------------------------------

rhs = sp.lambdify((m1, m2, p1, alpha), DOC.opposite.margin_flow.rhs, "numpy")
sharp0 = sp.lambdify((p1, alpha), DOC.sharpness_at_zero, "numpy")
sharp_m = sp.lambdify((m1, m2, p1, alpha), DOC.sharpness, "numpy")
stable_update = sp.lambdify((m1, m2, p1, alpha, eta), DOC.opposite.lane_map.update, "numpy")
stable_loss = sp.lambdify((m1, m2, p1), DOC.lane_loss.replace(
    lambda e: e.func.__name__ == "log1p", lambda e: sp.log(1 + e.args[0])), "numpy")


@settings(max_examples=20, deadline=None)
@given(p=st.floats(0.5, 0.99), a=alphas)
def test_dip_condition_both_directions(p, a):
    """The rare margin's drift at 0 is negative iff alpha > p2/p1 (|gap| > 1e-9 off the boundary)."""
    gap = a - (1 - p) / p
    drift = rhs(0.0, 0.0, p, a)[1]
    assert drift == pytest.approx(2 * ((1 - p) - a * p) / 2, abs=1e-15)
    if abs(gap) > 1e-9:
        assert (drift < 0) == (gap > 0)


@settings(max_examples=15, deadline=None)
@given(p=probabilities, a=alphas)
def test_sharpness_at_zero_is_top_eigenvalue_of_finite_difference_hessian(p, a):
    """The two-particle sharpness formula, against a 4 x 4 finite-difference Hessian (1e-6)."""
    H = fd_hessian(lambda w: loss_W(w, p, a), np.zeros(4))
    top = np.linalg.eigvalsh(H)[-1]
    assert top == pytest.approx(closed_form_sharpness_at_zero(p, a), abs=1e-6)
    assert sharp0(p, a) == pytest.approx(closed_form_sharpness_at_zero(p, a), rel=1e-13)


@settings(max_examples=15, deadline=None)
@given(p=probabilities, a=st.floats(-0.99, 0.99), mm=st.tuples(st.floats(-6, 6), st.floats(-6, 6)))
def test_sharpness_of_margins_against_finite_differences(p, a, mm):
    E = embeddings(a)
    eps = np.array([1.0, -1.0])
    v = np.linalg.solve(E, eps * np.array(mm))
    W = np.stack([v / 2, -v / 2])  # reachable from W_0 = 0: sum_y s_y(x) = 0
    H = fd_hessian(lambda w: loss_W(w, p, a), W.ravel())
    assert sharp_m(mm[0], mm[1], p, a) == pytest.approx(np.linalg.eigvalsh(H)[-1], abs=2e-6)
    assert sharp_m(mm[0], mm[1], p, a) <= sharp0(p, a) + 1e-12  # the sharpness is largest at W = 0


@settings(max_examples=20, deadline=None)
@given(p=probabilities, a=alphas, e=st.floats(1e-2, 1e3), mm=st.tuples(st.floats(-30, 30), st.floats(-30, 30)))
def test_stable_map_equals_the_plain_formula(p, a, e, mm):
    P = np.array([p, 1 - p])
    Kt = np.array([[1, -a], [-a, 1]])
    expected = np.array(mm) + e * 2 * Kt @ (P * expit(-np.array(mm)))
    np.testing.assert_allclose(stable_update(*mm, p, a, e), expected, rtol=1e-12, atol=1e-12 * e)
    assert stable_loss(*mm, p) == pytest.approx(P @ np.logaddexp(0, -np.array(mm)), rel=1e-13)


def test_stable_forms_never_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        for mm in [(1e3, -1e3), (-5e4, 5e4), (700.0, 800.0), (-800.0, -750.0)]:
            update = np.array(stable_update(*mm, 0.75, 0.95, 1e3), dtype=float)
            assert np.all(np.isfinite(update))
            loss = stable_loss(*mm, 0.75)
            assert np.isfinite(loss) and loss == pytest.approx(0.75 * max(0, -mm[0]) + 0.25 * max(0, -mm[1]), rel=1e-12)
    assert np.isfinite(sp.lambdify((m1, m2, p1, alpha), DOC.lane_sharpness, "math")(-1e4, 1e4, 0.75, 0.95))


@pytest.mark.parametrize("kwargs, name", [
    ({"p1_value": 0.0}, "p1"), ({"p1_value": 1.0}, "p1"), ({"p1_value": float("nan")}, "p1"),
    ({"alpha_value": 1.5}, "alpha"), ({"alpha_value": -1.0001}, "alpha"), ({"eta_value": 0.0}, "eta"),
    ({"eta_value": -2.0}, "eta"), ({"labels": "different"}, "labels"),
])
def test_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(ParameterError) as info:
        tp.validate(**kwargs)
    assert info.value.parameter == name and str(info.value).startswith(name)


def test_good_parameters_pass_including_the_degenerate_alpha():
    tp.validate(0.75, 1.0, 1e3, "same")
    tp.validate(np.array([0.5, 0.9]), np.array([-1.0, 1.0]), np.array([0.1, 10.0]))


def test_every_step_label_is_backed_by_a_claim_that_holds():
    """Labels come from backed(...): a label is present only if its claims hold; the logit flow is checked
    against sp.diff of the concrete loss (a second route), so its label is backed too."""
    labels = {step.title: step.checked_by for step in DOC.steps}
    assert labels["Logit flow (opposite labels)"] and all(claim.holds for claim in DOC.claims.values())
    assert DOC.claims["logit flow = -K dL/dS Gamma (opposite)"].holds
    assert sum(1 for label in labels.values() if label) >= 14


def test_logit_flow_claim_can_fail():
    """The second route (sp.diff of the concrete loss, mapped by K and Gamma) tells the instantiated flow from
    one that forgets the data kernel K = E E^T."""
    flow = tp.logit_flow("opposite")
    E, U = tp.embeddings()
    dL_dS = sp.Matrix(2, 2, lambda x, k: sp.diff(tp._logit_loss("opposite"), tp.LOGITS[x, k]))
    rhs = sp.Matrix(flow.rhs)
    assert tp._zero(rhs - sp.Matrix(list(-(E * E.T) * dL_dS * (U * U.T))), "with K").holds
    assert not tp._zero(rhs - sp.Matrix(list(-dL_dS)), "without K").holds
