"""Integrator sources rendered into generated lane modules, registered by name.

Each entry is a Numba template that calls the right-hand side the code generator prints from a
Flow.  Maps are iterated by the blocked ``iterate_map`` that ``codegen.lane_module`` prints around
the map itself.
"""

from gradflow.numerics.integrators import dopri5, rk4

FLOW_METHODS = ("rk4", "dopri5", "logtime")
MAP_METHODS = ("map",)

SOURCES = {
    "rk4": rk4.SOURCE,
    "dopri5": dopri5.SOURCE,  # "logtime" is dopri5 with log_time=True
}

__all__ = ["FLOW_METHODS", "MAP_METHODS", "SOURCES"]
