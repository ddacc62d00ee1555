"""Plain NumPy implementations of a ReLU-like shallow network, written by hand from its formulas.

They are the independent oracles for the generated GD kernel (the ``relu`` checks, the kernel
tests and the ``relu-gd`` benchmark cell).  Nothing here is generated, on purpose.
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.errors import DivergenceError


def shallow_loss_and_gradients_numpy(W, H, X, Y, a_plus, a_minus):
    """Loss (1/(n d_out)) ||rho(X W^T) H - Y||^2 of a ReLU-like network (slope a_plus for z > 0,
    a_minus for z < 0) and its gradients, with rho'(0) = a_minus."""
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
