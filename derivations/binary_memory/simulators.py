"""The binary memory's derivation and its compiled margin-map simulator, each built once per process
(and cached on disk across processes: the derivation as data, the generated modules as files)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gradflow.derivations.binary_memory.instances import BinaryInstance
from gradflow.derivations.derivation_cache import cached
from gradflow.numerics import LaneSimulator
from gradflow.theory.errors import require
from gradflow.theory.models import binary_memory as bm


@lru_cache(maxsize=None)
def derivation() -> bm.BinaryMemoryDerivation:
    """bm.derive() through the disk cache."""
    return cached("binary_memory", bm.derive)


@lru_cache(maxsize=None)
def binary_map_simulator(n: int) -> LaneSimulator:
    """Generated kernel of the binary margin map for n inputs (lanes: instances or step sizes)."""
    return LaneSimulator(bm.binary_margin_map(n))


def binary_map_run(inst: BinaryInstance, etas, n_steps: int, record=None) -> np.ndarray:
    """Margins (records, lanes = etas, N) of the generated binary margin map from the instance's W_0.

    One lane per step size; the lane parameters in the derived map's order (``bm.lane_parameters``)."""
    etas = np.atleast_1d(np.asarray(etas, dtype=float))
    require(etas.size >= 1 and bool(np.all(etas > 0)) and bool(np.all(np.isfinite(etas))), "eta",
            "finite numbers > 0", tuple(etas.tolist()))
    N = inst.E.shape[0]
    params = np.stack([bm.lane_parameters(inst.signed_gram, inst.p, inst.kappa, eta) for eta in etas])
    start = np.repeat(inst.initial_margins[None, :], etas.size, axis=0)
    return binary_map_simulator(N).iterate(start, params, n_steps, record).states
