"""The hand-written NumPy oracles' own pieces, against SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import log_softmax as scipy_log_softmax
from scipy.special import softmax as scipy_softmax

from gradflow.derivations.associative_memory.oracles import log_softmax, softmax

LOGITS = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)),
                elements=st.floats(-800.0, 800.0, allow_nan=False))


@settings(max_examples=60)
@given(S=LOGITS, axis=st.sampled_from([0, 1, -1]))
def test_log_softmax_and_softmax_equal_scipys_even_where_exp_overflows(S, axis):
    # |S| up to 800: exp(800) overflows, so only a shifted sum stays finite
    assert np.allclose(log_softmax(S, axis), scipy_log_softmax(S, axis=axis), rtol=1e-13, atol=1e-12)
    assert np.allclose(softmax(S, axis), scipy_softmax(S, axis=axis), rtol=1e-13, atol=1e-300)
    assert np.allclose(softmax(S, axis).sum(axis=axis), 1.0, rtol=1e-13)


def test_a_small_logit_keeps_its_digits():
    S = np.array([[0.0, -40.0]])
    assert log_softmax(S, 1)[0, 1] == pytest.approx(-40.0 - np.log1p(np.exp(-40.0)), rel=1e-15)
