"""Gaussian inputs as a weighted data set: tensor-product Gauss-Hermite quadrature.

``gauss_hermite_data(d, nodes)`` returns points X and sample weights w such that the weighted mean
(1/N) sum_n w_n f(x_n) is the quadrature of E_{x ~ N(0, I_d)} f(x): the probabilists' nodes and
weights of ``scipy.special.roots_hermitenorm`` in every dimension, products of weights below
``prune`` times the largest (d > 1) and below 1e-18 dropped, the rest scaled by the number kept.
With 600 nodes a smooth integrand in d = 1 or 2 is integrated to rounding; the point count is
nodes^d, so d > 2 warns.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import roots_hermitenorm

from gradflow.theory.errors import require

ABSOLUTE_FLOOR = 1e-18


def gauss_hermite_data(d: int, nodes: int = 600, prune: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X (N, d), w (N,)): Gauss-Hermite points for N(0, I_d), w summing to N (up to what was pruned)."""
    require(isinstance(d, (int, np.integer)) and d >= 1, "d", "an integer >= 1", d)
    require(isinstance(nodes, (int, np.integer)) and 1 <= nodes <= 100_000, "nodes", "an integer in [1, 100000]",
            nodes)
    if d > 2:
        warnings.warn(f"Gauss-Hermite data in d = {d} has up to {nodes}^{d} points", stacklevel=2)
    x, w = roots_hermitenorm(int(nodes))
    w = w / w.sum()  # probabilities of the standard normal
    if d == 1:
        keep = w > ABSOLUTE_FLOOR
        X, W = x[keep, None], w[keep]
    else:
        grids = np.meshgrid(*([x] * d), indexing="ij")
        weights = np.prod(np.meshgrid(*([w] * d), indexing="ij"), axis=0)
        threshold = max((w.min() / w.max()) * weights.max() if prune is None else prune * weights.max(),
                        ABSOLUTE_FLOOR)
        keep = weights > threshold
        X = np.stack([g[keep] for g in grids], axis=1)
        W = weights[keep]
    # the kept quadrature weights times the count: the weighted mean of f is the quadrature
    return np.ascontiguousarray(X), W * len(W)
