"""gradflow's symbolic layer: models, flows, maps, reductions, solutions and laws (SymPy only)."""

from gradflow.theory.derivation import Derivation, Step
from gradflow.theory.errors import ParameterError, require
from gradflow.theory.flow import ClosureError, Flow, Map
from gradflow.theory.laws import GrowthExpansion, Law, exponential_expansion_law, exponential_growth, logarithmic_growth_law, rate_limit
from gradflow.theory.model import Head, MatrixFlow, MeanSquaredError, Model, SoftmaxCrossEntropy, SquaredError
from gradflow.theory.solve import Solution, simplify_lambert, solve_autonomous

__all__ = [
    "ClosureError", "Derivation", "Flow", "GrowthExpansion", "Head", "Law", "Map", "MatrixFlow", "MeanSquaredError", "Model",
    "ParameterError", "SoftmaxCrossEntropy", "Solution", "SquaredError", "Step", "exponential_expansion_law",
    "exponential_growth", "logarithmic_growth_law", "rate_limit", "require", "simplify_lambert", "solve_autonomous",
]
