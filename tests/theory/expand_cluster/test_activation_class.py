"""The activation classes derived by SymPy, their symmetries, and the class identities in floating point."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.theory.errors import ParameterError
from gradflow.theory.expand_cluster import (EXPECTED_CLASSES, activation_class, class_constants, derive,
                                            derive_class, identity_residuals, symmetry_claims)
from gradflow.theory.mlp import activation


@pytest.mark.parametrize("name", sorted(EXPECTED_CLASSES))
def test_derived_class_matches_the_table(name):
    assert derive_class(name).kind == EXPECTED_CLASSES[name]


def test_constants_of_the_table():
    assert class_constants("sigmoid").sum_constant == 1
    assert class_constants("tanh").sum_constant == 0
    for name in ("softplus", "gelu", "silu", "relu"):
        assert class_constants(name).alpha == sp.Rational(1, 2)
    s = sp.Symbol("s", real=True)
    assert sp.simplify(derive_class("leaky_relu").alpha - (1 + s) / 2) == 0
    assert class_constants(activation("leaky_relu", 0.2)).alpha.subs(s, sp.Rational(1, 5)) == sp.Rational(3, 5)


def test_other_activations_and_a_none_witness():
    assert activation_class("erf2") == "odd" and activation_class("normal_cdf") == "odd_constant"
    assert activation_class("cube") == "odd" and activation_class("selu") == "none"
    g = derive_class("g")
    assert g.kind == "none" and min(g.witnesses.values()) > 0.1  # both tests fail at a number, not by default
    assert activation_class(activation("poly", 0.0, 1.0, 0.0, 2.0)) == "odd"
    assert activation_class(activation("poly", 1.0, 1.0)) == "odd_constant"  # 1 + z: sum is 2
    with pytest.raises(ParameterError, match="activation"):
        activation_class("softmax")
    with pytest.raises(ParameterError, match="activation"):
        activation_class("nope")


@pytest.mark.parametrize("name", sorted(EXPECTED_CLASSES))
def test_identities_on_a_grid(name):
    residuals = identity_residuals(name)
    if EXPECTED_CLASSES[name] == "none":
        assert residuals["sum_distance_from_constant"] > 1.0 and residuals["difference_distance_from_line"] > 0.1
    else:
        assert residuals and max(residuals.values()) <= 1e-12 * 10  # |z| <= 10: rounding of sigma(+-10)


@pytest.mark.parametrize("name", sorted(EXPECTED_CLASSES))
def test_symmetries_proved(name):
    claims = symmetry_claims(name)
    expected = {"odd": 1, "odd_constant": 1, "even_linear": 1, "even_linear_positive_scaling": 2, "none": 0}
    assert len(claims) == expected[EXPECTED_CLASSES[name]]
    assert all(claim.holds for claim in claims.values())


def test_a_wrong_symmetry_is_refused():
    # the even_linear identity with the wrong alpha must not be proved for softplus
    from gradflow.theory.expand_cluster.activation_class import is_zero
    from gradflow.theory.mlp.activations import z

    sigma = activation("softplus").expr
    assert not is_zero(sigma(z) - sigma(-z) - 0.9 * z)
    assert is_zero(sigma(z) - sigma(-z) - z)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(["tanh", "sigmoid", "softplus", "relu", "gelu"]),
       v=st.lists(st.floats(-3, 3), min_size=3, max_size=3), a=st.floats(-2, 2), k=st.floats(0.1, 5))
def test_neuron_transformations_keep_the_output(name, v, a, k):
    """The class's transformation of one neuron (v, a, c) leaves a sigma(v . x~) + c unchanged on data."""
    act = activation(name)
    cls = class_constants(act)
    X = np.random.default_rng(0).normal(size=(50, 2))
    Xt = np.c_[X, np.ones(50)]
    v = np.asarray(v)
    f = a * act(Xt @ v)
    if cls.kind == "odd":
        g = -a * act(Xt @ -v)
    elif cls.kind == "odd_constant":
        g = -a * act(Xt @ -v) + float(cls.sum_constant) * a
    else:
        g = a * act(Xt @ -v) + 2 * float(cls.alpha) * a * (Xt @ v)
        if cls.kind == "even_linear_positive_scaling":
            assert np.allclose(a * act(Xt @ v), (a / k) * act(Xt @ (k * v)), atol=1e-12, rtol=1e-12)
    assert np.allclose(f, g, atol=1e-12 * (1 + np.abs(f).max()), rtol=0)


def test_derivation():
    doc = derive()
    assert doc.table_matches
    assert all(claim.holds for claim in doc.claims.values())
    text = doc.to_markdown()
    assert "duplicates" in text and "zero-type" in text
    assert "even linear positive scaling" in doc.to_latex()
