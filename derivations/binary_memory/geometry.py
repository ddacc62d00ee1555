"""The geometry of a binary memory (M = 2): separability, hard-margin SVM, finite CE minimizer, best 0-1 error.

A binary memory problem is given by the input embeddings E (N x d), the labels f*(x) in {0, 1} and the
frequencies p.  With eps_x = +1 for label 0 and -1 for label 1 the *signed points* are the rows
z_x = eps_x e_x of Z, and for v = W^T (u_0 - u_1):

    margin m(x) = <v, z_x>,   L(v) = sum_x p(x) log(1 + e^{-m(x)}),
    0-1 error: x is wrong iff m(x) < 0, or m(x) = 0 and f*(x) = 1 (ties go to class 0).

* :func:`separability`: "separable" (all z_x in an open half-space: the hard-margin SVM exists),
  "weakly separable" (a closed half-space with some z_x strictly inside: CE has no minimizer, but no
  positive margin either) or "not separable" (CE has a finite minimizer when Z has rank d).
* :func:`hard_margin_svm`: min 1/2 ||v||^2 s.t. Z v >= 1 (homogeneous, no bias).  The duals are those of
  this normalisation, so v_hat = sum_x lambda_x z_x and, when every point is a support vector,
  lambda = (Z Z^T)^{-1} 1.
* :func:`ce_minimizer`: Newton's method with backtracking on L(v); its Hessian H, the W-space sharpness
  kappa lambda_max(H) and the GD stability threshold 2 / (kappa lambda_max(H)).
* :func:`best_zero_one`: the exact minimum of the 0-1 error over all v for d <= 2 (enumeration of the
  critical directions); d > 2 is refused with a ParameterError.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog, minimize, nnls
from scipy.special import expit

from gradflow.theory.errors import ParameterError, require

SEPARABLE, WEAKLY_SEPARABLE, NOT_SEPARABLE = "separable", "weakly separable", "not separable"
_LP_TOL = 1e-9


# --- input checks ---------------------------------------------------------------------------


def checked_embeddings(E) -> np.ndarray:
    """E as a finite float array of N x d, N, d >= 1."""
    E = np.asarray(E, dtype=float)
    require(E.ndim == 2 and E.shape[0] >= 1 and E.shape[1] >= 1, "E", "a 2-D array (N x d) with N, d >= 1",
            getattr(E, "shape", None))
    require(bool(np.all(np.isfinite(E))), "E", "finite numbers")
    return E


def checked_labels(labels, N: int) -> np.ndarray:
    """One label in {0, 1} per input, as int64."""
    labels = np.asarray(labels)
    require(labels.shape == (N,), "labels", f"one label per input (N = {N})", labels.shape)
    require(bool(np.all((labels == 0) | (labels == 1))), "labels", "0 or 1 (binary memory)", tuple(labels.tolist()))
    return labels.astype(np.int64)


def _probabilities(p, N: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    require(p.shape == (N,), "p", f"a vector of N = {N} probabilities", p.shape)
    require(bool(np.all(np.isfinite(p))) and bool(np.all(p > 0)), "p", "positive in every entry", tuple(p.tolist()))
    require(abs(p.sum() - 1.0) <= 1e-9, "p", "a probability vector summing to 1 (within 1e-9)", float(p.sum()))
    return p


def _kappa(kappa) -> float:
    require(np.isfinite(kappa) and kappa > 0, "kappa", "a finite number > 0 (kappa = ||u_0 - u_1||^2)", kappa)
    return float(kappa)


def signs(labels) -> np.ndarray:
    """eps_x = +1 for label 0, -1 for label 1."""
    labels = np.asarray(labels)
    return 1.0 - 2.0 * labels


def signed_points(E, labels) -> np.ndarray:
    """Z with rows eps_x e_x."""
    E = checked_embeddings(E)
    labels = checked_labels(labels, E.shape[0])
    return signs(labels)[:, None] * E


def signed_gram(E, labels) -> np.ndarray:
    """Kt(x, x') = eps_x eps_x' <e_x, e_x'>."""
    Z = signed_points(E, labels)
    return Z @ Z.T


# --- separability (linear programs) ------------------------------------------------------------


def separability(E, labels) -> str:
    """'separable', 'weakly separable' or 'not separable' (through the origin), by two LPs.

    LP 1: max s  s.t. Z v >= s, |v_i| <= 1, s <= 1; separable iff s* > 1e-9.
    LP 2: max sum(Z v) s.t. Z v >= 0, |v_i| <= 1; weakly separable iff the optimum is > 1e-9."""
    Z = signed_points(E, labels)
    N, d = Z.shape
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[-Z, np.ones(N)], b_ub=np.zeros(N),
                  bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"separability LP failed: {res.message}")
    if -res.fun > _LP_TOL:
        return SEPARABLE
    res = linprog(-Z.sum(axis=0), A_ub=-Z, b_ub=np.zeros(N), bounds=[(-1, 1)] * d, method="highs")
    if res.status != 0:
        raise RuntimeError(f"separability LP failed: {res.message}")
    return WEAKLY_SEPARABLE if -res.fun > _LP_TOL else NOT_SEPARABLE


