"""The CLI model ``symmetry``: a permutation point of a one-hidden-layer network and its Hessian.

``gradflow simulate symmetry --set sizes=2,3,1`` trains the reduced network (one hidden neuron fewer)
on a random teacher to a clean critical point, duplicates a hidden neuron and reports the Hessian there:
the kernel dimension n_next - rank(B) beside the bound n_next once claimed for it.
"""

from __future__ import annotations

from dataclasses import asdict

from gradflow.derivations.contract import ModelEntry, Parameter
from gradflow.derivations.symmetry import checks
from gradflow.derivations.symmetry.experiments import symmetry_derivation


def _sizes_ok(value) -> bool:
    return len(value) == 3 and all(v >= 1 for v in value) and value[1] >= 2


class SymmetryEntry(ModelEntry):
    name = "symmetry"
    summary = ("permutation symmetry of MLPs: permutation points, plateaus, the expansion manifold and the "
               "counts of its critical subspaces")
    parameters = (
        Parameter("sizes", "ints", (2, 3, 1), "three integers n0,n1,n2 >= 1 with n1 >= 2",
                  "input, hidden (after duplication) and output widths", _sizes_ok),
        Parameter("n", "int", 400, "an integer in [10, 100000]", "Gaussian input samples", lambda v: 10 <= v <= 100_000),
        Parameter("seed", "int", 0, "an integer >= 0", "seed of the teacher and the restarts", lambda v: v >= 0),
    )
    methods = ("newton",)  # BFGS then Newton to |grad| < 1e-12 for the reduced network
    default_length = {"newton": "until |grad| < 1e-12 (--steps is not used)"}
    backends = ("cpu",)
    cuda_methods = ()

    def derivation(self):
        return symmetry_derivation()

    def run(self, settings: dict, method: str, steps: int | None, t_end: float | None, backend: str,
            progress: bool) -> dict:
        from gradflow.numerics.symmetry import permutation_point_report

        report = permutation_point_report(tuple(settings["sizes"]), seed=settings["seed"],
                                          n_samples=settings["n"])
        out = asdict(report)
        out["eigenvalues"] = list(out["eigenvalues"])
        return {"params": dict(settings), "report": out}

    def checks(self, quick: bool = True) -> list:
        doc = symmetry_derivation()
        return checks.claim_verdicts(doc) + checks.count_verdicts(quick) + checks.numeric_verdicts(quick)
