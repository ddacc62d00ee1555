"""Newton steps to a critical point from Hessian-vector products only (networks too large for a dense
Hessian at every step).

Each step solves H s = grad by MINRES (symmetric, indefinite or singular H allowed: a saddle can be
polished, and flat directions get no step) on a LinearOperator of Hessian-vector products; the step
is taken in full or at a fraction, whichever first lowers |grad|_2.  Unlike ``critical_point`` the
result is returned whatever |grad| it reached: the caller reports the achieved norm.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import minres

from gradflow.numerics.mlp.spectrum import hessian_operator
from gradflow.numerics.symmetry.critical import CriticalPoint, newton_steps
from gradflow.theory.errors import require


def krylov_newton(objective, theta0, gtol: float = 1e-10, *, max_steps: int = 30, rtol: float = 1e-12,
                  maxiter: int = 500) -> CriticalPoint:
    """Newton-MINRES from ``theta0`` until |grad L|_2 < ``gtol`` and no step halves it any more (the
    point then sits at rounding level), or ``max_steps`` steps, or no fraction of a step helps."""
    theta = np.array(theta0, dtype=float)
    require(theta.shape == (objective.n_params,), "theta0", f"a vector of {objective.n_params} parameters",
            theta.shape)
    require(np.isfinite(gtol) and gtol > 0, "gtol", "a positive number", gtol)
    loss, grad = objective.loss_and_gradient(theta)

    def solve(objective, theta, grad):
        return minres(hessian_operator(objective, theta), grad, rtol=rtol, maxiter=maxiter)[0]

    theta, loss, grad, steps = newton_steps(objective, theta, loss, grad, gtol, max_steps, solve)
    norm = float(np.linalg.norm(grad))
    return CriticalPoint(theta, float(loss), norm, steps)


__all__ = ["krylov_newton"]
