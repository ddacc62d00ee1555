"""One layer's forward, backward and second-order recursions, derived by SymPy.

The layer is z = W a (a: the previous layer's activations, with a 1 appended when the layer has a
bias), then sigma applied element-wise, and the rest of the network is an unknown function F of
the layer's output: l = F(sigma(z)).  SymPy differentiates l directly, for a concrete layer whose
every entry is a symbol and with sigma and F left undefined, and proves the recursions the kernels
run, in matrix form with sizes left symbolic:

  delta = dl/dz = D g,               D = diag sigma'(z), g = dl/d sigma(z)
  dl/dW = delta a^T,                 dl/da = W^T delta   (the next delta, one layer down)
  M = d2l/dz2 = D G D + diag(sigma''(z) * g),            G = d2l/d sigma(z)^2
  d2l/dW_ij dW_pq = M_ip a_j a_q,    d2l/dW_ij da_q = (W^T M)_qi a_j + delta_i [j = q]
  d2l/da da = W^T M W                (the M of the layer below, before its own sigma)

Each claim is checked twice: the difference simplifies to 0, and it vanishes at random numbers
with sigma = tanh and F a random quadratic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from gradflow.theory.derivation import Derivation, Draft

# concrete sizes of the proof (every entry a symbol); the statement is for any sizes
_PREVIOUS, _WIDTH = 2, 2


@dataclass(frozen=True, eq=False)
class LayerRecursions(Derivation):
    """The recursions as matrix expressions in symbolic sizes (for printing) and the proof's residuals."""

    forward: sp.Expr
    delta: sp.Expr
    weight_gradient: sp.Expr
    input_gradient: sp.Expr
    curvature: sp.Expr
    claims: dict  # name -> the largest residual at random numbers (the symbolic residuals are 0)


def _residuals(sigma, F):
    """Every claim's residuals (lists of expressions) for a layer of symbols, sigma and F given."""
    W = sp.Matrix(_WIDTH, _PREVIOUS, lambda i, j: sp.Symbol(f"W_{i}{j}", real=True))
    a = sp.Matrix(_PREVIOUS, 1, lambda i, _: sp.Symbol(f"a_{i}", real=True))
    z = W * a
    loss = F(*[sigma(z[i]) for i in range(_WIDTH)])
    u = sp.symbols(f"u0:{_WIDTH}", real=True)  # stand-ins for sigma(z_i) inside F's derivatives
    at = {u[i]: sigma(z[i]) for i in range(_WIDTH)}
    g = [sp.diff(F(*u), u[i]).subs(at) for i in range(_WIDTH)]
    G = [[sp.diff(F(*u), u[i], u[j]).subs(at) for j in range(_WIDTH)] for i in range(_WIDTH)]
    x = sp.Symbol("x", real=True)
    d1 = [sp.Subs(sp.Derivative(sigma(x), x), x, z[i]) for i in range(_WIDTH)]  # sigma'(z_i)
    d2 = [sp.Subs(sp.Derivative(sigma(x), (x, 2)), x, z[i]) for i in range(_WIDTH)]
    delta = [d1[i] * g[i] for i in range(_WIDTH)]
    M = [[d1[i] * G[i][j] * d1[j] + (d2[i] * g[i] if i == j else 0) for j in range(_WIDTH)] for i in range(_WIDTH)]
    rows, cols = range(_WIDTH), range(_PREVIOUS)
    claims = {
        "dl/dW = delta a^T": [sp.diff(loss, W[i, j]) - delta[i] * a[j] for i in rows for j in cols],
        "dl/da = W^T delta": [sp.diff(loss, a[q]) - sum(W[i, q] * delta[i] for i in rows) for q in cols],
        "d2l/dW dW = M_ip a_j a_q": [sp.diff(loss, W[i, j], W[p, q]) - M[i][p] * a[j] * a[q]
                                     for i in rows for j in cols for p in rows for q in cols],
        "d2l/dW da = (W^T M)_qi a_j + delta_i [j = q]": [
            sp.diff(loss, W[i, j], a[q]) - (sum(W[p, q] * M[p][i] for p in rows) * a[j] + (delta[i] if j == q else 0))
            for i in rows for j in cols for q in cols],
        "d2l/da da = W^T M W": [
            sp.diff(loss, a[q], a[r]) - sum(W[p, q] * M[p][s] * W[s, r] for p in rows for s in rows)
            for q in cols for r in cols],
    }
    return (*W, *a), claims


def symbolic_residuals() -> dict:
    """The claims with sigma and F undefined functions: each residual simplified (0 when proven)."""
    _, claims = _residuals(sp.Function("sigma"), sp.Function("F"))
    return {name: [sp.simplify(r.doit()) for r in residuals] for name, residuals in claims.items()}


