"""The ``expand_cluster`` model family: Expand-and-Cluster, recovering a network's width and weights from its
input-output map.

Modules: ``entry`` (the model ``expand-cluster``), ``checks``, ``toy_experiment`` (``ec-toy``),
``deep_experiment`` (``ec-deep``), ``digits_experiment`` (``ec-digits``), ``theory_doc`` (the cached
derivation), ``toy_figures`` (success against rho), ``figures`` (the clustering's figures), ``sweeps`` (the
sweep target ``ec-toy``: any (task, rho) grid x seeds).
"""

from gradflow.derivations.contract import Family
from gradflow.derivations.expand_cluster.deep_experiment import ECDeep
from gradflow.derivations.expand_cluster.digits_experiment import ECDigits
from gradflow.derivations.expand_cluster.entry import ExpandClusterEntry
from gradflow.derivations.expand_cluster.sweeps import TARGETS
from gradflow.derivations.expand_cluster.toy_experiment import ECToy

EXPERIMENTS = (ECToy(), ECDigits(), ECDeep())
FAMILY = Family("expand_cluster", entries=(ExpandClusterEntry(),), experiments=EXPERIMENTS, sweep_targets=TARGETS)

__all__ = ["ECDeep", "ECDigits", "ECToy", "EXPERIMENTS", "FAMILY", "ExpandClusterEntry"]
