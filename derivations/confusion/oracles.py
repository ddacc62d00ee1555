"""Plain NumPy re-implementations, written by hand: full-batch GD on the weighted mean negative
log-likelihood plus (l2/2) |theta|^2 for softmax regression and one-hidden-layer tanh networks.  The
oracle of the generated GD kernels, sharing nothing with them but the parameter layout (W_l row-major,
bias in the last column)."""

from __future__ import annotations

import numpy as np


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _with_one(a: np.ndarray) -> np.ndarray:
    return np.hstack([a, np.ones((a.shape[0], 1))])


def gradient(theta, X, y, C: int, hidden: int | None, l2: float, weights=None) -> np.ndarray:
    """The gradient of (1/N) sum_n w_n (-log softmax(z_n)_{y_n}) + (l2/2) |theta|^2."""
    N, d = X.shape
    w = np.ones(N) if weights is None else np.asarray(weights, dtype=float)
    T = np.eye(C)[y]
    if hidden is None:
        W = theta.reshape(C, d + 1)
        delta = (_softmax(_with_one(X) @ W.T) - T) * (w / N)[:, None]
        return (delta.T @ _with_one(X)).ravel() + l2 * theta
    split = hidden * (d + 1)
    W1, W2 = theta[:split].reshape(hidden, d + 1), theta[split:].reshape(C, hidden + 1)
    a1 = np.tanh(_with_one(X) @ W1.T)
    delta2 = (_softmax(_with_one(a1) @ W2.T) - T) * (w / N)[:, None]
    delta1 = (delta2 @ W2[:, :hidden]) * (1.0 - a1 ** 2)
    return np.concatenate([(delta1.T @ _with_one(X)).ravel(), (delta2.T @ _with_one(a1)).ravel()]) + l2 * theta


def gd(theta0, X, y, C: int, hidden: int | None, *, steps: int, lr: float, l2: float, weights=None) -> np.ndarray:
    """``steps`` GD steps theta <- theta - lr grad from theta0 (hidden None: softmax regression)."""
    theta = np.array(theta0, dtype=float)
    for _ in range(steps):
        theta = theta - lr * gradient(theta, X, y, C, hidden, l2, weights)
    return theta
