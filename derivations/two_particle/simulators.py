"""The two-particle derivation and its compiled lane simulators, each built once per process (and
cached on disk across processes: the derivation as data, the generated modules as files).

Same labels run on the opposite-label kernel with alpha -> -alpha (the derivation proves the two
maps equal under that substitution); loss and sharpness depend on alpha only through alpha^2.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from gradflow.derivations.derivation_cache import cached
from gradflow.numerics import LaneSimulator
from gradflow.theory.models import two_particle as tp

# L01 = 0 for opposite labels (p1 in (0, 1)): x_1 is right iff m1 >= 0 (ties go to class 0, its label),
# x_2 iff m2 > 0 (a tie gives class 0, not its label 1)
L01_ZERO = sp.And(tp.m1 >= 0, tp.m2 > 0)


@lru_cache(maxsize=None)
def derivation() -> tp.TwoParticleDerivation:
    """tp.derive() through the disk cache."""
    return cached("two_particle", tp.derive)


def _observables() -> dict:
    doc = derivation()
    return {"loss": doc.lane_loss, "sharpness": doc.lane_sharpness}


@lru_cache(maxsize=None)
def lane_map_simulator() -> LaneSimulator:
    """GD on the margins (opposite-label kernel); parameters (p1, alpha, eta), observables loss and sharpness;
    first_hits['l01_zero'] = the first step with L01 = 0 (as on the CUDA backend)."""
    return LaneSimulator(derivation().opposite.lane_map, _observables(), {"l01_zero": L01_ZERO})


@lru_cache(maxsize=None)
def lane_map_cuda_simulator():
    """The lane map on the CUDA backend (one thread per lane); first_hits['l01_zero'] as on the CPU."""
    from gradflow.numerics.drivers.cuda import CudaLaneSimulator

    return CudaLaneSimulator(derivation().opposite.lane_map, _observables(), {"l01_zero": L01_ZERO})


@lru_cache(maxsize=None)
def lane_flow_simulator() -> LaneSimulator:
    """The margin flow (opposite-label kernel); parameters (p1, alpha), observable loss."""
    doc = derivation()
    return LaneSimulator(doc.opposite.lane_flow, {"loss": doc.lane_loss})


def kernel_alpha(alpha, labels: str):
    """The opposite-label kernel runs same labels with alpha -> -alpha (proved in the derivation)."""
    return np.asarray(alpha, dtype=float) * (1.0 if labels == "opposite" else -1.0)


def gd_run(p1: float, alpha: float, eta: float, n_steps: int, labels: str = "opposite", record=None):
    """One GD run from W_0 = 0 on the lane map: margins (records, 2), loss and sharpness (records,);
    ``record`` every step by default."""
    record = np.arange(n_steps + 1) if record is None else np.asarray(record)
    traj = lane_map_simulator().iterate(np.zeros((1, 2)), {"p1": p1, "alpha": float(kernel_alpha(alpha, labels)),
                                                           "eta": eta}, n_steps, record)
    return traj.states[:, 0, :], traj.observables["loss"][:, 0], traj.observables["sharpness"][:, 0]
