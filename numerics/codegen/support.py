"""Hand-written Numba helpers that generated modules import (stable row-wise functions)."""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def _row_softmax(S):
    out = np.empty_like(S)
    for i in range(S.shape[0]):
        top = _row_max(S, i)
        total = 0.0
        for j in range(S.shape[1]):
            out[i, j] = math.exp(S[i, j] - top)
            total += out[i, j]
        for j in range(S.shape[1]):
            out[i, j] /= total
    return out


@numba.njit(cache=True)
def _weighted_softmax_minus(S, B, w):
    """diag(w) (softmax_row(S) - B) with no temporary matrices: the cross-entropy gradient
    P (Pi - Y), which the printer emits for that pattern."""
    out = _row_softmax(S)
    for i in range(S.shape[0]):
        for j in range(S.shape[1]):
            out[i, j] = w[i, 0] * (out[i, j] - B[i, j])
    return out


@numba.njit(cache=True)
def _row_max(S, i):
    top = S[i, 0]
    for j in range(1, S.shape[1]):
        if S[i, j] > top:
            top = S[i, j]
    return top


@numba.njit(cache=True)
def _row_logsumexp(S):
    out = np.empty((S.shape[0], 1))
    for i in range(S.shape[0]):
        top = _row_max(S, i)
        total = 0.0
        for j in range(S.shape[1]):
            total += math.exp(S[i, j] - top)
        out[i, 0] = top + math.log(total)
    return out


@numba.njit(cache=True)
def _row_sums(A):
    """A @ ones((n, 1)) as a column, by loops: Numba's A.sum(axis=1) takes seconds to compile (axis checks
    with formatted error messages)."""
    out = np.zeros((A.shape[0], 1))
    for i in range(A.shape[0]):
        total = 0.0
        for j in range(A.shape[1]):
            total += A[i, j]
        out[i, 0] = total
    return out


@numba.njit(cache=True)
def _weighted_cross_entropy(S, B, w):
    """w^T (logsumexp_row(S) - (B o S) 1) as a 1 x 1 matrix, in one pass with no temporaries: the
    softmax cross-entropy loss, which the printer emits for that pattern."""
    total = 0.0
    for i in range(S.shape[0]):
        top = _row_max(S, i)
        exps = 0.0
        dot = 0.0
        for j in range(S.shape[1]):
            exps += math.exp(S[i, j] - top)
            dot += B[i, j] * S[i, j]
        total += w[i, 0] * (top + math.log(exps) - dot)
    out = np.empty((1, 1))
    out[0, 0] = total
    return out


@numba.njit(cache=True)
def _frobenius_norm(X):
    """sqrt(sum X_ij^2) without the temporary X * X."""
    total = 0.0
    for v in X.ravel():
        total += v * v
    return math.sqrt(total)


@numba.njit(cache=True)
def _row_softmax_jvp(S, dS):
    pi = _row_softmax(S)
    out = np.empty_like(S)
    for i in range(S.shape[0]):
        mean = 0.0
        for j in range(S.shape[1]):
            mean += pi[i, j] * dS[i, j]
        for j in range(S.shape[1]):
            out[i, j] = pi[i, j] * (dS[i, j] - mean)
    return out


@numba.njit(cache=True)
def _margins(S, labels):
    """m(x) = S[x, f*(x)] - max_{y != f*(x)} S[x, y]."""
    out = np.empty(S.shape[0])
    for i in range(S.shape[0]):
        c = labels[i]
        best = -np.inf
        for j in range(S.shape[1]):
            if j != c and S[i, j] > best:
                best = S[i, j]
        out[i] = S[i, c] - best
    return out


@numba.njit(cache=True)
def _zero_one(S, labels, weights):
    """sum_x p(x) 1{argmax S[x] != f*(x)}, ties to the first maximal index."""
    err = 0.0
    for i in range(S.shape[0]):
        arg = 0
        for j in range(1, S.shape[1]):
            if S[i, j] > S[i, arg]:
                arg = j
        if arg != labels[i]:
            err += weights[i, 0]
    return err


@numba.njit(cache=True)
def _step_in_place(X, eta, V):
    """X += eta V, fused with the finiteness check (one pass, no temporaries); False on NaN/Inf.

    Not parallel on purpose: a cached caller of a parallel=True function segfaults when its
    cache is loaded in a new process (Numba), and these helpers are called from cached code."""
    flat_x, flat_v = X.reshape(-1), V.reshape(-1)
    finite = True
    for i in range(flat_x.size):
        flat_x[i] += eta * flat_v[i]
        if not math.isfinite(flat_x[i]):
            finite = False
    return finite


@numba.njit(cache=True)
def _all_finite(A):
    for v in A.ravel():
        if not math.isfinite(v):
            return False
    return True


@numba.njit(cache=True)
def _sample_batch_weights(cumulative, batch):
    """Empirical weights count_x / B of B inputs drawn i.i.d. from p (inverse CDF)."""
    counts = np.zeros((cumulative.shape[0], 1))
    for _ in range(batch):
        k = np.searchsorted(cumulative, np.random.random(), side="right")
        if k >= cumulative.shape[0]:
            k = cumulative.shape[0] - 1
        counts[k, 0] += 1.0
    return counts / batch


@numba.njit(cache=True)
def _seed(seed):
    np.random.seed(seed)
