"""The exact loss of an idealised plateau point, with SymPy rationals.

Fix each group's activation pattern (I+, I-, I0).  With a_k = a_plus [k in I+] + a_minus [k in I-]
the group acts on input k as h_g a_k (x_k . w_g), and w_g . x_k = 0 on I0.  Writing w_g = N_g z_g
with N_g a rational basis of the complement of the I0 inputs, the group's features are the columns
of C_g = diag(a) X N_g, and

* scalar output: f = sum_g C_g z_g, with z_g the coordinates of u_g = c_g v_g in N_g, is linear,
  so the plateau loss is that of a least-squares problem: y projected on the column space of
  [C_1 ... C_G] (rank deficiency allowed).
  Among all least-squares solutions the one nearest the float point is taken, so the exact point
  keeps the float point's pattern whenever any solution does.  The network weights are
  w_g = sign(c_g) u_g, h_g = sign(c_g).
* vector output: group g adds a rank-one term a_g h_g^T with a_g in col(C_g).  If the column spaces
  are mutually orthogonal the problem separates: group g removes one eigenvalue lambda_g of
  Y^T P_g Y (P_g the projector on col(C_g); the top one at a minimum, another one or 0 at a saddle),
  so L = (||Y||_F^2 - sum_g lambda_g) / (n d_out) is algebraic.  Otherwise, if the refined
  directions span V = col([C_1 ... C_G]), the value is the least squares on V, rational, with an exact
  point (spanning_plateau); if they do not, no closed form is tried.
  In both cases the float point is refined by least squares on the narrower network
  (scipy.optimize.least_squares in (z_g, h_g)), and lambda_g is picked as the eigenvalue the refined
  point reaches.

The stationary point is only that of the plateau when its weights keep the assumed patterns
(w_g . x_k > 0 on I+, < 0 on I-); ``keeps_pattern`` and ``violations`` say so.  With
``pin_to_kink`` an input found on the wrong side is moved onto the group's kink and the problem is
solved again (an active-set step): GD often parks a neuron at a kink it is pushed against.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from gradflow.theory.activations import ReluLike
from gradflow.theory.errors import ParameterError, require

from gradflow.numerics.saddle.idealise import IdealisedPoint, NeuronGroup
from gradflow.numerics.saddle.shallow_arrays import relu_like
from gradflow.numerics.saddle.spanning_plateau import spanning_plateau


@dataclass(frozen=True)
class ExactPlateau:
    loss: object  # SymPy Rational (scalar output) or algebraic number (separable vector output); None if no closed form
    loss_string: object  # str(loss) or None
    loss_float: float  # float(loss), or the refined float loss when loss is None
    W_exact: object  # (m, d) object array of Rationals: the exact stationary point (scalar output), else None
    H_exact: object  # (m, 1) object array of Rationals, or None
    W: np.ndarray  # (m, d) float stationary point (from W_exact, or refined by least squares)
    H: np.ndarray  # (m, d_out)
    keeps_pattern: bool  # the stationary point keeps every group's activation pattern
    violations: tuple  # one line per input on the wrong side
    reason: object  # why loss is None or how it was obtained; None for a plain exact result
    groups: tuple  # the groups with the activation patterns used (after pinning)
    pinned: tuple  # (group index, input index) moved onto the kink by pin_to_kink
    converged: bool = True  # vector output: the float refinement reached a stationary point


_MAX_REFINE_EVALUATIONS = 2000
_REFINE_GRADIENT_TOL = 1e-10


# --- exact data ------------------------------------------------------------------------------------


def _rational(value) -> sp.Rational:
    if isinstance(value, sp.Rational):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise ParameterError("data", "numbers, not booleans", value)
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    if isinstance(value, (float, np.floating)):
        require(bool(np.isfinite(value)), "data", "finite numbers", value)
        return sp.Rational(str(value))  # the decimal as written: -0.3 -> -3/10
    if isinstance(value, sp.Basic) and value.is_Rational:
        return value
    raise ParameterError("data", "ints, floats or SymPy Rationals", value)


def rational_array(values) -> np.ndarray:
    """An object array of SymPy Rationals; floats are read as the decimals they print as (-0.3 -> -3/10)."""
    array = np.asarray(values, dtype=object)
    return np.vectorize(_rational, otypes=[object])(array) if array.size else array


def _exact_slopes(activation: ReluLike) -> tuple[sp.Rational, sp.Rational]:
    return _rational(activation.a_plus), _rational(activation.a_minus)


def _near_rational(value: float) -> sp.Rational:
    fraction = Fraction(float(value)).limit_denominator(10 ** 9)
    return sp.Rational(fraction.numerator, fraction.denominator)


# --- group features ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GroupFeatures:
    basis: sp.Matrix  # N_g (d x r): directions keeping the I0 inputs on the kink
    features: sp.Matrix  # C_g = diag(a) X N_g (n x r)


def _group_features(group: NeuronGroup, X: sp.Matrix, slopes) -> _GroupFeatures:
    n, d = X.shape
    a_plus, a_minus = slopes
    if group.kink:
        columns = X.extract(list(group.kink), list(range(d))).nullspace()
        require(bool(columns), "idealised", "groups whose kink inputs leave a direction free", group.members)
        basis = sp.Matrix.hstack(*columns)
    else:
        basis = sp.eye(d)
    gains = [a_plus if k in group.positive else a_minus if k in group.negative else sp.Integer(0) for k in range(n)]
    return _GroupFeatures(basis, sp.diag(*gains) * X * basis)


def _wrong_sides(index: int, group: NeuronGroup, side) -> list[tuple]:
    """(group index, input, w.x) for each input on the wrong side; side[k] = w_g . x_k, exact or float."""
    return ([(index, k, side[k]) for k in group.positive if not side[k] > 0]
            + [(index, k, side[k]) for k in group.negative if not side[k] < 0])


def _describe(wrong: list[tuple], groups: tuple) -> tuple:
    return tuple(f"group {g} (neurons {list(groups[g].members)}): input {k} should have "
                 f"w.x {'>' if k in groups[g].positive else '<'} 0, has {value}" for g, k, value in wrong)


def _pinned_groups(groups: tuple, wrong: list[tuple], X: sp.Matrix):
    """The groups with each wrong-side input moved onto its group's kink; None if a group's kink
    inputs would then span R^d (no direction left)."""
    moved = {}
    for g, k, _ in wrong:
        moved.setdefault(g, set()).add(k)
    pinned = []
    for g, group in enumerate(groups):
        if g not in moved:
            pinned.append(group)
            continue
        kink = tuple(sorted(set(group.kink) | moved[g]))
        if X.extract(list(kink), list(range(X.shape[1]))).rank() >= X.shape[1]:
            return None
        pinned.append(replace(group, positive=tuple(k for k in group.positive if k not in moved[g]),
                              negative=tuple(k for k in group.negative if k not in moved[g]), kink=kink))
    return tuple(pinned)


def _check_inputs(idealised, X, Y, activation):
    require(isinstance(idealised, IdealisedPoint), "idealised", "an IdealisedPoint (from idealise)", type(idealised))
    activation = relu_like(activation)
    X = rational_array(X)
    Y = rational_array(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    require(X.ndim == 2 and X.shape[1] == idealised.W.shape[1], "X_rational",
            f"(n, d) with d = {idealised.W.shape[1]}", X.shape)
    require(Y.ndim == 2 and Y.shape == (X.shape[0], idealised.H.shape[1]), "Y_rational",
            f"(n, d_out) = ({X.shape[0]}, {idealised.H.shape[1]})", Y.shape)
    return activation, sp.Matrix(X), sp.Matrix(Y)


def _dead_row(w: np.ndarray, X: sp.Matrix) -> list:
    """A short rational for a dead neuron's w that is still strictly negative on every input."""
    row = sp.Matrix([[_near_rational(v) for v in w]])
    if all(value < 0 for value in row * X.T):
        return list(row)
    return [sp.Rational(float(v)) for v in w]


