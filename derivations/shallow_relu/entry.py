"""The CLI model ``relu``: a one-hidden-layer ReLU-like network trained by full-batch GD."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.contract import ModelEntry
from gradflow.derivations.cost import BYTES_PER_NUMBER, Cost
from gradflow.derivations.output import simulation_result
from gradflow.derivations.shallow_relu import checks, parameters
from gradflow.derivations.shallow_relu.datasets import DATASETS, STOP_LOSS, WIDTH
from gradflow.derivations.shallow_relu.simulators import derivation, relu_like_simulator
from gradflow.derivations.shallow_relu.training import downsample
from gradflow.numerics.drivers.shallow_network import initial_parameters

# The loss is recorded at most this many times (every step for the experiments' own lengths): a run of
# 10^8 steps would otherwise fill gigabytes before its first step, for a curve reported at 500 points.
LOSS_RECORDS = 1 << 20


def loss_every(steps: int) -> int:
    """The recording interval that keeps ``steps`` steps within LOSS_RECORDS loss records."""
    return max(1, -(-int(steps) // LOSS_RECORDS))


class ReluEntry(ModelEntry):
    name = "relu"
    summary = ("one-hidden-layer ReLU-like network, mean squared loss: generated GD kernel, landscape tools, "
               "saddle-to-saddle dynamics")
    parameters = parameters.RELU
    methods = ("gd",)
    default_length = {"gd": "the iteration count of the data set's experiment (relu-exp-a, -b or -c), stopping at loss <= 1e-5"}
    backends = ("cpu",)

    def derivation(self):
        return derivation()

    def run(self, settings, method, steps, t_end, backend, progress):
        dataset = DATASETS[f"relu-exp-{settings['data']}"]
        steps = dataset.iterations if steps is None else steps
        dtype = np.float32 if settings["dtype"] == "float32" else np.float64
        W0, H0 = initial_parameters(settings["width"], dataset.X.shape[1], dataset.Y.shape[1], WIDTH ** settings["mu"],
                                    seed=settings["seed"])
        run = relu_like_simulator(settings["a_minus"]).gd(dataset.X, dataset.Y, W0, H0, settings["lr"], steps,
                                                          loss_every=loss_every(steps), stop_loss=STOP_LOSS,
                                                          dtype=dtype, snapshots=200, progress=progress)
        iterations, loss = downsample(run, 500)
        return simulation_result({**settings, "steps": steps, "status": run.status}, t=iterations, loss=loss,
                                 w_norm=np.linalg.norm(run.W_snapshots, axis=2)[-1:], h=run.H_snapshots[-1:, :, 0])

    def cost(self, settings, method, steps, t_end):
        dataset = DATASETS[f"relu-exp-{settings['data']}"]
        steps = dataset.iterations if steps is None else steps
        (n, d), d_out, width = dataset.X.shape, dataset.Y.shape[1], settings["width"]
        per_neuron = d + d_out
        # W, H, their gradients and 200 snapshots; the loss records
        records = steps // loss_every(steps) + 2
        memory = BYTES_PER_NUMBER * (width * per_neuron * (4 + 201) + records)
        name = "width" if width * per_neuron * 205 >= records else "--steps"
        return Cost(6.0 * steps * n * width * per_neuron, memory, name, length=steps)

    def checks(self, quick=True):
        return checks.relu_checks(quick)
