"""The ``layers=`` grammar of the ``mlp`` model: a network written on one line.

    LAYERS = D0 "," LAYER ("," LAYER)*
    LAYER  = WIDTH [":" ACT] [":nobias"]
    ACT    = TERM ("+" TERM)*            one activation, or one per neuron in runs
    TERM   = NAME ["[" NUMBER (";" NUMBER)* "]"] ["*" COUNT]

Examples: ``2,4:softplus,1:identity`` (one hidden layer of 4 softplus neurons, identity output),
``3,6:relu*3+tanh*3:nobias,2:softmax`` (three ReLU and three tanh neurons without biases, a softmax
output, trained with the negative log-likelihood), ``1,3:poly[0;1;0.5],1`` (sigma(z) = z + z^2/2),
``2,5:leaky_relu[0.1],1``.  The last layer defaults to identity; hidden layers must name their
activation.  With ``+``, every term carries a count and the counts sum to the width.

Parsing is by hand on a fixed alphabet: names are looked up in the list of known activations and
numbers must be plain ASCII decimals, so no text reaches eval or sympify.  Every error names the
``layers`` key, the offending token and its 1-based position.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gradflow.theory.errors import ParameterError, printable

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_COUNT = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")

# The activations a layer may name and how many bracketed numbers each takes (None: one or more).
ACTIVATION_ARITY = {
    "identity": 0, "relu": 0, "leaky_relu": (0, 1), "abs": 0, "tanh": 0, "sigmoid": 0, "softplus": 0,
    "g": 0, "gelu": 0, "silu": 0, "selu": 0, "erf": 0, "erf2": 0, "normal_cdf": 0, "square": 0,
    "cube": 0, "poly": None, "softmax": 0,
}


@dataclass(frozen=True)
class ActivationSpec:
    """One activation by name, with its numbers (leaky_relu's slope, poly's coefficients)."""

    name: str
    params: tuple[float, ...] = ()

    def __str__(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}[{';'.join(_number_text(p) for p in self.params)}]"


@dataclass(frozen=True)
class LayerSpec:
    """A layer as written: its width, one activation per neuron, and whether it has biases."""

    width: int
    activations: tuple[ActivationSpec, ...]
    bias: bool = True

    def __str__(self) -> str:
        runs, start = [], 0
        while start < self.width:
            stop = start
            while stop < self.width and self.activations[stop] == self.activations[start]:
                stop += 1
            runs.append((self.activations[start], stop - start))
            start = stop
        act = str(runs[0][0]) if len(runs) == 1 else "+".join(f"{a}*{n}" for a, n in runs)
        return f"{self.width}:{act}" + ("" if self.bias else ":nobias")


@dataclass(frozen=True)
class LayersSpec:
    """A whole ``layers=`` value: the input dimension and the layers, first to last."""

    input_dim: int
    layers: tuple[LayerSpec, ...]

    @property
    def loss(self) -> str:
        """``nll`` for a softmax output, ``mse`` otherwise."""
        return "nll" if self.layers[-1].activations[0].name == "softmax" else "mse"

    @property
    def output_dim(self) -> int:
        return self.layers[-1].width

    def __str__(self) -> str:
        """The canonical text: the output layer's identity, its default, is left out."""
        last = self.layers[-1]
        output = str(last)
        if all(a == ActivationSpec("identity") for a in last.activations):
            output = f"{last.width}" + ("" if last.bias else ":nobias")
        return ",".join([str(self.input_dim), *map(str, self.layers[:-1]), output])


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


class _Error(Exception):
    def __init__(self, message: str, token: str, position: int):
        self.message, self.token, self.position = message, token, position


def _fail(text: str, error: _Error, key: str):
    shown = printable(error.token) if error.token else "the end"
    where = f"'{shown}' at position {error.position}" if error.token else f"at position {error.position}"
    raise ParameterError(key, f"D0,WIDTH[:ACT][:nobias],... ({error.message}: {where})", text) from None


def parse_layers(text: str, key: str = "layers") -> LayersSpec:
    """The network a ``layers=`` value describes, or a ParameterError naming ``key``, the offending
    token and its position (1-based)."""
    if not isinstance(text, str):
        raise ParameterError(key, "a text such as 2,4:softplus,1", text)
    try:
        return _parse(text)
    except _Error as error:
        _fail(text, error, key)


