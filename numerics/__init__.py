"""gradflow's numeric layer: generated kernels, integrators, drivers and comparisons."""

from .closed_form import numeric_function
from .codegen.cache import cache_dir
from .compare import Verdict, compare, compare_bound
from .ensemble import ParameterGrid, parameter_grid
from .errors import DivergenceError, IntegrationError
from .grids import log_steps, log_times
from .lanes import LaneSimulator, LaneTrajectory
from .particles import ParticleSimulator, ParticleTrajectory, reduced_system, weight_space_system
from .sharpness import dense_hessian, sharpness

__all__ = [
    "DivergenceError", "IntegrationError", "ParameterGrid", "parameter_grid", "LaneSimulator", "LaneTrajectory", "ParticleSimulator", "ParticleTrajectory",
    "Verdict", "cache_dir", "dense_hessian", "sharpness", "compare", "compare_bound", "log_steps", "log_times", "numeric_function", "reduced_system",
    "weight_space_system",
]
