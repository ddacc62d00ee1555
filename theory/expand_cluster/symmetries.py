"""The neuron symmetries of each activation class, as identities checked by SymPy and by numbers.

One neuron of a one-hidden-layer network, a sigma(u) (u = v . x~), plus the output bias c:

- odd:            a sigma(u) = (-a) sigma(-u)
- odd_constant:   a sigma(u) + c = (-a) sigma(-u) + (c + C a),   C = sigma(z) + sigma(-z)
- even_linear:    a sigma(u) = a sigma(-u) + 2 alpha a u          (the affine part 2 alpha a v . x~)
- positive scaling (k > 0): a sigma(u) = (a / k) sigma(k u)

``symmetry_claims`` proves the ones of an activation's class (simplification to 0 plus 30-digit values
at random points); ``identity_residuals`` measures the class identity itself in floating point on a
grid (z in [-10, 10] by default), which is what the numeric code relies on.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradflow.theory.expand_cluster.activation_class import (EVEN_LINEAR, EVEN_LINEAR_POSITIVE_SCALING, NONE, ODD,
                                                             ODD_CONSTANT, SCALE, _as_activation, class_constants,
                                                             is_zero)
from gradflow.theory.mlp.activations import z
from gradflow.theory.verify import Claim

u, a, c = sp.symbols("u a c", real=True)


def _claim(statement: str, residual, values: dict, rng, points: int) -> Claim:
    """``residual`` (in u, a, c, k) vanishes: proved by ``is_zero`` in u, and evaluated at random points."""
    proved = is_zero(sp.expand(residual).subs(u, z))
    expr = sp.sympify(residual).subs(values)
    worst = 0.0
    for _ in range(points):
        point = {u: sp.Float(rng.uniform(-5, 5), 30), a: sp.Float(rng.uniform(-3, 3), 30),
                 c: sp.Float(rng.uniform(-3, 3), 30), SCALE: sp.Float(np.exp(rng.uniform(-2, 2)), 30)}
        worst = max(worst, float(abs(sp.piecewise_fold(expr.subs(point)).evalf(30))))
    return Claim(statement, bool(proved), worst, points)


def symmetry_claims(value, points: int = 6, seed: int = 0) -> dict[str, Claim]:
    """The output-preserving transformations of one neuron allowed by the activation's derived class."""
    act = _as_activation(value)
    cls = class_constants(act)
    sigma = act.expr  # sigma(x) with the activation's numbers substituted
    values = act.symbols()
    rng = np.random.default_rng(seed)
    claims = {}
    if cls.kind == ODD:
        claims["odd: (v, a) ~ (-v, -a)"] = _claim(
            f"{act}: a sigma(u) = (-a) sigma(-u)", a * sigma(u) - (-a) * sigma(-u), values, rng, points)
    if cls.kind == ODD_CONSTANT:
        C = cls.sum_constant
        claims["odd_constant: (v, a, c) ~ (-v, -a, c + C a)"] = _claim(
            f"{act}: a sigma(u) + c = (-a) sigma(-u) + c + {C} a",
            a * sigma(u) + c - ((-a) * sigma(-u) + c + C * a), values, rng, points)
    if cls.kind in (EVEN_LINEAR, EVEN_LINEAR_POSITIVE_SCALING):
        alpha = cls.alpha.subs({s: sp.nsimplify(v, rational=True) for s, v in values.items()})
        claims["even_linear: (v, a) ~ (-v, a) + 2 alpha a v.x"] = _claim(
            f"{act}: a sigma(u) = a sigma(-u) + 2 ({alpha}) a u",
            a * sigma(u) - (a * sigma(-u) + 2 * alpha * a * u), values, rng, points)
    if cls.kind == EVEN_LINEAR_POSITIVE_SCALING:
        claims["positive scaling: (v, a) ~ (k v, a / k)"] = _claim(
            f"{act}: a sigma(u) = (a / k) sigma(k u), k > 0", a * sigma(u) - (a / SCALE) * sigma(SCALE * u),
            values, rng, points)
    return claims


def identity_residuals(value, grid=None, derived=None) -> dict[str, float]:
    """max over the grid of the floating-point residual of each class identity (sigma evaluated by the
    MLP engine's NumPy form): odd |sigma(z) + sigma(-z)|, odd_constant |sigma(z) + sigma(-z) - C|,
    even_linear |sigma(z) - sigma(-z) - 2 alpha z|, positive scaling |sigma(k z) - k sigma(z)| (k in
    {0.5, 2, 3.7}).  For 'none' the two combinations' distances from every constant and every line
    (least squares) are reported instead: they must be far from 0.  ``derived``: the activation's
    ActivationClass when already at hand (else derived, cached)."""
    act = _as_activation(value)
    cls = class_constants(act) if derived is None else derived
    zs = np.linspace(-10.0, 10.0, 2001) if grid is None else np.asarray(grid, dtype=float)
    s_plus, s_minus = act(zs), act(-zs)
    out = {}
    if cls.kind in (ODD, ODD_CONSTANT):
        out[cls.kind] = float(np.max(np.abs(s_plus + s_minus - float(cls.sum_constant))))
    if cls.even_linear:
        alpha = float(cls.alpha.subs(act.symbols()))
        out["even_linear"] = float(np.max(np.abs(s_plus - s_minus - 2 * alpha * zs)))
    if cls.positively_homogeneous and cls.kind != NONE:
        out["positive_scaling"] = max(float(np.max(np.abs(act(k * zs) - k * s_plus))) for k in (0.5, 2.0, 3.7))
    if cls.kind == NONE:
        total = s_plus + s_minus
        out["sum_distance_from_constant"] = float(np.max(np.abs(total - total.mean())))
        line = np.polyfit(zs, s_plus - s_minus, 1)
        out["difference_distance_from_line"] = float(np.max(np.abs(np.polyval(line, zs) - (s_plus - s_minus))))
    return out
