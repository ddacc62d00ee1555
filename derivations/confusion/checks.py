"""``gradflow check confusion``: SymPy's identities, the scores at ensembles with known values, the
estimate's exact cases, and the generated GD kernels against the NumPy oracle."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.confusion import oracles
from gradflow.numerics.compare import Verdict
from gradflow.numerics.confusion import (confusion_score, estimate_ood_accuracy, log_probabilities, log_softmax,
                                         quantile_bins)
from gradflow.numerics.confusion.ensembles import (bootstrap_weights, initial_parameters, softmax_regression,
                                                   tanh_mlp, train_gd)


def claim_verdicts(doc) -> list:
    return [Verdict.from_claim(name, claim) for name, claim in doc.claims.items()]


def score_verdicts() -> list:
    eye = np.eye(4)
    agree = log_probabilities(np.broadcast_to(eye[2], (3, 5, 4)))
    split = log_probabilities(np.concatenate([np.broadcast_to(eye[0], (2, 5, 4)), np.broadcast_to(eye[3], (2, 5, 4))]))
    zero = max(float(np.max(np.abs(confusion_score(agree, n)))) for n in ("cs_entropy", "cs_vote", "cs_mi", "cs_var"))
    half = max(float(np.max(np.abs(confusion_score(split, n) - np.log(2)))) for n in ("cs_entropy", "cs_vote", "cs_mi"))
    huge = log_softmax(1e3 * np.random.default_rng(0).normal(size=(8, 50, 5)))
    finite = all(bool(np.isfinite(confusion_score(huge, n)).all()) for n in ("cs_entropy", "cs_mi", "cs_norm"))
    return [Verdict("agreeing one-hot members: every score 0", zero == 0.0, zero, 0.0, "M = 3, C = 4", "max |score|"),
            Verdict("half the members on a, half on b: entropy, vote, MI = log 2", half <= 1e-15, half, 1e-15,
                    "M = 4, C = 4", "max |score - log 2|"),
            Verdict.symbolic("logits of size 1e3: finite scores", finite, "M = 8, C = 5, logits N(0, 1e6)", "finite")]


def estimate_verdicts(quick: bool) -> list:
    rng = np.random.default_rng(1)
    n = 300 if quick else 3000
    s_id, c_id = rng.random(n), rng.random(n) < 0.7
    s_ood, c_ood = rng.random(n // 2) ** 0.5, rng.random(n // 2) < 0.5
    e = estimate_ood_accuracy(s_id, c_id, s_ood, c_ood, B=7)
    identity = max(abs(e.error - e.within_bin), abs(e.drop - e.mix_shift - e.within_bin),
                   abs(e.contribution.sum() - e.drop))
    one = estimate_ood_accuracy(s_id, c_id, s_ood, c_ood, B=1)
    bins = quantile_bins(s_id, 5)
    repeat = np.array([1, 3, 0, 2, 4])[bins.assign(s_id)]
    resampled = estimate_ood_accuracy(s_id, c_id, np.repeat(s_id, repeat), np.repeat(c_id, repeat), bins=bins)
    exact = abs(resampled.estimate - resampled.true_accuracy)
    return [Verdict("error identity, drop decomposition, contributions", identity <= 1e-12, identity, 1e-12,
                    f"random sets, n = {n}, B = 7", "max |residual|"),
            Verdict("one bin: the estimate is the ID accuracy", one.estimate == one.id_accuracy,
                    abs(one.estimate - one.id_accuracy), 0.0, "B = 1", "|A_hat - A_ID|"),
            Verdict("OOD = ID points repeated by bin: exact estimate", exact <= 1e-14, exact, 1e-14,
                    "multiplicities (1, 3, 0, 2, 4) by bin", "|A_hat - A_OOD|")]


def kernel_verdicts(quick: bool) -> list:
    rng = np.random.default_rng(2)
    n, d, C = (40, 3, 4) if quick else (120, 5, 4)
    X, y = rng.normal(size=(n, d)) + np.eye(C, d)[rng.integers(0, C, n)] * 2, rng.integers(0, C, n)
    weights = bootstrap_weights(n, 2, rng)
    verdicts = []
    for hidden in (None, 5):
        net = softmax_regression(d, C) if hidden is None else tanh_mlp(d, hidden, C)
        Theta0 = np.stack([initial_parameters(net, s) for s in (0, 1)])
        Theta = train_gd(net, X, y, Theta0, steps=300, lr=0.5, l2=1e-2, weights=weights)
        worst = max(np.linalg.norm(Theta[m] - oracles.gd(Theta0[m], X, y, C, hidden, steps=300, lr=0.5, l2=1e-2,
                                                         weights=weights[m])) / np.linalg.norm(Theta[m])
                    for m in range(2))
        label = "softmax regression" if hidden is None else f"tanh MLP width {hidden}"
        verdicts.append(Verdict(f"{label}: generated GD = NumPy GD after 300 steps", worst <= 1e-10, worst, 1e-10,
                                f"bootstrap weights, L2 1e-2, n = {n}", "relative parameter error"))
    return verdicts
