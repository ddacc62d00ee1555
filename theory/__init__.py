"""gradflow's symbolic layer: models, flows, maps, reductions, solutions and laws.

SymPy does the mathematics.  NumPy and SciPy appear only to evaluate single points, exactly or
numerically: activations at a point, the landscape tools' sign cones and linear programs
(scipy.optimize.linprog), closed forms at given parameters.  theory never imports numba and
never imports gradflow.numerics or gradflow.derivations: everything numeric-at-scale sits above it.

``gradflow.theory.strategies`` (public, needs hypothesis: ``pip install 'gradflow[test]'``) holds
Hypothesis strategies for model instances, for property-testing your own conjectures.
"""

# The names below are imported on first use (PEP 562), so that a submodule such as
# gradflow.theory.errors, or a warm start that loads only cached generated modules, does not
# import SymPy with the package.

from __future__ import annotations

from gradflow.theory.lazy import lazy_exports

_EXPORTS = {
    "Derivation": "gradflow.theory.derivation",
    "Draft": "gradflow.theory.derivation",
    "Step": "gradflow.theory.derivation",
    "ParameterError": "gradflow.theory.errors",
    "require": "gradflow.theory.errors",
    "ClosureError": "gradflow.theory.flow",
    "Flow": "gradflow.theory.flow",
    "Map": "gradflow.theory.flow",
    "GrowthExpansion": "gradflow.theory.laws",
    "Law": "gradflow.theory.laws",
    "exponential_expansion_law": "gradflow.theory.laws",
    "exponential_growth": "gradflow.theory.laws",
    "logarithmic_growth_law": "gradflow.theory.laws",
    "rate_limit": "gradflow.theory.laws",
    "Head": "gradflow.theory.model",
    "MatrixFlow": "gradflow.theory.model",
    "MeanSquaredError": "gradflow.theory.model",
    "Model": "gradflow.theory.model",
    "SoftmaxCrossEntropy": "gradflow.theory.model",
    "SquaredError": "gradflow.theory.model",
    "Solution": "gradflow.theory.solve",
    "simplify_lambert": "gradflow.theory.solve",
    "solve_autonomous": "gradflow.theory.solve",
}

__all__ = [
    "ClosureError", "Derivation", "Draft", "Flow", "GrowthExpansion", "Head", "Law", "Map", "MatrixFlow",
    "MeanSquaredError", "Model", "ParameterError", "SoftmaxCrossEntropy", "Solution", "SquaredError", "Step",
    "exponential_expansion_law", "exponential_growth", "logarithmic_growth_law", "rate_limit", "require",
    "simplify_lambert", "solve_autonomous",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

