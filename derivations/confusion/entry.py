"""The CLI model ``confusion``: one seed of the Gaussian-mixture setting, the OOD accuracy estimate
per shift.

``gradflow simulate confusion --set seed=3,B=5`` draws the mixture, trains the bootstrap ensemble and
the reference softmax regression by GD, and reports per shift the true OOD accuracy, the estimate,
the naive ID accuracy and the gap closed.
"""

from __future__ import annotations

from gradflow.derivations.confusion import checks
from gradflow.derivations.confusion.analysis import SCORE_VARIANTS
from gradflow.derivations.contract import ModelEntry, Parameter
from gradflow.theory.confusion import derive


class ConfusionEntry(ModelEntry):
    name = "confusion"
    summary = ("confusion scores of a bootstrap ensemble and the OOD accuracy estimate sum_b pi_b^OOD A_b^ID "
               "(Gaussian class mixtures under three shifts)")
    parameters = (
        Parameter("seed", "int", 0, "an integer >= 0", "seed of the data, the bootstrap and the inits",
                  lambda v: v >= 0),
        Parameter("members", "int", 10, "an integer in [2, 100]", "ensemble members", lambda v: 2 <= v <= 100),
        Parameter("n_test", "int", 2000, "an integer in [100, 1000000]", "ID test and shifted set sizes",
                  lambda v: 100 <= v <= 10 ** 6),
        Parameter("B", "int", 10, "an integer in [1, 1000]", "confusion-score bins (ID quantiles)",
                  lambda v: 1 <= v <= 1000),
        Parameter("score", "choice", "cs_entropy", "one of the built-in scores", "the confusion score",
                  choices=SCORE_VARIANTS),
    )
    methods = ("gd",)
    default_length = {"gd": 300}
    backends = ("cpu",)
    cuda_methods = ()

    def derivation(self):
        return derive()

    def run(self, settings: dict, method: str, steps: int | None, t_end: float | None, backend: str,
            progress: bool) -> dict:
        from gradflow.derivations.confusion.analysis import analyse_seed
        from gradflow.derivations.confusion.synthetic import SyntheticSettings, seed_data

        s = SyntheticSettings(members=settings["members"], n_test=settings["n_test"],
                              steps=300 if steps is None else steps)
        record, _ = analyse_seed(seed_data(settings["seed"], s), settings["B"], (1, settings["B"]), settings["score"])
        shifts = {shift: {key: rec[key] for key in ("true_acc", "estimate", "naive", "gap_closed", "cs_mean_id",
                                                    "cs_mean_ood")} for shift, rec in record["shifts"].items()}
        return {"params": {**settings, "steps": s.steps, "method": method},
                "ensemble_id_acc": record["ensemble_id_acc"], "corr_cs_error": record["corr_cs_error"],
                "shifts": shifts}

    def checks(self, quick: bool = True) -> list:
        return (checks.claim_verdicts(derive()) + checks.score_verdicts() + checks.estimate_verdicts(quick)
                + checks.kernel_verdicts(quick))
