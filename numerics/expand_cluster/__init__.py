"""Expand-and-Cluster's clustering phase, numerically: N overparameterised zero-loss students share only
the teacher's neurons (up to the activation's symmetries), so clustering their canonical incoming vectors
and keeping the big, tight clusters recovers the teacher's width and weights."""

from gradflow.numerics.expand_cluster.ablation import MeanAblation
from gradflow.numerics.expand_cluster.affine import AffineCorrection, assemble_affine
from gradflow.numerics.expand_cluster.alignment import cosine_distances, median_cosine_distance
from gradflow.numerics.expand_cluster.classes import activation_class
from gradflow.numerics.expand_cluster.compare import TeacherComparison, compare_to_teacher, dissimilarity
from gradflow.numerics.expand_cluster.cut import CutResult, cut_rule
from gradflow.numerics.expand_cluster.features import Features, canonical_features
from gradflow.numerics.expand_cluster.layer import LayerClustering, cluster_layer
from gradflow.numerics.expand_cluster.options import ClusteringOptions, variant_letters
from gradflow.numerics.expand_cluster.report import REASONS, ClusterReport
from gradflow.numerics.expand_cluster.students import student_layer
from gradflow.numerics.expand_cluster.synthetic import SyntheticStudents, synthetic_students

__all__ = ["AffineCorrection", "ClusterReport", "ClusteringOptions", "CutResult", "Features", "LayerClustering",
           "MeanAblation", "REASONS", "SyntheticStudents", "TeacherComparison", "activation_class", "assemble_affine",
           "canonical_features", "cluster_layer", "compare_to_teacher", "cosine_distances", "cut_rule", "dissimilarity",
           "median_cosine_distance", "student_layer", "synthetic_students", "variant_letters"]
