"""Training runs of the reproductions: GD from the data set's vanishing initialisation, and the loss
curve thinned for JSON."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.shallow_relu.datasets import SEED, STOP_LOSS, WIDTH, ReluDataset
from gradflow.derivations.shallow_relu.simulators import simulator
from gradflow.numerics.drivers.shallow_network import ShallowRun, initial_parameters


def train(dataset: ReluDataset, dtype=np.float64, seed: int = SEED, iterations: int | None = None,
          snapshots: int = 2000, progress: bool = False) -> ShallowRun:
    """GD of a width-WIDTH ReLU network on ``dataset`` (its sigma, lr and iterations unless given),
    stopping at loss <= STOP_LOSS."""
    W0, H0 = initial_parameters(WIDTH, dataset.X.shape[1], dataset.Y.shape[1], dataset.sigma, seed=seed)
    return simulator().gd(dataset.X, dataset.Y, W0, H0, dataset.lr, iterations or dataset.iterations,
                          snapshots=snapshots, stop_loss=STOP_LOSS, dtype=dtype, progress=progress)


def downsample(run: ShallowRun, points: int = 3000):
    """(iterations, loss) at about ``points`` log-spaced and ``points`` evenly spaced records."""
    idx = np.unique(np.concatenate([np.geomspace(1, len(run.loss), points).astype(int) - 1,
                                    np.linspace(0, len(run.loss) - 1, points).astype(int)]))
    return run.loss_iterations[idx], run.loss[idx]
