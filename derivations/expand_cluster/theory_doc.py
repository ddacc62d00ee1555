"""The family's derivation, cached on disk (SymPy work done once per version of the theory code)."""

from __future__ import annotations

from gradflow.derivations.derivation_cache import cached
from gradflow.theory.expand_cluster import ExpandClusterDerivation, derive


def expand_cluster_derivation() -> ExpandClusterDerivation:
    return cached("expand_cluster_derivation", derive)
