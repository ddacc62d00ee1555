"""Public Hypothesis strategies for model instances, so users can property-test conjectures.

Each strategy draws plain numbers (sizes, probabilities, step sizes) within explicit bounds;
the bounds are parameters, never hidden.  Needs hypothesis (a core dependency)::

    from hypothesis import given
    from gradflow.theory.strategies import orthogonal_memory_settings

    @given(orthogonal_memory_settings(m_max=10, eta_high=10.0))
    def test_my_claim(settings):
        ...  # settings = {"N": ..., "M": ..., "p": array, "eta": ...}
"""

from __future__ import annotations

import numpy as np

try:
    from hypothesis import strategies as st
except ImportError as error:  # hypothesis is a core dependency; guard kept for stripped installs
    raise ImportError("gradflow.theory.strategies needs hypothesis: pip install 'gradflow[test]'") from error


@st.composite
def probability_vectors(draw, n_min: int = 1, n_max: int = 8, p_min: float = 1e-3):
    """A probability vector with every entry >= p_min / n (positive, sums to 1)."""
    n = draw(st.integers(n_min, n_max))
    raw = np.array(draw(st.lists(st.floats(p_min, 1.0), min_size=n, max_size=n)))
    return raw / raw.sum()


@st.composite
def memory_sizes(draw, n_max: int = 8, m_max: int = 8, d_max: int = 8):
    """(N, M, d) with N >= 1, M >= 2, d >= 1."""
    return draw(st.integers(1, n_max)), draw(st.integers(2, m_max)), draw(st.integers(1, d_max))


def step_sizes(low: float = 1e-3, high: float = 1e2):
    """eta drawn log-uniformly in [low, high]."""
    return st.floats(np.log(low), np.log(high)).map(lambda v: float(np.exp(v)))


@st.composite
def orthogonal_memory_settings(draw, n_max: int = 8, m_max: int = 50, eta_low: float = 1e-3, eta_high: float = 1e2):
    """Settings of the orthogonal associative memory: N, M, p, eta."""
    p = draw(probability_vectors(1, n_max))
    return {"N": p.size, "M": draw(st.integers(2, m_max)), "p": p, "eta": draw(step_sizes(eta_low, eta_high))}


SMOOTH_ACTIVATIONS = ("identity", "tanh", "sigmoid", "softplus", "g", "gelu", "silu", "erf", "erf2", "normal_cdf",
                      "square", "cube")
KINKED_ACTIVATIONS = ("relu", "leaky_relu", "abs")


@st.composite
def mlps(draw, hidden_min: int = 1, hidden_max: int = 3, width_max: int = 6, input_max: int = 4, output_max: int = 3,
         kinks: bool = True, losses: tuple = ("mse", "nll")):
    """A ``gradflow.theory.mlp.Network``: 1-3 hidden layers of widths 1..6 with per-neuron activations
    (kinked ones only when ``kinks``), biases on or off per layer, D0 in 1..4, k_L in 1..3 outputs
    (2..3 classes for the nll loss, whose output is softmax)."""
    from gradflow.theory.mlp import Layer, Network

    names = SMOOTH_ACTIVATIONS + (KINKED_ACTIVATIONS if kinks else ())
    layers = []
    for _ in range(draw(st.integers(hidden_min, hidden_max))):
        width = draw(st.integers(1, width_max))
        acts = draw(st.lists(st.sampled_from(names), min_size=1, max_size=width))
        per_neuron = tuple(acts[i % len(acts)] for i in range(width))
        layers.append(Layer(width, per_neuron, draw(st.booleans())))
    loss = draw(st.sampled_from(losses))
    if loss == "nll":
        layers.append(Layer(draw(st.integers(2, max(2, output_max))), "softmax", draw(st.booleans())))
    else:
        output = draw(st.sampled_from(("identity", "identity", "tanh")))
        layers.append(Layer(draw(st.integers(1, output_max)), output, draw(st.booleans())))
    return Network(draw(st.integers(1, input_max)), tuple(layers), loss=loss)
