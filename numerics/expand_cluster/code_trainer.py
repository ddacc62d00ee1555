"""``trainer="code"``: the reference implementation's schedule, run on the MLP engine's gradients.

The reference trains its N students as one tensor: Adam (lr 1e-3, batch 512), one ReduceLROnPlateau
schedule (factor 1/sqrt(10), patience 100, cooldown 200, threshold 0, min_lr 1e-7) on the epoch mean of
the loss *summed* over students, and stops when lr < min_lr + 1e-8 (after 8 reductions) or at 25 000
epochs.  Here every student has its own Adam state (as separate tensors would) but they share the
learning rate and its schedule, fed by the summed epoch loss.  Batches are taken consecutively; a
trailing partial batch is kept (the reference's data loader keeps it too).  Weights start from
``kaiming_init``: N(0, 2 / d_in), biases 0.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from gradflow.numerics.mlp.training.descent import adam_update
from gradflow.theory.errors import require
from gradflow.theory.mlp import Network


@dataclass(frozen=True)
class CodeSchedule:
    lr: float = 1e-3
    batchsize: int = 512
    max_epochs: int = 25_000
    factor: float = 1 / math.sqrt(10)
    patience: int = 100
    cooldown: int = 200
    min_lr: float = 1e-7
    maxtime: float = math.inf  # wall-time cap for all students together

    def __post_init__(self):
        require(self.lr > 0, "lr", "a number > 0", self.lr)
        require(self.batchsize >= 1, "batchsize", "an integer >= 1", self.batchsize)
        require(self.max_epochs >= 1, "max_epochs", "an integer >= 1", self.max_epochs)
        require(0 < self.factor < 1, "factor", "a number in (0, 1)", self.factor)


class _Plateau:
    """PyTorch's ReduceLROnPlateau, mode min, threshold 0."""

    def __init__(self, schedule: CodeSchedule):
        self.s, self.lr, self.best, self.bad, self.cool, self.reductions = schedule, schedule.lr, math.inf, 0, 0, 0

    def step(self, value: float) -> None:
        if value < self.best:
            self.best, self.bad = value, 0
        else:
            self.bad += 1
        if self.cool > 0:
            self.cool -= 1
            self.bad = 0
        if self.bad > self.s.patience:
            new = max(self.lr * self.s.factor, self.s.min_lr)
            self.reductions += self.lr - new > 1e-8  # PyTorch's eps: smaller changes are skipped
            self.lr = new if self.lr - new > 1e-8 else self.lr
            self.cool, self.bad = self.s.cooldown, 0

    @property
    def finished(self) -> bool:
        return self.lr < self.s.min_lr + 1e-8


@dataclass(frozen=True)
class CodeRun:
    thetas: np.ndarray  # (N, P): each student's last point
    losses: np.ndarray  # full-data loss at the last point
    gnorms: np.ndarray
    epochs: int
    final_lr: float
    stopped_by: str  # "min_lr", "max_epochs" or "maxtime"


def kaiming_init(network: Network, seed) -> np.ndarray:
    """W ~ N(0, 2 / fan_in) (fan_in without the bias), biases 0; ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    weights = []
    for (rows, cols), layer in zip(network.shapes, network.layers):
        fan_in = cols - layer.bias
        W = np.zeros((rows, cols))
        W[:, :fan_in] = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(rows, fan_in))
        weights.append(W)
    return network.flatten(weights)


def train_code(objective, Theta0, schedule: CodeSchedule = CodeSchedule()) -> CodeRun:
    """Train every row of ``Theta0`` with Adam under one shared plateau schedule (see the module)."""
    Theta = np.array(Theta0, dtype=float)
    require(Theta.ndim == 2 and Theta.shape[1] == objective.n_params, "Theta0",
            f"an (N, {objective.n_params}) array", Theta.shape)
    n, size = objective.n_samples, min(schedule.batchsize, objective.n_samples)
    batches = [objective.on_samples(start, min(start + size, n)) for start in range(0, n, size)]
    m, v = np.zeros_like(Theta), np.zeros_like(Theta)
    step = 0
    plateau, started, stopped_by = _Plateau(schedule), time.perf_counter(), "max_epochs"
    epoch = 0
    for epoch in range(1, schedule.max_epochs + 1):
        total = 0.0
        for batch in batches:
            step += 1
            for e in range(len(Theta)):
                loss, grad = batch.loss_and_gradient(Theta[e])
                total += loss / len(batches)
                m[e], v[e], update = adam_update(m[e], v[e], grad, step)  # the engine's Adam step
                Theta[e] -= plateau.lr * update
        if not math.isfinite(total):
            raise FloatingPointError(f"trainer code: the summed loss is non-finite at epoch {epoch}")
        plateau.step(total)
        if plateau.finished:
            stopped_by = "min_lr"
            break
        if time.perf_counter() - started > schedule.maxtime:
            stopped_by = "maxtime"
            break
    losses, gnorms = [], []
    for theta in Theta:
        loss, grad = objective.loss_and_gradient(theta)
        losses.append(loss)
        gnorms.append(float(np.max(np.abs(grad))))
    return CodeRun(Theta, np.array(losses), np.array(gnorms), epoch, plateau.lr, stopped_by)
