"""Permutation symmetry, numerically: critical points to rounding level, permutation points made by
duplicating a neuron, the plateau matrix B and the Hessian's kernel there, constant-loss paths
between permuted copies, paths through the midpoint of a minimum and its mirror image with the
Hessian there from Hessian-vector products only (large networks), the expansion manifold of a teacher
in a wider student (labellings, random points, dimension and Hessian nullity, the intersection graph)
and split critical subspaces."""

from gradflow.numerics.symmetry.anti_block import antisymmetric_hessian
from gradflow.numerics.symmetry.backprop import RANK_TOLERANCE, PlateauMatrix, forward_backward, plateau_matrix
from gradflow.numerics.symmetry.collision import antisymmetric_basis, permutation_point, symmetric_basis
from gradflow.numerics.symmetry.collision_path import CollisionPath, collision_path
from gradflow.numerics.symmetry.complex_step import analytic_gradient, complex_step_hessian
from gradflow.numerics.symmetry.critical import CriticalPoint, CriticalPointError, critical_point
from gradflow.numerics.symmetry.critical_lines import fukumizu_amari_matrix, split_directions, split_point
from gradflow.numerics.symmetry.expansion import (Teacher, dimension, labellings, nullity_formula, numeric_nullity,
                                                  output_jacobian, pack, random_point, random_teacher, role_swap_path,
                                                  shallow, unpack)
from gradflow.numerics.mlp.spectrum import hessian_operator  # re-exported: the symmetry tools use it
from gradflow.numerics.symmetry.krylov_newton import krylov_newton
from gradflow.numerics.symmetry.midpoint_path import MidpointPath, midpoint_path
from gradflow.numerics.symmetry.pair_spectrum import PairSpectrum, inert_parameters, pair_spectrum, smallest_eigenvalues
from gradflow.numerics.symmetry.intersections import graph_components, intersection_graph, labellings_intersect
from gradflow.numerics.symmetry.neurons import neuron_indices, swap_neurons, transposition, transposition_matrix
from gradflow.numerics.symmetry.paths import (MIN_POINTS, move_free_slot, permutation_path, rearrangement_path,
                                              relocation, transposition_path)
from gradflow.numerics.symmetry.plateau import free_slot_point, plateau_gradient, plateau_point
from gradflow.numerics.symmetry.problems import mlp, narrowed, teacher_data
from gradflow.numerics.symmetry.restriction import AffineRestriction
from gradflow.numerics.symmetry.reduced import ReducedPoint, clean_reduced_point, is_clean
from gradflow.numerics.symmetry.setup import PermutationSetup, build_permutation_point
from gradflow.numerics.symmetry.report import (ZERO_TOLERANCE, PermutationPointReport, analyse_permutation_point,
                                               permutation_point_report)

__all__ = ["MidpointPath", "PairSpectrum", "hessian_operator", "krylov_newton", "midpoint_path", "pair_spectrum",
           "inert_parameters", "smallest_eigenvalues",
           "AffineRestriction", "CollisionPath", "collision_path", "CriticalPoint", "CriticalPointError", "MIN_POINTS", "PermutationPointReport", "PermutationSetup",
           "PlateauMatrix", "RANK_TOLERANCE", "ReducedPoint", "Teacher", "ZERO_TOLERANCE",
           "analyse_permutation_point", "analytic_gradient", "complex_step_hessian", "antisymmetric_basis", "antisymmetric_hessian", "build_permutation_point", "clean_reduced_point",
           "critical_point", "dimension", "forward_backward", "free_slot_point", "fukumizu_amari_matrix",
           "graph_components", "intersection_graph", "is_clean", "labellings", "labellings_intersect", "mlp",
           "move_free_slot", "narrowed", "neuron_indices", "nullity_formula", "numeric_nullity", "output_jacobian",
           "pack", "permutation_path", "permutation_point", "permutation_point_report", "plateau_gradient",
           "plateau_matrix", "plateau_point", "random_point", "random_teacher", "rearrangement_path", "relocation", "role_swap_path",
           "shallow", "split_directions", "split_point", "swap_neurons", "symmetric_basis", "teacher_data",
           "transposition", "transposition_matrix", "transposition_path", "unpack"]
