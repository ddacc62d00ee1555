"""The Hessian by complex steps of a complex-safe gradient: an oracle for the generated Hessian.

H[:, k] = Im grad L(theta + i h e_k) / h with h = 1e-30: no subtraction, so no cancellation, and the
truncation error is O(h^2), far below rounding.  The gradient is the plain NumPy backward pass with
activations from their derived (analytic) expressions.
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.symmetry.backprop import forward_backward
from gradflow.theory.errors import require

STEP = 1e-30


def analytic_gradient(objective, theta) -> np.ndarray:
    """grad L at a real or complex theta (the data term; sample weights included)."""
    samples = objective.samples
    inputs, _, deltas = forward_backward(objective.network, theta, samples.X, samples.T, analytic=True)
    w = samples.w[:, None]
    return np.concatenate([((d * w).T @ h).ravel() for h, d in zip(inputs, deltas)])


def complex_step_hessian(objective, theta, step: float = STEP) -> np.ndarray:
    require(not objective.penalties, "objective", "without penalty terms (the oracle covers the data term)")
    theta = np.asarray(theta, dtype=float)
    columns = []
    for k in range(theta.size):
        shifted = theta.astype(complex)
        shifted[k] += 1j * step
        columns.append(analytic_gradient(objective, shifted).imag / step)
    H = np.column_stack(columns)
    return 0.5 * (H + H.T)


__all__ = ["STEP", "analytic_gradient", "complex_step_hessian"]