# --- scalar output: exact linear least squares --------------------------------------------------------


def _nearest_least_squares(A: sp.Matrix, y: sp.Matrix, start: sp.Matrix) -> sp.Matrix:
    """The least-squares solution of A z ~ y nearest to ``start``: start plus the minimum-norm
    solution of A delta ~ y - A start (delta in the row space of A)."""
    rows = A.rowspace()
    if not rows:
        return start
    B = sp.Matrix.vstack(*rows)
    AB = A * B.T
    coefficients = (AB.T * AB).LUsolve(AB.T * (y - A * start))
    return start + B.T * coefficients


def _scalar_plateau(idealised: IdealisedPoint, groups: tuple, X: sp.Matrix, y: sp.Matrix, slopes):
    n, d = X.shape
    m = idealised.width
    features = [_group_features(group, X, slopes) for group in groups]
    W_exact = np.full((m, d), sp.Integer(0), dtype=object)
    H_exact = np.full((m, 1), sp.Integer(0), dtype=object)
    wrong: list[tuple] = []
    fitted = sp.zeros(n, 1)
    if features:
        A = sp.Matrix.hstack(*(f.features for f in features))
        starts = []
        for group, f in zip(groups, features):
            u_float = sp.Matrix([_near_rational(v) for v in group.output[0] * group.direction])
            starts.append((f.basis.T * f.basis).LUsolve(f.basis.T * u_float))  # nearest point of span(N_g)
        z = _nearest_least_squares(A, y, sp.Matrix.vstack(*starts))
        fitted = A * z
        offset = 0
        for index, (group, f) in enumerate(zip(groups, features)):
            width = f.basis.shape[1]
            w = group.sign * (f.basis * z[offset:offset + width, 0])
            offset += width
            W_exact[group.representative] = list(w)
            H_exact[group.representative, 0] = sp.Integer(group.sign)
            wrong += _wrong_sides(index, group, list(X * w))
    for i in idealised.dead_neurons:
        W_exact[i] = _dead_row(idealised.W[i], X)
    residual = fitted - y
    loss = (residual.T * residual)[0, 0] / n
    reason = None if not wrong else \
        "the least-squares solution leaves the activation pattern: the plateau is not this stationary point"
    result = ExactPlateau(loss, str(loss), float(loss), W_exact, H_exact, W_exact.astype(float),
                          H_exact.astype(float), not wrong, _describe(wrong, groups), reason, groups, ())
    return result, wrong


