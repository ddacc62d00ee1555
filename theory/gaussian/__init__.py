"""Expectations under Gaussian inputs, derived: Price's theorem, Gaussian integrals by completing the
square, the bivariate normal CDF as a SymPy function, and the covariance kernels of activations."""
