"""The ``symmetry`` model family: permutation points, plateaus, the expansion manifold and its counts.

Modules: ``entry`` (the model ``symmetry``), ``experiments`` (``sym-counts``, ``sym-dominance``: exact
counting), ``networks`` (``sym-permutation-points``, ``sym-critical-lines``, ``sym-expansion-manifold``,
``sym-paths``: trained networks), ``digits`` (``sym-digits``: a multilayer network on real data, optional
scikit-learn), ``checks``, ``figures``.
"""

from gradflow.derivations.contract import Family
from gradflow.derivations.symmetry.conjectures import CLAIMS
from gradflow.derivations.symmetry.digits import DIGITS_EXPERIMENTS
from gradflow.derivations.symmetry.entry import SymmetryEntry
from gradflow.derivations.symmetry.experiments import COUNTING_EXPERIMENTS
from gradflow.derivations.symmetry.networks import NETWORK_EXPERIMENTS

EXPERIMENTS = COUNTING_EXPERIMENTS + NETWORK_EXPERIMENTS + DIGITS_EXPERIMENTS
FAMILY = Family("symmetry", entries=(SymmetryEntry(),), experiments=EXPERIMENTS, claims=CLAIMS)

__all__ = ["EXPERIMENTS", "FAMILY", "SymmetryEntry"]
