"""The derived laws of a binary memory as NumPy functions, for checks and reports."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from gradflow.numerics import numeric_function
from gradflow.theory.models import binary_memory as bm


@dataclass(frozen=True)
class BinaryLaws:
    """``doc``'s laws: each method evaluates the derived expression, never a retyped one."""

    doc: bm.BinaryMemoryDerivation

    @cached_property
    def _loss_rate(self):
        return numeric_function(self.doc.loss_law.leading, (bm.kappa, bm.gamma_star))

    @cached_property
    def _sharpness(self):
        return numeric_function(self.doc.stability_law.constants["sharpness"], (bm.kappa, bm.h_max))

    @cached_property
    def _threshold(self):
        return numeric_function(self.doc.stability_law.leading, (bm.kappa, bm.h_max))

    def loss_rate(self, kappa: float, gamma_star: float) -> float:
        """Separable: lim eta t L = 1 / (kappa gamma*^2)."""
        return float(self._loss_rate(kappa, gamma_star))

    def sharpness(self, kappa: float, h_max: float) -> float:
        """W-space sharpness at the CE minimizer: kappa h_max."""
        return float(self._sharpness(kappa, h_max))

    def stability_threshold(self, kappa: float, h_max: float) -> float:
        """GD is linearly stable at the CE minimizer iff eta < 2 / (kappa h_max)."""
        return float(self._threshold(kappa, h_max))

    def separable_constants(self, Kt, p, kappa: float) -> bm.SeparableConstants:
        """lambda, the margin offsets c, the approach exponent, lim eta t L and gamma* of one instance."""
        return bm.separable_constants(Kt, p, kappa, self.doc)
