"""gradflow's BFGS: a dense inverse-Hessian approximation H, steps -H grad with a strong-Wolfe line
search, stopped by the tracker's rules.

- H starts as the identity; after the first step it is rescaled to (s.y / y.y) I before the first
  update (the curvature seen along that step), and again after every restart.
- The update is skipped when the curvature condition s.y > 0 fails (to rounding), which keeps H
  positive definite.
- A direction that does not descend (rounding in H) restarts H from the identity.
- Near machine precision the loss stops telling points apart, so the Wolfe search fails: the
  step along -H grad is then tried at 1, 1/2, ..., 1/64 of its length and taken when it lowers the
  loss, or keeps the loss to rounding and lowers |grad|_inf.  When none of them helps, H no longer
  fits the valley it learnt (a curved, nearly flat one) and restarts from the identity; only when
  nothing helps right after a restart does the phase stop ("no_progress").

With ``hessian_every = m > 0`` (polish ``bfgs-hessian``) H starts, and every m iterations starts
again, from the exact Hessian instead: its eigenvalues by absolute value (a saddle's negative
curvature becomes a direction down, scaled by it) and floored at ``floor`` |grad|_2, as in
Levenberg-Marquardt with mu proportional to |grad|: far from a minimum the floor bounds the steps along
nearly flat directions, at a minimum it vanishes and the steps become Newton's.  The BFGS updates in
between follow the valley the Hessian saw.  Worth it where a Hessian costs a few gradients (the MLP
kernels: about 5 at 33 parameters and 10^4 samples) and the polish starts where |grad| is small beside
the curvature (the end of a flow): the floor is in units of |grad|, so a step from a refreshed H is at
most 1/floor long before its line search, and far from a minimum of a steep loss the refreshes keep the
steps short (a 5-parameter quadratic-plus-quartic from a far start: 40 iterations against Newton's 6), which
is why the automatic polish chooses it only after a flow (newton-bfgs after a descent method).
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.blas import one_blas_thread_during
from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.mlp.training.line_search import strong_wolfe
from gradflow.numerics.mlp.training.polish import _gnorm, _helps  # the same acceptance rule as Newton's
from gradflow.numerics.mlp.training.termination import Tracker
from gradflow.theory.errors import require

_EPS = float(np.finfo(float).eps)
FALLBACK_FRACTIONS = (1.0, 0.5, 0.25, 0.125, 1 / 16, 1 / 64)
HESSIAN_EVERY = 20  # bfgs-hessian: iterations between exact Hessians
HESSIAN_FLOOR = 30.0  # bfgs-hessian: curvatures below this times |grad|_2 count as it


class _Evaluator:
    """loss_and_gradient at x, seen by the tracker; a non-finite value is (inf, None)."""

    def __init__(self, objective, tracker: Tracker):
        self.objective, self.tracker = objective, tracker

    def __call__(self, x):
        try:
            loss, grad = self.objective.loss_and_gradient(x)
        except DivergenceError:
            return np.inf, None
        self.tracker.observe(x, loss, _gnorm(grad))
        return loss, grad


def _line_search(evaluate, x, loss, grad, direction, alpha0, c1, c2):
    def phi(alpha):
        trial = x + alpha * direction
        value, g = evaluate(trial)
        return value, (float(g @ direction) if g is not None else np.nan), (trial, g)

    return strong_wolfe(phi, loss, float(grad @ direction), alpha0=alpha0, c1=c1, c2=c2)


def _rounding_step(evaluate, x, loss, grad, gnorm, direction):
    """(x, loss, grad) of the first fraction of the step that helps (see _helps), or None."""
    for fraction in FALLBACK_FRACTIONS:
        trial = x + fraction * direction
        value, g = evaluate(trial)
        if g is not None and _helps(loss, gnorm, value, _gnorm(g)):
            return trial, value, g
    return None


def _update(H, s, y) -> bool:
    """The BFGS update of the inverse Hessian in place; False (skipped) without positive curvature."""
    sy = float(s @ y)
    if not sy > 1e3 * _EPS * float(np.linalg.norm(s) * np.linalg.norm(y)):
        return False
    rho = 1.0 / sy
    Hy = H @ y
    # H+ = (I - rho s y^T) H (I - rho y s^T) + rho s s^T, expanded (H symmetric)
    H += (rho * rho * (sy + float(y @ Hy))) * np.outer(s, s) - rho * (np.outer(Hy, s) + np.outer(s, Hy))
    return True


def _floored_inverse_hessian(objective, x, grad, floor: float):
    """V diag(1 / max(|lambda|, floor |grad|_2)) V^T of the exact Hessian at x; None where it is not finite."""
    try:
        curvature = objective.hessian(x)
    except DivergenceError:
        return None
    if not np.all(np.isfinite(curvature)):
        return None
    values, vectors = np.linalg.eigh(curvature)
    magnitudes = np.abs(values)
    # the floor's own floor keeps a zero gradient (or a zero Hessian) away from a division by zero
    lowest = max(floor * float(np.linalg.norm(grad)), 1e3 * _EPS * float(magnitudes.max()), np.finfo(float).tiny)
    return (vectors / np.maximum(magnitudes, lowest)) @ vectors.T


@one_blas_thread_during(lambda objective, x, *args, **kwargs: np.size(x))  # see numerics.blas
def bfgs(objective, x, tracker: Tracker, c1: float = 1e-4, c2: float = 0.9, hessian_every: int = 0,
         floor: float = HESSIAN_FLOOR) -> np.ndarray:
    """Run from x until a termination rule holds; returns the best point (also ``tracker.best_x``).
    ``c1``, ``c2``: the Wolfe constants (a tiny ``c2`` makes the line search exact).  ``hessian_every``
    > 0: H from the exact Hessian (floored at ``floor`` |grad|_2) at the start and every so many
    iterations (the objective needs ``hessian``); 0: plain BFGS."""
    require(0 < c1 < c2 < 1, "c1, c2", "0 < c1 < c2 < 1", (c1, c2))
    require(isinstance(hessian_every, (int, np.integer)) and hessian_every >= 0, "hessian_every",
            "an integer >= 0", hessian_every)
    require(floor > 0 and np.isfinite(floor), "floor", "a finite number > 0", floor)
    evaluate = _Evaluator(objective, tracker)
    x = np.array(x, dtype=float)
    loss, grad = evaluate(x)
    if grad is None:
        raise DivergenceError(0, "loss")
    gnorm = _gnorm(grad)
    if tracker.check(loss, gnorm):
        return tracker.best_x
    n = x.size
    H = np.eye(n)
    fresh = True  # H is (a multiple of) the identity: no curvature learnt yet
    scaled = False  # H has been rescaled by s.y / y.y since the last restart
    iteration = 0
    while True:
        if hessian_every and iteration % hessian_every == 0:
            exact = _floored_inverse_hessian(objective, x, grad, floor)
            if exact is not None:  # else BFGS goes on with what it learnt
                H, fresh, scaled = exact, False, True
        iteration += 1
        direction = -(H @ grad)
        if not float(grad @ direction) < 0:  # H lost positive definiteness to rounding: restart
            H, fresh, scaled = np.eye(n), True, False
            direction = -grad
        # the first step of a restart has no scale: at most a unit move of the largest parameter
        alpha0 = min(1.0, 1.0 / max(gnorm, 1e-300)) if fresh and not scaled else 1.0
        step = _line_search(evaluate, x, loss, grad, direction, alpha0, c1, c2) if gnorm > 0 else None
        if step is not None:
            new_x, new_grad = step.payload
            new_loss = step.value
        else:
            found = _rounding_step(evaluate, x, loss, grad, gnorm, direction)
            if found is None and not fresh:
                # the curvature learnt no longer fits (a curved valley): start again from the gradient
                H, fresh, scaled = np.eye(n), True, False
                tracker.step()
                if tracker.check(loss, gnorm):
                    return tracker.best_x
                continue
            if found is None:
                tracker.step()
                if not tracker.check(loss, gnorm):
                    tracker.stopped_by = "no_progress"
                return tracker.best_x
            new_x, new_loss, new_grad = found
        s, y = new_x - x, new_grad - grad
        if not scaled:
            sy, yy = float(s @ y), float(y @ y)
            if sy > 0 and yy > 0:
                H = np.eye(n) * (sy / yy)
                scaled = True
        if _update(H, s, y):
            fresh = False
        x, loss, grad = new_x, new_loss, new_grad
        gnorm = _gnorm(grad)
        tracker.step()
        if tracker.check(loss, gnorm):
            return tracker.best_x
