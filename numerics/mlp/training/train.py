"""``train``: the dynamics (a flow or a descent method), then a polish, then the result.

    result = train(objective, theta0)                      # flow, then BFGS with exact Hessians (P <= 1024)
    result = train(objective, theta0, method="adam", lr=1e-2, batchsize=100, polish="none")
    results = train_ensemble(objective, Theta0)            # members in parallel, each on its own

Phase 1 (``method``) and phase 2 (``polish``) each stop at the first termination rule that holds
(``termination.RULES``, named in ``ode_stopped_by`` / ``optim_stopped_by``); each phase hands on its
best-loss point.  The objective is anything with the ``Objective`` methods (an ``MLPObjective``,
or your own).
"""

from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from gradflow.numerics.blas import one_blas_thread_during
from gradflow.numerics.mlp.kernels import serial_kernels
from gradflow.numerics.mlp.training.dense_bfgs import HESSIAN_EVERY, bfgs
from gradflow.numerics.mlp.training.descent import descend
from gradflow.numerics.mlp.training.flow import integrate_flow
from gradflow.numerics.mlp.training.gauss_newton import accepts_gauss_newton, gauss_newton
from gradflow.numerics.mlp.training.polish import STALL_ITERATIONS, newton, quasi_newton
from gradflow.numerics.mlp.training.termination import Limits, Recorder, Tracker
from gradflow.theory.errors import ParameterError, require

METHODS = ("flow", "gd", "sgd", "adam", "dopri5", "rk4")
FLOW_METHODS = ("flow", "dopri5", "rk4")
POLISHES = ("auto", "newton", "newton-bfgs", "gauss-newton", "bfgs", "bfgs-hessian", "scipy-bfgs", "lbfgs", "none")
NEWTON_LIMIT, BFGS_LIMIT = 1024, 20_000
SPECTRUM_LIMIT = 2000


