"""Multilayer perceptrons, numerically: generated loss, gradient, Hessian and Hessian-vector kernels
for one network or an ensemble on shared data, penalty terms, and Hessian spectra."""

from gradflow.numerics.mlp.kernels import MLPKernels, Samples, prepare_samples
from gradflow.numerics.mlp.mlp_objective import MLPObjective
from gradflow.numerics.mlp.objective import Objective
from gradflow.numerics.mlp.penalties import L2, Barrier, Merge
from gradflow.numerics.mlp.spectrum import Spectrum, hessian_operator, hessian_spectrum

__all__ = ["Barrier", "L2", "MLPKernels", "MLPObjective", "Merge", "Objective", "Samples", "Spectrum",
           "hessian_operator", "hessian_spectrum", "prepare_samples"]
