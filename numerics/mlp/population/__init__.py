"""Gaussian inputs numerically: Gauss-Hermite data for E over x ~ N(0, I)."""

from gradflow.numerics.mlp.population.hermite import gauss_hermite_data

__all__ = ["gauss_hermite_data"]