# --- hard-margin SVM -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SVMResult:
    v: np.ndarray  # v_hat, the minimum-norm v with Z v >= 1
    gamma: float  # max margin gamma* = 1 / ||v_hat||
    support: tuple  # indices x with <v_hat, z_x> = 1
    dual: np.ndarray  # lambda_x >= 0, zero off the support; v_hat = Z^T lambda
    margins: np.ndarray  # Z v_hat

    @property
    def direction(self) -> np.ndarray:
        return self.v / np.linalg.norm(self.v)


def hard_margin_svm(E, labels, active_tol: float = 1e-6) -> SVMResult:
    """min 1/2 ||v||^2 s.t. eps_x <v, e_x> >= 1, by SLSQP, then refined exactly on the active set."""
    Z = signed_points(E, labels)
    if separability(E, labels) != SEPARABLE:
        raise ParameterError("E, labels", "linearly separable through the origin (no hard-margin SVM otherwise)")
    N, d = Z.shape
    # a feasible start from the separating LP direction
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[-Z, np.ones(N)], b_ub=np.zeros(N),
                  bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
    v0 = res.x[:d] / res.x[d]
    qp = minimize(lambda v: 0.5 * v @ v, v0, jac=lambda v: v, method="SLSQP",
                  constraints=[{"type": "ineq", "fun": lambda v: Z @ v - 1.0, "jac": lambda v: Z}],
                  options={"ftol": 1e-15, "maxiter": 1000})
    v = qp.x
    active = np.flatnonzero(Z @ v - 1.0 <= active_tol)
    require(active.size > 0, "E, labels", "a problem where SLSQP finds an active constraint")
    # the optimum lies in the span of the active rows and meets them with equality: the minimum-norm
    # solution of Z_A v = 1; its duals are the non-negative coefficients of v in the active rows
    refined, *_ = np.linalg.lstsq(Z[active], np.ones(active.size), rcond=None)
    if np.all(Z @ refined >= 1.0 - 1e-9) and refined @ refined <= v @ v * (1 + 1e-6):
        v = refined
    coefficients, residual = nnls(Z[active].T, v)
    dual = np.zeros(N)
    dual[active] = coefficients
    return SVMResult(v, float(1.0 / np.linalg.norm(v)), tuple(int(i) for i in active), dual, Z @ v)


# --- cross-entropy in v and its finite minimizer -----------------------------------------------------


def ce_loss(v, E, labels, p) -> float:
    """L(v) = sum_x p(x) log(1 + e^{-<v, z_x>}), stable for margins of any size."""
    Z = signed_points(E, labels)
    p = _probabilities(p, Z.shape[0])
    return float(p @ np.logaddexp(0.0, -(Z @ np.asarray(v, dtype=float))))


def ce_gradient(v, E, labels, p) -> np.ndarray:
    Z = signed_points(E, labels)
    p = _probabilities(p, Z.shape[0])
    return -Z.T @ (p * expit(-(Z @ np.asarray(v, dtype=float))))


def ce_hessian(v, E, labels, p) -> np.ndarray:
    Z = signed_points(E, labels)
    p = _probabilities(p, Z.shape[0])
    margin = Z @ np.asarray(v, dtype=float)
    weights = p * expit(margin) * expit(-margin)
    return Z.T @ (weights[:, None] * Z)


@dataclass(frozen=True)
class CEMinimizer:
    v: np.ndarray  # theta* = v* in R^d
    margins: np.ndarray  # <v*, z_x>
    loss: float
    gradient: np.ndarray
    hessian: np.ndarray  # Hessian of L(v) at v*
    iterations: int

    @property
    def top_eigenvalue(self) -> float:
        """lambda_max(H), the top eigenvalue of the Hessian of L(v) at v* (h_max of the stability law)."""
        return float(np.linalg.eigvalsh(self.hessian)[-1])

    def sharpness(self, kappa: float) -> float:
        """Top eigenvalue of the W-space Hessian at W* (= (u_0 - u_1)(u_0 - u_1)^T kron H): kappa lambda_max(H)."""
        return _kappa(kappa) * self.top_eigenvalue

    def stability_threshold(self, kappa: float) -> float:
        """W-space GD with step eta is linearly stable at W* iff eta < 2 / (kappa lambda_max(H))."""
        return 2.0 / self.sharpness(kappa)


