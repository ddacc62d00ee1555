"""The associative memory's derivation and its compiled simulators, each built once per process
(and cached on disk across processes: the derivation as data, the generated modules as files)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from gradflow.numerics.drivers.warm import warm_lane_simulator, warm_particle_simulator

# SymPy (the derivation, the theory model) is imported inside the functions that derive, so that a warm
# start, whose lane modules are found by name and source hashes, never imports it
HERE = (Path(__file__).resolve().parent,)  # the sources that decide which systems are simulated
WARM_NAMES = {"lanes": ("associative_memory.margin_map", "associative_memory.margin_flow"),  # warm-index names
              "particles": ("associative_memory.logit_particles",)}


@lru_cache(maxsize=None)
def derivation() -> "am.AssociativeMemoryDerivation":  # noqa: F821 (imported on use)
    """am.derive() through the disk cache."""
    from gradflow.derivations.derivation_cache import cached
    from gradflow.theory.models import associative_memory as am

    return cached("associative_memory", am.derive)


@lru_cache(maxsize=None)
def margin_systems() -> "am.MarginSystems":  # noqa: F821 (imported on use)
    """The margin flow, map and lane loss, derived without the rest of the derivation (through the disk
    cache as well): what a cold simulate of am-orthogonal needs."""
    from gradflow.derivations.derivation_cache import cached
    from gradflow.theory.models import associative_memory as am

    return cached("associative_memory.margins", am.derive_margin_systems)


@lru_cache(maxsize=None)
def logit_particles() -> "am.LogitParticles":  # noqa: F821 (imported on use)
    """The model and its logit-particle flow, derived alone (as margin_systems)."""
    from gradflow.derivations.derivation_cache import cached
    from gradflow.theory.models import associative_memory as am

    return cached("associative_memory.logit_particles", am.derive_logit_particles)


def _margin_map():
    doc = margin_systems()
    return doc.margin_map, {"loss": doc.lane_loss}, {}


def _margin_flow():
    doc = margin_systems()
    return doc.margin_flow, {"loss": doc.lane_loss}, {}


@lru_cache(maxsize=None)
def margin_map_simulator():
    """GD on the margins of an orthonormal memory; parameters (p, M, eta), observable loss."""
    return warm_lane_simulator("associative_memory.margin_map", _margin_map, HERE)


@lru_cache(maxsize=None)
def margin_map_cuda_simulator():
    from gradflow.numerics.drivers.cuda import CudaLaneSimulator

    doc = margin_systems()
    return CudaLaneSimulator(doc.margin_map, {"loss": doc.lane_loss})


@lru_cache(maxsize=None)
def margin_flow_simulator():
    """The margin flow of an orthonormal memory; parameters (p, M), observable loss."""
    return warm_lane_simulator("associative_memory.margin_flow", _margin_flow, HERE)


@lru_cache(maxsize=None)
def logit_particle_simulator():
    """GD / SGD / RK4 flow of the logit particles S = E W^T U^T; data K = E E^T, Gamma = U U^T, p, Y."""
    return warm_particle_simulator("associative_memory.logit_particles", _logit_particles, HERE)


def _logit_particles():
    from gradflow.numerics import reduced_system
    from gradflow.theory.models import associative_memory as am

    doc = logit_particles()
    return reduced_system(doc.model, doc.logit_flow, (am.K, am.Gram_out, am.p_vec, am.Y))


@lru_cache(maxsize=None)
def logit_particle_cuda_simulator():
    from gradflow.numerics.drivers.cuda import CudaParticleSimulator

    return CudaParticleSimulator(logit_particle_simulator().system)


@lru_cache(maxsize=None)
def weight_space_simulator():
    """GD on W itself, with the generated gradient and Hessian-vector product."""
    from gradflow.numerics import ParticleSimulator, weight_space_system

    return ParticleSimulator(weight_space_system(logit_particles().model))
