"""The second phase: from where the dynamics stopped, down to the nearest minimum, fast.

``newton``: the step -(H + mu I)^+ grad from the eigendecomposition of H; mu = 0 while H is positive
definite, otherwise a Levenberg-Marquardt mu just beyond -lambda_min; a step that does not help is
tried at 1/2, 1/4, ... of its length, then mu is raised tenfold; directions whose eigenvalue is zero to rounding are left out (the pseudo-inverse:
the minimum-norm step, which stays put along the flat directions of an overparameterised minimum).
A step is taken when it lowers the loss, or, once the loss is at rounding level, when it keeps the
loss and lowers |grad|_inf.
With ``stall`` (``newton-bfgs``, the automatic polish up to 1024 parameters after a descent method) Newton ends ("stalled") once the
smallest |grad|_inf seen has not fallen tenfold in ``stall`` iterations, and ``train`` goes on with BFGS for the
rest of the phase: Newton reaches a non-degenerate minimum in a few iterations, so a stall means a degenerate
one (a flat, curved valley: the loss falling like a power of the flow's time), where Newton's steps only move
to and fro across the valley and BFGS's memory of past steps follows it.
``bfgs``: gradflow's own BFGS (``dense_bfgs.py``).  ``scipy-bfgs`` / ``lbfgs``: SciPy's BFGS and L-BFGS-B on
the same loss and gradient.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.mlp.training.termination import Tracker

_EPS = np.finfo(float).eps
MAX_DAMPING_TRIES = 40
STALL_ITERATIONS = 10  # newton-bfgs: Newton's iterations without a tenfold lower |grad|_inf


def _gnorm(grad) -> float:
    return float(np.max(np.abs(grad))) if grad.size else 0.0


def _helps(old_loss, old_gnorm, new_loss, new_gnorm) -> bool:
    if new_loss < old_loss:
        return True
    rounding = 64 * _EPS * max(abs(old_loss), 1e-300)
    return new_loss <= old_loss + rounding and new_gnorm < old_gnorm


def _trial(objective, x):
    try:
        loss, grad = objective.loss_and_gradient(x)
    except DivergenceError:
        return np.inf, None
    return loss, grad


def _phase_ends(tracker: Tracker, taken: bool, loss: float, gnorm: float) -> bool:
    """Count the iteration; True when the phase ends: no trial helped ("no_progress"), or a rule holds."""
    tracker.step()
    if not taken:
        tracker.stopped_by = "no_progress"
        return True
    return bool(tracker.check(loss, gnorm))


def _improvement(objective, tracker: Tracker, loss: float, gnorm: float, trial):
    """(loss, grad, |grad|_inf) at ``trial`` when it helps (see ``_helps``), else None; the tracker sees every
    finite trial."""
    new_loss, new_grad = _trial(objective, trial)
    if not np.isfinite(new_loss):
        return None
    new_gnorm = _gnorm(new_grad)
    tracker.observe(trial, new_loss, new_gnorm)
    return (new_loss, new_grad, new_gnorm) if _helps(loss, gnorm, new_loss, new_gnorm) else None


def _loss_gradient_hessian(objective, x):
    """One pass when the objective offers it (the MLP kernels do), else the two calls of the contract."""
    combined = getattr(objective, "loss_gradient_hessian", None)
    if combined is not None:
        return combined(x)
    loss, grad = objective.loss_and_gradient(x)
    return loss, grad, objective.hessian(x)


def newton(objective, x, tracker: Tracker, stall: int | None = None) -> np.ndarray:
    """Newton's steps from x until a rule holds; with ``stall``, also until it stalls (see the module)."""
    x = np.array(x, dtype=float)
    loss, grad, H = _loss_gradient_hessian(objective, x)
    gnorm = _gnorm(grad)
    tracker.observe(x, loss, gnorm)
    if tracker.check(loss, gnorm):
        return x
    smallest = [gnorm]  # the smallest |grad|_inf seen, after each iteration
    mu = 0.0
    while True:
        values, vectors = np.linalg.eigh(H)
        scale = max(float(np.max(np.abs(values))), 1e-300)
        floor = 1e3 * _EPS * scale * values.size  # eigenvalues this small are zero to rounding
        lowest = float(values[0])
        mu = 0.0 if lowest > floor else max(mu, -lowest + floor, 1e-12 * scale)
        projected = vectors.T @ grad
        taken = False
        for _ in range(MAX_DAMPING_TRIES):
            shifted = values + mu
            keep = np.abs(shifted) > floor
            step = -(vectors[:, keep] @ (projected[keep] / shifted[keep]))
            # the full step first, then shorter ones along it (a curved valley), then more damping
            for fraction in (1.0, 0.5, 0.25, 0.125, 1 / 16, 1 / 64):
                trial = x + fraction * step
                better = _improvement(objective, tracker, loss, gnorm, trial)
                if better is not None:
                    x, (loss, grad, gnorm) = trial, better
                    taken = True
                    break
            if taken:
                break
            mu = max(10.0 * mu, 1e-8 * scale)
        if _phase_ends(tracker, taken, loss, gnorm):
            return x
        smallest.append(min(smallest[-1], gnorm))
        if stall is not None and len(smallest) > stall and smallest[-1] > 0.1 * smallest[-1 - stall]:
            tracker.stopped_by = "stalled"
            return x
        H = objective.hessian(x)
        mu = mu / 10.0 if mu > 0 else 0.0


class _Stop(Exception):
    pass


def quasi_newton(objective, x, tracker: Tracker, method: str) -> np.ndarray:
    """SciPy's BFGS or L-BFGS-B, stopped by the tracker's rules (checked at every evaluation)."""

    def fun(y):
        loss, grad = objective.loss_and_gradient(y)
        gnorm = _gnorm(grad)
        tracker.observe(y, loss, gnorm)
        if tracker.check(loss, gnorm):
            raise _Stop
        return loss, grad

    def callback(*_):
        tracker.step()
        if tracker.iterations >= tracker.limits.maxiterations:
            tracker.stopped_by = "maxiterations"
            raise _Stop

    options = {"maxiter": max(int(min(tracker.limits.maxiterations, 10 ** 9)), 1), "gtol": 0.0}
    if method == "lbfgs":
        options.update(ftol=0.0, maxfun=10 ** 9, maxls=50)
    try:
        result = minimize(fun, np.array(x, dtype=float), jac=True, callback=callback,
                          method="BFGS" if method == "scipy-bfgs" else "L-BFGS-B", options=options)
        if tracker.stopped_by is None:
            tracker.stopped_by = "no_progress" if not result.success else "converged"
    except _Stop:
        pass
    return tracker.best_x
