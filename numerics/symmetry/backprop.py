"""A plain NumPy forward and backward pass, and the plateau matrix B of a hidden neuron.

    B[o, :] = sum_mu w_mu delta_o(x_mu) sigma'(w . h~(x_mu)) h~(x_mu)      (w_mu = 1/N by default)

delta = dl/dz at the layer after the neuron (back-propagated error; 2(f - y) at a linear MSE output),
h~ = the neuron's input with a 1 appended when the layer has biases.  On the plateau of a permutation
point the gradient of the loss w.r.t. the two copies' incoming vectors is (B^T e, -B^T e), so B's
rank decides how many Hessian eigenvalues vanish there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from gradflow.numerics.symmetry.neurons import check_hidden_layer, check_neuron
from gradflow.theory.errors import require
from gradflow.theory.mlp.activations import z as z_symbol

RANK_TOLERANCE = 1e-9


@lru_cache(maxsize=None)
def _analytic(act, order: int):
    """sigma^(order) as the derived expression, lambdified: complex arguments allowed (the numeric
    forms that avoid overflow use |z| and max, which are not analytic)."""
    require(not act.kink, "activation", "smooth for complex arguments (no kink)", act.name)
    return sp.lambdify(z_symbol, act.derivative(order), modules=["numpy", "scipy"])


def _apply(layer, Z, derivative: bool, analytic: bool = False):
    out = np.empty_like(Z)
    for act, start, stop in layer.groups:
        if analytic:
            out[:, start:stop] = np.broadcast_to(_analytic(act, int(derivative))(Z[:, start:stop]),
                                                 Z[:, start:stop].shape)
        else:
            out[:, start:stop] = (act.prime if derivative else act)(Z[:, start:stop])
    return out


def forward_backward(net, theta, X, T, *, analytic: bool = False):
    """(inputs, pre_activations, deltas), one entry per layer l = 1..L: the layer's input h~^(l-1)
    (bias column included), z^(l), and dl/dz^(l) per sample (not divided by N).

    ``analytic``: activations from their derived expressions, so a complex theta gives the complex
    extension (the complex-step derivative); squared error only."""
    inputs, pres = [], []
    a = np.asarray(X, dtype=float)
    theta = np.asarray(theta)
    weights = net.unflatten(theta if analytic else theta.astype(float))
    if analytic:
        require(net.loss == "mse", "net", "a squared-error network for the analytic (complex) pass", net.loss)
    for W, layer in zip(weights, net.layers):
        h = np.hstack([a, np.ones((a.shape[0], 1))]) if layer.bias else a
        z = h @ W.T
        inputs.append(h)
        pres.append(z)
        a = z if layer.is_softmax else _apply(layer, z, False, analytic)
    last = net.layers[-1]
    if net.loss == "nll":
        shifted = np.exp(pres[-1] - pres[-1].max(axis=1, keepdims=True))
        delta = shifted / shifted.sum(axis=1, keepdims=True) * T.sum(axis=1, keepdims=True) - T
    else:
        delta = 2.0 * (a - T) * _apply(last, pres[-1], True, analytic)
        if net.output_mean:
            delta = delta / net.output_dim
    deltas = [delta]
    for index in range(len(weights) - 1, 0, -1):
        width = net.layers[index - 1].width
        delta = (delta @ weights[index][:, :width]) * _apply(net.layers[index - 1], pres[index - 1], True, analytic)
        deltas.insert(0, delta)
    return inputs, pres, deltas


@dataclass(frozen=True)
class PlateauMatrix:
    B: np.ndarray  # (n_{k+1}, n_{k-1} [+1])
    singular_values: np.ndarray  # descending
    threshold: float  # singular values above it count for the rank
    rank: int


def plateau_matrix(objective, theta, layer: int, i: int, tolerance: float = RANK_TOLERANCE) -> PlateauMatrix:
    """B for neuron ``i`` of hidden ``layer`` at ``theta`` on the objective's samples.  The rank counts
    singular values above tolerance * ||Delta||_F ||H~||_F * max_mu w_mu (Delta, H~: the per-sample
    errors and inputs): a scale that does not vanish with B, unlike one relative to B's largest."""
    net = objective.network
    layer = check_hidden_layer(net, layer)
    i = check_neuron(net, layer, i)
    require(not objective.penalties, "objective", "without penalty terms (B is a property of the data term)")
    samples = objective.samples
    inputs, pres, deltas = forward_backward(net, theta, samples.X, samples.T)
    H = inputs[layer - 1]
    Delta = deltas[layer]
    act = net.layers[layer - 1].activation[i]
    weight = samples.w * act.prime(pres[layer - 1][:, i])
    B = Delta.T @ (H * weight[:, None])
    singular = np.linalg.svd(B, compute_uv=False)
    threshold = tolerance * np.linalg.norm(Delta) * np.linalg.norm(H) * float(np.max(samples.w))
    return PlateauMatrix(B, singular, float(threshold), int(np.sum(singular > threshold)))


__all__ = ["PlateauMatrix", "RANK_TOLERANCE", "forward_backward", "plateau_matrix"]
