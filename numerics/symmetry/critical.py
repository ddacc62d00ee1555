"""Critical points to rounding level: BFGS down the loss, then Newton steps on the gradient.

The Newton step solves H s = grad by least squares (the minimum-norm step, so flat directions of a
permutation point's plateau are left alone); it converges to the nearest critical point of any index,
which is what polishing a saddle needs.  A point whose |grad L|_2 does not reach ``gtol`` is refused:
the caller never receives a "critical point" that is not one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from gradflow.numerics.errors import DivergenceError
from gradflow.theory.errors import require


class CriticalPointError(RuntimeError):
    """No critical point to the requested tolerance (the message gives the norm reached)."""


@dataclass(frozen=True)
class CriticalPoint:
    theta: np.ndarray
    loss: float
    grad_norm: float  # |grad L|_2 achieved
    newton_steps: int


FRACTIONS = (1.0, 0.5, 0.25, 0.125, 1 / 16, 1 / 64)


def _least_squares_step(objective, theta, grad):
    return np.linalg.lstsq(objective.hessian(theta), grad, rcond=None)[0]


def newton_steps(objective, theta, loss, grad, gtol, max_steps, solve=_least_squares_step):
    """Newton steps while they lower |grad| (the full step, else a fraction of it: ill-conditioned
    Hessians overshoot); below ``gtol`` only while they still converge fast (a halving at least), so
    the point ends at rounding level rather than just under the tolerance.  ``solve(objective, theta,
    grad)`` gives the step (dense least squares by default)."""
    steps, norm = 0, float(np.linalg.norm(grad))
    while steps < max_steps:
        step = solve(objective, theta, grad)
        steps += 1
        target = 0.5 * norm if norm < gtol else norm
        for fraction in FRACTIONS:
            try:
                new_loss, new_grad = objective.loss_and_gradient(theta - fraction * step)
            except DivergenceError:
                continue
            new_norm = float(np.linalg.norm(new_grad))
            if new_norm < target:
                theta, loss, grad, norm = theta - fraction * step, new_loss, new_grad, new_norm
                break
        else:
            break  # rounding level, or too far for Newton: stop with the best point
    return theta, loss, grad, steps


def critical_point(objective, theta0, gtol: float = 1e-12, *, descend: bool = True, bfgs_gtol: float = 1e-13,
                   max_newton: int = 30, maxiter: int = 20_000) -> CriticalPoint:
    """A critical point near ``theta0`` with |grad L|_2 < ``gtol``; raises CriticalPointError otherwise.

    ``descend``: run BFGS first (from a random start); without it only Newton steps (to polish a point
    that is critical up to a few digits, a saddle included)."""
    theta = np.array(theta0, dtype=float)
    require(theta.shape == (objective.n_params,), "theta0", f"a vector of {objective.n_params} parameters",
            theta.shape)
    require(bool(np.isfinite(theta).all()), "theta0", "finite")
    require(np.isfinite(gtol) and gtol > 0, "gtol", "a positive number", gtol)
    if descend:
        result = minimize(objective.loss_and_gradient, theta, jac=True, method="BFGS",
                          options={"gtol": bfgs_gtol, "maxiter": maxiter})
        theta = np.array(result.x, dtype=float)
    loss, grad = objective.loss_and_gradient(theta)
    theta, loss, grad, steps = newton_steps(objective, theta, loss, grad, gtol, max_newton)
    norm = float(np.linalg.norm(grad))
    if not norm < gtol:
        raise CriticalPointError(f"no critical point: |grad L|_2 = {norm:.3g} after {steps} Newton steps "
                                 f"(needed < {gtol:g})")
    return CriticalPoint(theta, float(loss), norm, steps)


__all__ = ["CriticalPoint", "CriticalPointError", "critical_point"]