@dataclass(frozen=True)
class TrainingResult:
    """What a training run found; ``x`` is the best-loss point of the last phase that ran."""

    x: np.ndarray
    init: np.ndarray
    ode_x: np.ndarray
    loss: float
    ode_loss: float
    gnorm: float  # |grad|_inf of the loss without its penalty terms
    gnorm_regularized: float
    converged: bool  # stopped by min_gnorm or minloss
    ode_stopped_by: str
    optim_stopped_by: str
    ode_iterations: int
    optim_iterations: int
    ode_time_run: float
    optim_time_run: float
    total_time: float
    trajectory_times: np.ndarray
    trajectory: np.ndarray  # (n, P): points of phase 1 at trajectory_times
    loss_curve: np.ndarray  # (n,): the loss at trajectory_times
    method: str
    polish: str
    seed: int | None
    final_time: float  # the flow's time (or the number of steps) where phase 1 stopped
    spectrum: np.ndarray | None = None  # Hessian eigenvalues at x (P <= 2000)
    metadata: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready fields (arrays as lists)."""
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out


def _validate(objective, theta0, method, polish, lr, batchsize, tauinv):
    P = objective.n_params
    require(method in METHODS, "method", f"one of {', '.join(METHODS)}", method)
    require(polish in POLISHES, "polish", f"one of {', '.join(POLISHES)}", polish)
    require(polish != "gauss-newton" or accepts_gauss_newton(objective), "polish",
            "gauss-newton only on an MLP objective with the mse loss and no penalties", type(objective).__name__)
    theta0 = np.array(theta0, dtype=float)
    require(theta0.shape == (P,), "theta0", f"a vector of {P} parameters", theta0.shape)
    require(bool(np.isfinite(theta0).all()), "theta0", "finite")
    if method in ("gd", "sgd", "adam", "rk4"):
        require(lr is not None and np.isfinite(lr) and lr > 0, "lr", f"a number > 0 for method {method}", lr)
    if batchsize is not None:
        require(isinstance(batchsize, (int, np.integer)) and 1 <= batchsize <= objective.n_samples, "batchsize",
                f"an integer in [1, {objective.n_samples}]", batchsize)
    rates = np.asarray(tauinv, dtype=float)
    require(rates.shape in ((), (P,)) and bool(np.all(np.isfinite(rates))) and bool(np.all(rates > 0)), "tauinv",
            f"a number > 0 or {P} numbers > 0", tauinv if rates.ndim == 0 else rates.shape)
    return theta0, (float(rates) if rates.ndim == 0 else rates)


def _polish_kind(polish: str, P: int, after_flow: bool) -> str:
    if polish != "auto":
        return polish
    if P <= NEWTON_LIMIT:
        # bfgs-hessian's floor (30 |grad|) suits a flow's end point, where |grad| is small beside the
        # curvature; after a few descent steps it could keep the steps short (see dense_bfgs)
        return "bfgs-hessian" if after_flow else "newton-bfgs"
    return "bfgs" if P <= BFGS_LIMIT else "lbfgs"


@one_blas_thread_during(lambda objective, *args, **kwargs: getattr(objective, "n_params", 0))  # see numerics.blas
def train(objective, theta0, *, method: str = "flow", polish: str = "auto", tauinv=1.0, lr: float | None = None,
          batchsize: int | None = None, shuffle: bool = False, seed: int | None = None, maxT: float = math.inf,
          maxtime_ode: float = 180.0, maxtime_optim: float = 120.0, maxiterations_ode: int = 10 ** 6,
          maxiterations_optim: int = 10 ** 5, minloss: float = 1e-30, min_gnorm: float = 1e-13,
          patience: int = 10 ** 6, n_samples_trajectory: int = 100, rtol: float = 1e-6, atol: float = 1e-6,
          spectrum: bool = True, metadata: dict | None = None, progress: bool = False,
          stop=None) -> TrainingResult:
    """Train from ``theta0``: phase 1 by ``method``, phase 2 by ``polish``; the best point wins.  With
    ``progress`` each phase shows a bar over its iterations with the best loss so far; ``stop`` (a
    threading.Event) set from another thread ends each phase at its next check ("interrupted")."""
    theta0, rates = _validate(objective, theta0, method, polish, lr, batchsize, tauinv)
    require(isinstance(n_samples_trajectory, (int, np.integer)) and n_samples_trajectory >= 2,
            "n_samples_trajectory", "an integer >= 2", n_samples_trajectory)
    started = time.perf_counter()
    ode_limits = Limits(maxtime_ode, maxiterations_ode, minloss, min_gnorm, patience, maxT)
    ode = Tracker(ode_limits, _bar(method, progress), stop)
    recorder = Recorder(n_samples_trajectory, "log" if method in FLOW_METHODS else "linear")
    if method in FLOW_METHODS:
        final_time = integrate_flow(objective, theta0, rates, ode, recorder, method, rtol, atol, dt=lr)
    else:
        final_time = float(descend(objective, theta0, method, lr, rates, ode, recorder,
                                   batchsize=batchsize if method != "gd" else None,
                                   shuffle=shuffle and method != "gd", seed=seed))
    ode.close()
    ode_time = ode.elapsed
    ode_x, ode_loss = ode.best_x, ode.best_loss
    kind = _polish_kind(polish, objective.n_params, method in FLOW_METHODS)
    optim = Tracker(Limits(maxtime_optim, maxiterations_optim, minloss, min_gnorm, patience),
                    _bar(f"polish ({kind})", progress and kind != "none"), stop)
    # the trackers hold each best point's regularised |grad|_inf: no evaluation again
    x, loss, gnorm_regularized = ode_x, ode_loss, ode.best_gnorm
    if kind != "none" and ode.stopped_by not in ("minloss", "min_gnorm", "interrupted"):
        if kind == "newton":
            newton(objective, ode_x, optim)
        elif kind == "newton-bfgs":
            newton(objective, ode_x, optim, stall=STALL_ITERATIONS)
            if optim.stopped_by == "stalled":  # a degenerate minimum: BFGS for the rest of the phase
                optim.stopped_by = None
                bfgs(objective, optim.best_x, optim)
        elif kind == "gauss-newton":
            gauss_newton(objective, ode_x, optim)
        elif kind == "bfgs":
            bfgs(objective, ode_x, optim)
        elif kind == "bfgs-hessian":
            bfgs(objective, ode_x, optim, hessian_every=HESSIAN_EVERY)
        else:
            quasi_newton(objective, ode_x, optim, kind)
        optim.close()
        if optim.best_x is not None and optim.best_loss <= ode_loss:
            x, loss, gnorm_regularized = optim.best_x, optim.best_loss, optim.best_gnorm
    optim_stopped_by = optim.stopped_by or ("not run" if kind == "none" or optim.evaluations == 0 else "no_progress")
    plain = objective.data_term
    gnorm = gnorm_regularized if plain is objective else float(np.max(np.abs(plain.loss_and_gradient(x)[1])))
    last_phase = optim.stopped_by if optim.evaluations else ode.stopped_by
    converged = loss <= minloss or gnorm_regularized <= min_gnorm or last_phase in ("minloss", "min_gnorm")
    values = None
    if spectrum and objective.n_params <= SPECTRUM_LIMIT:
        values = np.linalg.eigvalsh(objective.hessian(x))
    times, points, losses = recorder.select()
    return TrainingResult(
        x=x, init=theta0, ode_x=ode_x, loss=float(loss), ode_loss=float(ode_loss), gnorm=gnorm,
        gnorm_regularized=gnorm_regularized, converged=bool(converged), ode_stopped_by=ode.stopped_by or "",
        optim_stopped_by=optim_stopped_by, ode_iterations=ode.iterations, optim_iterations=optim.iterations,
        ode_time_run=ode_time, optim_time_run=optim.elapsed if optim.evaluations else 0.0,
        total_time=time.perf_counter() - started, trajectory_times=times, trajectory=points, loss_curve=losses,
        method=method, polish=kind, seed=seed, final_time=float(final_time), spectrum=values,
        metadata=dict(metadata or {}))


def _bar(desc: str, progress: bool, unit: str = "step", total: int | None = None):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(desc=desc, unit=unit, total=total)


def train_ensemble(objective, Theta0, *, workers: int | None = None, progress: bool = False,
                   **options) -> list[TrainingResult]:
    """``train`` for every row of ``Theta0`` (E members on the same objective), members in parallel
    threads (the kernels release the GIL), each with its own steps and its own stopping: member e
    is exactly ``train(objective, Theta0[e], **options)``.  ``objective`` may also be a list of E
    objectives (one per member).  With ``progress`` one bar counts the members done."""
    Theta0 = np.asarray(Theta0, dtype=float)
    if Theta0.ndim != 2:
        raise ParameterError("Theta0", "an (E, P) array of starting points", Theta0.shape)
    objectives = list(objective) if isinstance(objective, (list, tuple)) else [objective] * len(Theta0)
    require(len(objectives) == len(Theta0), "objective", f"one objective or {len(Theta0)}", len(objectives))
    workers = workers or min(len(Theta0), os.cpu_count() or 1)
    bar = _bar("members", progress, "member", len(Theta0))
    stop = threading.Event()  # set on Ctrl-C (or any error here): the running members end at their next check

    def member(pair):
        if workers > 1:  # the members are the parallelism: each one's kernel calls stay on its thread
            with serial_kernels():
                result = train(pair[0], pair[1], stop=stop, **options)
        else:
            result = train(pair[0], pair[1], stop=stop, **options)
        if bar is not None:
            bar.update()
        return result

    try:
        if workers <= 1:
            return [member(pair) for pair in zip(objectives, Theta0)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(member, pair) for pair in zip(objectives, Theta0)]
            try:
                pending = set(futures)
                while pending:  # short waits: the main thread stays free to take Ctrl-C
                    pending = wait(pending, timeout=0.2).not_done
                return [future.result() for future in futures]
            except BaseException:
                stop.set()  # without this, leaving the pool would wait for every member's time limit
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    finally:
        if bar is not None:
            bar.close()
