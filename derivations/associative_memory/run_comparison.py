"""``gradflow simulate am-orthogonal --compare``: one run's recorded margins and loss against the
derived laws, one verdict each.

Every prediction is read from the derivation (``doc.gd_law``, ``doc.flow_law``, ``doc.uniform``,
``doc.solution``, ``doc.loss_law``, ``doc.bounds``), never retyped.  The bounds and the closed-form
solution hold at every t (tolerances: rounding, and the integrator's accuracy).  An asymptotic law
x = leading + O(log t / t) is held to the run's last record T with the tolerance its own neglected
terms give there: e^{m} = rate t + c log t + O(1) (c the derived log coefficient, the O(1) about
e^{m_start}), so m - log(rate T) ~ (|c| log T + e^{m_start}) / (rate T) =: eps(T), and the error may
reach twice that.  A run too short for those terms to be small (eps(T) > REGIME) fails, saying how
long a run the law needs.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradflow.derivations.associative_memory.law_checks import uniform_verdict
from gradflow.numerics import Verdict, compare_bound, compare_each, numeric_function
from gradflow.theory.models import associative_memory as am

REGIME = 0.25  # an asymptotic law is held to a run once its neglected terms eps(T) are below this
ERROR_TERMS = 2.0  # the law's error at T may reach this many times eps(T)
SOLUTION_TOLERANCE = 1e-8  # the log-time integration (rtol 1e-12) against the closed form, as `check` holds it


def orthogonal_comparison(doc: am.AssociativeMemoryDerivation, method: str, result: dict) -> list[Verdict]:
    """The verdicts of a ``gd`` or ``flow`` run of am-orthogonal (``result`` as ``simulate`` returns it)."""
    params = result["params"]
    p, M = np.asarray(params["p"], float), int(params["M"])
    t = np.asarray(result["t"], float)
    margins = np.asarray(result["margins"], float)
    if method == "flow":
        return _flow_verdicts(doc, t, margins, p, M)
    return _gd_verdicts(doc, t, margins, np.asarray(result["loss"], float), p, M, float(params["eta"]))


def _constant(expr, p, M: int, eta: float) -> np.ndarray:
    return sp.lambdify((am.p, am.M, am.eta), expr, "numpy")(p, M, eta) * np.ones_like(p)


def gd_neglected_terms(doc, p, M: int, eta: float, T: float) -> np.ndarray:
    """eps(T) per input for GD: how far m_T may sit from log(rate T).  The derived uniform approximation
    log U(T), U = e^{m_1} + rate (T - 1), differs from it by |log(U / (rate T))|, and m_T from log U by
    at most the term the uniform approximation neglects, (1 + |c|) log(1 + U / e^{m_1}) / U."""
    rate = _constant(doc.gd_law.constants["rate"], p, M, eta)
    c = _constant(doc.gd_expansion.constants["log_coefficient"], p, M, eta)
    U = np.exp(doc.uniform.leading_function((am.p, am.M, am.eta))(T, p, M, eta))
    e_first = np.exp(_constant(doc.first_step, p, M, eta))
    return np.abs(np.log(U / (rate * T))) + (1.0 + np.abs(c)) * np.log1p(U / e_first) / U


def flow_neglected_terms(doc, p, M: int, T: float) -> np.ndarray:
    """eps(T) per input for the flow from m(0) = 0: by the implicit solution e^m = rate t + 1 + c m
    (c the derived log coefficient), m_T - log(rate T) ~ (|c| log(rate T) + 1) / (rate T)."""
    rate = _constant(doc.flow_law.constants["rate"], p, M, 1.0)
    c = _constant(doc.flow_law.constants["log_coefficient"], p, M, 1.0)
    return (np.abs(c) * np.log(np.maximum(rate * T, np.e)) + 1.0) / (rate * T)


def _length_needed(neglected, T: float) -> float:
    """The first T' = T 2^k (k >= 1) at which every input's neglected terms are below REGIME."""
    later = max(T, 1.0)
    for _ in range(200):
        later *= 2.0
        if np.max(neglected(later)) <= REGIME:
            return later
    return float("inf")


def regime_reached(neglected, T: float, option: str) -> tuple[np.ndarray | None, str]:
    """(eps(T), "") once the run is in the regime of a law whose neglected terms are ``neglected(T)``
    (eps(T) <= REGIME for every input); else (None, why not, and the length that would be)."""
    if T > 1.0:
        eps = neglected(T)
        if np.max(eps) <= REGIME:
            return eps, ""
        worst = int(np.argmax(eps))
        size = f"its O(log T/T) terms are {eps[worst]:.3g} of the leading term (input {worst}), above {REGIME}"
    else:
        size = "the law's t -> oo regime has not started"
    needed = _length_needed(neglected, T)
    return None, f"run too short for the law's regime: at T = {T:g} {size} ({option} >= {needed:.3g})"


def growth_law_verdict(name: str, law, m_T, T: float, p, M: int, eta: float, neglected, option: str) -> Verdict:
    """m_T of every input against ``law``'s leading term log(rate T), within ERROR_TERMS x eps(T), where
    ``neglected(T)`` is eps(T), one per input."""
    eps, too_short = regime_reached(neglected, T, option)
    measure = "|m_T - law|"
    if eps is None:
        return Verdict(name, False, float("inf"), ERROR_TERMS * REGIME, too_short, measure)
    predicted = law.leading_function((am.p, am.M, am.eta))(T, p, M, eta) * np.ones_like(p)
    return compare_each(name, m_T, predicted, ERROR_TERMS * eps,
                        f"T = {T:g}, all {p.size} inputs: the O(log T/T) remainder, 2 eps(T) with eps(T) <= "
                        f"{np.max(eps):.3g}, bounds the error", measure)


def _gd_verdicts(doc, t, margins, loss, p, M: int, eta: float) -> list[Verdict]:
    T = float(t[-1])
    after = t >= 1
    neglected = lambda at: gd_neglected_terms(doc, p, M, eta, at)  # noqa: E731
    out = []
    if after.any():
        out += _gd_bound_verdicts(doc, t[after, None], margins[after], loss[after], p, M, eta)
        out.append(uniform_verdict(doc, margins[after], t[after, None], p, M, eta))
    out.append(growth_law_verdict(f"GD law m_T = {_text(doc.gd_law)} + O(log T/T)", doc.gd_law, margins[-1], T, p,
                                  M, eta, neglected, "--steps"))
    out.append(_loss_rate_verdict(doc, loss[-1], T, p, M, eta, neglected))
    return out


def _gd_bound_verdicts(doc, t, margins, loss, p, M: int, eta: float) -> list[Verdict]:
    """The derived GD bounds, at every recorded step t >= 1: m_t >= log(1 + eta p t) and the loss bound
    (its per-input form summed over the inputs, as `check` evaluates it)."""
    lower, loss_bound = doc.bounds[2], doc.bounds[3]
    per_input = sp.lambdify((am.t, am.p, am.M, am.eta), loss_bound.leading.subs(sp.Symbol("sum_x"), 1), "numpy")
    regime = f"t in [1, {t[-1, 0]:g}]"
    return [compare_bound(f"GD lower bound m_t >= {lower.leading}", margins,
                          lower.leading_function((am.p, am.eta))(t, p, eta), "lower", 1e-12, regime),
            compare_bound(f"GD loss bound L_t <= sum over inputs of {loss_bound.leading}", loss,
                          per_input(t, p, M, eta).sum(axis=1), "upper", 1e-12, regime)]


def _loss_rate_verdict(doc, loss_T: float, T: float, p, M: int, eta: float, neglected) -> Verdict:
    """eta T L_T against lim eta t L (doc.loss_law), relative.  Each input adds about (M-1)/M rate T e^{-m}
    -> (M-1)/M, the same share of the limit, with the relative error of e^{m}: the total's relative error
    is within 2 x the inputs' mean eps(T)."""
    name = f"loss law eta T L_T -> {doc.loss_law.leading}"
    target = float(doc.loss_law.leading.subs({am.N: p.size, am.M: M}))
    measure = "|eta T L_T - limit| / limit"
    eps, too_short = regime_reached(neglected, T, "--steps")
    if eps is None:
        return Verdict(name, False, float("inf"), ERROR_TERMS * REGIME, too_short, measure)
    measured = eta * T * loss_T
    return _relative(name, measured, target, ERROR_TERMS * float(np.mean(eps)),
                     f"T = {T:g}: the inputs' O(log T/T) terms (2 x their mean eps(T) = {np.mean(eps):.3g}) bound "
                     "the error", measure)