def numeric_residuals(seed: int = 0) -> dict:
    """max |residual| of each claim with sigma = tanh, F a random quadratic, random numbers for the symbols."""
    rng = np.random.default_rng(seed)
    v = sp.symbols(f"v0:{_WIDTH}", real=True)
    A, b = sp.Matrix(rng.normal(size=(_WIDTH, _WIDTH))), sp.Matrix(rng.normal(size=_WIDTH))
    quadratic = sp.Lambda(v, (sp.Matrix(v).T * A * sp.Matrix(v))[0] + (b.T * sp.Matrix(v))[0])
    symbols, claims = _residuals(sp.Lambda(sp.Symbol("y"), sp.tanh(sp.Symbol("y"))), quadratic)
    values = {s: sp.Float(rng.normal()) for s in symbols}
    return {name: max(abs(float(r.doit().subs(values).evalf())) for r in residuals)
            for name, residuals in claims.items()}


@lru_cache(maxsize=None)
def layer_recursions() -> LayerRecursions:
    """Derive and check one layer's recursions (cached: the proof takes a few seconds)."""
    simplified = symbolic_residuals()
    numbers = numeric_residuals()
    for name, residuals in simplified.items():
        if any(r != 0 for r in residuals):
            raise AssertionError(f"the recursion {name} did not simplify to 0")
        if numbers[name] > 1e-12:
            raise AssertionError(f"the recursion {name} fails at random numbers ({numbers[name]:.1e})")

    k, m = sp.symbols("k_l k_{l-1}", positive=True, integer=True)
    W = sp.MatrixSymbol("W_l", k, m)
    a = sp.MatrixSymbol(r"\tilde{a}_{l-1}", m, 1)
    delta = sp.MatrixSymbol(r"\delta_l", k, 1)
    D = sp.MatrixSymbol("D_l", k, k)
    g = sp.MatrixSymbol("g_l", k, 1)
    G = sp.MatrixSymbol("G_l", k, k)
    S2 = sp.MatrixSymbol(r"\operatorname{diag}(\sigma_l''(z_l) \odot g_l)", k, k)
    forward = W * a
    draft = Draft("One layer of a multilayer perceptron: forward, backward and second order")
    draft.add("Forward", r"z_l = " + sp.latex(forward) + r", \quad a_l = \sigma_l(z_l)",
              "W_l is k_l x (k_{l-1} + bias); the bias is the last column, met by a 1 appended to a_{l-1}. "
              r"For every layer $l = 1, \dots, L$ and every input ($a_0$); $\sigma_l$ acts entrywise.")
    draft.add("Backward", r"\delta_l = " + sp.latex(D * g) + r", \quad \frac{\partial \ell}{\partial W_l} = "
              + sp.latex(delta * a.T) + r", \quad \frac{\partial \ell}{\partial \tilde{a}_{l-1}} = "
              + sp.latex(W.T * delta),
              "D_l = diag sigma_l'(z_l) and g_l the gradient of the loss in a_l; the last line is g_{l-1} "
              "(bias entry dropped). "
              r"For every layer $l$ and the loss $\ell$ of one sample, wherever $\sigma_l$ is differentiable at "
              r"every entry of $z_l$ (ReLU: off the kink $z = 0$).",
              "simplifies to 0 for a layer of symbols with sigma and the rest of the network undefined; and at random "
              "numbers")
    draft.add("Second order", r"M_l = \frac{\partial^2 \ell}{\partial z_l^2} = " + sp.latex(D * G * D + S2)
              + r", \quad \frac{\partial^2 \ell}{\partial \tilde{a}_{l-1}^2} = " + sp.latex(W.T * sp.MatrixSymbol(
                  "M_l", k, k) * W),
              "G_l is the Hessian of the loss in a_l; with the backward line it gives the Hessian of every "
              "pair of layers: d2l/dW_l[i,j] dW_l[p,q] = M_l[i,p] a_j a_q, and the mixed term "
              "(W_l^T M_l)[q,i] a_j + delta_l[i] [j = q] with the layer below. "
              r"For every layer $l$, wherever $\sigma_l$ is twice differentiable at every entry of $z_l$ and the loss "
              r"twice differentiable in $a_l$ (ReLU: off the kinks, where $\sigma_l'' = 0$).",
              "simplifies to 0; and at random numbers")
    return draft.finish(LayerRecursions, forward=forward, delta=D * g, weight_gradient=delta * a.T,
                        input_gradient=W.T * delta, curvature=D * G * D + S2,
                        claims=numbers)
