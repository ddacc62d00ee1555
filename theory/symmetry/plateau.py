"""A neuron duplicated: the plateau it lies on, the gradient there, the antisymmetric Hessian block.

Neurons i and j of a hidden layer carry incoming vectors w (with the bias) and outgoing vectors u.
Coordinates around the collision subspace w_i = w_j, u_i = u_j:

    w_i = w-bar + q/2,  w_j = w-bar - q/2,   u_i = u-bar/2 + e,  u_j = u-bar/2 - e.

At q = 0 (the plateau Pi(theta_P), e free) the next layer receives (u_i + u_j) sigma(w-bar . h~)
= u-bar sigma(w-bar . h~): the wide loss equals the reduced network's loss (w-bar, u-bar) for every e,
and with B[o, :] = (1/N) sum_mu delta_o(x_mu) sigma'(w-bar . h~_mu) h~_mu (delta: the back-propagated
error at the next layer's pre-activations),

    grad_{w_i} L = B^T (u-bar/2 + e),  grad_{w_j} L = B^T (u-bar/2 - e),
    grad_{u_i} L = grad_{u_j} L = grad_{u-bar} L_red,  grad_{w-bar} L_red = B^T u-bar,

so at a critical point of the reduced network the only non-zero gradient on the plateau is
(B^T e, -B^T e).  Second order: d2L/de2 = 0 on the plateau, d2L/de dq = B there, and at
theta_P (e = q = 0) the mixed symmetric-antisymmetric blocks vanish (the Hessian is block diagonal).

Proof network (sizes do not enter the argument): the layer's input h~ = (h, 1) per sample, two
outputs, one more neuron o, N = 2 samples, and the rest of the network an undefined function
ell(z_0, z_1, c) of the next pre-activations (c a per-sample symbol: the target and everything
downstream).  sigma undefined; numbers with sigma = tanh and ell a random quadratic.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradflow.theory.symmetry.claims import identity_claim, tanh_and_quadratic
from gradflow.theory.verify import Claim

_IN, _OUT, _SAMPLES = 2, 2, 2


def _vector(name: str, size: int = _IN) -> sp.Matrix:
    return sp.Matrix(sp.symbols(f"{name}0:{size}", real=True))


class PlateauProblem:
    """The symbols and losses of the proof network."""

    def __init__(self):
        self.sigma, self.ell = sp.Function("sigma"), sp.Function("ell")
        self.h = sp.symbols(f"h0:{_SAMPLES}", real=True)
        self.c = sp.symbols(f"c0:{_SAMPLES}", real=True)
        self.inputs = [sp.Matrix([hm, 1]) for hm in self.h]  # h~ with the bias entry
        self.w_bar, self.u_bar = _vector("wbar"), _vector("ubar", _OUT)
        self.e, self.q = _vector("e", _OUT), _vector("q")
        self.w_o, self.u_o = _vector("wo"), _vector("uo", _OUT)
        self.wide = {name: _vector(name, size) for name, size in
                     (("wi", _IN), ("wj", _IN), ("ui", _OUT), ("uj", _OUT))}
        self.stand_in = sp.symbols(f"z0:{_OUT}", real=True)

    @property
    def symbols(self) -> tuple:
        return (*self.h, *self.c, *self.w_bar, *self.u_bar, *self.e, *self.q, *self.w_o, *self.u_o,
                *(s for v in self.wide.values() for s in v))

    def loss(self, neurons) -> sp.Expr:
        """(1/N) sum_mu ell(z_mu, c_mu), z = sum over (w, u) of u sigma(w . h~)."""
        total = 0
        for x, c in zip(self.inputs, self.c):
            z = sum((u * self.sigma((w.T * x)[0]) for w, u in neurons), sp.zeros(_OUT, 1))
            total += self.ell(*z, c)
        return total / _SAMPLES

    def wide_loss(self) -> sp.Expr:
        v = self.wide
        return self.loss([(v["wi"], v["ui"]), (v["wj"], v["uj"]), (self.w_o, self.u_o)])

    def reduced_loss(self) -> sp.Expr:
        return self.loss([(self.w_bar, self.u_bar), (self.w_o, self.u_o)])

    def plateau(self, with_q: bool = False) -> dict:
        """The wide parameters in (w-bar, u-bar, e) coordinates (q = 0 unless ``with_q``)."""
        q = self.q if with_q else sp.zeros(_IN, 1)
        point = {"wi": self.w_bar + q / 2, "wj": self.w_bar - q / 2,
                 "ui": self.u_bar / 2 + self.e, "uj": self.u_bar / 2 - self.e}
        return {s: value for name, vec in self.wide.items() for s, value in zip(vec, point[name])}

    def B(self) -> sp.Matrix:
        """B[o, :] = (1/N) sum_mu delta_o(x_mu) sigma'(w-bar . h~_mu) h~_mu at the reduced network."""
        t = sp.Symbol("t")
        B = sp.zeros(_OUT, _IN)
        for x, c in zip(self.inputs, self.c):
            pre = (self.w_bar.T * x)[0]
            z = self.u_bar * self.sigma(pre) + self.u_o * self.sigma((self.w_o.T * x)[0])
            at = dict(zip(self.stand_in, z))
            slope = sp.diff(self.sigma(t), t).subs(t, pre)
            for o in range(_OUT):
                delta = sp.diff(self.ell(*self.stand_in, c), self.stand_in[o]).subs(at)
                B[o, :] += delta * slope * x.T / _SAMPLES
        return B


