"""Expand-and-Cluster, symbolically: the symmetry class of each activation derived from sigma, the
neuron symmetries of each class proved, and the argument why zero-loss students of a wider network
consist of the teacher's neurons (duplicated) plus zero-type and covert-linear neurons."""

from gradflow.theory.expand_cluster.activation_class import (CLASSES, EVEN_LINEAR, EVEN_LINEAR_POSITIVE_SCALING,
                                                             NONE, ODD, ODD_CONSTANT, ActivationClass,
                                                             activation_class, class_constants, derive_class)
from gradflow.theory.expand_cluster.derivation import (EXPECTED_CLASSES, TABLE_ACTIVATIONS, ExpandClusterDerivation,
                                                       derive)
from gradflow.theory.expand_cluster.symmetries import identity_residuals, symmetry_claims

__all__ = ["CLASSES", "EVEN_LINEAR", "EVEN_LINEAR_POSITIVE_SCALING", "EXPECTED_CLASSES", "NONE", "ODD",
           "ODD_CONSTANT", "TABLE_ACTIVATIONS", "ActivationClass", "ExpandClusterDerivation", "activation_class",
           "class_constants", "derive", "derive_class", "identity_residuals", "symmetry_claims"]
