"""What the runs are measured by: the sharpness along a run, loss increases, sign changes of the
margins, the edge of stability, and the loss landscape over v = W^T (u_0 - u_1)."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.associative_memory.simulators import weight_space_simulator
from gradflow.derivations.two_particle.instances import Instance
from gradflow.derivations.two_particle.simulators import kernel_alpha, lane_map_simulator
from gradflow.numerics import sharpness
from gradflow.numerics.drivers.lanes import lane_parameters

INCREASE_RTOL = 1e-12  # a loss increase must exceed rounding: L_{t+1} > L_t (1 + 1e-12)


def sharpness_along(inst: Instance, margins) -> np.ndarray:
    """Top Hessian eigenvalue at each recorded W, from the generated HVP (dense 4 x 4)."""
    sim = weight_space_simulator()
    return np.array([sharpness(sim, W, inst.data, method="dense") for W in inst.weights_from_margins(margins)])


def loss_increases(loss) -> np.ndarray:
    """Steps t with L_{t+1} > L_t (beyond rounding)."""
    loss = np.asarray(loss, dtype=float)
    return np.flatnonzero(loss[1:] > loss[:-1] * (1 + INCREASE_RTOL))


def sign_changes(margins) -> list:
    """For each margin, steps t >= 1 with m_t m_{t+1} < 0 (leaving m_0 = 0 is no change)."""
    margins = np.asarray(margins, dtype=float)
    return [np.flatnonzero(margins[1:-1, x] * margins[2:, x] < 0) + 1 for x in range(margins.shape[1])]


def edge_of_stability(sharp, eta) -> dict:
    """Sharpness against 2/eta: where it is above, the last such step, and the final ratio."""
    sharp = np.asarray(sharp, dtype=float)
    above = np.flatnonzero(sharp > 2.0 / eta)
    ratio = sharp * eta / 2
    rises = np.flatnonzero(np.diff(sharp) > 0)
    return {"threshold": 2.0 / eta, "steps_above": above.tolist(), "last_above": int(above[-1]) if above.size else -1,
            "max_ratio": float(ratio.max()), "final_ratio": float(ratio[-1]),
            "decreasing_from": int(rises[-1] + 1) if rises.size else 0}


def landscape(p1: float, alpha: float, theta: np.ndarray, labels: str = "opposite"):
    """L/N and L01 on the grid v = (theta_i, theta_j) of the binary model m(x) = eps_x <v, e_x>.

    The loss comes from the generated lane observable (the same code the simulations use)."""
    inst = Instance(p1, alpha, labels)
    V1, V2 = np.meshgrid(theta, theta, indexing="ij")
    v = np.stack([V1.ravel(), V2.ravel()], axis=1)
    margins = (v @ inst.E.T) * inst.eps
    sim = lane_map_simulator()
    q = lane_parameters(sim.system, {"p1": p1, "alpha": float(kernel_alpha(alpha, labels)), "eta": 1.0},
                        margins.shape[0])
    loss = sim.module.observable_loss(np.ascontiguousarray(margins[None]), q)[0]
    return (loss / 2).reshape(V1.shape), inst.zero_one(margins).reshape(V1.shape)
