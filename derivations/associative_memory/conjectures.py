"""Conjectures about the orthonormal associative memory: its margins under GD follow a derived law.

An instance is (N, M, eta, zipf): N inputs with Zipf frequencies p(x) ~ (x + 1)^-zipf, M classes, step
eta, W_0 = 0.  Every input of every instance of a batch is one lane of the generated margin map, so a
whole Hypothesis example runs as one launch.

The derived tolerance of ``gd_law`` (m_T = log(eta M p T) + O(log T / T)) comes from the derivation's
own expansion e^{m_t} = a0 t + c log t + O(1), with a0 = eta M p and c its derived log coefficient; the
O(1) term is bounded by the uniform law's offset e^{eta p} + a0.  With x = (|c| log T + e^{eta p} + a0)
/ (a0 T), the law allows |m_T - log(a0 T)| <= -log(1 - 2 x) (twice the expansion's size, both signs).
An input with 2 x > 1/2 has not reached the law's regime at T: it is not tested (the verdict counts
such instances).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from gradflow.derivations.associative_memory.instances import zipf_probabilities
from gradflow.derivations.associative_memory.simulators import derivation, margin_map_simulator
from gradflow.derivations.claim import Claim
from gradflow.derivations.contract import Parameter
from gradflow.numerics import log_steps
from gradflow.numerics.conjecture import Outcome, Range, Trace
from gradflow.numerics.conjecture.threads import threads_for
from gradflow.theory.models import associative_memory as am

SAFETY = 2.0  # the derived tolerance allows twice the size of the expansion's terms
REGIME = 0.5  # an input is in the law's regime at T when SAFETY * x <= REGIME

PARAMETERS = (Range("N", "int", 1, 200), Range("M", "int", 2, 1000), Range("eta", "float", 1e-3, 100.0),
              Range("zipf", "float", 0.0, 5.0))
RUN = (Parameter("steps", "int", 20_000, "an integer in [10, 10^7]", "GD steps T (the law is compared at T)",
                 lambda v: 10 <= v <= 10**7),)


ARGS = (am.p, am.M, am.eta)


@lru_cache(maxsize=None)
def _leading(law_name: str):
    """The law's leading terms as a NumPy function of (t, p, M, eta)."""
    return getattr(derivation(), law_name).leading_function(ARGS)


@lru_cache(maxsize=None)
def _gd_law_constants():
    """(a0, c) of gd_law's expansion e^{m_t} = a0 t + c log t + O(1), as NumPy functions of (p, M, eta)."""
    constants = derivation().gd_law.constants
    return (sp.lambdify(ARGS, constants["rate"], "numpy"), sp.lambdify(ARGS, constants["log_coefficient"], "numpy"))


def _lanes(instances):
    """Every input of every instance as one lane: p, M, eta per lane, and each instance's lane slice."""
    p, M, eta, slices, start = [], [], [], [], 0
    for inst in instances:
        q = zipf_probabilities(int(inst["N"]), float(inst["zipf"]))
        p.append(q)
        M.append(np.full(q.size, float(inst["M"])))
        eta.append(np.full(q.size, float(inst["eta"])))
        slices.append(slice(start, start + q.size))
        start += q.size
    return np.concatenate(p), np.concatenate(M), np.concatenate(eta), slices


def derived_tolerance(T: int, p, M, eta):
    """(tolerance, in_regime) per input, from the law's derived constants (see the module docstring)."""
    rate, log_coefficient = _gd_law_constants()
    a0 = rate(p, M, eta)
    x = SAFETY * (np.abs(log_coefficient(p, M, eta)) * np.log(T) + np.exp(eta * p) + a0) / (a0 * T)
    in_regime = x <= REGIME
    return -np.log1p(-np.minimum(x, REGIME)), in_regime


def _law_claim(law_name: str):
    def build(run, tolerance):
        T = run["steps"]
        leading = _leading(law_name)

        def evaluate(instances):
            p, M, eta, slices = _lanes(instances)
            with threads_for(p.size * T):
                m = margin_map_simulator().iterate(np.zeros((p.size, 1)), {"p": p, "M": M, "eta": eta}, T,
                                                   [T]).states[-1, :, 0]
            claimed = leading(float(T), p, M, eta)
            if tolerance == "derived":
                tol, tested = derived_tolerance(T, p, M, eta)
            else:
                tol, tested = np.full(p.size, tolerance), np.ones(p.size, bool)
            return [_outcome(m[s], claimed[s], tol[s], tested[s], p[s], T) for s in slices]

        def trace(instance):
            p, M, eta, _ = _lanes([instance])
            record = log_steps(T, 30)
            m = margin_map_simulator().iterate(np.zeros((p.size, 1)), {"p": p, "M": M, "eta": eta}, T,
                                               record).states[:, :, 0]
            t = record[1:].astype(float)
            shown = np.unique(np.linspace(0, p.size - 1, min(p.size, 4)).astype(int))
            law = leading(t[:, None], p[None, shown], M[None, shown], eta[None, shown])
            return Trace(t, {f"m_t, p = {p[k]:.3g}": m[1:, k] for k in shown}, "step t", "margin",
                         {f"claimed: {law_name}, p = {p[k]:.3g}": law[:, j] for j, k in enumerate(shown)}, logx=True)

        text = (f"derived: -log(1 - x), x = {SAFETY:g} (|c| log T + e^(eta p) + eta M p) / (eta M p T), "
                f"T = {T}" if tolerance == "derived" else f"{tolerance:g} (absolute) at T = {T}")
        return evaluate, trace, text

    return build


def _outcome(m, claimed, tol, tested, p, T) -> Outcome:
    if not tested.any():
        return Outcome.untested(f"no input has reached the law's regime at T = {T}")
    ratio = np.where(tested, np.abs(m - claimed) / np.maximum(tol, 1e-300), -np.inf)
    k = int(np.argmax(ratio))
    return Outcome(m[k], claimed[k], tol[k], "==", f"margin m_T of input x = {k} (p = {p[k]:.4g})",
                   detail={"input": k, "p": float(p[k]), "inputs_tested": int(tested.sum()),
                           "inputs": int(tested.size), "worst_ratio": float(ratio[k])})


CLAIMS = (
    Claim("associative_memory", "gd_law", "the orthonormal memory's GD margins follow m_T = log(eta M p T) + "
          "O(log T / T)", PARAMETERS, RUN, _law_claim("gd_law"), "derived",
          "the law's error term with its derived constants", batch=16, is_law=True),
    Claim("associative_memory", "uniform", "the orthonormal memory's GD margins follow m_T = log(e^(eta p) + "
          "eta M p (T - 1))", PARAMETERS, RUN, _law_claim("uniform"), 0.05, batch=16, is_law=True),
)

__all__ = ["CLAIMS", "derived_tolerance"]
