"""Peers of the ``mlp-hessian`` cell: gradient and Hessian of the mean squared error of a one-hidden-
layer softplus network with identity output, both layers with biases, written the way users of
PyTorch and JAX write it (autograd of the loss in the flat parameter vector).

The flat layout is gradflow's: theta = [W1 (k x (D0 + 1)) row-major, W2 (1 x (k + 1)) row-major],
bias in the last column.  Each builder returns ``(gradient, hessian)``, two functions of theta (a
NumPy array) returning NumPy arrays, or raises ImportError when the peer is not installed.
"""

from __future__ import annotations

import numpy as np


def _split(theta, d0: int, k: int):
    first = k * (d0 + 1)
    W1 = theta[:first].reshape(k, d0 + 1)
    W2 = theta[first:first + k + 1].reshape(1, k + 1)
    return W1, W2


def numpy_loss(theta: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float:
    """The loss the peers differentiate, in plain NumPy (the cell's shared reference)."""
    k = (theta.size - 1) // (X.shape[1] + 2)
    W1, W2 = _split(theta, X.shape[1], k)
    hidden = np.logaddexp(0.0, X @ W1[:, :-1].T + W1[:, -1])
    out = hidden @ W2[:, :-1].T + W2[:, -1]
    return float(np.mean(np.sum((out - Y) ** 2, axis=1)))


def torch_functions(X: np.ndarray, Y: np.ndarray, k: int, threads: int | None = None):
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    Xt, Yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(Y, dtype=torch.float64)
    d0 = X.shape[1]

    def loss(theta):
        W1, W2 = _split(theta, d0, k)
        hidden = torch.nn.functional.softplus(Xt @ W1[:, :-1].T + W1[:, -1])
        out = hidden @ W2[:, :-1].T + W2[:, -1]
        return ((out - Yt) ** 2).sum(dim=1).mean()

    def gradient(theta):
        t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
        loss(t).backward()
        return t.grad.numpy()

    def hessian(theta):
        t = torch.tensor(theta, dtype=torch.float64)
        return torch.autograd.functional.hessian(loss, t).numpy()

    return gradient, hessian


def jax_functions(X: np.ndarray, Y: np.ndarray, k: int):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
    d0 = X.shape[1]

    def loss(theta):
        W1, W2 = _split(theta, d0, k)
        hidden = jax.nn.softplus(Xj @ W1[:, :-1].T + W1[:, -1])
        out = hidden @ W2[:, :-1].T + W2[:, -1]
        return jnp.mean(jnp.sum((out - Yj) ** 2, axis=1))

    grad, hess = jax.jit(jax.grad(loss)), jax.jit(jax.hessian(loss))

    def gradient(theta):
        return np.asarray(grad(jnp.asarray(theta)).block_until_ready())

    def hessian(theta):
        return np.asarray(hess(jnp.asarray(theta)).block_until_ready())

    return gradient, hessian
