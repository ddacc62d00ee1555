"""The first escape from vanishing initialisation: its rate lambda* and the plateau length T_1.

At theta = 0 the residual is e* = -y and a small neuron (w, h) with ||w|| ~ |h| grows like
exp(2 ||G(w_hat)|| t), where

    G(u) = (1/(n d_out)) sum_k y_k rho(x_k . u)   (in R^d_out).

The fastest neurons align with a maximiser of ||G|| on the unit sphere, so the first plateau lasts
T_1 = ln(1/sigma) / (2 lambda*), lambda* = max_{||u|| = 1} ||G(u)|| (time t = lr x iterations).

Exact maximisation for ReLU-like rho: G is linear, G(u) = A_s u, on each closed cone C_s of the
hyperplane arrangement {x_k . u = 0} (s the sign pattern; A_s = (1/(n d_out)) sum_k y_k a_{s_k} x_k^T).
A maximiser of ||A_s u|| over C_s and the sphere lies in the relative interior of some face of C_s,
i.e. on a subspace L = {u : x_k . u = 0, k in Z}, where it is a local maximum of the Rayleigh
quotient of A_s^T A_s on L, hence a top eigenvector of Q^T A_s^T A_s Q (Q an orthonormal basis of L).
So :func:`first_escape_rate` enumerates the cones (incrementally, one linear-programming feasibility
check per new hyperplane and sign) and the subspaces (|Z| <= d - 1), and keeps the best candidate that
lies in its cone, evaluating ||G|| at it directly.  The work grows like n^(2(d-1)): this is for small d.
:func:`sampled_escape_rate` (a dense sphere sample refined by Nelder-Mead) is the independent
cross-check.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import linprog, minimize

from gradflow.theory.errors import require

from gradflow.numerics.saddle.shallow_arrays import data_arrays, relu_like

_CONE_TOL = 1e-9  # a candidate counts as inside its closed cone up to this (relative) violation


class EscapeRate(NamedTuple):
    lambda_star: float  # max over the unit sphere of ||G(u)||
    u_star: np.ndarray  # a unit maximiser


def escape_function(X, Y, activation, U) -> np.ndarray:
    """G(u) = (1/(n d_out)) sum_k y_k rho(x_k . u) for each row u of U (N, d); returns (N, d_out)."""
    X, Y = data_arrays(X, Y)
    activation = relu_like(activation)
    U = np.atleast_2d(np.asarray(U, dtype=float))
    require(U.shape[1] == X.shape[1], "U", f"directions of dimension d = {X.shape[1]}", U.shape)
    return activation(U @ X.T) @ Y / Y.size


def _strictly_feasible(X: np.ndarray, signs: np.ndarray) -> bool:
    """Is there u with signs_k x_k . u > 0 for every row?  (Scale-free: ask for >= 1.)"""
    result = linprog(np.zeros(X.shape[1]), A_ub=-(signs[:, None] * X), b_ub=-np.ones(X.shape[0]),
                     bounds=[(None, None)] * X.shape[1], method="highs")
    return result.status == 0


def _cones(X: np.ndarray) -> list[np.ndarray]:
    """Sign patterns (+1/-1 per row of X) of the full-dimensional cones of the arrangement."""
    patterns = [np.zeros(0)]
    for j in range(X.shape[0]):
        extended = []
        for pattern in patterns:
            plus, minus = np.r_[pattern, 1.0], np.r_[pattern, -1.0]
            # a cone is never cut away entirely: if one side of x_j is empty the other holds it all
            if _strictly_feasible(X[:j + 1], plus):
                extended.append(plus)
                if _strictly_feasible(X[:j + 1], minus):
                    extended.append(minus)
            else:
                extended.append(minus)
        patterns = extended
    return patterns


def _face_bases(X: np.ndarray) -> list[np.ndarray]:
    """Orthonormal bases of the subspaces {u : x_k . u = 0, k in Z}, |Z| <= d - 1, Z independent."""
    n, d = X.shape
    bases = [np.eye(d)]
    for size in range(1, min(d - 1, n) + 1):
        for Z in itertools.combinations(range(n), size):
            if np.linalg.matrix_rank(X[list(Z)]) == size:
                bases.append(null_space(X[list(Z)]))
    return bases


def first_escape_rate(X, Y, activation) -> EscapeRate:
    """lambda* = max_{||u|| = 1} ||G(u)|| and a maximiser, exactly per cone (see the module docstring)."""
    X, Y = data_arrays(X, Y)
    activation = relu_like(activation)
    d = X.shape[1]
    nonzero = np.linalg.norm(X, axis=1) > 0  # x_k = 0 adds rho(0) = 0 to G
    Xn, Yn = X[nonzero], Y[nonzero]
    best = EscapeRate(0.0, np.eye(d)[0])
    if Xn.shape[0] == 0:
        return best
    row_norms = np.linalg.norm(Xn, axis=1)
    bases = _face_bases(Xn)
    a_plus, a_minus = float(activation.a_plus), float(activation.a_minus)
    for signs in _cones(Xn):
        A = (Yn * np.where(signs > 0, a_plus, a_minus)[:, None]).T @ Xn / Y.size  # (d_out, d)
        for Q in bases:
            AQ = A @ Q
            _, vectors = np.linalg.eigh(AQ.T @ AQ)
            for u in (Q @ vectors[:, -1], -(Q @ vectors[:, -1])):
                if np.all(signs * (Xn @ u) >= -_CONE_TOL * row_norms):
                    value = float(np.linalg.norm(escape_function(X, Y, activation, u)[0]))
                    if value > best.lambda_star:
                        best = EscapeRate(value, u)
    return best


def sampled_escape_rate(X, Y, activation, *, samples: int = 20_000, refine: int = 8, seed: int = 0) -> EscapeRate:
    """lambda* from a random sphere sample, the best ``refine`` directions polished by Nelder-Mead.

    A lower bound on lambda*; the cross-check for :func:`first_escape_rate`."""
    X, Y = data_arrays(X, Y)
    activation = relu_like(activation)
    require(isinstance(samples, (int, np.integer)) and samples >= 1, "samples", "an integer >= 1", samples)
    require(isinstance(refine, (int, np.integer)) and 1 <= refine <= samples, "refine", f"an integer in [1, {samples}]",
            refine)
    directions = np.random.default_rng(seed).standard_normal((samples, X.shape[1]))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    values = np.linalg.norm(escape_function(X, Y, activation, directions), axis=1)

    def negative_norm(v):
        return -float(np.linalg.norm(escape_function(X, Y, activation, v / np.linalg.norm(v))[0]))

    best = EscapeRate(float(values.max()), directions[np.argmax(values)])
    for start in directions[np.argsort(-values)[:refine]]:
        result = minimize(negative_norm, start, method="Nelder-Mead",
                          options={"xatol": 1e-13, "fatol": 1e-16, "maxiter": 20_000, "maxfev": 40_000})
        if -result.fun > best.lambda_star:
            best = EscapeRate(-float(result.fun), result.x / np.linalg.norm(result.x))
    return best


def predicted_escape_time(sigma, lambda_star) -> float:
    """T_1 = ln(1/sigma) / (2 lambda*), in time units lr x iterations."""
    require(np.isfinite(sigma) and 0 < sigma < 1, "sigma", "the initialisation scale, in (0, 1)", sigma)
    require(np.isfinite(lambda_star) and lambda_star > 0, "lambda_star", "a finite number > 0", lambda_star)
    return math.log(1.0 / sigma) / (2.0 * lambda_star)


def measured_escape_time(iterations, loss, lr, drop: float = 0.05) -> float:
    """The time lr x iteration where the loss first falls below (1 - drop) L(0), L(0) = loss[0].

    Linear interpolation between the bracketing records; inf if the loss never gets there.
    Why a fixed relative drop: while neurons grow like sigma e^(2 lambda* t), the loss has fallen by
    ~ sigma^2 e^(4 lambda* t), so the time of a drop delta is T_1 + ln(delta)/(4 lambda*) + const: the
    choice of delta shifts T by a sigma-independent constant and leaves the slope against ln(1/sigma)
    alone.  5% is well above the O(sigma^2) wiggle of the initial loss and below the size of a
    typical first drop; a first drop smaller than ``drop`` is missed (the time of a later one is
    returned)."""
    iterations = np.asarray(iterations, dtype=float)
    loss = np.asarray(loss, dtype=float)
    require(iterations.ndim == 1 and iterations.size >= 2 and bool(np.all(np.diff(iterations) > 0)), "iterations",
            "a strictly increasing 1-D array of at least 2 iterations", iterations.shape)
    require(loss.shape == iterations.shape and bool(np.all(np.isfinite(loss))), "loss",
            f"finite, one value per iteration ({iterations.size})", loss.shape)
    require(loss[0] > 0, "loss", "positive at the start (L(0) > 0)", loss[0])
    require(np.isfinite(lr) and lr > 0, "lr", "a finite number > 0", lr)
    require(np.isfinite(drop) and 0 < drop < 1, "drop", "a fraction in (0, 1)", drop)
    threshold = (1.0 - drop) * loss[0]
    below = np.flatnonzero(loss < threshold)
    if below.size == 0:
        return math.inf
    j = below[0]
    fraction = (loss[j - 1] - threshold) / (loss[j - 1] - loss[j])
    return float(lr * (iterations[j - 1] + fraction * (iterations[j] - iterations[j - 1])))


@dataclass(frozen=True)
class EscapeTimeFit:
    slope: float  # fitted d T_1 / d ln(1/sigma)
    intercept: float
    predicted_slope: float  # 1 / (2 lambda*)
    relative_error: float  # |slope / predicted_slope - 1|


def fit_escape_times(sigmas, times, lambda_star) -> EscapeTimeFit:
    """Least-squares line T_1 = slope ln(1/sigma) + intercept over a sweep, against 1 / (2 lambda*)."""
    sigmas = np.asarray(sigmas, dtype=float)
    times = np.asarray(times, dtype=float)
    require(sigmas.ndim == 1 and sigmas.size >= 2, "sigmas", "a 1-D array of at least 2 scales", sigmas.shape)
    require(bool(np.all((sigmas > 0) & (sigmas < 1))), "sigmas", "scales in (0, 1)", tuple(sigmas.tolist()))
    require(np.unique(sigmas).size >= 2, "sigmas", "at least two different scales", tuple(sigmas.tolist()))
    require(times.shape == sigmas.shape and bool(np.all(np.isfinite(times))), "times",
            f"finite escape times, one per sigma ({sigmas.size})", tuple(times.tolist()))
    require(np.isfinite(lambda_star) and lambda_star > 0, "lambda_star", "a finite number > 0", lambda_star)
    slope, intercept = np.polyfit(np.log(1.0 / sigmas), times, 1)
    predicted = 1.0 / (2.0 * lambda_star)
    return EscapeTimeFit(float(slope), float(intercept), predicted, float(abs(slope / predicted - 1.0)))
