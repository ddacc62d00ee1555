"""The split identity: sigma((1+e)u) + sigma((1-e)u) - 2 sigma(u) = e^2 u^2 sigma''(u) + O(e^4), proved by the
series in e and measured in floating point (the remainder shrinks like e^4)."""

import numpy as np
import pytest
import sympy as sp
from scipy.special import expit

from gradflow.theory.expand_cluster.derivation import SPLIT_ACTIVATIONS, split_claim
from gradflow.theory.verify import vanishes


@pytest.mark.parametrize("name", SPLIT_ACTIVATIONS)
def test_split_identity_is_proved(name):
    assert split_claim(name).holds


def test_a_wrong_second_order_term_is_refused():
    u, e = sp.symbols("u e", real=True)
    series = sp.series(sp.tanh((1 + e) * u) + sp.tanh((1 - e) * u) - 2 * sp.tanh(u), e, 0, 4).removeO()
    assert not vanishes(series - e ** 2 * u * sp.diff(sp.tanh(u), u, 2)).holds  # u instead of u^2


def test_the_remainder_is_fourth_order_in_floating_point():
    u = np.linspace(-3, 3, 61)
    second = lambda x: -2 * np.tanh(x) / np.cosh(x) ** 2  # tanh''  # noqa: E731
    remainders = []
    for e in (1e-1, 5e-2):
        r = np.tanh((1 + e) * u) + np.tanh((1 - e) * u) - 2 * np.tanh(u) - e ** 2 * u ** 2 * second(u)
        remainders.append(np.max(np.abs(r)))
    assert np.log(remainders[0] / remainders[1]) / np.log(2) == pytest.approx(4, abs=0.1)
    sig = expit(u)
    assert np.all(np.abs(expit(1.01 * u) + expit(0.99 * u) - 2 * sig - 1e-4 * u ** 2 * sig * (1 - sig) * (1 - 2 * sig))
                  < 1e-8)
