"""Drivers: how many steps, which lanes or particles, where to record, what to do on divergence.

The kernels they call are generated (gradflow.numerics.codegen); a driver owns the loop around them:

* lanes            -- :class:`LaneSimulator`, many independent copies of a small Flow or Map;
* particles        -- :class:`ParticleSimulator`, one large matrix system (GD, SGD, RK4 flow);
* shallow_network  -- :class:`ShallowNetworkSimulator`, GD of one-hidden-layer networks (loops or BLAS);
* cuda             -- the CUDA counterparts of the lane and particle drivers (imported on demand);
* ensemble         -- :func:`parameter_grid`, a grid of parameter values laid out as lanes;
* progress         -- long runs in chunks under a progress bar.
"""

# The names below are imported on first use (PEP 562), so that a submodule such as
# gradflow.theory.errors, or a warm start that loads only cached generated modules, does not
# import SymPy with the package.

from __future__ import annotations

from gradflow.theory.lazy import lazy_exports

_EXPORTS = {
    "ParameterGrid": "gradflow.numerics.drivers.ensemble",
    "parameter_grid": "gradflow.numerics.drivers.ensemble",
    "LaneSimulator": "gradflow.numerics.drivers.lanes",
    "LaneTrajectory": "gradflow.numerics.drivers.lanes",
    "ParticleSimulator": "gradflow.numerics.drivers.particles",
    "ParticleTrajectory": "gradflow.numerics.drivers.particles",
    "reduced_system": "gradflow.numerics.drivers.particles",
    "weight_space_system": "gradflow.numerics.drivers.particles",
}

__all__ = ["LaneSimulator", "LaneTrajectory", "ParameterGrid", "ParticleSimulator", "ParticleTrajectory",
           "parameter_grid", "reduced_system", "weight_space_system"]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

