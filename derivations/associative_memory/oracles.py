"""Plain NumPy implementations of the associative memory, written by hand from its formulas.

They are the independent oracles for the generated kernels and the ``--backend numpy`` path of the
CLI.  Nothing here is generated, on purpose.
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.errors import DivergenceError


def log_softmax(S, axis):
    """S - logsumexp(S) along ``axis``, shifted by the largest entry (no overflow).  In NumPy: importing
    scipy.special would take longer (0.15 s) than a whole small run of the ``numpy`` backend."""
    shifted = S - np.max(S, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(S, axis):
    return np.exp(log_softmax(S, axis))


def margin_map_numpy(p, M, eta, n_steps, record):
    """Orthonormal embeddings: m <- m + eta M p e^{-m} / (1 + (M-1) e^{-m}) from m = 0, recorded after
    record[r] steps."""
    p = np.asarray(p, dtype=float)
    m = np.zeros_like(p)
    out = np.empty((len(record), p.size))
    r = 0
    for step in range(n_steps + 1):
        if step > 0:
            u = np.exp(-m)
            m = m + eta * M * p * u / (1.0 + (M - 1) * u)
        while r < len(record) and record[r] == step:
            out[r] = m
            r += 1
    return out


def margin_flow_numpy(p, M, times):
    """Orthonormal embeddings: the margin flow dm/dt = M p / (e^m + M - 1) from m = 0, by SciPy's LSODA
    on the formula typed by hand; (len(times), N)."""
    from scipy.integrate import solve_ivp  # imported when needed: saves 0.4 s at start

    p = np.asarray(p, dtype=float)
    times = np.asarray(times, dtype=float)
    sol = solve_ivp(lambda t, m: M * p / (np.exp(m) + M - 1), (0, times[-1]), np.zeros(p.size), t_eval=times,
                    rtol=1e-10, atol=1e-12, method="LSODA")
    return sol.y.T


def margin_loss_numpy(m, M):
    """Orthonormal embeddings: l(m) = log(1 + (M-1) e^{-m})."""
    return np.log1p((M - 1) * np.exp(-m))


def binary_margin_map_numpy(Kt, p, kappa, eta, n_steps, initial=None, record=None):
    """Two classes (M = 2): m <- m + eta kappa Kt (p * sigma(-m)), with Kt = eps eps^T o E E^T and
    kappa = ||u_0 - u_1||^2; from ``initial`` (default 0), recorded after ``record`` steps (default every
    step).  sigma(-m) by expit, which is stable at any margin."""
    from scipy.special import expit

    Kt, p = np.asarray(Kt, dtype=float), np.asarray(p, dtype=float)
    m = np.zeros(p.size) if initial is None else np.array(initial, dtype=float)
    record = np.arange(n_steps + 1) if record is None else np.asarray(record)
    out = np.empty((len(record), p.size))
    r = 0
    for step in range(n_steps + 1):
        if step > 0:
            m = m + eta * kappa * Kt @ (p * expit(-m))
        while r < len(record) and record[r] == step:
            out[r] = m
            r += 1
    return out


def binary_margin_loss_numpy(margins, p):
    """Two classes: L = sum_x p(x) log(1 + e^{-m(x)}) along the last axis, stable."""
    return np.logaddexp(0.0, -np.asarray(margins, dtype=float)) @ np.asarray(p, dtype=float)


def cross_entropy(S, p, labels):
    return float(-np.sum(p * log_softmax(S, axis=1)[np.arange(len(labels)), labels]))


def zero_one(S, p, labels):
    return float(np.sum(p * (np.argmax(S, axis=1) != labels)))


def margins(S, labels):
    rows = np.arange(len(labels))
    correct = S[rows, labels]
    other = S.copy()
    other[rows, labels] = -np.inf
    return correct - other.max(axis=1)


def logit_particles_numpy(S0, K, Gamma, p, labels, eta, n_steps, record, batch=0, rng=None):
    """S <- S + eta K P (Y - Pi(S)) Gamma (GD) or with P the batch weights (SGD).

    Returns loss, 0-1 error, margins, Frobenius norm of S (one row per record) and the final S."""
    S = np.array(S0, dtype=float)
    p = np.asarray(p, dtype=float).ravel()
    Y = np.eye(S.shape[1])[labels]
    R = len(record)
    loss, l01, marg, norm = np.empty(R), np.empty(R), np.empty((R, len(labels))), np.empty(R)
    r = 0
    for step in range(n_steps + 1):
        if step > 0:
            weights = p if batch == 0 else np.bincount(rng.choice(len(p), size=batch, p=p), minlength=len(p)) / batch
            S = S + eta * K @ (weights[:, None] * (Y - softmax(S, axis=1))) @ Gamma
            if not np.all(np.isfinite(S)):
                raise DivergenceError(step, "S")
        while r < R and record[r] == step:
            loss[r], l01[r], marg[r] = cross_entropy(S, p, labels), zero_one(S, p, labels), margins(S, labels)
            norm[r] = np.linalg.norm(S)
            r += 1
    return loss, l01, marg, norm, S


def weight_space_gd_numpy(W0, E, U, p, labels, eta, n_steps):
    """W <- W - eta U^T (P (Pi - Y))^T E with S = E W^T U^T."""
    W = np.array(W0, dtype=float)
    p = np.asarray(p, dtype=float).ravel()
    Y = np.eye(U.shape[0])[labels]
    for _ in range(n_steps):
        S = E @ W.T @ U.T
        W = W - eta * U.T @ (p[:, None] * (softmax(S, axis=1) - Y)).T @ E
    return W


def weight_space_gradient_numpy(W, E, U, p, labels):
    p = np.asarray(p, dtype=float).ravel()
    Y = np.eye(U.shape[0])[labels]
    S = E @ W.T @ U.T
    return U.T @ (p[:, None] * (softmax(S, axis=1) - Y)).T @ E


def weight_space_loss_numpy(W, E, U, p, labels):
    return cross_entropy(E @ W.T @ U.T, np.asarray(p, dtype=float).ravel(), labels)