# --- vector output: rank-one terms ------------------------------------------------------------------------


def _refine(features_float, starts_z, starts_h, Y: np.ndarray):
    """Least squares over (z_g, h_g) of (1/sqrt(n d_out)) (sum_g (C_g z_g) h_g^T - Y)."""
    n, d_out = Y.shape
    widths = [C.shape[1] for C in features_float]
    scale = 1.0 / np.sqrt(n * d_out)

    def unpack(p):
        parts, offset = [], 0
        for width in widths:
            parts.append((p[offset:offset + width], p[offset + width:offset + width + d_out]))
            offset += width + d_out
        return parts

    def residual(p):
        F = sum(np.outer(C @ z, h) for C, (z, h) in zip(features_float, unpack(p)))
        return scale * (F - Y).ravel()

    def jacobian(p):
        blocks = []
        for C, (z, h) in zip(features_float, unpack(p)):
            blocks.append(np.einsum("kj,o->koj", C, h).reshape(n * d_out, -1))  # d F[k, o] / d z_j
            blocks.append(np.einsum("k,op->kop", C @ z, np.eye(d_out)).reshape(n * d_out, -1))  # d F / d h_p
        return scale * np.hstack(blocks)

    def hessian(p):
        # J^T J plus the residual term: d^2 R[k, o] / d z_gj d h_gp = scale C_g[k, j] delta_op
        J, R = jacobian(p), residual(p).reshape(n, d_out)
        full = J.T @ J
        offset = 0
        for C, width in zip(features_float, widths):
            block = scale * C.T @ R  # (width, d_out)
            full[offset:offset + width, offset + width:offset + width + d_out] += block
            full[offset + width:offset + width + d_out, offset:offset + width] += block.T
            offset += width + d_out
        return full

    def gradient(p):
        return jacobian(p).T @ residual(p)

    start = np.concatenate([np.concatenate([z, h]) for z, h in zip(starts_z, starts_h)])
    x = least_squares(residual, start, jac=jacobian, method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                      max_nfev=_MAX_REFINE_EVALUATIONS).x
    # trf stops a little short of the stationary point (the loss is flat along the rescalings
    # (z, h) -> (c z, h / c)); minimum-norm Newton steps finish it, kept only while they help
    for _ in range(8):
        candidate = x - np.linalg.lstsq(hessian(x), gradient(x), rcond=None)[0]
        cost, new_cost = np.sum(residual(x) ** 2), np.sum(residual(candidate) ** 2)
        if not (np.max(np.abs(gradient(candidate))) < np.max(np.abs(gradient(x))) and new_cost <= cost * (1 + 1e-12)):
            break
        x = candidate
    # a gradient left over means the weights drift off (the infimum of the coupled problem is not attained)
    converged = float(np.max(np.abs(gradient(x)), initial=0.0)) < _REFINE_GRADIENT_TOL
    return unpack(x), float(np.sum(residual(x) ** 2)), converged


