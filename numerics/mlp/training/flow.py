"""Gradient flow d theta/dt = -tauinv * grad L, integrated until a termination rule holds.

``flow``: stiff integration with the exact Jacobian -diag(tauinv) H.  Up to ``RADAU_LIMIT``
parameters, Radau IIA of order 5 (scipy.integrate.Radau: simplified Newton iterations, embedded
error estimate, step-size control); above it, the BDF method (scipy.integrate.BDF) with the same
Jacobian.  When Radau fails to make a step (a step size below the spacing of floating-point numbers
at a kink or a blow-up), the run restarts from that point with BDF once.  The flow is autonomous, so a
solver that fails with its clock past ``CLOCK_RESET_AT`` after it has made progress restarts with its clock
at zero and the elapsed time as an offset: near a minimum the flow's time reaches 1e18 and more, where the
spacing of floating-point times (256 at 1e18) is larger than the step a change of curvature needs.  At most
``MAX_CLOCK_RESETS`` times.
``dopri5``: the explicit Dormand-Prince 5(4) pair (scipy.integrate.RK45), no Jacobian.
``rk4``: classical fixed-step Runge-Kutta with step ``dt``.

Every accepted step is one iteration; rtol = atol = 1e-6 unless given.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import BDF, RK45, Radau

from gradflow.numerics.errors import DivergenceError, IntegrationError
from gradflow.numerics.mlp.training.termination import Recorder, Tracker

RADAU_LIMIT = 1024
CLOCK_RESET_AT, MAX_CLOCK_RESETS = 1e6, 20
_FAR = 1e300  # "no end time": scipy's solvers want a finite bound


def _observe(objective, tracker: Tracker, recorder: Recorder, t: float, y) -> str | None:
    try:
        loss, grad = objective.loss_and_gradient(y)
    except DivergenceError as error:
        raise DivergenceError(tracker.iterations, error.quantity, time=t) from None
    gnorm = float(np.max(np.abs(grad))) if grad.size else 0.0
    tracker.observe(y, loss, gnorm)
    recorder.record(t, y, loss)
    return tracker.check(loss, gnorm, t)


def integrate_flow(objective, theta0, tauinv, tracker: Tracker, recorder: Recorder, method: str = "flow",
                   rtol: float = 1e-6, atol: float = 1e-6, dt: float | None = None) -> float:
    """Integrate from t = 0; returns the final time.  The tracker holds the best point and the stop."""
    rates = tauinv if np.ndim(tauinv) == 0 else np.asarray(tauinv, dtype=float)

    def rhs(t, y):
        try:
            return -rates * objective.loss_and_gradient(y)[1]
        except DivergenceError as error:
            raise DivergenceError(None, error.quantity, time=t) from None

    def jacobian(t, y):
        H = objective.hessian(y)
        return -(rates[:, None] * H if np.ndim(rates) else rates * H)

    y = np.array(theta0, dtype=float)
    if _observe(objective, tracker, recorder, 0.0, y):
        return 0.0
    if method == "rk4":
        return _rk4(objective, rhs, y, dt, tracker, recorder)
    t_bound = tracker.limits.maxT if math.isfinite(tracker.limits.maxT) else _FAR
    kinds = {"flow": Radau if objective.n_params <= RADAU_LIMIT else BDF, "dopri5": RK45}
    solver_class = kinds[method]
    t = offset = 0.0  # the flow's time is offset + the solver's clock
    restarted = False
    resets = 0
    message = ""
    while True:
        kwargs = {"jac": jacobian} if solver_class in (Radau, BDF) else {}
        solver = solver_class(rhs, 0.0, y, t_bound - offset, rtol=rtol, atol=atol, **kwargs)
        accepted = 0
        while solver.status == "running":
            message = solver.step()
            if solver.status == "failed":
                break
            accepted += 1
            tracker.step()
            t, y = offset + solver.t, solver.y
            if not np.all(np.isfinite(y)):
                raise DivergenceError(tracker.iterations, "theta", time=t)
            if _observe(objective, tracker, recorder, t, y):
                return t
        if solver.status == "finished":
            # without a maxT the bound is "infinity": reaching it means the flow is at rest
            tracker.stopped_by = "maxT" if t_bound != _FAR else "stationary"
            return t
        if accepted and solver.t >= CLOCK_RESET_AT and resets < MAX_CLOCK_RESETS:
            offset, resets = t, resets + 1
            continue
        if solver_class is Radau and not restarted:
            solver_class, restarted, offset = BDF, True, t
            continue
        raise IntegrationError(f"the flow could not take a step at t = {t:.6g}: {message}")


def _rk4(objective, rhs, y, dt, tracker, recorder) -> float:
    if dt is None or not dt > 0:
        raise IntegrationError("rk4 needs a step dt > 0 (lr)")
    t = 0.0
    while True:
        k1 = rhs(t, y)
        k2 = rhs(t + dt / 2, y + dt / 2 * k1)
        k3 = rhs(t + dt / 2, y + dt / 2 * k2)
        k4 = rhs(t + dt, y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t += dt
        tracker.step()
        if _observe(objective, tracker, recorder, t, y):
            return t
