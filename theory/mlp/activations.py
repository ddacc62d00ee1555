"""The activations of multilayer perceptrons, one SymPy expression each, derivatives derived.

Each activation is sigma(z) as a SymPy expression; sigma' and sigma'' come from ``sp.diff``.  Kinks
(relu, leaky_relu, abs) take sigma'(0) := the left slope (0 for relu) and sigma'' := 0: the Hessian
is the almost-everywhere one.  Where the derived form overflows in floating point (softplus'
e^z/(1 + e^z) at z = 800), a *numeric form* is given beside it, an equal expression that stays
finite (or, for slopes that saturate, keeps its relative precision: sigma (1 - sigma) at z = 20 keeps 7
digits, e^{-|z|} / (1 + e^{-|z|})^2 all 16); the tests prove each one equal to the derived expression,
symbolically on each side of 0 and at points.

``poly`` (sigma = c0 + c1 z + c2 z^2 + ...) takes its coefficients as parameters; ``leaky_relu``
its slope (default 0.01); ``softmax`` is the output of a classifier, handled by the loss (the
layer itself passes its logits on).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from gradflow.theory.errors import ParameterError, require

z = sp.Symbol("z", real=True)
SLOPE = sp.Symbol("s", real=True)  # leaky_relu's negative slope

# PyTorch's SELU constants
SELU_LAMBDA = sp.Float("1.0507009873554804934193349852946", 30)
SELU_ALPHA = sp.Float("1.6732632423543772848170429916717", 30)


def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


def _softplus(x):
    return sp.log(1 + sp.exp(x))


def _normal_cdf(x):
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def _stable_sigmoid(x):
    # e^{-|x|} never overflows
    e = sp.exp(-sp.Abs(x))
    return sp.Piecewise((1 / (1 + e), x >= 0), (e / (1 + e), True))


def _sigmoid_slope(x):
    # sigma'(x) = e / (1 + e)^2, e = e^{-|x|}: sigma (1 - sigma) loses the digits of 1 - sigma for large x
    # (at x = 20 a relative error of 1e-7), as 1 - tanh^2 does for tanh' (tanh' = 4 sigma'(2 x))
    e = sp.exp(-sp.Abs(x))
    return e / (1 + e) ** 2


def _stable_softplus(x):
    return sp.Max(x, 0) + sp.log(1 + sp.exp(-sp.Abs(x)))


def _kink(right, left):
    return sp.Piecewise((right, z > 0), (left, True))


# name -> (sigma(z), numeric forms {order: expression} where the derived one overflows or cancels, odd?)
_DEFINITIONS = {
    "identity": (z, {}, True),
    "relu": (_kink(z, 0), {}, False),
    "leaky_relu": (_kink(z, SLOPE * z), {}, False),
    "abs": (_kink(z, -z), {}, False),
    "tanh": (sp.tanh(z), {1: 4 * _sigmoid_slope(2 * z), 2: -8 * sp.tanh(z) * _sigmoid_slope(2 * z)}, True),
    "sigmoid": (_sigmoid(z), {0: _stable_sigmoid(z), 1: _sigmoid_slope(z),
                              2: _sigmoid_slope(z) * (1 - 2 * _stable_sigmoid(z))},
                False),
    "softplus": (_softplus(z), {0: _stable_softplus(z), 1: _stable_sigmoid(z), 2: _sigmoid_slope(z)}, False),
    "g": (_sigmoid(4 * z) + _softplus(z),
          {0: _stable_sigmoid(4 * z) + _stable_softplus(z),
           1: 4 * _sigmoid_slope(4 * z) + _stable_sigmoid(z),
           2: 16 * _sigmoid_slope(4 * z) * (1 - 2 * _stable_sigmoid(4 * z)) + _sigmoid_slope(z)}, False),
    "gelu": (z * _normal_cdf(z), {}, False),
    "silu": (z * _sigmoid(z), {0: z * _stable_sigmoid(z), 1: _stable_sigmoid(z) + z * _sigmoid_slope(z),
                               2: _sigmoid_slope(z) * (2 + z * (1 - 2 * _stable_sigmoid(z)))}, False),
    "selu": (SELU_LAMBDA * sp.Piecewise((z, z > 0), (SELU_ALPHA * (sp.exp(z) - 1), True)), {}, False),
    "erf": (sp.erf(z), {}, True),
    "erf2": (sp.erf(z / sp.sqrt(2)), {}, True),
    "normal_cdf": (_normal_cdf(z), {}, False),
    "square": (z ** 2 / 2, {}, False),
    "cube": (z ** 3, {}, True),
    "poly": (None, {}, False),
    "softmax": (z, {}, False),  # the layer passes logits on; the NLL loss applies the softmax
}

ACTIVATION_NAMES: tuple[str, ...] = tuple(_DEFINITIONS)
KINKED = frozenset({"relu", "leaky_relu", "abs"})
POSITIVELY_HOMOGENEOUS = frozenset({"identity", "relu", "leaky_relu", "abs"})  # sigma(c z) = c sigma(z), c > 0


def poly_coefficients(count: int) -> tuple[sp.Symbol, ...]:
    return sp.symbols(f"c0:{count}", real=True)


@dataclass(frozen=True)
class MLPActivation:
    """One scalar activation: its name and numbers (leaky_relu's slope, poly's coefficients)."""

    name: str
    params: tuple = ()

    def __post_init__(self):
        require(self.name in _DEFINITIONS, "activation", f"one of {', '.join(ACTIVATION_NAMES)}", self.name)
        params = tuple(float(p) for p in self.params)
        if not all(np.isfinite(params)):
            raise ParameterError(self.name, "finite numbers", self.params)
        if self.name == "leaky_relu":
            params = params or (0.01,)
            require(len(params) == 1, "leaky_relu", "one slope", self.params)
            require(params[0] != 1.0, "leaky_relu", "a slope other than 1 (otherwise it is the identity)", params[0])
        elif self.name == "poly":
            require(len(params) >= 1, "poly", "its coefficients c0, c1, ... (at least one)", self.params)
        else:
            require(not params, self.name, "given without numbers", self.params)
        object.__setattr__(self, "params", params)

    # --- symbolic -------------------------------------------------------------------------------

    @property
    def kink(self) -> bool:
        return self.name in KINKED

    @property
    def odd(self) -> bool:
        """sigma(-z) = -sigma(z): neurons can be flipped (w, a) -> (-w, -a) without changing f."""
        if self.name == "poly":
            return all(c == 0 for c in self.params[0::2])
        return _DEFINITIONS[self.name][2]

    @property
    def positively_homogeneous(self) -> bool:
        return self.name in POSITIVELY_HOMOGENEOUS

    def symbols(self) -> dict:
        """The parameter symbols of ``generic_expr`` and their values."""
        if self.name == "leaky_relu":
            return {SLOPE: self.params[0]}
        if self.name == "poly":
            return dict(zip(poly_coefficients(len(self.params)), self.params))
        return {}

    def generic_expr(self, x=z):
        """sigma(x) with its numbers as symbols (s, c0, c1, ...)."""
        if self.name == "poly":
            return sum(c * x ** i for i, c in enumerate(poly_coefficients(len(self.params))))
        return _DEFINITIONS[self.name][0].subs(z, x)

    def expr(self, x=z):
        """sigma(x) with its numbers substituted (exact rationals where they are short decimals)."""
        values = {s: sp.nsimplify(v, rational=True) if abs(v) < 1e6 else sp.Float(v) for s, v in self.symbols().items()}
        return self.generic_expr(x).subs(values)

    def derivative(self, order: int, x=z, generic: bool = False):
        """d^order sigma / dz^order at x, derived (kinks: left slope at 0, sigma'' = 0)."""
        base = self.generic_expr(z) if generic else self.expr(z)
        if self.kink:
            right, left = (arg[0] for arg in base.args)
            if order == 0:
                return base.subs(z, x)
            if order == 1:
                return sp.Piecewise((sp.diff(right, z), x > 0), (sp.diff(left, z), True))
            return sp.S.Zero
        return sp.diff(base, z, order).subs(z, x)

    def first(self, x=z):
        return self.derivative(1, x)

    def second(self, x=z):
        return self.derivative(2, x)

    def numeric_form(self, order: int, x=z):
        """sigma^(order)(x) in a form that stays finite in floating point, with generic symbols;
        equal to ``derivative(order, generic=True)`` (proven in the tests)."""
        forms = _DEFINITIONS[self.name][1]
        if order in forms:
            return forms[order].subs(z, x)
        return self.derivative(order, x, generic=True)

    # --- numeric (NumPy, for single points and tests) --------------------------------------------

    def __call__(self, values):
        return self._numpy(0)(np.asarray(values, dtype=float))

    def prime(self, values):
        return self._numpy(1)(np.asarray(values, dtype=float))

    def second_prime(self, values):
        return self._numpy(2)(np.asarray(values, dtype=float))

    def _numpy(self, order: int):
        return _lambdified(self.name, self.params, order)

    def __str__(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}[{';'.join(repr(p) for p in self.params)}]"


@lru_cache(maxsize=None)
def _lambdified(name: str, params: tuple, order: int):
    act = MLPActivation(name, params)
    expr = act.numeric_form(order).subs(act.symbols())
    fn = sp.lambdify(z, expr, modules=["numpy", "scipy"])

    def evaluate(values):
        with np.errstate(over="ignore", under="ignore"):
            return np.broadcast_to(fn(values), np.shape(values)).astype(float)
    return evaluate


def activation(name: str, *params) -> MLPActivation:
    """An activation by name; numbers after the name (leaky_relu's slope, poly's coefficients)."""
    if not isinstance(name, str) or name not in _DEFINITIONS:
        raise ParameterError("activation", f"one of {', '.join(ACTIVATION_NAMES)}", name)
    return MLPActivation(name, tuple(params))
