"""The symmetry class of an activation, derived by SymPy from sigma itself.

A hidden neuron contributes a sigma(v . x~) to the output (x~ = [x; 1], v = [w; b]).  Which other
(v', a') give the same function is decided by two combinations of sigma:

- e(z) = sigma(z) + sigma(-z).  Zero: sigma is odd, (v, a) ~ (-v, -a) ("odd").  A constant C:
  (v, a, c) ~ (-v, -a, c + C a), the output bias absorbs the rest ("odd_constant", sigmoid: C = 1).
- d(z) = sigma(z) - sigma(-z).  Linear, d = 2 alpha z: (v, a) ~ (-v, a) plus the affine term
  2 alpha a v . x~ ("even_linear", softplus, gelu, silu: alpha = 1/2).  If also sigma(k z) = k sigma(z)
  for k > 0, (v, a) ~ (k v, a / k) ("even_linear_positive_scaling", relu; leaky_relu alpha = (1+s)/2).
- Neither: only permutations ("none", e.g. g(z) = sigmoid(4z) + softplus(z)).

Every test is a proof: e' simplifies to 0 (constant e), d'' simplifies to 0 and d(0) = 0 (linear d),
sigma(kz) - k sigma(z) simplifies to 0 with k > 0 symbolic.  A failed test is backed by a number: the
residual at a point where it is not zero (``witness``), so "none" is also established, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp.activations import MLPActivation, activation, z

ODD, ODD_CONSTANT, EVEN_LINEAR, EVEN_LINEAR_POSITIVE_SCALING, NONE = (
    "odd", "odd_constant", "even_linear", "even_linear_positive_scaling", "none")
CLASSES = (ODD, ODD_CONSTANT, EVEN_LINEAR, EVEN_LINEAR_POSITIVE_SCALING, NONE)
SCALE = sp.Symbol("k", positive=True)  # the factor of positive homogeneity
WITNESS_POINTS = (sp.Rational(1, 2), sp.Integer(1), sp.Integer(2), sp.Rational(-3, 2))
POSITIVE = sp.Symbol("p", positive=True)


def is_zero(expr) -> bool:
    """``expr`` (a function of z) vanishes identically: simplified to 0 separately for z = p > 0 and
    z = -p < 0 (where every kink's Piecewise resolves to one branch), and equal to 0 at z = 0."""
    expr = sp.sympify(expr)
    for side in (POSITIVE, -POSITIVE):
        if sp.simplify(sp.piecewise_fold(expr.subs(z, side))) != 0:
            return False
    return sp.simplify(expr.subs(z, 0)) == 0


def _witness(expr, values: dict) -> float:
    """The largest |expr| at a few fixed points (30 digits, the activation's numbers substituted):
    > 0 shows ``expr`` is not identically 0."""
    expr = sp.sympify(expr).subs(values)
    return max(float(abs(expr.subs(z, p).evalf(30))) for p in WITNESS_POINTS)


@dataclass(frozen=True)
class ActivationClass:
    """The derived class of one activation and the constants its symmetries use."""

    activation: str
    kind: str  # one of CLASSES
    sum_constant: sp.Expr | None  # C = sigma(z) + sigma(-z) when constant (0 for odd)
    alpha: sp.Expr | None  # sigma(z) - sigma(-z) = 2 alpha z when linear
    positively_homogeneous: bool  # sigma(k z) = k sigma(z) for every k > 0
    witnesses: dict  # failed test -> a nonzero residual value found at a point

    @property
    def odd_like(self) -> bool:
        """Neurons flip sign with their outgoing weight ((v, a) -> (-v, -a))."""
        return self.kind in (ODD, ODD_CONSTANT)

    @property
    def even_linear(self) -> bool:
        return self.kind in (EVEN_LINEAR, EVEN_LINEAR_POSITIVE_SCALING)

    def to_json(self) -> dict:
        return {"activation": self.activation, "class": self.kind,
                "sum_constant": None if self.sum_constant is None else str(self.sum_constant),
                "alpha": None if self.alpha is None else str(self.alpha),
                "positively_homogeneous": self.positively_homogeneous,
                "witnesses": {k: float(v) for k, v in self.witnesses.items()}}


def _as_activation(value) -> MLPActivation:
    act = value if isinstance(value, MLPActivation) else activation(value)
    if act.name == "softmax":
        raise ParameterError("activation", "a hidden-layer activation (softmax is an output)", act.name)
    return act


def derive_class(value, generic: bool = True) -> ActivationClass:
    """Derive the class of an activation (a name or an MLPActivation).  ``generic``: leaky_relu's
    slope and poly's coefficients stay symbols (so alpha reads (s + 1)/2); the tests that need a
    sign of a coefficient substitute the numbers."""
    act = _as_activation(value)
    sigma = act.generic_expr(z) if generic else act.expr(z)
    if act.name == "poly":
        sigma = act.expr(z)  # a class of poly depends on which coefficients vanish
    e = sp.piecewise_fold(sigma + sigma.subs(z, -z))
    d = sp.piecewise_fold(sigma - sigma.subs(z, -z))
    witnesses = {}
    homogeneous = is_zero(sigma.subs(z, SCALE * z) - SCALE * sigma)
    if is_zero(sp.diff(e, z)):
        constant = sp.simplify(e.subs(z, 0))
        return ActivationClass(act.name, ODD if constant == 0 else ODD_CONSTANT, constant, None, homogeneous, witnesses)
    witnesses["sigma(z) + sigma(-z) constant"] = _witness(sp.diff(e, z), act.symbols())
    alpha = sp.simplify(d.subs(z, 1) / 2)
    if is_zero(d - 2 * alpha * z):
        kind = EVEN_LINEAR_POSITIVE_SCALING if homogeneous else EVEN_LINEAR
        return ActivationClass(act.name, kind, None, sp.factor(alpha), homogeneous, witnesses)
    witnesses["sigma(z) - sigma(-z) linear"] = _witness(d - 2 * alpha * z, act.symbols())
    return ActivationClass(act.name, NONE, None, None, homogeneous, witnesses)


@lru_cache(maxsize=None)
def _cached(name: str, params: tuple) -> ActivationClass:
    return derive_class(MLPActivation(name, params))


def activation_class(value) -> str:
    """The class name of an activation (cached): 'odd', 'odd_constant', 'even_linear',
    'even_linear_positive_scaling' or 'none'."""
    return class_constants(value).kind


def class_constants(value) -> ActivationClass:
    """The full derived class (constants C and alpha included) of an activation, cached."""
    act = _as_activation(value)
    return _cached(act.name, act.params)