def _vector_plateau(idealised: IdealisedPoint, groups: tuple, X: sp.Matrix, Y: sp.Matrix, slopes):
    n, d = X.shape
    d_out = Y.shape[1]
    m = idealised.width
    Y_float = np.array(Y.tolist(), dtype=float)
    X_float = np.array(X.tolist(), dtype=float)
    features = [_group_features(group, X, slopes) for group in groups]
    W = np.zeros((m, d))
    H = np.zeros((m, d_out))
    for i in idealised.dead_neurons:
        W[i] = idealised.W[i]
    wrong: list[tuple] = []
    refined_loss = float(np.mean(Y_float ** 2))
    converged = True
    terms = []
    if features:
        bases = [np.array(f.basis.tolist(), dtype=float) for f in features]
        features_float = [np.array(f.features.tolist(), dtype=float) for f in features]
        starts_z = [np.linalg.lstsq(N, idealised.W[group.representative], rcond=None)[0]
                    for N, group in zip(bases, groups)]
        starts_h = [idealised.H[group.representative] for group in groups]
        parts, refined_loss, converged = _refine(features_float, starts_z, starts_h, Y_float)
        for index, (group, N, C, (z, h)) in enumerate(zip(groups, bases, features_float, parts)):
            W[group.representative] = N @ z
            H[group.representative] = h
            terms.append(np.outer(C @ z, h))
            wrong += _wrong_sides(index, group, X_float @ (N @ z))

    loss, reason = _separable_loss(features, terms, Y, Y_float)
    if loss is None and features:
        spanning = _spanning_result(idealised, groups, features, parts, X, Y)
        if spanning is not None:
            return spanning, []
    if not converged:
        reason = (reason + "; " if reason else "") + \
            "the least-squares refinement did not reach a stationary point (the weights may grow without bound)"
    if wrong:
        reason = (reason + "; " if reason else "") + \
            "the refined point leaves the activation pattern: the plateau is not this stationary point"
    loss_float = float(loss) if loss is not None else refined_loss
    result = ExactPlateau(loss, None if loss is None else str(loss), loss_float, None, None, W, H, not wrong,
                          _describe(wrong, groups), reason, groups, (), converged)
    return result, wrong


def _spanning_result(idealised: IdealisedPoint, groups: tuple, features, parts, X: sp.Matrix, Y: sp.Matrix):
    """The coupled groups' exact plateau (see spanning_plateau), or None if it is not attained with the
    groups' patterns."""
    spanning, _ = spanning_plateau(groups, features, parts, X, Y)
    if spanning is None or spanning.wrong_sides:
        return None
    m, d, d_out = idealised.width, X.shape[1], Y.shape[1]
    W_exact = np.full((m, d), sp.Integer(0), dtype=object)
    H_exact = np.full((m, d_out), sp.Integer(0), dtype=object)
    for g, (group, u) in enumerate(zip(groups, spanning.directions)):
        W_exact[group.representative] = list(u)
        H_exact[group.representative] = list(spanning.outputs[g, :])
    for i in idealised.dead_neurons:
        W_exact[i] = _dead_row(idealised.W[i], X)
    reason = ("the groups' feature spaces are not orthogonal, so their rank-one terms couple: least squares on the "
              "span V of all the groups' features, attained with the patterns kept (exact point)")
    return ExactPlateau(spanning.loss, str(spanning.loss), float(spanning.loss), W_exact, H_exact,
                        W_exact.astype(float), H_exact.astype(float), True, (), reason, groups, ())


