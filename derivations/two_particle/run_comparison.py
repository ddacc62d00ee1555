"""``gradflow simulate am-two-particle --compare``: one run's recorded margins and sharpness against the
derived formulas that hold at every length of a run, one verdict each.

Read from the derivation through :class:`TwoParticleLaws` (never retyped): the first GD step
(m_1, m_2) from m = 0, the dip condition (the rare margin's first step is negative iff
alpha > p2 / p1, opposite labels), the sharpness at W = 0, and the sharpness as a function of the
margins, against the sharpness the run measured with the dense Hessian of the generated HVP.  All are
exact: the tolerances are rounding (relative 1e-12, as `check` holds them).  The separable-regime
laws (eta t L and the margin offsets) need runs of 1e5 steps and more and are not compared here.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.two_particle.laws import TwoParticleLaws
from gradflow.numerics import Verdict, compare_each

ROUNDING = 1e-12  # relative (to max(1, |value|)): the derived formulas are exact
DENSE = "numerics.sharpness"  # how the run says it measured the sharpness with the HVP Hessian


def two_particle_comparison(doc, method: str, result: dict) -> list[Verdict]:
    """The verdicts of a ``gd`` or ``flow`` run of am-two-particle (``result`` as ``simulate`` returns it)."""
    laws = TwoParticleLaws(doc)
    params = result["params"]
    p1, alpha, labels = float(params["p1"]), float(params["alpha"]), params["labels"]
    t = np.asarray(result["t"], float)
    margins = np.asarray(result["margins"], float)
    sharp = np.asarray(result["sharpness"], float)
    out = []
    if method == "gd" and t.size > 1 and t[1] == 1:
        eta = float(params["eta"])
        first = np.asarray(laws.first_step(p1, alpha, eta, labels), float).ravel()
        out.append(compare_each("first GD step (m_1, m_2) from m = 0", margins[1], first,
                                ROUNDING * np.maximum(1.0, np.abs(first)), f"step 1, eta = {eta:g}, {labels} labels",
                                "|m - formula|"))
        if labels == "opposite":
            threshold = float(laws.dip_threshold(p1))
            dips, predicted = bool(margins[1, 1] < 0), bool(alpha > threshold)
            out.append(Verdict(f"dip: the rare margin's first step is negative iff alpha > p2/p1 = {threshold:.4g}",
                               dips == predicted, 0.0 if dips == predicted else 1.0, 0.0,
                               f"alpha = {alpha:g}: the derivation predicts {'a dip' if predicted else 'no dip'}, "
                               f"the run has m_2 = {margins[1, 1]:.4g} after step 1", "disagreement (dip: 1, none: 0)",
                               float(dips), float(predicted)))
    if t.size and t[0] == 0:
        at_zero = float(laws.sharpness_at_zero(p1, alpha))
        out.append(compare_each("sharpness at W = 0", sharp[0], at_zero, ROUNDING * max(1.0, abs(at_zero)),
                                f"t = 0, p1 = {p1:g}, alpha = {alpha:g}", "|S_0 - formula|"))
    if str(params.get("sharpness_method", "")).startswith(DENSE):
        derived = laws.sharpness(margins[:, 0], margins[:, 1], p1, alpha) * np.ones(len(t))
        out.append(compare_each("sharpness(m_1, m_2) along the run", sharp, derived,
                                ROUNDING * np.maximum(1.0, np.abs(derived)),
                                f"all {t.size} records: the derived lambda_max(H) of the margins against the dense "
                                f"HVP Hessian", "|S - formula|"))
    return out
