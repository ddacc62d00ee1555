"""The ``confusion`` model family: confusion scores of ensembles and the OOD accuracy estimate from
score bins.

Modules: ``entry`` (the model ``confusion``), ``experiments`` (``confusion-synthetic``,
``confusion-digits``), ``synthetic`` and ``digits`` (their data and models, one seed at a time),
``analysis`` (one seed's numbers, and the seeds folded together), ``checks``, ``figures``, ``oracles``
(NumPy GD, the generated kernels' oracle), ``sweeps`` (the sweep target ``confusion-synthetic``: shift
strengths x B x seeds).
"""

from gradflow.derivations.confusion.entry import ConfusionEntry
from gradflow.derivations.confusion.experiments import ConfusionDigits, ConfusionSynthetic
from gradflow.derivations.confusion.sweeps import TARGETS
from gradflow.derivations.contract import Family

EXPERIMENTS = (ConfusionSynthetic(), ConfusionDigits())
FAMILY = Family("confusion", entries=(ConfusionEntry(),), experiments=EXPERIMENTS, sweep_targets=TARGETS)

__all__ = ["EXPERIMENTS", "FAMILY", "ConfusionDigits", "ConfusionEntry", "ConfusionSynthetic"]