def _separable_loss(features, terms, Y: sp.Matrix, Y_float: np.ndarray):
    """The algebraic loss when the groups' column spaces are orthogonal; terms[g] = a_g h_g^T (float,
    refined) tells which eigenvalue each group reached."""
    n, d_out = Y.shape
    for g, f in enumerate(features):
        for f_other in features[g + 1:]:
            if not (f.features.T * f_other.features).is_zero_matrix:
                return None, ("the groups' feature spaces are not orthogonal, so their rank-one terms couple: "
                              "no closed form; loss_float is the least-squares refinement")
    removed = sp.Integer(0)
    for g, (f, term) in enumerate(zip(features, terms)):
        columns = f.features.columnspace()
        if not columns:
            continue
        K = sp.Matrix.hstack(*columns)
        PY = K * (K.T * K).inv() * K.T * Y
        PY_float = np.array(PY.tolist(), dtype=float)
        reached = np.sum(PY_float ** 2) - np.sum((PY_float - term) ** 2)
        candidates = list((Y.T * PY).eigenvals()) + [sp.Integer(0)]  # a_g = 0 is stationary too
        nearest = min(candidates, key=lambda value: abs(float(value) - reached))
        if abs(float(nearest) - reached) > 1e-8 * max(1.0, float(np.sum(Y_float ** 2))):
            return None, (f"group {g} did not refine to a stationary point of its rank-one problem "
                          f"(captured {reached:.6g}, eigenvalues {[float(c) for c in candidates]})")
        removed += nearest
    total = sum(v ** 2 for v in Y)
    loss = sp.radsimp(sp.simplify((total - removed) / (n * d_out)))
    return loss, "separable groups: each removes an eigenvalue of Y^T P_g Y"


def exact_plateau_loss(idealised: IdealisedPoint, X_rational, Y_rational, activation, *,
                       pin_to_kink: bool = False) -> ExactPlateau:
    """Exact loss (and stationary point) of the narrower network the idealised point embeds.

    X_rational, Y_rational: the data as Rationals, or floats read as decimals (see rational_array).
    pin_to_kink: when the solution puts an input on the wrong side of a group's kink, move that
    input onto the kink (w_g . x_k = 0) and solve again, until every pattern is kept.  A neuron that
    GD drives towards a kink it cannot cross sits there on the plateau, but is still a little off it
    at any finite time, beyond kink_tol; this finds that point.  The moves are listed in ``pinned``;
    whether the pinned point is d-stationary is for the landscape classification to say."""
    activation, X, Y = _check_inputs(idealised, X_rational, Y_rational, activation)
    slopes = _exact_slopes(activation)
    solve = _scalar_plateau if Y.shape[1] == 1 else _vector_plateau
    groups, pinned = idealised.groups, []
    result, wrong = solve(idealised, groups, X, Y, slopes)
    while pin_to_kink and wrong:
        moved = _pinned_groups(groups, wrong, X)
        if moved is None:
            break
        groups, pinned = moved, pinned + [(g, k) for g, k, _ in wrong]
        result, wrong = solve(idealised, groups, X, Y, slopes)
    return replace(result, pinned=tuple(pinned))


def exact_network_loss(W, H, X_rational, Y_rational, activation) -> sp.Rational:
    """L = (1/(n d_out)) sum_k ||f(x_k) - y_k||^2 of a network with rational weights, exactly."""
    activation = relu_like(activation)
    W, H = rational_array(W), rational_array(H)
    X, Y = rational_array(X_rational), rational_array(Y_rational)
    if H.ndim == 1:
        H = H[:, None]
    if Y.ndim == 1:
        Y = Y[:, None]
    require(W.ndim == 2 and X.ndim == 2 and W.shape[1] == X.shape[1], "W", "(m, d) matching X (n, d)", W.shape)
    require(H.shape == (W.shape[0], Y.shape[1]) and Y.shape[0] == X.shape[0], "H", "(m, d_out) matching Y (n, d_out)",
            H.shape)
    a_plus, a_minus = _exact_slopes(activation)
    pre = sp.Matrix(X) * sp.Matrix(W).T
    hidden = pre.applyfunc(lambda v: a_plus * v if v > 0 else a_minus * v)
    residual = hidden * sp.Matrix(H) - sp.Matrix(Y)
    return sum(v ** 2 for v in residual) / (X.shape[0] * Y.shape[1])
