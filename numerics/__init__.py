"""gradflow's numeric layer: generated kernels, integrators, drivers and comparisons.

* codegen/      -- SymPy printers to Numba (CPU) and numba.cuda modules, the content-addressed cache;
* integrators/  -- the fixed-step and adaptive integrators the generated lane modules include;
* drivers/      -- lane, particle, shallow-network and CUDA drivers (how many steps, where to record);
* saddle/       -- saddle-to-saddle analysis of shallow networks (plateaus, exact losses, escapes);
* compare, closed_form, grids, sharpness, errors -- verdicts, NumPy forms of closed forms,
  recording grids, the top Hessian eigenvalue, divergence errors.

Imports gradflow.theory, never gradflow.derivations.
"""

# The names below are imported on first use (PEP 562), so that a submodule such as
# gradflow.theory.errors, or a warm start that loads only cached generated modules, does not
# import SymPy with the package.

from __future__ import annotations

from gradflow.theory.lazy import lazy_exports
import sys
import types

_EXPORTS = {
    "numeric_function": "gradflow.numerics.closed_form",
    "cache_dir": "gradflow.numerics.codegen.cache",
    "Verdict": "gradflow.numerics.compare",
    "compare": "gradflow.numerics.compare",
    "compare_bound": "gradflow.numerics.compare",
    "compare_each": "gradflow.numerics.compare",
    "LaneSimulator": "gradflow.numerics.drivers",
    "LaneTrajectory": "gradflow.numerics.drivers",
    "ParameterGrid": "gradflow.numerics.drivers",
    "ParticleSimulator": "gradflow.numerics.drivers",
    "ParticleTrajectory": "gradflow.numerics.drivers",
    "parameter_grid": "gradflow.numerics.drivers",
    "reduced_system": "gradflow.numerics.drivers",
    "weight_space_system": "gradflow.numerics.drivers",
    "DivergenceError": "gradflow.numerics.errors",
    "IntegrationError": "gradflow.numerics.errors",
    "log_steps": "gradflow.numerics.grids",
    "log_times": "gradflow.numerics.grids",
    "record_steps": "gradflow.numerics.grids",
    "dense_hessian": "gradflow.numerics.sharpness",
    "sharpness": "gradflow.numerics.sharpness",
}

__all__ = [
    "DivergenceError", "IntegrationError", "LaneSimulator", "LaneTrajectory", "ParameterGrid", "ParticleSimulator",
    "ParticleTrajectory", "Verdict", "cache_dir", "compare", "compare_bound", "compare_each", "dense_hessian", "log_steps",
    "log_times", "numeric_function", "parameter_grid", "record_steps", "reduced_system", "sharpness",
    "weight_space_system",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)


class _Package(types.ModuleType):
    """Keeps ``compare`` and ``sharpness`` the functions after their submodules are imported (as the
    eager imports did): the import system would set the submodule as the package's attribute."""

    def __setattr__(self, name, value):
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

