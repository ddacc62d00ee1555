"""Integrator sources rendered into generated lane modules, registered by name.

Each entry is a Numba template that calls ``lane_rhs`` (flows) or ``lane_update`` (maps),
the functions the code generator prints from a Flow or Map.
"""

from . import dopri5, map_iteration, rk4

FLOW_METHODS = ("rk4", "dopri5", "logtime")
MAP_METHODS = ("map",)

SOURCES = {
    "map": map_iteration.SOURCE,
    "rk4": rk4.SOURCE,
    "dopri5": dopri5.SOURCE,  # "logtime" is dopri5 with log_time=True
}

__all__ = ["FLOW_METHODS", "MAP_METHODS", "SOURCES"]
