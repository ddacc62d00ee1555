"""The expansion phase: widen the student until training reliably reaches zero loss, then train N.

    result = expansion_phase(build, X, Y, r0_schedule=WIDTH_MULTIPLIERS)
    students = train_at_width(build, X, Y, multiplier=4, n_students=10)      # a fixed rho

``build(multiplier)`` returns the student network at that width multiplier (hidden widths
r0 * multiplier).  The schedule tries multipliers 1, 2, 3, 4, 6, 8, ...; at each, ``n_probe`` = 5
students are trained with reduced time caps; it stops at the first multiplier where at least 80 % reach
L <= epsilon Var(y) (epsilon = 1e-10, Var(y) the per-output variance averaged over outputs), and trains
``n_students`` = 10 there with the full caps.  The students come back ranked by final loss (best first).

Trainers: ``"engine"`` (default) is the MLP engine's ``train_ensemble``: full-batch Adam, then gradflow's
BFGS, each to an iteration cap, so that a run does not depend on the machine's speed or load (the wall-time
caps are only a safety net).  The gradient flow (``method="flow"``) integrates with the Hessian as its
Jacobian, which costs N P^2 per step: at the widths Expand-and-Cluster needs (P of several hundred) it
reaches far fewer iterations per second than Adam.  ``"code"`` emulates the reference implementation's Adam
schedule (:mod:`gradflow.numerics.expand_cluster.code_trainer`).  A probe student that the engine stopped as
converged before its cap is reused in the final set: a longer cap would not change it (same start,
same deterministic steps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from gradflow.numerics.expand_cluster.code_trainer import CodeSchedule, kaiming_init, train_code
from gradflow.numerics.expand_cluster.student_set import StudentSet, target_variance
from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.training import train_ensemble
from gradflow.theory.errors import require
from gradflow.theory.mlp import Network, random_params

WIDTH_MULTIPLIERS = (1, 2, 3, 4, 6, 8, 12, 16)
TRAINERS = ("engine", "code")
WARM_HESSIAN_LIMIT = 2048  # parameters: the flow's Jacobian and Newton use the Hessian kernel up to here


@dataclass(frozen=True)
class TrainerSettings:
    """How students are trained; probes use the caps times ``probe_scale``."""

    trainer: str = "engine"
    method: str = "adam"
    lr: float | None = 1e-2  # Adam's step (None for the gradient flow)
    polish: str = "bfgs"
    maxtime_ode: float = 300.0
    maxtime_optim: float = 300.0
    maxiterations_ode: int = 3000
    maxiterations_optim: int = 3000
    probe_scale: float = 0.25
    workers: int | None = None
    code: CodeSchedule = field(default_factory=CodeSchedule)

    def __post_init__(self):
        require(self.trainer in TRAINERS, "trainer", f"one of {', '.join(TRAINERS)}", self.trainer)
        require(self.maxtime_ode > 0 and self.maxtime_optim > 0, "maxtime", "caps > 0",
                (self.maxtime_ode, self.maxtime_optim))
        require(0 < self.probe_scale <= 1, "probe_scale", "a number in (0, 1]", self.probe_scale)

    def for_probes(self) -> "TrainerSettings":
        s = self.probe_scale
        code = replace(self.code, max_epochs=max(1, int(self.code.max_epochs * s)), maxtime=self.code.maxtime * s)
        return replace(self, maxtime_ode=self.maxtime_ode * s, maxtime_optim=self.maxtime_optim * s,
                       maxiterations_ode=max(1, int(self.maxiterations_ode * s)),
                       maxiterations_optim=max(1, int(self.maxiterations_optim * s)), code=code)


def default_init(network: Network, trainer: str, seed) -> np.ndarray:
    """Glorot normal (the engine's ``random_params``) or, for the code trainer, kaiming normal."""
    return kaiming_init(network, seed) if trainer == "code" else random_params(network, seed)


def train_students(network: Network, X, Y, Theta0, settings: TrainerSettings = TrainerSettings(),
                   members=None, objective=None, progress: bool = False) -> StudentSet:
    """Train every row of ``Theta0`` (members ``members``) and rank them by final loss; with ``progress``
    a bar counts the students trained."""
    Theta0 = np.asarray(Theta0, dtype=float)
    members = np.arange(len(Theta0)) if members is None else np.asarray(members)
    objective = objective or MLPObjective.create(network, X, Y)
    variance = target_variance(Y)
    if settings.trainer == "code":
        run = train_code(objective, Theta0, settings.code)
        converged = run.gnorms <= 1e-13
        return StudentSet.ranked(network, run.thetas, run.losses, run.gnorms, converged, members, variance)
    warm_kernels(objective, Theta0[0])
    results = train_ensemble(objective, Theta0, workers=settings.workers, method=settings.method,
                             lr=settings.lr if settings.method in ("gd", "sgd", "adam", "rk4") else None,
                             polish=settings.polish, maxtime_ode=settings.maxtime_ode,
                             maxtime_optim=settings.maxtime_optim, maxiterations_ode=settings.maxiterations_ode,
                             maxiterations_optim=settings.maxiterations_optim, spectrum=False, progress=progress)
    return StudentSet.ranked(network, [r.x for r in results], [r.loss for r in results], [r.gnorm for r in results],
                             [r.converged for r in results], members, variance)


def warm_kernels(objective, theta) -> None:
    """Evaluate once before the clocks start: the first call compiles the network's kernels, which would
    otherwise eat into every member's wall-time cap."""
    objective.loss_and_gradient(theta)
    if objective.n_params <= WARM_HESSIAN_LIMIT:
        objective.hessian(theta)


def train_at_width(build: Callable[[int], Network], X, Y, multiplier: int, n_students: int = 10,
                   settings: TrainerSettings = TrainerSettings(), init=None, seed: int = 0,
                   progress: bool = False) -> StudentSet:
    """The fixed-width mode: ``n_students`` students at ``multiplier``, ranked.  ``init(multiplier,
    member)`` gives theta0 (default: ``default_init`` with seed [seed, multiplier, member])."""
    require(isinstance(n_students, (int, np.integer)) and n_students >= 1, "n_students", "an integer >= 1", n_students)
    network = build(multiplier)
    starts = _starts(network, multiplier, range(n_students), settings, init, seed)
    return train_students(network, X, Y, starts, settings, progress=progress)


def _starts(network, multiplier, members, settings, init, seed) -> np.ndarray:
    if init is None:
        return np.array([default_init(network, settings.trainer, [seed, multiplier, m]) for m in members])
    return np.array([init(multiplier, m) for m in members], dtype=float)


@dataclass(frozen=True)
class Probe:
    multiplier: int
    widths: tuple
    losses: tuple  # relative losses L / Var(y) of the probe students
    fraction: float  # of probes at L <= epsilon Var(y)

    def to_json(self) -> dict:
        return {"multiplier": self.multiplier, "widths": list(self.widths), "relative_losses": list(self.losses),
                "fraction": self.fraction}


@dataclass(frozen=True)
class ExpansionResult:
    probes: tuple[Probe, ...]
    multiplier: int  # where the schedule stopped
    reached: bool  # False: no multiplier of the schedule met the criterion (the last one was used)
    students: StudentSet

    def to_json(self, epsilon: float = 1e-10) -> dict:
        return {"probes": [p.to_json() for p in self.probes], "multiplier": self.multiplier, "reached": self.reached,
                "widths": list(self.students.network.widths), "students": self.students.to_json(epsilon)}


def expansion_phase(build: Callable[[int], Network], X, Y, multipliers=WIDTH_MULTIPLIERS, n_probe: int = 5,
                    n_students: int = 10, epsilon: float = 1e-10, fraction: float = 0.8,
                    settings: TrainerSettings = TrainerSettings(), init=None, seed: int = 0,
                    progress: Callable[[str], None] | None = None) -> ExpansionResult:
    """Grow the width by ``multipliers`` until ``fraction`` of ``n_probe`` probes reach zero loss; then
    train ``n_students`` there (see the module)."""
    require(len(multipliers) >= 1 and all(int(m) == m and m >= 1 for m in multipliers), "multipliers",
            "integers >= 1", multipliers)
    require(1 <= n_probe <= n_students, "n_probe", f"an integer in [1, n_students = {n_students}]", n_probe)
    require(0 < fraction <= 1 and epsilon > 0, "fraction", "in (0, 1], with epsilon > 0", (fraction, epsilon))
    probes, probe_set, multiplier = [], None, int(multipliers[-1])
    reached = False
    for multiplier in (int(m) for m in multipliers):
        network = build(multiplier)
        starts = _starts(network, multiplier, range(n_probe), settings, init, seed)
        probe_set = train_students(network, X, Y, starts, settings.for_probes())
        share = float(np.mean(probe_set.zero_loss(epsilon)))
        probes.append(Probe(multiplier, network.widths, tuple(float(l / probe_set.variance) for l in probe_set.losses),
                            share))
        if progress:
            progress(f"expansion: x{multiplier} widths {network.widths}: {share:.0%} of probes at zero loss")
        if share >= fraction - 1e-12:
            reached = True
            break
    students = _final(build(multiplier), X, Y, multiplier, n_students, probe_set, settings, init, seed)
    return ExpansionResult(tuple(probes), multiplier, reached, students)


def _final(network, X, Y, multiplier, n_students, probe_set: StudentSet, settings, init, seed) -> StudentSet:
    keep = {}
    if settings.trainer == "engine":  # converged probes would come out the same with longer caps
        keep = {int(m): i for i, m in enumerate(probe_set.members) if probe_set.converged[i]}
    todo = [m for m in range(n_students) if m not in keep]
    parts = []
    if todo:
        starts = _starts(network, multiplier, todo, settings, init, seed)
        parts.append(train_students(network, X, Y, starts, settings, members=todo))
    thetas = [probe_set.thetas[i] for i in keep.values()] + [t for p in parts for t in p.thetas]
    losses = [probe_set.losses[i] for i in keep.values()] + [l for p in parts for l in p.losses]
    gnorms = [probe_set.gnorms[i] for i in keep.values()] + [g for p in parts for g in p.gnorms]
    conv = [probe_set.converged[i] for i in keep.values()] + [c for p in parts for c in p.converged]
    members = list(keep) + [m for p in parts for m in p.members]
    return StudentSet.ranked(network, thetas, losses, gnorms, conv, members, target_variance(Y))
