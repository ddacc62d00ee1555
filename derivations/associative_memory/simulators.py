"""The associative memory's derivation and its compiled simulators, each built once per process
(and cached on disk across processes: the derivation as data, the generated modules as files)."""

from __future__ import annotations

from functools import lru_cache

from gradflow.derivations.derivation_cache import cached
from gradflow.numerics import LaneSimulator, ParticleSimulator, reduced_system, weight_space_system
from gradflow.theory.models import associative_memory as am


@lru_cache(maxsize=None)
def derivation() -> am.AssociativeMemoryDerivation:
    """am.derive() through the disk cache."""
    return cached("associative_memory", am.derive)


@lru_cache(maxsize=None)
def margin_map_simulator() -> LaneSimulator:
    """GD on the margins of an orthonormal memory; parameters (p, M, eta), observable loss."""
    doc = derivation()
    return LaneSimulator(doc.margin_map, {"loss": doc.lane_loss})


@lru_cache(maxsize=None)
def margin_map_cuda_simulator():
    from gradflow.numerics.drivers.cuda import CudaLaneSimulator

    doc = derivation()
    return CudaLaneSimulator(doc.margin_map, {"loss": doc.lane_loss})


@lru_cache(maxsize=None)
def margin_flow_simulator() -> LaneSimulator:
    """The margin flow of an orthonormal memory; parameters (p, M), observable loss."""
    doc = derivation()
    return LaneSimulator(doc.margin_flow, {"loss": doc.lane_loss})


@lru_cache(maxsize=None)
def logit_particle_simulator() -> ParticleSimulator:
    """GD / SGD / RK4 flow of the logit particles S = E W^T U^T; data K = E E^T, Gamma = U U^T, p, Y."""
    doc = derivation()
    return ParticleSimulator(reduced_system(doc.model, doc.logit_flow, (am.K, am.Gram_out, am.p_vec, am.Y)))


@lru_cache(maxsize=None)
def logit_particle_cuda_simulator():
    from gradflow.numerics.drivers.cuda import CudaParticleSimulator

    return CudaParticleSimulator(logit_particle_simulator().system)


@lru_cache(maxsize=None)
def weight_space_simulator() -> ParticleSimulator:
    """GD on W itself, with the generated gradient and Hessian-vector product."""
    return ParticleSimulator(weight_space_system(derivation().model))
