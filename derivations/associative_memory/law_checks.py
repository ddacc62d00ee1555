"""The GD margin laws of an orthonormal memory against a simulated trajectory, one verdict each.

Each verdict reads its target and its constants from the derived laws (``doc.uniform``,
``doc.gd_expansion``, ``doc.loss_law``), and each tolerance separates the law from the law with its
named content removed: the tests doctor the law and watch the verdict fail.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradflow.numerics import Verdict, compare
from gradflow.theory.models import associative_memory as am

REMAINDER_TOLERANCE = 0.02  # measured <= 0.01 (eta = 0.5, rarest input); without the log term ~ 1
FORGOTTEN_FIRST_STEP = 100  # the expansion is checked on inputs whose e^{m_1} / rate <= T / 100
UNIFORM_TOLERANCE = 2.0  # measured <= 0.94; the plain log law log(eta M p t) reaches 4e8 at eta = 50
LOSS_RATE_TOLERANCE = 0.02  # relative; measured 5e-3 at eta = 0.5, 4e-4 at eta = 5


def _constant(expr, p, M, eta):
    return sp.lambdify((am.p, am.M, am.eta), expr, "numpy")(p, M, eta) * np.ones_like(p)


def expansion_remainder_verdict(doc, m, t, p, M: int, eta: float) -> Verdict:
    """e^m - (rate t + c log t) stays O(1): its drift over [T/2, T] per unit of log t, relative to the
    derived log coefficient c (max(|c|, 1)), is small.  Without the log term the drift is |c| log(T/t)
    and the measure is ~ |c| / max(|c|, 1) (about 1 here), so it fails.

    ``m`` holds the margins (times, inputs) at the times ``t`` (a column, t >= 1).  Only inputs whose
    first step is forgotten (e^{m_1} / rate <= T / 100) are in the asymptotic regime at T."""
    law = doc.gd_expansion
    rate = _constant(law.constants["rate"], p, M, eta)
    coefficient = _constant(law.constants["log_coefficient"], p, M, eta)
    first_step = _constant(doc.first_step, p, M, eta)
    T = float(t[-1, 0])
    lanes = np.exp(first_step) / rate <= T / FORGOTTEN_FIRST_STEP
    name = f"GD expansion remainder is O(1) (eta={eta})"
    if not lanes.any():
        return Verdict(name, False, float("inf"), REMAINDER_TOLERANCE, "no input has forgotten its first step",
                       "remainder drift / (|c| log(T/t))")
    rest = np.exp(m) - law.leading_function((am.p, am.M, am.eta))(t, p, M, eta)
    window = (t[:, 0] >= T / 2) & (t[:, 0] < T)
    drift = np.abs(rest[window] - rest[-1]) / np.log(T / t[window])
    measure = float(np.max((drift / np.maximum(np.abs(coefficient), 1.0))[:, lanes]))
    regime = f"t in [{T / 2:g}, {T:g}], {int(lanes.sum())} of {lanes.size} inputs (e^(m_1)/rate <= T/100)"
    return Verdict(name, measure <= REMAINDER_TOLERANCE, measure, REMAINDER_TOLERANCE, regime,
                   "remainder drift / (max(|c|, 1) log(T/t))")


def uniform_verdict(doc, m, t, p, M: int, eta: float) -> Verdict:
    """m_t = log(e^{m_1} + rate (t - 1)) uniformly in t >= 1: the error stays below the size of the term
    the approximation neglects, (1 + |c|) log(1 + U / e^{m_1}) / U with U = e^{uniform} and c the
    derived log coefficient.  The plain log law misses e^{m_1}, which dominates while rate t < e^{m_1}
    (large eta p), and fails there by orders of magnitude."""
    uniform = doc.uniform.leading_function((am.p, am.M, am.eta))(t, p, M, eta)
    coefficient = _constant(doc.gd_expansion.constants["log_coefficient"], p, M, eta)
    first_step = _constant(doc.first_step, p, M, eta)
    U = np.exp(uniform)
    neglected = (1.0 + np.abs(coefficient)) * np.log1p(U / np.exp(first_step)) / U
    error = np.abs(m - uniform) / neglected
    name = f"uniform approximation (eta={eta})"
    regime = f"t in [1, {t[-1, 0]:g}], all inputs"
    if not np.all(np.isfinite(error)):
        return Verdict(name, False, float("inf"), UNIFORM_TOLERANCE, regime, "non-finite values")
    worst = np.unravel_index(int(np.argmax(error)), error.shape)
    measure = float(error[worst])
    return Verdict(name, measure <= UNIFORM_TOLERANCE, measure, UNIFORM_TOLERANCE, regime,
                   "max |error| / neglected term", m[worst], uniform[worst])


def loss_rate_verdict(doc, final_loss: float, N: int, M: int, eta: float, T: int) -> Verdict:
    """eta T L(T) against the derived limit of ``doc.loss_law`` (N (M - 1) / M)."""
    target = float(doc.loss_law.leading.subs({am.N: N, am.M: M}))
    return compare(f"eta t L -> N(M-1)/M (eta={eta})", eta * T * final_loss, target, LOSS_RATE_TOLERANCE,
                   f"t = {T}", relative=True)
