"""The ``layers=`` grammar: what it accepts, what it prints back, and the errors it gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.derivations.mlp.layers import (ACTIVATION_ARITY, ActivationSpec, LayerSpec, LayersSpec,
                                             parse_layers)
from gradflow.theory.errors import ParameterError


def test_the_documented_examples():
    spec = parse_layers("2,4:softplus,1:identity")
    assert spec.input_dim == 2 and spec.loss == "mse" and spec.output_dim == 1
    assert spec.layers[0] == LayerSpec(4, (ActivationSpec("softplus"),) * 4, True)
    assert spec.layers[1] == LayerSpec(1, (ActivationSpec("identity"),), True)

    spec = parse_layers("3,6:relu*3+tanh*3:nobias,2:softmax")
    assert spec.loss == "nll"
    assert [a.name for a in spec.layers[0].activations] == ["relu"] * 3 + ["tanh"] * 3
    assert not spec.layers[0].bias and spec.layers[1].bias


def test_the_last_layer_defaults_to_identity_and_numbers_go_in_brackets():
    spec = parse_layers("1,3:poly[0;1;0.5],2:leaky_relu[0.1]*1+tanh*1,1")
    assert spec.layers[0].activations[0] == ActivationSpec("poly", (0.0, 1.0, 0.5))
    assert spec.layers[1].activations == (ActivationSpec("leaky_relu", (0.1,)), ActivationSpec("tanh"))
    assert spec.layers[2].activations == (ActivationSpec("identity"),)
    assert str(spec) == "1,3:poly[0;1;0.5],2:leaky_relu[0.1]*1+tanh*1,1"


def _error(text: str) -> str:
    with pytest.raises(ParameterError) as info:
        parse_layers(text)
    assert info.value.parameter == "layers"
    return str(info.value)


@pytest.mark.parametrize("text, token, position, words", [
    ("0,3:tanh,1", "0", 1, "input dimension"),
    ("2", "", 2, "at least one layer"),
    ("2,4:tanhh,1", "tanhh", 5, "unknown activation, the known are identity, relu"),
    ("2,4,1", "4", 3, "hidden layer must name its activation"),
    ("2,0:tanh,1", "0", 3, "width must be >= 1"),
    ("2,x:tanh,1", "x", 3, "starts with its width"),
    ("2,4:relu*3+tanh*2,1", "relu*3+tanh*2", 5, "the counts sum to 5, not to the width 4"),
    ("2,4:relu*3+tanh,1", "tanh", 12, "every term is NAME*COUNT"),
    ("2,4:relu*0+tanh*4,1", "0", 10, "a count must be an integer >= 1"),
    ("2,4:softmax,1", "softmax", 5, "softmax is for the last layer only"),
    ("2,3:softmax*2+tanh*1", "softmax*2+tanh*1", 5, "softmax on every neuron"),
    ("2,3:poly[1;x],1", "x", 12, "a coefficient must be a finite number"),
    ("2,3:poly[1;1e999],1", "1e999", 12, "a coefficient must be a finite number"),
    ("2,3:poly,1", "poly", 5, "poly needs its coefficients"),
    ("2,3:tanh[1],1", "tanh[1]", 5, "tanh takes 0 numbers"),
    ("2,3:tanh:bias,1", "bias", 10, "a layer is WIDTH[:ACT][:nobias]"),
    ("2,3:tanh(1),1", "(1)", 9, "numbers follow a name in brackets"),
])
def test_errors_name_the_token_and_its_position(text, token, position, words):
    message = _error(text)
    assert words in message, message
    where = f"'{token}' at position {position}" if token else f"at position {position}"
    assert where in message, message
    if token:  # the position points at the token in the text as typed
        assert text[position - 1:position - 1 + len(token)] == token


def test_control_characters_in_a_token_are_escaped():
    message = _error("2,4:\x1b[31m,1")
    assert "\x1b" not in message and "\\x1b" in message


def test_only_text_is_accepted():
    with pytest.raises(ParameterError, match="layers: must be a text"):
        parse_layers(3)


_names = st.sampled_from([n for n, arity in ACTIVATION_ARITY.items() if arity == 0 and n != "softmax"])
_numbers = st.floats(-5, 5, allow_nan=False).map(lambda v: round(v, 3))


@st.composite
def _activation_specs(draw):
    kind = draw(st.sampled_from(["plain", "leaky", "poly"]))
    if kind == "leaky":
        return ActivationSpec("leaky_relu", (draw(_numbers),))
    if kind == "poly":
        return ActivationSpec("poly", tuple(draw(st.lists(_numbers, min_size=1, max_size=4))))
    return ActivationSpec(draw(_names))


@st.composite
def _layers_specs(draw):
    hidden = []
    for _ in range(draw(st.integers(0, 3))):
        runs = draw(st.lists(st.tuples(_activation_specs(), st.integers(1, 3)), min_size=1, max_size=3))
        activations = tuple(a for a, n in runs for _ in range(n))
        hidden.append(LayerSpec(len(activations), activations, draw(st.booleans())))
    width = draw(st.integers(1, 3))
    output = draw(st.sampled_from(["identity", "softmax", "tanh"]))
    hidden.append(LayerSpec(width, (ActivationSpec(output),) * width, draw(st.booleans())))
    return LayersSpec(draw(st.integers(1, 5)), tuple(hidden))


@settings(max_examples=200)
@given(_layers_specs())
def test_what_is_printed_parses_back_to_the_same_network(spec):
    assert parse_layers(str(spec)) == spec
