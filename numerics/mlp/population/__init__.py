"""Gaussian inputs numerically: Gauss-Hermite data, the bivariate normal CDF by Owen's T, and the
population network whose loss is a sum of derived covariance kernels."""
