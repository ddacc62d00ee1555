"""Flow, Map and reductions: closure is proved, not assumed."""

import numpy as np
import pytest
import sympy as sp

from gradflow.theory import ClosureError, Flow, Map

x, y, z, a = sp.symbols("x y z a", real=True)


def test_reduction_accepted_when_closed():
    # d/dt (x + y) for dx/dt = -(x + y), dy/dt = -(x + y) is -2 (x + y): closed in s = x + y
    s = sp.Symbol("s")
    flow = Flow((x, y), (-(x + y), -(x + y)), ())
    reduced = flow.reduce({s: x + y}, {x: s - y})
    assert sp.simplify(reduced.rhs[0] + 2 * s) == 0


def test_reduction_rejected_when_not_closed():
    s = sp.Symbol("s")
    flow = Flow((x, y), (-x, -y**2), ())
    with pytest.raises(ClosureError, match="not closed"):
        flow.reduce({s: x + y}, {x: s - y})


def test_flow_rejects_unknown_symbols():
    with pytest.raises(ValueError, match="neither states nor params"):
        Flow((x,), (a * x,), ())


def test_map_reduction_matches_iteration():
    # GD map of the flow dx/dt = -x, dy/dt = -x: the difference d = x - y stays constant? no:
    # d' = (x - eta x) - (y - eta x) = x - y. Closed and equal to the identity.
    eta, d = sp.symbols("eta d", positive=True)
    flow = Flow((x, y), (-x, -x), ())
    gd = flow.gradient_descent_map(eta)
    reduced = gd.reduce({d: x - y}, {x: d + y})
    assert sp.simplify(reduced.update[0] - d) == 0


def test_time_derivative_detects_non_conserved():
    flow = Flow((x, y), (y, -x), ())
    assert flow.time_derivative(x**2 + y**2) == 0
    assert flow.time_derivative(x * y) != 0


def test_map_increments_and_latex():
    eta = sp.Symbol("eta", positive=True)
    gd = Flow((x,), (-a * x,), (a,)).gradient_descent_map(eta)
    assert isinstance(gd, Map)
    assert sp.simplify(gd.increments[0] + eta * a * x) == 0
    assert "x" in gd.latex() and r"\eta" in gd.latex()


def test_public_strategies_respect_their_bounds():
    from hypothesis import given, settings

    from gradflow.theory.strategies import orthogonal_memory_settings, probability_vectors

    @settings(max_examples=30)
    @given(p=probability_vectors(2, 5, p_min=1e-2), s=orthogonal_memory_settings(m_max=9, eta_low=0.1, eta_high=10))
    def check(p, s):
        assert 2 <= p.size <= 5 and abs(p.sum() - 1) < 1e-12 and np.all(p > 0)
        assert 2 <= s["M"] <= 9 and 0.1 * (1 - 1e-12) <= s["eta"] <= 10 * (1 + 1e-12) and s["N"] == s["p"].size

    check()


def test_vanishes_checks_both_ways():
    from gradflow.theory.verify import vanishes

    M = sp.Symbol("M", integer=True, positive=True)
    p = sp.Symbol("p", positive=True)
    assert vanishes(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1).holds
    claim = vanishes(sp.log(p * M) - sp.log(p) - sp.log(M) + x - x)
    assert claim.holds and claim.points == 12
    wrong = vanishes(sp.exp(x) - 1 - x)
    assert not wrong.simplifies_to_zero and wrong.max_abs_at_random_points > 1e-3 and not wrong.holds
