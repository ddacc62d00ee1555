"""Gaussian inputs numerically: Gauss-Hermite data, the bivariate normal CDF by Owen's T, generated
covariance-kernel modules, and the population network whose loss is a sum of derived kernels."""

from gradflow.numerics.mlp.population.gauss_hermite import gauss_hermite_data, kernel_by_quadrature
from gradflow.numerics.mlp.population.network import PopulationNetwork
from gradflow.numerics.mlp.population.owen import owens_t, phi2

__all__ = ["PopulationNetwork", "gauss_hermite_data", "kernel_by_quadrature", "owens_t", "phi2"]
