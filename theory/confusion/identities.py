"""The identities behind the binned OOD accuracy estimate, proven by SymPy for B bins.

With masses pi_b^ID, pi_b^OOD (each summing to 1) and per-bin accuracies A_b^ID, A_b^OOD:
A_ID = sum_b pi_b^ID A_b^ID, A_OOD = sum_b pi_b^OOD A_b^OOD and the estimate A_hat = sum_b pi_b^OOD A_b^ID.
Each identity is an algebraic fact about these sums; SymPy checks it for a fixed number of bins
(``BINS``) by simplification and at random points (the statement has the same form for every B).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from gradflow.theory.derivation import Derivation, Draft
from gradflow.theory.verify import vanishes

BINS = 4


@dataclass(frozen=True, eq=False)
class ConfusionDerivation(Derivation):
    bins: int
    pi_id: tuple  # symbols, the last one 1 - the others
    pi_ood: tuple
    acc_id: tuple
    acc_ood: tuple
    id_accuracy: sp.Expr
    ood_accuracy: sp.Expr
    estimate: sp.Expr
    mix_shift: sp.Expr  # sum_b (pi_id - pi_ood) A_b^ID
    within_bin: sp.Expr  # sum_b pi_ood (A_b^ID - A_b^OOD)
    contributions: tuple  # c_b = pi_id A_b^ID - pi_ood A_b^OOD
    claims: dict  # name -> Claim


def _masses(name: str, B: int) -> tuple:
    free = sp.symbols(f"{name}_1:{B}", positive=True)
    return (*free, 1 - sum(free))


@lru_cache(maxsize=None)
def derive(B: int = BINS) -> ConfusionDerivation:
    doc = Draft("The binned OOD accuracy estimate and its exact identities")
    pi_id, pi_ood = _masses(r"\pi^{ID}", B), _masses(r"\pi^{OOD}", B)
    acc_id, acc_ood = sp.symbols(f"A^{{ID}}_1:{B + 1}"), sp.symbols(f"A^{{OOD}}_1:{B + 1}")
    A_id = sum(p * a for p, a in zip(pi_id, acc_id))
    A_ood = sum(p * a for p, a in zip(pi_ood, acc_ood))
    A_hat = sum(p * a for p, a in zip(pi_ood, acc_id))
    mix = sum((p - q) * a for p, q, a in zip(pi_id, pi_ood, acc_id))
    within = sum(q * (a - o) for q, a, o in zip(pi_ood, acc_id, acc_ood))
    contributions = tuple(p * a - q * o for p, q, a, o in zip(pi_id, pi_ood, acc_id, acc_ood))
    doc.add("Estimate", r"\hat A_{OOD} = \sum_b \pi_b^{OOD} A_b^{ID}",
            "The OOD mass of each confusion-score bin (no labels) times the ID accuracy of the bin (ID labels); "
            "exact when P(correct | bin, OOD) = P(correct | bin, ID). "
            r"The sum runs over the bins $b$ of any binning; $\pi_b^{OOD} \ge 0$ with $\sum_b \pi_b^{OOD} = 1$, and "
            r"$A_b^{ID}$ is the accuracy on the ID points of bin $b$.")
    claims = {
        "error identity": vanishes((A_hat - A_ood) - within, "A_hat - A_OOD = sum_b pi_OOD (A_ID_b - A_OOD_b)"),
        "drop decomposition": vanishes((A_id - A_ood) - (mix + within), "A_ID - A_OOD = mix shift + within-bin drop"),
        "mix shift": vanishes(mix - (A_id - A_hat), "mix shift = A_ID - A_hat"),
        "contributions": vanishes(sum(contributions) - (A_id - A_ood), "sum_b c_b = A_ID - A_OOD"),
        "invariance": vanishes((A_hat - A_ood).subs(dict(zip(acc_ood, acc_id))),
                               "A_b^OOD = A_b^ID in every bin => A_hat = A_OOD"),
        "linear across models": vanishes(sum((sp.diff(A_hat, a) - q) ** 2 for a, q in zip(acc_id, pi_ood)),
                                         "dA_hat / dA_b^ID = pi_b^OOD, the same for every model"),
    }
    doc.add("Error", r"\hat A_{OOD} - A_{OOD} = \sum_b \pi_b^{OOD} (A_b^{ID} - A_b^{OOD})",
            "A bin without OOD points adds nothing. "
            r"Exact for every binning and every number of bins, with $A_{OOD} = \sum_b \pi_b^{OOD} A_b^{OOD}$.",
            "simplifies to 0")
    doc.add("Drop decomposition", r"A_{ID} - A_{OOD} = \sum_b (\pi_b^{ID} - \pi_b^{OOD}) A_b^{ID} "
            r"+ \sum_b \pi_b^{OOD} (A_b^{ID} - A_b^{OOD})",
            "The difficulty-mix shift (= A_ID - A_hat, what the estimate sees) plus the within-bin drop "
            "(= A_hat - A_OOD, what it misses). "
            r"Exact for every binning, with masses $\pi_b^{ID}$, $\pi_b^{OOD}$ each summing to 1 and "
            r"$A_{ID} = \sum_b \pi_b^{ID} A_b^{ID}$, $A_{OOD} = \sum_b \pi_b^{OOD} A_b^{OOD}$.", "simplifies to 0")
    doc.add("Per-bin contributions", r"c_b = \pi_b^{ID} A_b^{ID} - \pi_b^{OOD} A_b^{OOD},\quad \sum_b c_b = "
            r"A_{ID} - A_{OOD}",
            r"For every bin $b$; the sum is exact for every binning, with $A_{ID}$ and $A_{OOD}$ the mass-weighted "
            r"per-bin accuracies as above.", "simplifies to 0")
    doc.add("Gap closed", r"g = \frac{A_{ID} - \hat A_{OOD}}{A_{ID} - A_{OOD}}",
            "One bin gives A_hat = A_ID (g = 0); g = 1 when the within-bin drop vanishes. "
            r"Defined when $A_{ID} \ne A_{OOD}$.", "simplifies to 0")
    doc.add("Across models", r"\partial \hat A_{OOD} / \partial A_b^{ID} = \pi_b^{OOD}",
            "The estimate is linear in each model's per-bin ID accuracies with weights shared by all models. "
            r"For every bin $b$ and every model scored: $\pi_b^{OOD}$ comes from the ensemble's confusion scores on "
            r"the unlabelled OOD data, not from the model.",
            "simplifies to 0")
    return doc.finish(ConfusionDerivation, bins=B, pi_id=pi_id, pi_ood=pi_ood, acc_id=acc_id, acc_ood=acc_ood,
                      id_accuracy=A_id, ood_accuracy=A_ood, estimate=A_hat, mix_shift=mix, within_bin=within,
                      contributions=contributions, claims=claims)

