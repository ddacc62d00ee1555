"""Plateau of a duplicated neuron and the critical line of a split neuron: SymPy claims, their
failure on a wrong formula, and NumPy oracles (finite differences) at random networks."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from gradflow.theory.symmetry.claims import identity_claim
from gradflow.theory.symmetry.critical_line import critical_line_claims
from gradflow.theory.symmetry.plateau import PlateauProblem, plateau_claims


@pytest.fixture(scope="module")
def plateau():
    return plateau_claims()


def test_plateau_claims_hold(plateau):
    assert len(plateau) == 8
    assert all(c.holds for c in plateau.values()), [str(c) for c in plateau.values() if not c.holds]


def test_a_wrong_plateau_gradient_is_caught():
    """B without the 1/N: the identity must fail both ways."""
    pb = PlateauProblem()
    L = pb.wide_loss()
    grad = [sp.diff(L, s).xreplace(pb.plateau()) for s in pb.wide["wi"]]
    wrong = 2 * pb.B().T * (pb.u_bar / 2 + pb.e)  # N = 2
    t = sp.Symbol("t")
    v = sp.symbols("v0:3", real=True)
    concrete = {pb.sigma: sp.Lambda(t, sp.tanh(t)), pb.ell: sp.Lambda(v, v[0] ** 2 + 2 * v[1] ** 2 + v[0] * v[2])}
    claim = identity_claim("wrong", list(zip(grad, wrong)), pb.symbols, concrete, np.random.default_rng(0))
    assert not claim.simplifies_to_zero and claim.max_abs_at_random_points > 1e-6


def test_critical_line_claims_hold():
    claims = critical_line_claims()
    assert len(claims) == 5
    assert all(c.holds for c in claims.values()), [str(c) for c in claims.values() if not c.holds]


# --- NumPy oracles --------------------------------------------------------------------------------------

def _one_hidden(X, W, b, U, c):
    """f = U tanh(W x + b) + c for each row x of X."""
    return np.tanh(X @ W.T + b) @ U.T + c


def _mse(F, Y):
    return float(np.mean(np.sum((F - Y) ** 2, axis=1)))


def _fd(fun, x, step=1e-6):
    g = np.empty_like(x)
    for a in range(x.size):
        e = np.zeros_like(x)
        e.flat[a] = step
        g.flat[a] = (fun(x + e) - fun(x - e)) / (2 * step)
    return g


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2 ** 31 - 1), inputs=st.integers(1, 3), outputs=st.integers(1, 3),
       others=st.integers(0, 2), scale=st.floats(0.1, 2.0))
def test_plateau_numbers(seed, inputs, outputs, others, scale):
    rng = np.random.default_rng(seed)
    N = 6
    X, Y = rng.normal(size=(N, inputs)), rng.normal(size=(N, outputs))
    w_bar, b_bar = rng.normal(size=inputs), rng.normal()
    u_bar = rng.normal(size=outputs)
    W_o, b_o, U_o = rng.normal(size=(others, inputs)), rng.normal(size=others), rng.normal(size=(outputs, others))
    c = rng.normal(size=outputs)
    e = scale * rng.normal(size=outputs)

    def wide(wi, wj, ui, uj):
        W = np.vstack([wi[:-1], wj[:-1], W_o])
        b = np.concatenate([[wi[-1], wj[-1]], b_o])
        return _mse(_one_hidden(X, W, b, np.column_stack([ui, uj, U_o]), c), Y)

    def reduced(wb):
        return _mse(_one_hidden(X, np.vstack([wb[:-1], W_o]), np.concatenate([[wb[-1]], b_o]),
                                np.column_stack([u_bar, U_o]), c), Y)

    wb = np.append(w_bar, b_bar)
    L_red = reduced(wb)
    assert abs(wide(wb, wb, u_bar / 2 + e, u_bar / 2 - e) - L_red) <= 1e-12 * L_red
    # B[o, :] = (1/N) sum delta_o sigma'(w-bar . h~) h~, delta = 2 (f - y) for the squared error
    F = _one_hidden(X, np.vstack([w_bar, W_o]), np.concatenate([[b_bar], b_o]), np.column_stack([u_bar, U_o]), c)
    H = np.column_stack([X, np.ones(N)])
    slope = 1 - np.tanh(H @ wb) ** 2
    B = (2 * (F - Y)).T @ (slope[:, None] * H) / N
    g_i = _fd(lambda w: wide(w, wb, u_bar / 2 + e, u_bar / 2 - e), wb)
    g_j = _fd(lambda w: wide(wb, w, u_bar / 2 + e, u_bar / 2 - e), wb)
    assert np.allclose(g_i, B.T @ (u_bar / 2 + e), atol=1e-8)
    assert np.allclose(g_j, B.T @ (u_bar / 2 - e), atol=1e-8)
    assert np.allclose(_fd(reduced, wb), B.T @ u_bar, atol=1e-8)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2 ** 31 - 1), beta=st.floats(-1.0, 2.0), dim=st.integers(1, 3))
def test_fukumizu_amari_form_numbers(seed, beta, dim):
    rng = np.random.default_rng(seed)
    N = 8
    X, y = rng.normal(size=(N, dim)), rng.normal(size=N)
    w, a, xi = rng.normal(size=dim), rng.normal(), rng.normal(size=dim)

    def loss(t):
        w1, w2 = w + t * (1 - beta) * xi, w - t * beta * xi
        f = beta * a * np.tanh(X @ w1) + (1 - beta) * a * np.tanh(X @ w2)
        return np.mean((f - y) ** 2)

    step = 1e-4
    second = (loss(step) - 2 * loss(0.0) + loss(-step)) / step ** 2
    z = X @ w
    residual = a * np.tanh(z) - y
    tanh2 = -2 * np.tanh(z) * (1 - np.tanh(z) ** 2)
    M = (X * (2 * residual * a * tanh2)[:, None]).T @ X / N
    expected = beta * (1 - beta) * xi @ M @ xi
    assert abs(second - expected) <= 1e-5 * (1 + abs(expected))
    # the first derivative vanishes: a central difference is (h^2 / 6) L^(3)(0) + O(h^4), which a large third
    # derivative pushes past any fixed bound (3e-7 at h = 1e-4 for one draw), so that term is extrapolated away
    def central(h):
        return (loss(h) - loss(-h)) / (2 * h)

    first = (4 * central(5e-4) - central(1e-3)) / 3
    assert abs(first) <= 1e-7 * (1 + abs(loss(0.0)))
