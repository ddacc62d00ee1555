"""A plain NumPy multilayer perceptron, written independently of gradflow's generated kernels and of
its SymPy activations: the oracle of the kernel tests."""

from __future__ import annotations

import numpy as np
from scipy.special import erf, expit

SELU_L, SELU_A = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717


def _sig(x):
    return expit(x)


def _sech2(x):
    with np.errstate(over="ignore"):  # cosh overflows to inf beyond |x| = 710: the slope is 0 there
        return 1.0 / np.cosh(x) ** 2


# name -> (sigma, sigma'), written by hand
ACTS = {
    "identity": (lambda x, p: x, lambda x, p: np.ones_like(x)),
    "relu": (lambda x, p: np.maximum(x, 0), lambda x, p: (x > 0).astype(float)),
    "leaky_relu": (lambda x, p: np.where(x > 0, x, p[0] * x), lambda x, p: np.where(x > 0, 1.0, p[0])),
    "abs": (lambda x, p: np.abs(x), lambda x, p: np.where(x > 0, 1.0, -1.0)),
    # slopes as sigma(x) sigma(-x) and 1 / cosh^2: 1 - sigma and 1 - tanh^2 lose their digits where they saturate
    "tanh": (lambda x, p: np.tanh(x), lambda x, p: _sech2(x)),
    "sigmoid": (lambda x, p: _sig(x), lambda x, p: _sig(x) * _sig(-x)),
    "softplus": (lambda x, p: np.logaddexp(0, x), lambda x, p: _sig(x)),
    "g": (lambda x, p: _sig(4 * x) + np.logaddexp(0, x), lambda x, p: 4 * _sig(4 * x) * _sig(-4 * x) + _sig(x)),
    "gelu": (lambda x, p: x * 0.5 * (1 + erf(x / np.sqrt(2))),
             lambda x, p: 0.5 * (1 + erf(x / np.sqrt(2))) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)),
    "silu": (lambda x, p: x * _sig(x), lambda x, p: _sig(x) + x * _sig(x) * _sig(-x)),
    "selu": (lambda x, p: SELU_L * np.where(x > 0, x, SELU_A * np.expm1(np.minimum(x, 0))),
             lambda x, p: SELU_L * np.where(x > 0, 1.0, SELU_A * np.exp(np.minimum(x, 0)))),
    "erf": (lambda x, p: erf(x), lambda x, p: 2 / np.sqrt(np.pi) * np.exp(-x * x)),
    "erf2": (lambda x, p: erf(x / np.sqrt(2)), lambda x, p: np.sqrt(2 / np.pi) * np.exp(-x * x / 2)),
    "normal_cdf": (lambda x, p: 0.5 * (1 + erf(x / np.sqrt(2))), lambda x, p: np.exp(-x * x / 2) / np.sqrt(2 * np.pi)),
    "square": (lambda x, p: x * x / 2, lambda x, p: x),
    "cube": (lambda x, p: x ** 3, lambda x, p: 3 * x ** 2),
    "poly": (lambda x, p: sum(c * x ** i for i, c in enumerate(p)),
             lambda x, p: sum(i * c * x ** (i - 1) for i, c in enumerate(p) if i)),
    "softmax": (lambda x, p: x, lambda x, p: np.ones_like(x)),
}


def _weights(net, theta):
    out, start = [], 0
    for rows, cols in net.shapes:
        out.append(theta[start:start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return out


def _apply(layer, Z, which: int):
    out = np.empty_like(Z)
    for u, act in enumerate(layer.activation):
        out[:, u] = ACTS[act.name][which](Z[:, u], act.params)
    return out


def forward(net, theta, X):
    """(inputs with ones columns, pre-activations, output)."""
    inputs, zs, A = [], [], np.asarray(X, float)
    for W, layer in zip(_weights(net, theta), net.layers):
        At = np.hstack([A, np.ones((A.shape[0], 1))]) if layer.bias else A
        inputs.append(At)
        Z = At @ W.T
        zs.append(Z)
        A = _apply(layer, Z, 0)
    return inputs, zs, A


def targets(net, Y, n):
    if net.loss == "nll" and np.ndim(Y) == 1:
        T = np.zeros((n, net.output_dim))
        T[np.arange(n), Y] = 1.0
        return T
    return np.asarray(Y, float).reshape(n, -1)


def loss(net, theta, X, Y, w=None):
    n = len(X)
    w = np.ones(n) if w is None else np.asarray(w, float)
    _, zs, A = forward(net, theta, X)
    T = targets(net, Y, n)
    if net.loss == "mse":
        scale = 1.0 / net.output_dim if net.output_mean else 1.0
        return float(np.sum(w * scale * np.sum((A - T) ** 2, axis=1)) / n)
    Z = zs[-1]
    top = Z.max(axis=1, keepdims=True)
    others = np.exp(Z - top)
    others[np.arange(n), Z.argmax(axis=1)] = 0.0
    logp = (Z - top) - np.log1p(others.sum(axis=1, keepdims=True))
    return float(-np.sum(w * np.sum(np.where(T != 0, T * logp, 0.0), axis=1)) / n)


def gradient(net, theta, X, Y, w=None):
    """Backpropagation by hand."""
    n = len(X)
    w = np.ones(n) if w is None else np.asarray(w, float)
    inputs, zs, A = forward(net, theta, X)
    T = targets(net, Y, n)
    Ws = _weights(net, theta)
    if net.loss == "mse":
        scale = 1.0 / net.output_dim if net.output_mean else 1.0
        delta = 2 * scale * (A - T) * _apply(net.layers[-1], zs[-1], 1)
    else:
        Z = zs[-1]
        p = np.exp(Z - Z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        mass = T.sum(axis=1, keepdims=True)
        delta = mass * p - T
        # at the largest logit s p_b - t_b cancels where p_b ~ 1: 1 - p_b is the sum of the other p, each accurate
        rows, best = np.arange(n), Z.argmax(axis=1)
        others = np.ones_like(p, dtype=bool)
        others[rows, best] = False
        delta[rows, best] = np.where(others, T, 0.0).sum(axis=1) - mass[:, 0] * np.where(others, p, 0.0).sum(axis=1)
    delta = delta * (w / n)[:, None]
    grads = [None] * net.depth
    for l in range(net.depth - 1, -1, -1):
        grads[l] = delta.T @ inputs[l]
        if l:
            k = net.widths[l]
            delta = (delta @ Ws[l][:, :k]) * _apply(net.layers[l - 1], zs[l - 1], 1)
    return np.concatenate([g.ravel() for g in grads])