def ce_minimizer(E, labels, p, tol: float = 1e-14, max_iter: int = 200) -> CEMinimizer:
    """The finite minimizer of L(v) by Newton's method with Armijo backtracking, from v = 0."""
    Z = signed_points(E, labels)
    N, d = Z.shape
    p = _probabilities(p, N)
    kind = separability(E, labels)
    if kind != NOT_SEPARABLE:
        raise ParameterError("E, labels", f"not separable for a finite CE minimizer (the points are {kind}: "
                                          "the loss decreases forever along a separating direction)")
    if np.linalg.matrix_rank(Z) < d:
        raise ParameterError("E", f"of rank d = {d} (else the minimizer is not unique)", int(np.linalg.matrix_rank(Z)))
    v = np.zeros(d)

    def loss(u):
        return float(p @ np.logaddexp(0.0, -(Z @ u)))

    for iteration in range(1, max_iter + 1):
        margin = Z @ v
        grad = -Z.T @ (p * expit(-margin))
        if np.linalg.norm(grad) <= tol:
            break
        hess = Z.T @ ((p * expit(margin) * expit(-margin))[:, None] * Z)
        step = -np.linalg.solve(hess, grad)
        if np.linalg.norm(step) <= 1e-15 * (1.0 + np.linalg.norm(v)):
            break  # at the rounding floor: the gradient cannot get smaller in floating point
        current, slope, size = loss(v), float(grad @ step), 1.0
        allowance = 4 * np.finfo(float).eps * abs(current)  # rounding of the loss itself
        while loss(v + size * step) > current + 1e-4 * size * slope + allowance and size > 1e-12:
            size *= 0.5
        v = v + size * step
    else:
        raise RuntimeError(f"Newton's method did not converge in {max_iter} iterations")
    require(np.linalg.norm(grad) <= 1e-10, "E, p", "a problem whose CE minimizer Newton's method can reach "
            f"(|grad| = {np.linalg.norm(grad):.2e} at the rounding floor)")
    margin = Z @ v
    hess = Z.T @ ((p * expit(margin) * expit(-margin))[:, None] * Z)
    return CEMinimizer(v, margin, loss(v), grad, hess, iteration)


# --- 0-1 error ----------------------------------------------------------------------------------------


def zero_one_error(v, E, labels, p, tie_tol: float = 0.0) -> float:
    """sum_x p(x) 1{x wrong}; |m(x)| <= tie_tol counts as a tie, predicted as class 0."""
    E = checked_embeddings(E)
    labels = checked_labels(labels, E.shape[0])
    p = _probabilities(p, E.shape[0])
    return float(p @ _wrong(np.asarray(v, dtype=float), E, labels, tie_tol))


def _wrong(v, E, labels, tie_tol):
    difference = E @ v  # s_0 - s_1 for U with u_0 - u_1 mapped to v
    tie = np.abs(difference) <= tie_tol * np.maximum(1.0, np.linalg.norm(E, axis=1) * np.linalg.norm(v))
    predicted_one = (difference < 0) & ~tie
    return predicted_one != (labels == 1)


@dataclass(frozen=True)
class BestZeroOne:
    error: float
    direction: np.ndarray  # a v (unit norm, or 0) attaining it
    wrong: tuple  # inputs misclassified there
    candidates: int  # directions evaluated


def best_zero_one(E, labels, p) -> BestZeroOne:
    """Exact minimum over v of the 0-1 error, for d <= 2.

    d = 2: the error is constant on each open arc between consecutive critical directions (v orthogonal
    to some e_x); every arc is represented by its midpoint, every critical direction (where ties go to
    class 0) by itself, and v = 0 (everything predicted as class 0) is included.  d = 1: v in {-1, 0, 1}."""
    E = checked_embeddings(E)
    N, d = E.shape
    labels = checked_labels(labels, N)
    p = _probabilities(p, N)
    if d > 2:
        raise ParameterError("d", "at most 2: no exact 0-1 optimum implemented for d > 2", d)
    if d == 1:
        candidates = [np.array([1.0]), np.array([-1.0]), np.array([0.0])]
        ties = [1e-12, 1e-12, 1e-12]
    else:
        norms = np.linalg.norm(E, axis=1)
        require(bool(np.all(norms > 0)), "E", "rows of non-zero norm for the 0-1 optimum")
        angles = np.arctan2(E[:, 1], E[:, 0])
        critical = np.unique(np.mod(np.r_[angles + np.pi / 2, angles - np.pi / 2], 2 * np.pi))
        following = np.r_[critical[1:], critical[0] + 2 * np.pi]
        middles = (critical + following) / 2
        candidates = [np.array([np.cos(a), np.sin(a)]) for a in (*middles, *critical)] + [np.zeros(2)]
        # midpoints: no ties by construction; critical directions: the orthogonal inputs tie
        ties = [0.0] * middles.size + [1e-12] * critical.size + [1e-12]
    best, best_v, best_wrong = np.inf, None, None
    for v, tie in zip(candidates, ties):
        wrong = _wrong(v, E, labels, tie)
        error = float(p @ wrong)
        if error < best - 1e-15:
            best, best_v, best_wrong = error, v, wrong
    return BestZeroOne(best, best_v, tuple(int(i) for i in np.flatnonzero(best_wrong)), len(candidates))


def unit_circle(angles_degrees) -> np.ndarray:
    """Rows (cos a, sin a) for angles in degrees."""
    a = np.deg2rad(np.asarray(angles_degrees, dtype=float))
    require(a.ndim == 1 and a.size >= 1 and bool(np.all(np.isfinite(a))), "angles", "a non-empty list of finite angles")
    return np.c_[np.cos(a), np.sin(a)]
