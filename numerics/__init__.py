"""gradflow's numeric layer: generated kernels, integrators, drivers and comparisons.

* codegen/      -- SymPy printers to Numba (CPU) and numba.cuda modules, the content-addressed cache;
* integrators/  -- the fixed-step and adaptive integrators the generated lane modules include;
* drivers/      -- lane, particle, shallow-network and CUDA drivers (how many steps, where to record);
* saddle/       -- saddle-to-saddle analysis of shallow networks (plateaus, exact losses, escapes);
* compare, closed_form, grids, sharpness, errors -- verdicts, NumPy forms of closed forms,
  recording grids, the top Hessian eigenvalue, divergence errors.

Imports gradflow.theory, never gradflow.derivations.
"""

from gradflow.numerics.closed_form import numeric_function
from gradflow.numerics.codegen.cache import cache_dir
from gradflow.numerics.compare import Verdict, compare, compare_bound
from gradflow.numerics.drivers import (LaneSimulator, LaneTrajectory, ParameterGrid, ParticleSimulator,
                                       ParticleTrajectory, parameter_grid, reduced_system, weight_space_system)
from gradflow.numerics.errors import DivergenceError, IntegrationError
from gradflow.numerics.grids import log_steps, log_times, record_steps
from gradflow.numerics.sharpness import dense_hessian, sharpness

__all__ = [
    "DivergenceError", "IntegrationError", "LaneSimulator", "LaneTrajectory", "ParameterGrid", "ParticleSimulator",
    "ParticleTrajectory", "Verdict", "cache_dir", "compare", "compare_bound", "dense_hessian", "log_steps",
    "log_times", "numeric_function", "parameter_grid", "record_steps", "reduced_system", "sharpness",
    "weight_space_system",
]
