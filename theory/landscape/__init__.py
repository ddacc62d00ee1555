"""Loss-landscape tools for one-hidden-layer ReLU-like networks.

One implementation, two arithmetic modes: exact (SymPy Rationals, exact LPs) and float (float64,
HiGHS LPs, kinks classified with a relative tolerance reported in every result).  Start with
``landscape_report(point)``; the pieces it is made of are public too.
"""

from gradflow.theory.landscape.arithmetic import DEFAULT_TOL
from gradflow.theory.landscape.certificate import LocalMinimumCertificate, NeuronCertificate, certify, local_minimum_certificate
from gradflow.theory.landscape.clarke import ClarkeStationarity, NeuronClarke, clarke_stationarity
from gradflow.theory.landscape.directional import RayPolynomial, directional_derivative, loss_along_ray
from gradflow.theory.landscape.dmap import MAX_KINK_INPUTS, DMap, SignCone, d_map, zero_neuron_map, zero_neuron_map_vanishes
from gradflow.theory.landscape.embedding import add_dead_neuron, add_inactive_neuron, add_zero_neuron, replicate_neuron, split_neuron
from gradflow.theory.landscape.escape import EscapePath, SecondOrderProbe, escape_path, second_order_probe, sign_preserving_step
from gradflow.theory.landscape.escape_neurons import EscapeDirection, NeuronEscape, escape_directions, neuron_escape
from gradflow.theory.landscape.partitions import (NeuronPartition, is_zero_neuron, is_zero_output_weight, kink_margin, linear_part,
                         neuron_partition, output_gradient, zero_inputs)
from gradflow.theory.landscape.point import NetworkPoint, exact_point
from gradflow.theory.landscape.report import CLASSIFICATIONS, NEURON_STATUSES, LandscapeReport, NeuronReport, kink_sensitivity, landscape_report, neuron_status
from gradflow.theory.landscape.stationarity import Descent, NeuronStationarity, Stationarity, d_stationarity, neuron_stationarity

__all__ = [
    "CLASSIFICATIONS", "DEFAULT_TOL", "DMap", "Descent", "ClarkeStationarity", "EscapeDirection", "EscapePath",
    "LandscapeReport", "LocalMinimumCertificate", "MAX_KINK_INPUTS", "NEURON_STATUSES", "NetworkPoint",
    "NeuronCertificate", "NeuronClarke", "NeuronEscape", "NeuronPartition", "NeuronReport", "NeuronStationarity",
    "RayPolynomial", "SecondOrderProbe", "SignCone", "Stationarity", "add_dead_neuron", "add_inactive_neuron",
    "add_zero_neuron", "certify", "clarke_stationarity", "d_map", "d_stationarity", "directional_derivative",
    "escape_directions", "escape_path", "exact_point", "is_zero_neuron", "is_zero_output_weight", "kink_margin",
    "kink_sensitivity", "landscape_report", "linear_part", "local_minimum_certificate", "loss_along_ray",
    "neuron_escape", "neuron_partition", "neuron_stationarity", "neuron_status", "output_gradient",
    "replicate_neuron", "second_order_probe", "sign_preserving_step", "split_neuron", "zero_inputs",
    "zero_neuron_map", "zero_neuron_map_vanishes",
]
