"""The ``symmetry`` model family: permutation points, plateaus, the expansion manifold and its counts.

Modules: ``entry`` (the model ``symmetry``), ``experiments`` (``sym-counts``, ``sym-dominance``,
``sym-permutation-points``, ``sym-critical-lines``, ``sym-expansion-manifold``, ``sym-paths``), ``checks``, ``figures``.
"""

from gradflow.derivations.contract import Family
from gradflow.derivations.symmetry.entry import SymmetryEntry
from gradflow.derivations.symmetry.experiments import EXPERIMENTS

FAMILY = Family("symmetry", entries=(SymmetryEntry(),), experiments=EXPERIMENTS)

__all__ = ["FAMILY", "SymmetryEntry"]
