"""The derived margin laws of an orthonormal memory as NumPy functions, for figures and reports."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from gradflow.numerics import numeric_function
from gradflow.theory.models import associative_memory as am


@dataclass(frozen=True)
class MarginLaws:
    """``doc``'s laws with M classes: each method evaluates the derived expression, never a retyped one."""

    doc: am.AssociativeMemoryDerivation
    M: int

    loss_limit_text = "N(M-1)/M"

    @staticmethod
    def gd_law_text(t: str = "t") -> str:
        return f"log(eta M p {t})"

    @staticmethod
    def uniform_text(t: str = "t") -> str:
        return f"log(e^{{eta p}} + eta M p ({t}-1))"

    @cached_property
    def _gd_law(self):
        return self.doc.gd_law.leading_function((am.p, am.M, am.eta))

    @cached_property
    def _uniform(self):
        return self.doc.uniform.leading_function((am.p, am.M, am.eta))

    @cached_property
    def _lambert(self):
        return numeric_function(self.doc.solution.explicit, (am.t, am.p, am.M))

    def gd_law(self, t, p, eta):
        """m_t ~ log(eta M p t) (GD, leading term)."""
        return self._gd_law(t, p, self.M, eta)

    def uniform(self, t, p, eta):
        """m_t ~ log(e^{eta p} + eta M p (t - 1)) (GD, uniform in t)."""
        return self._uniform(t, p, self.M, eta)

    def lambert(self, t, p):
        """The flow's closed form m(t) (Lambert W), stable at large t."""
        return self._lambert(t, p, float(self.M))

    def eta_t_loss_limit(self, N: int) -> float:
        """lim eta t L = N (M - 1) / M."""
        return float(self.doc.loss_law.leading.subs({am.N: N, am.M: self.M}))
