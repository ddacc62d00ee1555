"""Permutation symmetry of multilayer perceptrons, symbolically and by exact counting.

Permuting the neurons of a hidden layer leaves the loss unchanged and permutes its gradient and
Hessian (:mod:`~gradflow.theory.symmetry.equivariance`).  A neuron duplicated into two halves lies on
a plateau of constant loss whose only gradient is (B^T e, -B^T e) (:mod:`~gradflow.theory.symmetry.plateau`);
splitting a critical neuron gives a line of critical points with curvature beta (1 - beta) xi^T M xi
across it (:mod:`~gradflow.theory.symmetry.critical_line`).  For a width-m student of a width-r*
teacher, the zero-loss affine subspaces number T(r*, m) = r*! S(m + 1, r* + 1) and the
symmetry-induced critical subspaces G(r, m) = r! S(m, r) (:mod:`~gradflow.theory.symmetry.counts`,
derived in :mod:`~gradflow.theory.symmetry.closed_forms`, enumerated in
:mod:`~gradflow.theory.symmetry.enumeration`); their ratio and its laws are in
:mod:`~gradflow.theory.symmetry.dominance`.  :func:`derive` collects everything in a
:class:`SymmetryDerivation`.
"""

from gradflow.theory.symmetry.counts import (RATIO_VARIANTS, critical_count, critical_count_sum_below,
                                             critical_count_with_zero_neurons, crossover, deep_critical_count,
                                             deep_dominance_ratio, deep_expansion_count, dominance_ratio,
                                             expansion_count, expansion_count_alternating, expansion_count_sum,
                                             higher_order_bound, higher_order_factor, labelling_dimension,
                                             labelling_nullity, orbit_size, pair_embeddings, stirling2,
                                             surjection_row)
from gradflow.theory.symmetry.derivation import SymmetryDerivation, derive
from gradflow.theory.symmetry.enumeration import (all_merging_maps, brute_force_higher_order,
                                                  distinct_wide_vectors, intersection_graph, is_connected,
                                                  labellings, labellings_intersect, pair_maps, surjections)

__all__ = [
    "RATIO_VARIANTS", "SymmetryDerivation", "all_merging_maps", "brute_force_higher_order", "critical_count",
    "critical_count_sum_below", "critical_count_with_zero_neurons", "crossover", "deep_critical_count",
    "deep_dominance_ratio", "deep_expansion_count", "derive", "distinct_wide_vectors", "dominance_ratio",
    "expansion_count", "expansion_count_alternating", "expansion_count_sum", "higher_order_bound",
    "higher_order_factor", "intersection_graph", "is_connected", "labelling_dimension", "labelling_nullity",
    "labellings", "labellings_intersect", "orbit_size", "pair_embeddings", "pair_maps", "stirling2", "surjection_row",
    "surjections",
]
