"""The binary memory's geometry (separability, SVM, CE minimizer, best 0-1 error) against brute force over
directions, scipy.optimize and finite differences."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from gradflow.derivations.binary_memory import geometry
from gradflow.theory.errors import ParameterError

GRID = (np.arange(40_000) + 0.5) * (2 * np.pi / 40_000)  # offset: never exactly a multiple of 90 degrees
DIRECTIONS = np.c_[np.cos(GRID), np.sin(GRID)]


def circle(angles_deg, labels, p=None):
    E = geometry.unit_circle(angles_deg)
    labels = np.asarray(labels)
    p = np.full(len(labels), 1.0 / len(labels)) if p is None else np.asarray(p, dtype=float)
    return E, labels, p


instances = st.integers(2, 8).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.0, 360.0), min_size=n, max_size=n),
    st.lists(st.integers(0, 1), min_size=n, max_size=n),
    st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n)))


def _normalised(weights):
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _well_spread(angles_deg):
    """Critical directions at least 0.05 degrees apart (so a 0.009-degree grid sees every arc)."""
    a = np.mod(np.r_[np.asarray(angles_deg) + 90.0, np.asarray(angles_deg) - 90.0], 360.0)
    a = np.sort(a)
    gaps = np.diff(np.r_[a, a[0] + 360.0])
    return gaps.min() > 0.05


@settings(max_examples=20, deadline=None)
@given(instances)
def test_svm_margin_equals_brute_force_over_directions(instance):
    angles, labels, _ = instance
    E, labels, _ = circle(angles, labels)
    Z = geometry.signed_points(E, labels)
    worst = (DIRECTIONS @ Z.T).min(axis=1)  # margin of each unit direction
    brute = worst.max()
    if geometry.separability(E, labels) != geometry.SEPARABLE:
        assert brute <= 1e-3  # no direction separates (up to the grid)
        with pytest.raises(ParameterError):
            geometry.hard_margin_svm(E, labels)
        return
    assume(brute > 1e-3)
    svm = geometry.hard_margin_svm(E, labels)
    # the grid is 9e-3 degrees fine: the margin of the best grid direction is within 2e-4 of gamma*
    assert brute <= svm.gamma + 1e-9
    assert svm.gamma <= brute + 2e-4
    # KKT: feasibility, duals >= 0, stationarity v = Z^T lambda, complementary slackness
    assert np.all(Z @ svm.v >= 1 - 1e-9)
    assert np.all(svm.dual >= 0)
    np.testing.assert_allclose(Z.T @ svm.dual, svm.v, atol=1e-8)
    assert np.all(svm.dual[np.abs(Z @ svm.v - 1) > 1e-6] == 0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_svm_duals_are_inverse_gram_when_all_points_support(seed):
    rng = np.random.default_rng(seed)
    E = rng.standard_normal((3, 3))
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    labels = rng.integers(0, 2, 3)
    Kt = geometry.signed_gram(E, labels)
    lam = np.linalg.solve(Kt, np.ones(3))
    assume(np.all(lam > 1e-3) and np.linalg.cond(Kt) < 1e6)
    svm = geometry.hard_margin_svm(E, labels)
    np.testing.assert_allclose(svm.dual, lam, rtol=1e-7)
    assert svm.gamma == pytest.approx(1 / np.sqrt(lam.sum()), rel=1e-9)
    assert svm.support == (0, 1, 2)


@settings(max_examples=20, deadline=None)
@given(instances)
def test_newton_minimizer_has_zero_gradient_and_matches_scipy(instance):
    angles, labels, weights = instance
    E, labels, _ = circle(angles, labels)
    p = _normalised(weights)
    assume(geometry.separability(E, labels) == geometry.NOT_SEPARABLE and np.linalg.matrix_rank(E) == 2)
    ce = geometry.ce_minimizer(E, labels, p)
    assume(np.linalg.norm(ce.v) < 50)  # nearly separable instances are ill-conditioned for BFGS
    assert np.linalg.norm(geometry.ce_gradient(ce.v, E, labels, p)) <= 1e-10
    ref = minimize(lambda v: geometry.ce_loss(v, E, labels, p), np.zeros(2), jac=lambda v: geometry.ce_gradient(v, E, labels, p),
                   method="BFGS", options={"gtol": 1e-11, "maxiter": 10_000})
    np.testing.assert_allclose(ce.v, ref.x, atol=1e-5 * max(1.0, np.linalg.norm(ce.v)))
    assert ce.loss <= ref.fun + 1e-12
    # the Hessian is the derivative of the gradient (central differences)
    h = 1e-6
    fd = np.stack([(geometry.ce_gradient(ce.v + h * e, E, labels, p) - geometry.ce_gradient(ce.v - h * e, E, labels, p)) / (2 * h)
                   for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(ce.hessian, fd, atol=1e-7)
    assert ce.stability_threshold(2.0) == pytest.approx(1.0 / np.linalg.eigvalsh(ce.hessian)[-1], rel=1e-12)


@settings(max_examples=20, deadline=None)
@given(instances)
def test_best_zero_one_equals_a_fine_grid_of_angles(instance):
    angles, labels, weights = instance
    assume(_well_spread(angles))
    E, labels, _ = circle(angles, labels)
    p = _normalised(weights)
    best = geometry.best_zero_one(E, labels, p)
    wrong = ((DIRECTIONS @ E.T) < 0) != (labels == 1)  # no exact ties on the grid for spread angles
    grid_min = min(float((wrong @ p).min()), float(p @ (labels == 1)))  # and v = 0: every input predicted as 0
    assert best.error == pytest.approx(grid_min, abs=1e-12)
    assert geometry.zero_one_error(best.direction, E, labels, p, tie_tol=1e-12) == pytest.approx(best.error, abs=1e-12)
    difference = E @ best.direction
    predicted_one = (difference < 0) & (np.abs(difference) > 1e-12)  # ties go to class 0
    assert best.wrong == tuple(np.flatnonzero(predicted_one != (labels == 1)))


def test_best_zero_one_uses_the_tie_rule():
    # e at 0 and 180 degrees, both label 0: every open arc misclassifies one of them, the tie direction none
    E, labels, p = circle([0.0, 180.0], [0, 0], [0.7, 0.3])
    best = geometry.best_zero_one(E, labels, p)
    assert best.error == 0.0
    grid_min = float((((DIRECTIONS @ E.T) < 0) @ p).min())
    assert grid_min == pytest.approx(0.3)


def test_worked_instance_numbers():
    E, labels, p = circle([-36.59, 0.716, 46.00], [0, 1, 0], np.array([6, 3, 2]) / 11)
    assert geometry.separability(E, labels) == geometry.NOT_SEPARABLE
    ce = geometry.ce_minimizer(E, labels, p)
    np.testing.assert_allclose(ce.v, [0.632261, -1.149072], atol=1e-6)
    np.testing.assert_allclose(ce.margins, [1.192600, -0.617853, -0.387368], atol=1e-6)
    assert geometry.zero_one_error(ce.v, E, labels, p) == pytest.approx(5 / 11, abs=1e-15)
    best = geometry.best_zero_one(E, labels, p)
    assert best.error == pytest.approx(2 / 11, abs=1e-15) and best.wrong == (2,)
    assert ce.sharpness(2.0) == pytest.approx(0.3041099, rel=1e-6)


def test_separability_classes():
    assert geometry.separability(*circle([0, 60], [0, 1])[:2]) == geometry.SEPARABLE
    assert geometry.separability(*circle([0, 180], [0, 1])[:2]) == geometry.SEPARABLE  # signed points coincide
    assert geometry.separability(*circle([0, 90, 180], [0, 0, 0])[:2]) == geometry.WEAKLY_SEPARABLE
    assert geometry.separability(*circle([0, 120, 240], [0, 0, 0])[:2]) == geometry.NOT_SEPARABLE


def test_loss_is_stable_at_huge_margins():
    E, labels, p = circle([0.0, 90.0], [0, 1])
    v = np.array([1e6, -1e6])
    assert geometry.ce_loss(v, E, labels, p) == 0.0
    assert np.isfinite(geometry.ce_loss(-v, E, labels, p)) and geometry.ce_loss(-v, E, labels, p) == pytest.approx(1e6)
    assert np.all(np.isfinite(geometry.ce_hessian(-v, E, labels, p)))


@pytest.mark.parametrize("call, parameter, message", [
    (lambda: geometry.best_zero_one(np.eye(3), [0, 1, 0], np.full(3, 1 / 3)), "d", "no exact 0-1 optimum implemented for d > 2"),
    (lambda: geometry.signed_points(np.ones(3), [0, 1, 0]), "E", ""),
    (lambda: geometry.signed_points(np.ones((3, 2)), [0, 1]), "labels", ""),
    (lambda: geometry.signed_points(np.ones((3, 2)), [0, 1, 2]), "labels", ""),
    (lambda: geometry.signed_points(np.full((2, 2), np.nan), [0, 1]), "E", ""),
    (lambda: geometry.ce_loss(np.zeros(2), np.eye(2), [0, 1], [0.5, 0.6]), "p", ""),
    (lambda: geometry.ce_loss(np.zeros(2), np.eye(2), [0, 1], [1.0]), "p", ""),
    (lambda: geometry.ce_minimizer(*circle([0, 60], [0, 1])), "E, labels", "separable"),
    (lambda: geometry.ce_minimizer(*circle([0, 180], [0, 0])), "E", "rank"),
    (lambda: geometry.hard_margin_svm(*circle([0, 120, 240], [0, 0, 0])[:2]), "E, labels", "separable"),
    (lambda: geometry.ce_minimizer(*circle([-36.59, 0.716, 46.0], [0, 1, 0], np.array([6, 3, 2]) / 11)).sharpness(0.0),
     "kappa", ""),
    (lambda: geometry.unit_circle([]), "angles", ""),
])
def test_bad_input_names_the_parameter(call, parameter, message):
    with pytest.raises(ParameterError) as info:
        call()
    assert info.value.parameter == parameter
    assert message in str(info.value)


def test_top_eigenvalue_and_sharpness():
    E, labels, p = circle([-36.59, 0.716, 46.00], [0, 1, 0], np.array([6, 3, 2]) / 11)
    ce = geometry.ce_minimizer(E, labels, p)
    assert ce.top_eigenvalue == np.linalg.eigvalsh(ce.hessian)[-1]
    assert ce.sharpness(2.0) == 2.0 * ce.top_eigenvalue
    assert ce.stability_threshold(2.0) == 2.0 / ce.sharpness(2.0)


def test_worked_instance_numbers_from_an_independent_computation():
    """Where v* = (0.632261, -1.149072) and the sharpness 0.3041099 come from, without the geometry module:
    the CE loss in v written here and minimised by BFGS; the sharpness as the top eigenvalue of the W-space
    Hessian (U = I: kappa = ||u_0 - u_1||^2 = 2) by central differences of the two-class cross-entropy of
    the logits S = E W^T, at W* = (v*/2, -v*/2) (rows w_0, w_1, so w_0 - w_1 = v*)."""
    angles = np.deg2rad([-36.59, 0.716, 46.00])
    E = np.c_[np.cos(angles), np.sin(angles)]
    labels = np.array([0, 1, 0])
    p = np.array([6, 3, 2]) / 11
    Z = np.where(labels == 0, 1.0, -1.0)[:, None] * E  # margin s_{label} - s_{other} = <v, z>, v = w_0 - w_1

    def loss_v(v):
        return float(p @ np.logaddexp(0.0, -(Z @ v)))

    v = minimize(loss_v, np.zeros(2), method="BFGS", options={"gtol": 1e-12}).x
    np.testing.assert_allclose(v, [0.632261, -1.149072], atol=1e-6)
    np.testing.assert_allclose(Z @ v, [1.192600, -0.617853, -0.387368], atol=1e-6)

    def loss_W(w):  # cross-entropy of S = E W^T with W = w.reshape(2, 2) (rows w_0, w_1)
        S = E @ w.reshape(2, 2).T
        return float(p @ (np.logaddexp(S[:, 0], S[:, 1]) - S[np.arange(3), labels]))

    W_star, h = np.r_[v / 2, -v / 2], 1e-4
    steps = np.eye(4) * h
    hessian = np.array([[(loss_W(W_star + a + b) - loss_W(W_star + a - b) - loss_W(W_star - a + b)
                          + loss_W(W_star - a - b)) / (4 * h * h) for b in steps] for a in steps])
    top = float(np.linalg.eigvalsh((hessian + hessian.T) / 2)[-1])
    assert top == pytest.approx(0.3041099, rel=1e-6)
    ce = geometry.ce_minimizer(geometry.unit_circle([-36.59, 0.716, 46.00]), labels, p)
    assert ce.sharpness(2.0) == pytest.approx(top, rel=1e-6)
