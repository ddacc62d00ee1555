"""Directional derivatives of matrix expressions by the product and chain rules.

SymPy's array-derivative machinery mis-transposes factors when it differentiates through
element-wise functions (``ElementwiseApplyFunction``), so the second-order objects of
networks with activations (Hessian-vector products) are derived here by the differential
rules instead: d(AB) = dA B + A dB, d(A o B) = dA o B + A o dB, d f.(A) = f'.(A) o dA,
d A^T = (dA)^T.  Every result is checked against explicit scalar differentiation in the tests.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction


def _zero_like(expr):
    return sp.ZeroMatrix(*expr.shape)


def _is_zero(expr) -> bool:
    return isinstance(expr, sp.ZeroMatrix) or expr == 0


def elementwise_derivative(function) -> sp.Lambda:
    """f' as a Lambda, for f a Lambda or an undefined Function class."""
    if isinstance(function, sp.Lambda):
        (variable,) = function.variables
        return sp.Lambda(variable, sp.diff(function.expr, variable))
    variable = sp.Dummy("z")
    return sp.Lambda(variable, sp.diff(function(variable), variable))


def directional_derivative(expr, directions: dict):
    """d/d eps expr(theta + eps V) at eps = 0 for ``directions`` = {MatrixSymbol: V}."""
    if isinstance(expr, sp.MatrixSymbol):
        return directions.get(expr, _zero_like(expr))
    if isinstance(expr, (sp.ZeroMatrix, sp.OneMatrix, sp.Identity)):
        return _zero_like(expr)
    if isinstance(expr, sp.Transpose):
        inner = directional_derivative(expr.arg, directions)
        return _zero_like(expr) if _is_zero(inner) else inner.T
    if isinstance(expr, sp.MatAdd):
        terms = [directional_derivative(a, directions) for a in expr.args]
        terms = [t for t in terms if not _is_zero(t)]
        return sp.MatAdd(*terms) if terms else _zero_like(expr)
    if isinstance(expr, sp.MatMul):
        scalars = [a for a in expr.args if not a.is_Matrix]
        factors = [a for a in expr.args if a.is_Matrix]
        if any(s.has(*directions) for s in scalars):
            raise NotImplementedError(f"scalar factor depends on a varied parameter: {expr}")
        terms = []
        for position, factor in enumerate(factors):
            derivative = directional_derivative(factor, directions)
            if not _is_zero(derivative):
                terms.append(sp.MatMul(*scalars, *factors[:position], derivative, *factors[position + 1:]))
        return sp.MatAdd(*terms) if terms else _zero_like(expr)
    if isinstance(expr, sp.HadamardProduct):
        factors = list(expr.args)
        terms = []
        for position, factor in enumerate(factors):
            derivative = directional_derivative(factor, directions)
            if not _is_zero(derivative):
                terms.append(sp.HadamardProduct(*factors[:position], derivative, *factors[position + 1:]))
        return sp.MatAdd(*terms) if terms else _zero_like(expr)
    if isinstance(expr, ElementwiseApplyFunction):
        inner = directional_derivative(expr.expr, directions)
        if _is_zero(inner):
            return _zero_like(expr)
        return sp.HadamardProduct(ElementwiseApplyFunction(elementwise_derivative(expr.function), expr.expr), inner)
    if isinstance(expr, sp.Trace):
        inner = directional_derivative(expr.arg, directions)
        return sp.S.Zero if _is_zero(inner) else sp.Trace(inner)
    raise NotImplementedError(f"no differential rule for {type(expr).__name__}: {expr}")
