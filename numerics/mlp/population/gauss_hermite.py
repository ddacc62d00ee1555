"""Gaussian expectations as weighted sample means: tensor-product probabilists' Gauss-Hermite nodes.

``gauss_hermite_data(d)`` returns inputs X (n, d) and sample weights w (n,) with mean(w * f(X)) equal
to the quadrature of E[f(x)], x ~ N(0, I_d): the sample weights are the quadrature weights times the
number of kept nodes, so any loss written as a weighted sample MEAN computes the quadrature.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import sympy as sp
from scipy.special import roots_hermitenorm

from gradflow.theory.errors import require

ABSOLUTE_CUTOFF = 1e-18  # normalised weights below this carry nothing in double precision


def _normalised_rule(nodes: int):
    x, w = roots_hermitenorm(nodes)
    return x, w / w.sum()


def gauss_hermite_data(d: int, nodes: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """(X, w): the tensor product of ``nodes`` probabilists' Gauss-Hermite nodes per dimension.

    For d > 1 the products below (w_min / w_max) * max(product) are pruned (w_min, w_max: the
    smallest and largest one-dimensional weights kept): they are smaller than anything the
    one-dimensional rule resolves.  Weights below 1e-18 are pruned in every dimension.  The node count
    grows as nodes^d: d > 2 warns."""
    require(isinstance(d, (int, np.integer)) and d >= 1, "d", "an integer >= 1", d)
    require(isinstance(nodes, (int, np.integer)) and nodes >= 1, "nodes", "an integer >= 1", nodes)
    if d > 2:
        warnings.warn(f"gauss_hermite_data: {nodes}^{d} tensor-product nodes before pruning", stacklevel=2)
    x, w = _normalised_rule(nodes)
    keep = w >= ABSOLUTE_CUTOFF
    x, w = x[keep], w[keep]
    grids = np.meshgrid(*([x] * d), indexing="ij")
    weights = np.prod(np.meshgrid(*([w] * d), indexing="ij"), axis=0).ravel()
    X = np.stack([g.ravel() for g in grids], axis=1)
    keep = weights >= ABSOLUTE_CUTOFF
    if d > 1:
        keep &= weights >= (w.min() / w.max()) * weights.max()
    X, weights = X[keep], weights[keep]
    return X, weights * weights.size


def _as_callable(sigma):
    if isinstance(sigma, sp.Expr):
        free = sorted(sigma.free_symbols, key=str)
        require(len(free) == 1, "sigma", "a SymPy expression in one symbol (z)", str(sigma))
        return sp.lambdify(free[0], sigma, modules=["numpy", "scipy"])
    require(callable(sigma), "sigma", "a NumPy callable or a SymPy expression in z", sigma)
    return sigma


def kernel_by_quadrature(sigma, a: float, b: float, c: float, p: float = 0.0, q: float = 0.0,
                         nodes: int = 200) -> float:
    """E[sigma(u) sigma(v)], (u, v) ~ N((p, q), [[a, c], [c, b]]), by 2-D Gauss-Hermite on the
    Cholesky factor: u = p + sqrt(a) z1, v = q + (c/sqrt(a)) z1 + sqrt(b - c^2/a) z2.  Accurate for
    smooth sigma; kinks (ReLU) converge slowly."""
    require(a > 0 and b > 0, "a, b", "positive variances", (a, b))
    require(c * c <= a * b, "c", "a covariance with c^2 <= a b", c)
    f = _as_callable(sigma)
    x, w = _normalised_rule(nodes)
    z1, z2 = np.meshgrid(x, x, indexing="ij")
    u = p + math.sqrt(a) * z1
    v = q + (c / math.sqrt(a)) * z1 + math.sqrt(max(b - c * c / a, 0.0)) * z2
    return float(np.einsum("i,j,ij->", w, w, np.asarray(f(u), float) * np.asarray(f(v), float)))
