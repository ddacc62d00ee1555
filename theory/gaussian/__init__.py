"""Expectations under Gaussian inputs, derived: Price's theorem, Gaussian integrals by completing the
square, the bivariate normal CDF as a SymPy function, and the covariance kernels of activations."""

from gradflow.theory.gaussian.kernels import Kernel, kernel, polynomial_kernel
from gradflow.theory.gaussian.phi2 import Phi2

__all__ = ["Kernel", "Phi2", "kernel", "polynomial_kernel"]
