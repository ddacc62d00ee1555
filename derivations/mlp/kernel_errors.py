"""How far each generated population kernel is from independent evaluations of E[sigma(u) sigma(v)]:
Monte Carlo (error in standard errors), 2-D Gauss-Hermite (smooth activations) and nested
``scipy.integrate.quad`` (ReLU, whose kink Gauss-Hermite resolves slowly)."""

from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy.special import erf

from gradflow.numerics.mlp.population.gauss_hermite import kernel_by_quadrature
from gradflow.numerics.mlp.population.kernel_module import kernel_module
from gradflow.theory.gaussian.kernels import kernel

ACTIVATIONS = {
    "erf2": lambda z: erf(z / np.sqrt(2)),
    "erf": erf,
    "normal_cdf": lambda z: 0.5 * (1 + erf(z / np.sqrt(2))),
    "relu": lambda z: np.maximum(z, 0.0),
}
BIASED = ("erf2", "normal_cdf", "relu")


def random_points(n: int, seed: int, biased: bool) -> np.ndarray:
    """(n, 5) points (a, b, c, p, q): variances in [0.2, 3], |correlation| <= 0.95, biases N(0, 1.5^2)."""
    rng = np.random.default_rng(seed)
    ab = rng.uniform(0.2, 3.0, (n, 2))
    c = rng.uniform(-0.95, 0.95, n) * np.sqrt(ab[:, 0] * ab[:, 1])
    pq = rng.normal(0, 1.5, (n, 2)) if biased else np.zeros((n, 2))
    return np.column_stack([ab, c, pq])


def generated_values(name: str, biased: bool, points: np.ndarray) -> np.ndarray:
    module = kernel_module(kernel(name, biased))
    n = len(points)
    value, gradient, hessian = np.zeros(n), np.zeros((n, 5)), np.zeros((n, 5, 5))
    module.pair_derivatives(*(np.ascontiguousarray(points[:, i]) for i in range(5)), value, gradient, hessian)
    return value


def relu_by_quad(a, b, c, p, q) -> float:
    """Nested quad over Cholesky coordinates u = p + L00 z1, v = q + L10 z1 + L11 z2 (u, v > 0 only)."""
    L = np.linalg.cholesky([[a, c], [c, b]])
    gauss = lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi)

    def inner(z1):
        mean = q + L[1, 0] * z1
        part, _ = integrate.quad(lambda z2: (mean + L[1, 1] * z2) * gauss(z2), -mean / L[1, 1], np.inf,
                                 epsabs=1e-15, epsrel=1e-13)
        return (p + L[0, 0] * z1) * gauss(z1) * part

    value, _ = integrate.quad(inner, -p / L[0, 0], np.inf, epsabs=1e-15, epsrel=1e-13, limit=200)
    return value


def _monte_carlo(sigma, point, samples: int, seed: int):
    a, b, c, p, q = point
    X = np.random.default_rng(seed).multivariate_normal([p, q], [[a, c], [c, b]], size=samples)
    f = sigma(X[:, 0]) * sigma(X[:, 1])
    return f.mean(), f.std() / np.sqrt(samples)


def kernel_errors(samples: int = 10 ** 6, n_points: int = 4, seed: int = 0, nodes: int = 200) -> list:
    """One row per (kernel, biased): the largest Monte Carlo error in standard errors and the largest
    relative error against quadrature (Gauss-Hermite with ``nodes`` per axis, or nested quad for ReLU)."""
    rows = []
    for name, sigma in ACTIVATIONS.items():
        for biased in (False, True) if name in BIASED else (False,):
            points = random_points(n_points, seed + 7 * len(rows), biased)
            values = generated_values(name, biased, points)
            z_scores, relative = [], []
            for i, (point, value) in enumerate(zip(points, values)):
                mean, se = _monte_carlo(sigma, point, samples, seed + 100 * len(rows) + i)
                z_scores.append(abs(value - mean) / se)
                reference = relu_by_quad(*point) if name == "relu" else kernel_by_quadrature(sigma, *point, nodes=nodes)
                relative.append(abs(value - reference) / max(abs(reference), 1e-300))
            rows.append({"kernel": name, "biased": biased, "points": n_points, "samples": samples,
                         "monte_carlo_standard_errors": float(max(z_scores)),
                         "quadrature": "nested quad" if name == "relu" else f"Gauss-Hermite {nodes}x{nodes}",
                         "quadrature_relative_error": float(max(relative))})
    return rows
