"""The identities of the binned estimate: SymPy's proofs, and the formulas against the numeric estimator."""

import numpy as np
import sympy as sp

from gradflow.numerics.confusion import Bins, estimate_ood_accuracy
from gradflow.theory.confusion import derive


def test_every_identity_is_proven():
    doc = derive()
    assert set(doc.claims) == {"error identity", "drop decomposition", "mix shift", "contributions", "invariance",
                               "linear across models"}
    assert all(claim.holds for claim in doc.claims.values())
    assert "Drop decomposition" in doc.to_latex()


def test_a_wrong_identity_is_refused():
    doc = derive()
    from gradflow.theory.verify import vanishes

    assert not vanishes(doc.estimate - doc.ood_accuracy).holds  # the estimate is not exact in general


def test_the_symbolic_estimate_is_what_the_estimator_computes():
    doc = derive()
    rng = np.random.default_rng(0)
    B = doc.bins
    s_id, s_ood = rng.integers(0, B, 400).astype(float), rng.integers(0, B, 300).astype(float)
    c_id, c_ood = rng.random(400) < 0.8, rng.random(300) < 0.6
    e = estimate_ood_accuracy(s_id, c_id, s_ood, c_ood, bins=Bins(tuple(np.arange(B - 1) + 0.5)))
    values = dict(zip(doc.pi_id[:-1], e.pi_id[:-1])) | dict(zip(doc.pi_ood[:-1], e.pi_ood[:-1]))
    values |= dict(zip(doc.acc_id, e.acc_id)) | dict(zip(doc.acc_ood, e.acc_ood))
    for expr, number in ((doc.estimate, e.estimate), (doc.id_accuracy, e.id_accuracy),
                         (doc.ood_accuracy, e.true_accuracy), (doc.mix_shift, e.mix_shift),
                         (doc.within_bin, e.within_bin)):
        assert abs(float(sp.N(expr.subs(values))) - number) <= 1e-12
