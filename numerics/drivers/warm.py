"""Simulators that start warm: the generated module found through the warm index, no SymPy.

``warm_lane_simulator(name, build, folders)`` (and ``warm_particle_simulator``) looks the module up by ``name``, ``parameters`` and
the sources' fingerprint (``codegen.warm_index``); only on a miss does it call ``build()`` (the
derivation: SymPy) and generate the module, recording it for the next process.
"""

from __future__ import annotations

from gradflow.numerics.codegen import warm_index
from gradflow.numerics.drivers.lanes import LaneSignature, LaneSimulator
from gradflow.numerics.drivers.particles import ParticleSignature, ParticleSimulator


def warm_lane_simulator(name: str, build, folders=(), parameters=()) -> LaneSimulator:
    """A LaneSimulator for ``build()`` = (system, observables, conditions), found without SymPy when warm.

    ``name`` names the simulator (unique in gradflow); ``folders``: the caller's source folders that
    decide what ``build`` returns (its family); ``parameters``: JSON-able values that change the
    generated code."""
    key = warm_index.warm_key(f"lanes:{name}", parameters, folders)
    found = warm_index.find(key)
    if found is not None:
        module, path, details = found
        try:
            signature = LaneSignature.from_json(details)
        except TypeError:  # a record of another layout
            signature = None
        if signature is not None:
            return LaneSimulator.from_module(signature, module, path, build)
    system, observables, conditions = build()
    sim = LaneSimulator(system, observables, conditions)
    warm_index.remember(key, sim.path, sim.signature.to_json())
    return sim


def warm_particle_simulator(name: str, build, folders=(), parameters=()) -> ParticleSimulator:
    """A ParticleSimulator for the MatrixSystem ``build()``, found without SymPy when warm (as above)."""
    key = warm_index.warm_key(f"particles:{name}", parameters, folders)
    found = warm_index.find(key)
    if found is not None:
        module, path, details = found
        try:
            return ParticleSimulator.from_module(ParticleSignature.from_json(details), module, path, build)
        except TypeError:  # a record of another layout
            pass
    sim = ParticleSimulator(build())
    warm_index.remember(key, sim.path, sim.signature.to_json())
    return sim
