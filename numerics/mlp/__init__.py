"""Multilayer perceptrons, numerically: generated loss, gradient, Hessian and Hessian-vector kernels
for one network or an ensemble on shared data, training to convergence, and Gaussian-input tools."""
