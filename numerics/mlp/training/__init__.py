"""Training to convergence: gradient flow (stiff and explicit), GD, SGD, Adam, and a polish phase
(Newton, Levenberg-Marquardt on the residuals, gradflow's BFGS, SciPy's BFGS, L-BFGS), each stopped by the
first termination rule that holds."""

from gradflow.numerics.mlp.training.dense_bfgs import bfgs
from gradflow.numerics.mlp.training.line_search import LineStep, strong_wolfe
from gradflow.numerics.mlp.training.termination import RULES, Limits, log_times
from gradflow.numerics.mlp.training.train import METHODS, POLISHES, TrainingResult, train, train_ensemble

__all__ = ["LineStep", "bfgs", "strong_wolfe", "Limits", "METHODS", "POLISHES", "RULES", "TrainingResult", "log_times", "train", "train_ensemble"]
