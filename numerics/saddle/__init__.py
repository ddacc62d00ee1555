"""Saddle-to-saddle dynamics of shallow ReLU-like networks: plateaus, their exact losses, escapes.

One import for the pieces, each in its own module:

* plateaus            -- :func:`detect_plateaus` finds the flat stretches of a loss curve;
* idealise            -- :func:`idealise` turns a point on a plateau into grouped / zero / dead neurons;
* exact_plateau       -- :func:`exact_plateau_loss` solves the plateau's least-squares problem exactly;
* escape_time         -- :func:`first_escape_rate` (lambda*), predicted / measured first escape times;
* perturbation        -- :func:`perturbation_certificate`, the paper's random-perturbation test;
* neuron_observables  -- per-neuron angle, norm, output weight and conservation drift.
"""

from gradflow.numerics.saddle.escape_time import (EscapeRate, EscapeTimeFit, escape_function, first_escape_rate, fit_escape_times,
                          measured_escape_time, predicted_escape_time, sampled_escape_rate)
from gradflow.numerics.saddle.exact_plateau import ExactPlateau, exact_network_loss, exact_plateau_loss, rational_array
from gradflow.numerics.saddle.idealise import IdealisedPoint, NeuronGroup, idealise
from gradflow.numerics.saddle.neuron_observables import NeuronObservables, max_conservation_drift, neuron_observables
from gradflow.numerics.saddle.perturbation import PerturbationCertificate, perturbation_amplitude, perturbation_certificate
from gradflow.numerics.saddle.plateaus import Plateau, detect_plateaus
from gradflow.numerics.saddle.shallow_arrays import dead_neurons, network_loss, network_output

__all__ = [
    "EscapeRate", "EscapeTimeFit", "ExactPlateau", "IdealisedPoint", "NeuronGroup", "NeuronObservables",
    "PerturbationCertificate", "Plateau", "dead_neurons", "detect_plateaus", "escape_function", "exact_network_loss",
    "exact_plateau_loss", "first_escape_rate", "fit_escape_times", "idealise", "max_conservation_drift",
    "measured_escape_time", "network_loss", "network_output", "neuron_observables", "perturbation_amplitude",
    "perturbation_certificate", "predicted_escape_time", "rational_array", "sampled_escape_rate",
]
