"""The activations' numeric forms (the expressions the kernels and NumPy evaluate) against the derived
derivatives: equal symbolically on each side of 0, equal at points in 50-digit arithmetic, and keeping
their relative precision where the slopes saturate."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from gradflow.theory.mlp.activations import ACTIVATION_NAMES, KINKED, MLPActivation, z

_CASES = [MLPActivation(n) for n in ACTIVATION_NAMES if n not in ("poly", "leaky_relu")] + [
    MLPActivation("poly", (0.5, -1.0, 2.0, 0.25)), MLPActivation("leaky_relu", (0.2,))]
_SMOOTH = [a for a in _CASES if a.name not in KINKED]
_positive = sp.Symbol("p", positive=True)


@pytest.mark.parametrize("act", _SMOOTH, ids=str)
@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("side", [1, -1])
def test_numeric_forms_equal_the_derived_derivatives_on_each_side_of_zero(act, order, side):
    x = side * _positive  # Abs and the branches resolve on one side
    difference = act.numeric_form(order, x) - act.derivative(order, x, generic=True)
    assert sp.simplify(sp.expand(sp.simplify(difference.rewrite(sp.exp)))) == 0


def _reference(act, order, points):
    """The derived derivative in 50-digit arithmetic."""
    expression = act.derivative(order).subs(act.symbols())
    function = sp.lambdify(z, expression, modules=["mpmath"])
    with mpmath.workdps(50):
        return np.array([float(function(mpmath.mpf(float(p)))) for p in points])


@pytest.mark.parametrize("act", _CASES, ids=str)
def test_numeric_forms_agree_with_the_derivatives_at_points(act):
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0.0, 3.0, 25), [-7.5, -0.5, 0.7, 6.0]])
    points = points[np.abs(points) > 1e-3]  # away from the kinks
    for order, numeric in ((0, act), (1, act.prime), (2, act.second_prime)):
        np.testing.assert_allclose(numeric(points), _reference(act, order, points), rtol=1e-12, atol=1e-14,
                                   err_msg=f"{act} order {order}")


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus", "g", "silu"])
def test_saturated_slopes_keep_their_relative_precision(name):
    # 1 - sigma and 1 - tanh^2 cancel here: sigma (1 - sigma) at 20 is off by 1e-7 of the value, 1 - tanh^2 is 0
    act = MLPActivation(name)
    points = np.array([-40.0, -20.0, -10.0, 10.0, 20.0, 40.0])
    for order, numeric in ((1, act.prime), (2, act.second_prime)):
        want = _reference(act, order, points)
        got = numeric(points)
        keep = np.abs(want) > 1e-300
        assert np.all(np.abs(got[keep] - want[keep]) <= 1e-13 * np.abs(want[keep])), (name, order, got, want)


def test_the_kernels_evaluate_the_same_saturated_slopes():
    from gradflow.numerics.codegen.mlp_module import mlp_module

    module = mlp_module()[0]
    points = np.array([-30.0, -15.0, 15.0, 30.0])
    for name in ("tanh", "sigmoid", "g", "silu"):
        act = MLPActivation(name)
        s, d1, d2 = np.empty(4), np.empty(4), np.empty(4)
        module.activate(ACTIVATION_NAMES.index(name), np.zeros(1), points, 2, s, d1, d2)
        for got, order in ((d1, 1), (d2, 2)):
            want = _reference(act, order, points)
            assert np.all(np.abs(got - want) <= 1e-13 * np.abs(want)), (name, order, got, want)
    assert math.isclose(float(_reference(MLPActivation("tanh"), 1, [20.0])[0]), 4 / (math.exp(20) + math.exp(-20)) ** 2,
                        rel_tol=1e-14)


@pytest.mark.parametrize("act", _CASES, ids=str)
def test_the_kernels_activations_agree_with_the_derivatives_at_points(act):
    # the generated loops run with their multiply-adds fused (exp's and log1p's polynomials): the same
    # bounds as the numeric forms above, over the ranges where the values stay normal numbers
    from gradflow.numerics.codegen.mlp_module import mlp_module

    rng = np.random.default_rng(1)
    points = np.concatenate([rng.normal(0.0, 3.0, 40), rng.uniform(-12.0, 12.0, 24), [-7.5, -0.5, 0.7, 6.0]])
    points = points[np.abs(points) > 1e-3]  # away from the kinks
    prm = np.array(act.params or (0.0,), dtype=float)
    s, d1, d2 = (np.empty(points.size) for _ in range(3))
    mlp_module()[0].activate(ACTIVATION_NAMES.index(act.name), prm, points.copy(), 2, s, d1, d2)
    for got, order in ((s, 0), (d1, 1), (d2, 2)):
        np.testing.assert_allclose(got, _reference(act, order, points), rtol=1e-12, atol=1e-14,
                                   err_msg=f"{act} order {order}")
