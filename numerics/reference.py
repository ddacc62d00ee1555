"""Plain NumPy implementations, written by hand from the spec's formulas.

They are the independent oracles for the generated kernels and the ``--backend numpy`` path
of the CLI.  Nothing here is generated, on purpose.
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.errors import DivergenceError


def softmax(S, axis):
    from scipy.special import softmax as scipy_softmax  # imported when needed: scipy.special costs 0.15 s

    return scipy_softmax(S, axis=axis)


def log_softmax(S, axis):
    from scipy.special import log_softmax as scipy_log_softmax

    return scipy_log_softmax(S, axis=axis)


def margin_map_numpy(p, M, eta, n_steps, record):
    """m <- m + eta M p e^{-m} / (1 + (M-1) e^{-m}) from m = 0, recorded after record[r] steps."""
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


def margin_loss_numpy(m, M):
    """l(m) = log(1 + (M-1) e^{-m})."""
    return np.log1p((M - 1) * np.exp(-m))


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


def shallow_loss_and_gradients_numpy(W, H, X, Y, a_plus, a_minus):
    """Loss (1/(n d_out)) ||rho(X W^T) H - Y||^2 of a ReLU-like network and its gradients,
    with rho'(0) = a_minus, written from the spec's formulas."""
    Z = X @ W.T
    A = np.where(Z > 0, a_plus * Z, a_minus * Z)
    E = A @ H - Y
    scale = 2.0 / E.size
    grad_H = scale * A.T @ E
    grad_W = scale * (np.where(Z > 0, a_plus, a_minus) * (E @ H.T)).T @ X
    return float(np.sum(E * E) / E.size), grad_W, grad_H


def shallow_gd_numpy(W0, H0, X, Y, a_plus, a_minus, lr, n_steps, stop_loss=0.0):
    """Full-batch GD of a ReLU-like network: the NumPy loop a researcher would write.
    Returns (W, H, losses) with the loss before each step, stopping at loss <= stop_loss."""
    W, H = W0.copy(), H0.copy()
    lr = W.dtype.type(lr)
    losses = []
    for step in range(n_steps + 1):
        loss, grad_W, grad_H = shallow_loss_and_gradients_numpy(W, H, X, Y, a_plus, a_minus)
        if not np.isfinite(loss):
            raise DivergenceError(step, "loss")
        losses.append(loss)
        if loss <= stop_loss or step == n_steps:
            break
        W -= lr * grad_W.astype(W.dtype, copy=False)
        H -= lr * grad_H.astype(H.dtype, copy=False)
    return W, H, np.asarray(losses)
