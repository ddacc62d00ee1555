"""gradflow's symbolic layer: models, flows, maps, reductions, solutions and laws.

SymPy does the mathematics.  NumPy and SciPy appear only to evaluate single points, exactly or
numerically: activations at a point, the landscape tools' sign cones and linear programs
(scipy.optimize.linprog), closed forms at given parameters.  theory never imports numba and
never imports gradflow.numerics or gradflow.derivations: everything numeric-at-scale sits above it.

``gradflow.theory.strategies`` (public, needs hypothesis: ``pip install 'gradflow[test]'``) holds
Hypothesis strategies for model instances, for property-testing your own conjectures.
"""

from gradflow.theory.derivation import Derivation, Draft, Step
from gradflow.theory.errors import ParameterError, require
from gradflow.theory.flow import ClosureError, Flow, Map
from gradflow.theory.laws import (GrowthExpansion, Law, exponential_expansion_law, exponential_growth,
                                  logarithmic_growth_law, rate_limit)
from gradflow.theory.model import Head, MatrixFlow, MeanSquaredError, Model, SoftmaxCrossEntropy, SquaredError
from gradflow.theory.solve import Solution, simplify_lambert, solve_autonomous

__all__ = [
    "ClosureError", "Derivation", "Draft", "Flow", "GrowthExpansion", "Head", "Law", "Map", "MatrixFlow",
    "MeanSquaredError", "Model", "ParameterError", "SoftmaxCrossEntropy", "Solution", "SquaredError", "Step",
    "exponential_expansion_law", "exponential_growth", "logarithmic_growth_law", "rate_limit", "require",
    "simplify_lambert", "solve_autonomous",
]