def _gradient(expr, vector) -> sp.Matrix:
    return sp.Matrix([sp.diff(expr, s) for s in vector])


def plateau_claims(points: int = 3, seed: int = 0) -> dict[str, Claim]:
    """The plateau identities, each checked by simplification and at random numbers."""
    pb = PlateauProblem()
    rng = np.random.default_rng(seed)
    concrete = tanh_and_quadratic(pb.sigma, pb.ell, _OUT + 1, rng)  # ell(z_0, z_1, c)
    L, L_red, on_plateau, B = pb.wide_loss(), pb.reduced_loss(), pb.plateau(), pb.B()
    grad = {name: _gradient(L, vec).xreplace(on_plateau) for name, vec in pb.wide.items()}
    grad_u_red = _gradient(L_red, pb.u_bar)
    pairs = {
        "loss is constant on the plateau (= reduced loss, any e)": [(L.xreplace(on_plateau), L_red)],
        "incoming gradients on the plateau: B^T (u-bar/2 +- e)":
            list(zip(grad["wi"], B.T * (pb.u_bar / 2 + pb.e))) + list(zip(grad["wj"], B.T * (pb.u_bar / 2 - pb.e))),
        "outgoing gradients on the plateau equal the reduced one":
            list(zip(grad["ui"], grad_u_red)) + list(zip(grad["uj"], grad_u_red)),
        "other neurons' gradients on the plateau equal the reduced ones":
            [(sp.diff(L, s).xreplace(on_plateau), sp.diff(L_red, s)) for s in (*pb.w_o, *pb.u_o)],
        "reduced incoming gradient is B^T u-bar": list(zip(_gradient(L_red, pb.w_bar), B.T * pb.u_bar)),
    }
    pairs.update(_hessian_pairs(pb, L, B))
    return {name: identity_claim(name, items, pb.symbols, concrete, rng, points) for name, items in pairs.items()}


def _hessian_pairs(pb: PlateauProblem, L: sp.Expr, B: sp.Matrix) -> dict:
    """Second order in the (e, q) coordinates: H_ee = 0 on the plateau, H_eq = B, block diagonal at theta_P."""
    coords = L.xreplace(pb.plateau(with_q=True))  # L(w-bar, u-bar, e, q)
    q0 = {s: 0 for s in pb.q}
    at_point = {**q0, **{s: 0 for s in pb.e}}
    symmetric = (*pb.w_bar, *pb.u_bar)
    # setting e or q to 0 commutes with differentiating in the other coordinates: substitute early
    first = {a: sp.diff(coords, a) for a in (*pb.e, *pb.q)}
    return {
        "plateau directions are flat to second order (H_ee = 0)":
            [(sp.diff(first[a].xreplace(q0), b), 0) for a in pb.e for b in pb.e],
        "antisymmetric mixed block H_eq = B":
            [(sp.diff(first[pb.e[o]], pb.q[c]).xreplace(q0), B[o, c]) for o in range(_OUT) for c in range(_IN)],
        "Hessian is block diagonal at the permutation point":
            [(sp.diff(first[a].xreplace(at_point), s), 0)
             for a in (*pb.e, *pb.q) for s in (*symmetric, *pb.w_o, *pb.u_o)],
    }
