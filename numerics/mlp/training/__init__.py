"""Training to convergence: gradient flow (stiff and explicit), GD, SGD, Adam, and a polish phase
(Newton, BFGS, L-BFGS), each stopped by the first termination rule that holds."""
