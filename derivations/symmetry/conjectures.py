"""Conjectures about permutation points of one-hidden-layer networks (the symmetry family's numerics).

An instance is an architecture (n0 inputs, n1 hidden neurons after the duplication, n2 outputs) and a
teacher seed: the teacher of that size labels Gaussian inputs, the student with n1 - 1 neurons is
trained to a clean critical point, and its neuron 0 is duplicated into a permutation point whose
dense Hessian spectrum is measured.  Each instance trains its own network, one after the other.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.claim import Claim
from gradflow.derivations.contract import Parameter
from gradflow.numerics.conjecture import Outcome, Range, Trace
from gradflow.numerics.symmetry import CriticalPointError
from gradflow.numerics.symmetry.report import ZERO_TOLERANCE, permutation_point_report

PARAMETERS = (Range("n0", "int", 1, 6), Range("n1", "int", 2, 6), Range("n2", "int", 1, 4),
              Range("seed", "int", 0, 10**6))
RUN = (Parameter("n_samples", "int", 100, "an integer in [10, 10^4]", "teacher-labelled Gaussian inputs",
                 lambda v: 10 <= v <= 10**4),
       Parameter("restarts", "int", 3, "an integer in [1, 50]", "BFGS + Newton restarts of the narrower student",
                 lambda v: 1 <= v <= 50),
       Parameter("activation", "choice", "tanh", "tanh, softplus, sigmoid or gelu", "hidden activation",
                 choices=("tanh", "softplus", "sigmoid", "gelu")))


def _report(inst, run):
    return permutation_point_report((inst["n0"], inst["n1"], inst["n2"]), int(inst["seed"]), check_hessian=False,
                                    n_samples=run["n_samples"], restarts=run["restarts"],
                                    activation=run["activation"], seed_tries=1)


def _zero_count_bound(run, tolerance):
    def one(inst) -> Outcome:
        try:
            r = _report(inst, run)
        except CriticalPointError as error:
            return Outcome.untested(f"no clean critical point of the narrower student ({error})")
        return Outcome(r.zero_count, r.n_next, tolerance, ">=", "zero Hessian eigenvalues at the permutation point",
                       detail={"rank_B": r.rank_B, "n_next - rank_B": r.predicted_zero_count,
                               "grad_norm": r.grad_norm, "P": r.P, "teacher_seed": r.teacher_seed})

    def trace(inst):
        r = _report(inst, run)
        eig = np.sort(np.abs(np.array(r.eigenvalues)))
        index = np.arange(1, eig.size + 1, dtype=float)
        return Trace(index, {"|Hessian eigenvalue|": np.maximum(eig, 1e-300)},
                     f"index (sorted); the claim: the first n_(k+1) = {r.n_next} are below the threshold", "|lambda|",
                     {f"zero threshold ({ZERO_TOLERANCE:g} max |lambda|)": np.full(eig.size, ZERO_TOLERANCE * eig.max())},
                     logy=True)

    return (lambda instances: [one(i) for i in instances]), trace, \
        f"{tolerance:g} (zeros: |lambda| <= {ZERO_TOLERANCE:g} max |lambda|)"


CLAIMS = (
    Claim("symmetry", "permutation_point_zero_count",
          "a permutation point has at least n_{k+1} zero Hessian eigenvalues", PARAMETERS, RUN, _zero_count_bound),
)

__all__ = ["CLAIMS"]
