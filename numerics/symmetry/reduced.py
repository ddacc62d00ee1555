"""Clean critical points of the narrower network: the points that duplication turns into permutation
points.  Clean means a strict minimum (lambda_min(H) > eig_ratio * lambda_max), a loss clearly above
zero (at zero loss the claim about the Hessian is trivially true), and the lowest of the restarts."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gradflow.numerics.symmetry.critical import CriticalPointError, critical_point
from gradflow.theory.errors import require


@dataclass(frozen=True)
class ReducedPoint:
    theta: np.ndarray
    loss: float
    grad_norm: float
    eigenvalues: np.ndarray  # of H_red, ascending
    restart: int  # which restart found it
    n_clean: int  # how many restarts ended at a clean point (0 until all have run)


def is_clean(eigenvalues, loss: float, eig_ratio: float = 1e-9, min_loss: float = 1e-4) -> bool:
    eigenvalues = np.sort(np.asarray(eigenvalues, dtype=float))
    return bool(eigenvalues[0] > eig_ratio * eigenvalues[-1] and eigenvalues[-1] > 0 and loss > min_loss)


def clean_reduced_point(objective, *, restarts: int = 10, seed: int = 0, init_std: float = 1.0,
                        gtol: float = 1e-12, eig_ratio: float = 1e-9, min_loss: float = 1e-4) -> ReducedPoint:
    """The lowest clean critical point among ``restarts`` BFGS + Newton runs from N(0, init_std^2)
    starts; raises CriticalPointError when no restart ends at a clean point."""
    require(isinstance(restarts, (int, np.integer)) and restarts >= 1, "restarts", "an integer >= 1", restarts)
    rng = np.random.default_rng(seed)
    best, n_clean = None, 0
    for restart in range(int(restarts)):
        theta0 = rng.normal(0.0, init_std, objective.n_params)
        try:
            point = critical_point(objective, theta0, gtol)
        except CriticalPointError:
            continue
        eigenvalues = np.linalg.eigvalsh(objective.hessian(point.theta))
        if not is_clean(eigenvalues, point.loss, eig_ratio, min_loss):
            continue
        n_clean += 1
        if best is None or point.loss < best.loss:
            best = ReducedPoint(point.theta, point.loss, point.grad_norm, eigenvalues, restart, 0)
    if best is None:
        raise CriticalPointError(f"no clean critical point among {restarts} restarts (strict minimum with "
                                 f"lambda_min > {eig_ratio:g} lambda_max and loss > {min_loss:g})")
    return replace(best, n_clean=n_clean)


__all__ = ["ReducedPoint", "clean_reduced_point", "is_clean"]