def _relative(name, measured: float, predicted: float, tolerance: float, regime: str, measure: str) -> Verdict:
    error = abs(measured - predicted) / abs(predicted)
    return Verdict(name, error <= tolerance, error, tolerance, regime, measure, measured, predicted)


def _flow_verdicts(doc, t, margins, p, M: int) -> list[Verdict]:
    T = float(t[-1])
    closed = numeric_function(doc.solution.explicit, (am.t, am.p, am.M))
    out = [compare_each("flow solution m(t) (Lambert W closed form)", margins, closed(t[:, None], p[None, :], float(M)),
                        SOLUTION_TOLERANCE, f"t in [0, {T:g}], all {p.size} inputs (integrator rtol 1e-12)")]
    flow_lower, flow_upper = doc.bounds[0], doc.bounds[1]
    tt = t[:, None]
    out.append(compare_bound(f"flow lower bound m >= {flow_lower.leading}", margins,
                             flow_lower.leading_function((am.p, am.M))(tt, p, M), "lower", 1e-10, f"t in [0, {T:g}]"))
    out.append(compare_bound(f"flow upper bound m <= {flow_upper.leading}", margins,
                             flow_upper.leading_function((am.p, am.M))(tt, p, M), "upper", 1e-10, f"t in [0, {T:g}]"))
    out.append(growth_law_verdict(f"flow law m(T) = {_text(doc.flow_law)} + O(log T/T)", doc.flow_law, margins[-1], T,
                                  p, M, 1.0, lambda at: flow_neglected_terms(doc, p, M, at), "--t-end"))
    return out


def _text(law) -> str:
    return str(law.leading)