def _items(text: str):
    """(item, position) for the comma-separated items, positions 1-based."""
    start = 0
    for part in text.split(","):
        yield part, start + 1
        start += len(part) + 1


def _parse(text: str) -> LayersSpec:
    items = list(_items(text))
    first, at = items[0]
    if not _COUNT.fullmatch(first.strip()) or int(first) < 1:
        raise _Error("the input dimension D0 must be an integer >= 1", first, at)
    if len(items) < 2:
        raise _Error("at least one layer must follow D0", "", len(text) + 1)
    layers = []
    for index, (item, position) in enumerate(items[1:]):
        last = index == len(items) - 2
        layers.append(_layer(item, position, last))
    return LayersSpec(int(first), tuple(layers))


def _layer(item: str, position: int, last: bool) -> LayerSpec:
    fields = item.split(":")
    starts = [position]
    for field in fields[:-1]:
        starts.append(starts[-1] + len(field) + 1)
    width_text = fields[0]
    if not _COUNT.fullmatch(width_text):
        raise _Error("a layer starts with its width, an integer", width_text, position)
    width = int(width_text)
    if width < 1:
        raise _Error("a layer's width must be >= 1", width_text, position)
    bias = True
    rest = list(zip(fields[1:], starts[1:]))
    if rest and rest[-1][0] == "nobias":
        bias = False
        rest.pop()
    if len(rest) > 1:
        raise _Error("a layer is WIDTH[:ACT][:nobias]", rest[1][0], rest[1][1])
    if not rest:
        if not last:
            raise _Error("a hidden layer must name its activation (WIDTH:ACT)", item, position)
        activations = (ActivationSpec("identity"),) * width
    else:
        activations = _activations(rest[0][0], rest[0][1], width)
    if any(a.name == "softmax" for a in activations):
        if not last:
            raise _Error("softmax is for the last layer only", rest[0][0], rest[0][1])
        if len(set(activations)) > 1:
            raise _Error("a softmax layer has softmax on every neuron", rest[0][0], rest[0][1])
    return LayerSpec(width, activations, bias)


def _activations(text: str, position: int, width: int) -> tuple[ActivationSpec, ...]:
    terms, start = [], 0
    for term in text.split("+"):
        terms.append((term, position + start))
        start += len(term) + 1
    if len(terms) == 1 and "*" not in terms[0][0]:
        return (_activation(*terms[0]),) * width
    out = []
    for term, at in terms:
        name, star, count = term.partition("*")
        if not star:
            raise _Error("with several activations every term is NAME*COUNT", term, at)
        spec = _activation(name, at)
        count_at = at + len(name) + 1
        if not _COUNT.fullmatch(count) or int(count) < 1:
            raise _Error("a count must be an integer >= 1", count, count_at)
        out.extend([spec] * int(count))
    if len(out) != width:
        raise _Error(f"the counts sum to {len(out)}, not to the width {width}", text, position)
    return tuple(out)


def _activation(text: str, position: int) -> ActivationSpec:
    name_match = _NAME.match(text)
    name = name_match.group(0) if name_match else ""
    if name not in ACTIVATION_ARITY:
        known = ", ".join(ACTIVATION_ARITY)
        raise _Error(f"unknown activation, the known are {known}", name or text, position)
    rest = text[len(name):]
    params: tuple[float, ...] = ()
    if rest:
        if not (rest.startswith("[") and rest.endswith("]")):
            raise _Error("numbers follow a name in brackets, NAME[c0;c1]", rest, position + len(name))
        params = _numbers(rest[1:-1], position + len(name) + 1)
    arity = ACTIVATION_ARITY[name]
    allowed = (0,) if arity == 0 else arity if isinstance(arity, tuple) else None
    if allowed is not None and len(params) not in allowed:
        raise _Error(f"{name} takes {' or '.join(map(str, allowed))} numbers", text, position)
    if arity is None and not params:
        raise _Error(f"{name} needs its coefficients, {name}[c0;c1;...]", text, position)
    return ActivationSpec(name, params)


def _numbers(text: str, position: int) -> tuple[float, ...]:
    out, start = [], 0
    for part in text.split(";"):
        at = position + start
        start += len(part) + 1
        if not _NUMBER.fullmatch(part) or not math.isfinite(float(part)):
            raise _Error("a coefficient must be a finite number", part, at)
        out.append(float(part))
    return tuple(out)
