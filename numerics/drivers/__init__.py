"""Drivers: how many steps, which lanes or particles, where to record, what to do on divergence.

The kernels they call are generated (gradflow.numerics.codegen); a driver owns the loop around them:

* lanes            -- :class:`LaneSimulator`, many independent copies of a small Flow or Map;
* particles        -- :class:`ParticleSimulator`, one large matrix system (GD, SGD, RK4 flow);
* shallow_network  -- :class:`ShallowNetworkSimulator`, GD of one-hidden-layer networks (loops or BLAS);
* cuda             -- the CUDA counterparts of the lane and particle drivers (imported on demand);
* ensemble         -- :func:`parameter_grid`, a grid of parameter values laid out as lanes;
* progress         -- long runs in chunks under a progress bar.
"""

from gradflow.numerics.drivers.ensemble import ParameterGrid, parameter_grid
from gradflow.numerics.drivers.lanes import LaneSimulator, LaneTrajectory
from gradflow.numerics.drivers.particles import (ParticleSimulator, ParticleTrajectory, reduced_system,
                                                 weight_space_system)

__all__ = ["LaneSimulator", "LaneTrajectory", "ParameterGrid", "ParticleSimulator", "ParticleTrajectory",
           "parameter_grid", "reduced_system", "weight_space_system"]
