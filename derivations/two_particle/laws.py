"""The derived two-particle formulas as NumPy functions, for checks, reports and figures."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from gradflow.derivations.two_particle.simulators import derivation
from gradflow.numerics import numeric_function
from gradflow.theory.models import two_particle as tp


@dataclass(frozen=True)
class TwoParticleLaws:
    """``doc``'s objects as functions: each evaluates the derived expression, never a retyped one."""

    doc: tp.TwoParticleDerivation

    @cached_property
    def _first_steps(self) -> dict:
        return {k: numeric_function(case.first_step, (tp.p1, tp.alpha, tp.eta)) for k, case in self.doc.cases.items()}

    @cached_property
    def _dip_threshold(self):
        return numeric_function(self.doc.dip_threshold, (tp.p1,))

    @cached_property
    def _sharpness_at_zero(self):
        return numeric_function(self.doc.sharpness_at_zero, (tp.p1, tp.alpha))

    @cached_property
    def _stability_threshold(self):
        return numeric_function(self.doc.stability_threshold, (tp.p1, tp.alpha))

    @cached_property
    def _sharpness(self):
        return numeric_function(self.doc.sharpness, (tp.m1, tp.m2, tp.p1, tp.alpha))

    @cached_property
    def _eta_t_loss(self) -> dict:
        return {k: numeric_function(case.asymptotics.eta_t_loss, (tp.alpha,)) for k, case in self.doc.cases.items()}

    @cached_property
    def _offsets(self) -> dict:
        return {k: numeric_function(case.asymptotics.offsets, (tp.p1, tp.alpha)) for k, case in self.doc.cases.items()}

    @cached_property
    def _directions(self) -> dict:
        return {k: numeric_function(case.asymptotics.max_margin_direction, (tp.alpha,))
                for k, case in self.doc.cases.items()}

    def first_step(self, p1, alpha, eta, labels: str = "opposite"):
        """(m_1, m_2) after one GD step from m = 0."""
        return self._first_steps[labels](p1, alpha, eta)

    def dip_threshold(self, p1):
        """The alpha above which the rare margin first decreases (opposite labels)."""
        return self._dip_threshold(p1)

    def sharpness_at_zero(self, p1, alpha):
        """lambda_max of the Hessian at W = 0."""
        return self._sharpness_at_zero(p1, alpha)

    def stability_threshold(self, p1, alpha):
        """2 / sharpness at 0: GD is stable at the start below it."""
        return self._stability_threshold(p1, alpha)

    def sharpness(self, m1, m2, p1, alpha):
        """lambda_max of the Hessian at the W reached from W_0 = 0 with margins (m1, m2)."""
        return self._sharpness(m1, m2, p1, alpha)

    def eta_t_loss(self, alpha, labels: str = "opposite"):
        """lim eta t L (inf where the limit is 1/0, alpha = 1 with opposite labels)."""
        with np.errstate(divide="ignore"):
            return self._eta_t_loss[labels](np.asarray(alpha, dtype=float))

    def offsets(self, p1, alpha, labels: str = "opposite") -> np.ndarray:
        """c_x = lim (m_x - log(eta t)), x = 1, 2."""
        return np.array(self._offsets[labels](p1, alpha), dtype=float)

    def max_margin_direction(self, alpha, labels: str = "opposite") -> np.ndarray:
        """The direction v_hat of v = W^T (u_0 - u_1) as t -> infinity (not normalised)."""
        return np.array(self._directions[labels](alpha), dtype=float).ravel()


@lru_cache(maxsize=None)
def laws() -> TwoParticleLaws:
    """The laws of the cached derivation."""
    return TwoParticleLaws(derivation())
