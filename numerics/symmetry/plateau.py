"""The plateau of a permutation point: u_i = u-bar/2 + e, u_j = u-bar/2 - e for any e.

Everything downstream of the layer sees only u_i + u_j, and w_i = w_j, so the loss is the same for
every e; the gradient there is zero except (B^T e, -B^T e) on (w_i, w_j).  At e = -u-bar/2 neuron i
has u_i = 0: a free slot whose incoming vector may move without changing the loss.
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.symmetry.neurons import neuron_indices
from gradflow.theory.errors import require


def plateau_point(net, theta, layer: int, i: int, j: int, e) -> np.ndarray:
    """``theta`` with (u_i, u_j) replaced by (s/2 + e, s/2 - e), s = u_i + u_j (kept)."""
    theta = np.array(theta, dtype=float)
    require(theta.shape == (net.n_params,), "theta", f"a vector of length {net.n_params}", theta.shape)
    _, out_i = neuron_indices(net, layer, i)
    _, out_j = neuron_indices(net, layer, j)
    e = np.asarray(e, dtype=float)
    require(e.shape == out_i.shape, "e", f"a vector of length {out_i.size} (the next layer's width)", e.shape)
    total = theta[out_i] + theta[out_j]
    theta[out_i] = 0.5 * total + e
    theta[out_j] = 0.5 * total - e
    return theta


def plateau_gradient(net, B, layer: int, i: int, j: int, e) -> np.ndarray:
    """The predicted gradient at the plateau point with offset e: (B^T e, -B^T e) on (w_i, w_j)."""
    inc_i, _ = neuron_indices(net, layer, i)
    inc_j, _ = neuron_indices(net, layer, j)
    grad = np.zeros(net.n_params)
    g = np.asarray(B).T @ np.asarray(e, dtype=float)
    grad[inc_i] = g
    grad[inc_j] = -g
    return grad


def free_slot_point(net, theta, layer: int, i: int, j: int) -> np.ndarray:
    """The plateau point with e = -u-bar/2: u_i = 0, u_j = u_i + u_j."""
    _, out_i = neuron_indices(net, layer, i)
    _, out_j = neuron_indices(net, layer, j)
    theta = np.array(theta, dtype=float)
    theta[out_j] = theta[out_i] + theta[out_j]
    theta[out_i] = 0.0
    return theta


__all__ = ["free_slot_point", "plateau_gradient", "plateau_point"]
