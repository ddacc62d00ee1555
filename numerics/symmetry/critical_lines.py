"""Critical subspaces induced by splitting the neurons of a narrower critical point (one hidden layer).

From a critical point theta_r of width r and a surjection lambda: {0..m-1} -> {0..r-1} with weights
beta summing to 1 on each fibre, the width-m point w_j = w_{lambda(j)}, a_j = beta_j a_{lambda(j)}
computes the same function and is critical for every beta (an affine subspace of dimension m - r
per lambda), at loss L_r.  Splitting a_j along a direction not parallel to a-bar keeps the loss but
not criticality.

For a width-1 critical point (w, a), scalar output, split into (w, beta a), (w, (1 - beta) a): along
v(xi) = ((1 - beta) xi, -beta xi) on (w_1, w_2) the output is unchanged to first order and
  v^T H v = beta (1 - beta) xi^T M xi,  M = (1/N) sum_mu l'_mu a sigma''(w . x_mu) x~_mu x~_mu^T,
l'_mu = dl/df = 2 (f - y) for the squared error (x~ = x with a 1 appended when there are biases).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gradflow.theory.errors import require


def _one_hidden(net):
    require(net.depth == 2, "net", "a network with one hidden layer", net.depth)


def split_point(net, theta, labelling, betas=None, directions=None):
    """(wide net, theta_m): neuron j copies neuron labelling[j] with outgoing beta_j a_{labelling[j]}
    (+ directions[j], a vector per j, for non-parallel splits; they should sum to 0 per fibre)."""
    _one_hidden(net)
    r = net.layers[0].width
    lab = np.asarray(labelling)
    require(lab.ndim == 1 and np.issubdtype(lab.dtype, np.integer) and set(lab.tolist()) == set(range(r)),
            "labelling", f"a map onto 0..{r - 1}", labelling)
    betas = np.ones(lab.size) if betas is None else np.asarray(betas, dtype=float)
    require(betas.shape == lab.shape, "betas", f"one per new neuron ({lab.size})", betas.shape)
    sums = np.bincount(lab, weights=betas, minlength=r)
    require(np.allclose(sums, 1.0, rtol=0, atol=1e-12), "betas", "summing to 1 on each fibre", sums)
    W1, W2 = (w.copy() for w in net.unflatten(np.asarray(theta, dtype=float)))
    new_W1 = W1[lab]
    new_W2 = np.concatenate([W2[:, :r][:, lab] * betas[None, :], W2[:, r:]], axis=1)
    if directions is not None:
        new_W2[:, :lab.size] += np.asarray(directions, dtype=float).T
    layers = (dataclasses.replace(net.layers[0], width=lab.size,
                                  activation=tuple(net.layers[0].activation[k] for k in lab)), net.layers[1])
    wide = dataclasses.replace(net, layers=layers)
    return wide, wide.flatten([new_W1, new_W2])


def fukumizu_amari_matrix(net, theta, X, Y) -> np.ndarray:
    """M for a width-1, scalar-output critical point (plain NumPy)."""
    _one_hidden(net)
    require(net.layers[0].width == 1 and net.output_dim == 1, "net", "width 1 and a scalar output", net.widths)
    W1, W2 = net.unflatten(np.asarray(theta, dtype=float))
    X = np.asarray(X, dtype=float)
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if net.layers[0].bias else X
    act = net.layers[0].activation[0]
    f = net.forward(theta, X)[:, 0]
    residual = 2.0 * (f - np.asarray(Y, dtype=float).reshape(-1))
    weight = residual * W2[0, 0] * act.second_prime(Xt @ W1[0])
    return (Xt * weight[:, None]).T @ Xt / X.shape[0]


def split_directions(net_wide, beta: float) -> np.ndarray:
    """The columns v(e_k), k = 1..n_in: ((1 - beta) e_k, -beta e_k) on the incoming vectors of the two
    neurons of a width-2 split (everything else 0)."""
    n_in = net_wide.shapes[0][1]
    V = np.zeros((net_wide.n_params, n_in))
    V[:n_in] = (1.0 - beta) * np.eye(n_in)
    V[n_in:2 * n_in] = -beta * np.eye(n_in)
    return V


__all__ = ["fukumizu_amari_matrix", "split_directions", "split_point"]
