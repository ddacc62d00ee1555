"""The shallow ReLU network's derivation and its compiled GD simulators, each built once per process
(and cached on disk across processes: the derivation as data, the generated modules as files)."""

from __future__ import annotations

from functools import lru_cache

from gradflow.derivations.derivation_cache import cached
from gradflow.numerics.drivers.shallow_network import ShallowNetworkSimulator
from gradflow.theory.activations import RELU, ReluLike
from gradflow.theory.models.shallow_network import ShallowNetwork, ShallowNetworkDerivation


def _derive_relu() -> ShallowNetworkDerivation:
    return ShallowNetwork(RELU).derivation()


@lru_cache(maxsize=None)
def derivation() -> ShallowNetworkDerivation:
    """ShallowNetwork(RELU).derivation() through the disk cache."""
    return cached("shallow_network_relu", _derive_relu)


@lru_cache(maxsize=None)
def simulator() -> ShallowNetworkSimulator:
    """Full-batch GD of a ReLU network (squared loss), the generated kernel."""
    return ShallowNetworkSimulator(ShallowNetwork(RELU))


@lru_cache(maxsize=None)
def relu_like_simulator(a_minus: float) -> ShallowNetworkSimulator:
    """GD of a ReLU-like network: slope 1 for z > 0, ``a_minus`` for z < 0 (and rho'(0) = a_minus)."""
    return ShallowNetworkSimulator(ShallowNetwork(ReluLike(1, a_minus)))
