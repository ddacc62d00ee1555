"""The derived closed forms of one mode as NumPy functions, for the entry and the checks."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gradflow.numerics import numeric_function
from gradflow.theory.models import deep_linear as dl


@dataclass(frozen=True)
class ModeLaws:
    """``doc``'s formulas: each method evaluates the derived expression, never a retyped one."""

    doc: dl.DeepLinearDerivation

    @cached_property
    def _logistic(self):
        return numeric_function(self.doc.logistic, (self.doc.strength_flow.time, dl.sigma, dl.s0))

    @cached_property
    def _half_time(self):
        return numeric_function(self.doc.half_time, (dl.sigma, dl.s0))

    @cached_property
    def _time_to_learn(self):
        return self.doc.time_to_learn.leading_function((dl.sigma,))

    @cached_property
    def _correction(self):
        return numeric_function(self.doc.time_to_learn.constants["correction"], (dl.rho, dl.sigma))

    @cached_property
    def _lane_loss(self):
        return numeric_function(self.doc.lane_loss, (dl.a, dl.b, dl.sigma))

    @cached_property
    def _lane_velocity(self):
        return numeric_function(self.doc.lane_flow.rhs, (dl.a, dl.b, dl.sigma))

    def logistic(self, times, sigma, s0) -> np.ndarray:
        """The balanced mode strength s(t) from s(0) = s0: one row per time, one column per sigma."""
        return self._logistic(np.asarray(times, float)[:, None], np.asarray(sigma, float)[None, :], s0)

    def half_time(self, sigma, s0):
        """The exact time at which s reaches sigma / 2."""
        return self._half_time(sigma, s0)

    def slowest_half_time(self, sigma, s0) -> float:
        """The largest half time over the modes (or the s0 values): how long learning them all takes."""
        return float(np.max(self.half_time(sigma, s0)))

    def time_to_learn(self, rho, sigma):
        """The law's leading term log(rho) / (2 sigma), rho = sigma / s0."""
        return self._time_to_learn(rho, sigma)

    def correction(self, rho, sigma):
        """The law's first correction (its derived error term)."""
        return self._correction(rho, sigma)

    def lane_loss(self, a, b, sigma):
        """The loss (sigma - a b)^2 / 2 of one mode."""
        return self._lane_loss(a, b, sigma)

    def lane_velocity(self, a, b, sigma):
        """(da/dt, db/dt) of one mode."""
        return self._lane_velocity(a, b, sigma)
