"""Splitting one neuron of a critical point: the critical line and the Fukumizu-Amari quadratic form.

A width-1 network f(x) = a sigma(w . x) (bias-free, scalar output) at a critical point of
L = (1/N) sum_mu ell(f(x_mu), y_mu).  Split it into two neurons with the same incoming vector and
outgoing weights beta a and (1 - beta) a:

* f is unchanged for every beta, and the split point is critical for every beta (the line
  u_1 = beta a, u_2 = (1 - beta) a of critical points): grad_{w_1} = beta grad_w L_1,
  grad_{w_2} = (1 - beta) grad_w L_1, grad_{a_1} = grad_{a_2} = grad_a L_1.
* Along v(xi) = (dw_1, dw_2) = ((1 - beta) xi, -beta xi) the output is unchanged to first order, and

      Q_beta(xi) = v^T H v = beta (1 - beta) xi^T M xi,
      M = (1/N) sum_mu ell'_mu a sigma''(w . x_mu) x_mu x_mu^T,   ell'_mu = d ell / d f at x_mu,

  so the curvature across the line changes sign at beta = 0 and beta = 1 (where one copy has
  outgoing weight 0 and its incoming vector is free).

Proof: d = 2 inputs, N = 2 samples, every number a symbol, sigma and ell undefined; v^T H v is the
second derivative of L along the straight line theta + t v at t = 0.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradflow.theory.symmetry.claims import identity_claim
from gradflow.theory.verify import Claim

_DIM, _SAMPLES = 2, 2

beta, t = sp.symbols("beta t", real=True)


class SplitProblem:
    """Symbols of the width-1 network, its split, and the direction v(xi)."""

    def __init__(self):
        self.sigma, self.ell = sp.Function("sigma"), sp.Function("ell")
        self.w = sp.Matrix(sp.symbols(f"w0:{_DIM}", real=True))
        self.xi = sp.Matrix(sp.symbols(f"xi0:{_DIM}", real=True))
        self.a = sp.Symbol("a", real=True)
        self.x = [sp.Matrix(sp.symbols(f"x{mu}_0:{_DIM}", real=True)) for mu in range(_SAMPLES)]
        self.y = sp.symbols(f"y0:{_SAMPLES}", real=True)
        self.w1 = sp.Matrix(sp.symbols(f"w1_0:{_DIM}", real=True))
        self.w2 = sp.Matrix(sp.symbols(f"w2_0:{_DIM}", real=True))
        self.a1, self.a2 = sp.symbols("a1 a2", real=True)

    @property
    def symbols(self) -> tuple:
        return (*self.w, *self.xi, self.a, *(s for x in self.x for s in x), *self.y, *self.w1, *self.w2,
                self.a1, self.a2, beta, t)

    def _pre(self, w, mu):
        return (w.T * self.x[mu])[0]

    def _output(self, neurons, mu: int) -> sp.Expr:
        return sum(a * self.sigma(self._pre(w, mu)) for w, a in neurons)

    def output(self, mu: int) -> sp.Expr:
        """The split network's output at sample mu."""
        return self._output(((self.w1, self.a1), (self.w2, self.a2)), mu)

    def loss(self, neurons) -> sp.Expr:
        return sum(self.ell(self._output(neurons, mu), self.y[mu]) for mu in range(_SAMPLES)) / _SAMPLES

    def narrow(self) -> sp.Expr:
        return self.loss([(self.w, self.a)])

    def split(self) -> sp.Expr:
        return self.loss([(self.w1, self.a1), (self.w2, self.a2)])

    def split_point(self, along: bool = False) -> dict:
        """The split point (at t = 0), or the line theta + t v(xi) through it."""
        s = t if along else 0
        w1, w2 = self.w + s * (1 - beta) * self.xi, self.w - s * beta * self.xi
        return {**dict(zip(self.w1, w1)), **dict(zip(self.w2, w2)),
                self.a1: beta * self.a, self.a2: (1 - beta) * self.a}

    def M(self) -> sp.Matrix:
        z, f = sp.symbols("z f", real=True)
        out = sp.zeros(_DIM, _DIM)
        for mu in range(_SAMPLES):
            pre = self._pre(self.w, mu)
            slope = sp.diff(self.ell(f, self.y[mu]), f).subs(f, self.a * self.sigma(pre))
            curvature = sp.diff(self.sigma(z), z, 2).subs(z, pre)
            out += slope * self.a * curvature * self.x[mu] * self.x[mu].T / _SAMPLES
        return out


def _concrete(pb: SplitProblem, rng) -> dict:
    z, f, y = sp.symbols("z f y", real=True)
    c = rng.normal(size=4)
    ell = (f - y) ** 2 + c[0] * (f - y) ** 3 / 3 + c[1] * f * y
    return {pb.sigma: sp.Lambda(z, sp.tanh(z) + c[2] * z ** 2 / 4), pb.ell: sp.Lambda((f, y), ell)}


def quadratic_form() -> sp.Expr:
    """beta (1 - beta) xi^T M xi, with M as a matrix symbol (for printing)."""
    M = sp.MatrixSymbol("M", _DIM, _DIM)
    xi = sp.MatrixSymbol(r"\xi", _DIM, 1)
    return beta * (1 - beta) * (xi.T * M * xi)


def critical_line_claims(points: int = 3, seed: int = 0) -> dict[str, Claim]:
    pb = SplitProblem()
    rng = np.random.default_rng(seed)
    concrete = _concrete(pb, rng)
    wide, narrow = pb.split(), pb.narrow()
    point, line = pb.split_point(), pb.split_point(along=True)
    grad_w = [sp.diff(narrow, s) for s in pb.w]
    along = wide.xreplace(line)
    form = beta * (1 - beta) * (pb.xi.T * pb.M() * pb.xi)[0]
    pairs = {
        "splitting keeps the loss (any beta)": [(wide.xreplace(point), narrow)],
        "split gradients: beta and (1 - beta) times the narrow incoming gradient":
            [(sp.diff(wide, s1).xreplace(point), beta * g) for s1, g in zip(pb.w1, grad_w)]
            + [(sp.diff(wide, s2).xreplace(point), (1 - beta) * g) for s2, g in zip(pb.w2, grad_w)],
        "split gradients: both outgoing weights get the narrow outgoing gradient":
            [(sp.diff(wide, pb.a1).xreplace(point), sp.diff(narrow, pb.a)),
             (sp.diff(wide, pb.a2).xreplace(point), sp.diff(narrow, pb.a))],
        "the output is unchanged to first order along v(xi)":
            [(sp.diff(pb.output(mu).xreplace(line), t).subs(t, 0), 0) for mu in range(_SAMPLES)],
        "Fukumizu-Amari form: v^T H v = beta (1 - beta) xi^T M xi": [(sp.diff(along, t, 2).subs(t, 0), form)],
    }
    return {name: identity_claim(name, items, pb.symbols, concrete, rng, points) for name, items in pairs.items()}
