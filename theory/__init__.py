"""gradflow's symbolic layer: models, flows, maps, reductions, solutions and laws (SymPy only)."""

from .derivation import Derivation, Step
from .errors import ParameterError, require
from .flow import ClosureError, Flow, Map
from .laws import GrowthExpansion, Law, exponential_expansion_law, exponential_growth, logarithmic_growth_law, rate_limit
from .model import Head, MatrixFlow, MeanSquaredError, Model, SoftmaxCrossEntropy, SquaredError
from .solve import Solution, simplify_lambert, solve_autonomous

__all__ = [
    "ClosureError", "Derivation", "Flow", "GrowthExpansion", "Head", "Law", "Map", "MatrixFlow", "MeanSquaredError", "Model",
    "ParameterError", "SoftmaxCrossEntropy", "Solution", "SquaredError", "Step", "exponential_expansion_law",
    "exponential_growth", "logarithmic_growth_law", "rate_limit", "require", "simplify_lambert", "solve_autonomous",
]
