"""Permutation equivariance of the loss gradient and Hessian, proved by SymPy.

Permuting the neurons of hidden layer k by a permutation matrix Pi maps
(W^(k), b^(k), W^(k+1)) -> (Pi W^(k), Pi b^(k), W^(k+1) Pi^T) and leaves every other weight alone;
call the map theta -> P theta (P is a permutation of the parameter vector, hence orthogonal).
Lemma: L(P theta) = L(theta), grad L(P theta) = P grad L(theta), H(P theta) = P H(theta) P^T.

Two proofs:
(a) matrix form.  sigma applied entrywise commutes with row permutations, sigma.(Pi Z) = Pi sigma.(Z)
    (proved for every permutation of n = 2, 3, 4 rows); then with symbolic sizes and Pi orthogonal,
    W^(k+1) Pi^T sigma.(Pi Z) = W^(k+1) sigma.(Z): the next pre-activation, hence f and L, is
    unchanged.  The backward pass carries delta_k -> Pi delta_k (the same entrywise lemma for
    sigma' and the Hadamard product), so dL/dW^(k) -> Pi dL/dW^(k) and dL/dW^(k+1) -> dL/dW^(k+1) Pi^T:
    the gradient transforms like the parameters.  Differentiating grad L(P theta) = P grad L(theta)
    once more gives H(P theta) P = P H(theta).
(b) explicit networks [1, 2, 1] and [2, 2, 2, 1] with biases, every weight a symbol, sigma and the
    per-sample loss l(f, y) undefined functions (the loss is a mean over samples, so one sample
    suffices): the differences of loss, gradient and Hessian simplify to zero, for every hidden layer
    and every permutation; and vanish at random numbers with sigma = tanh, l a random quadratic.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np
import sympy as sp

from gradflow.theory.errors import require
from gradflow.theory.symmetry.claims import compiled, identity_claim, residual_claim, tanh_and_quadratic
from gradflow.theory.symmetry.counts import integer
from gradflow.theory.verify import Claim

PROOF_NETWORKS = ((1, 2, 1), (2, 2, 2, 1))


class ExplicitNetwork:
    """An MLP with widths (n_0, ..., n_d) and biases whose every parameter is a SymPy symbol."""

    def __init__(self, widths):
        widths = tuple(integer(w, "widths", 1) for w in widths)
        require(len(widths) >= 3, "widths", "input, at least one hidden layer and output", widths)
        self.widths = widths
        self.x = sp.symbols(f"x0:{widths[0]}", real=True)
        self.y = sp.symbols(f"y0:{widths[-1]}", real=True)
        self.weights, self.biases = [], []
        for k in range(1, len(widths)):
            self.weights.append(sp.Matrix(widths[k], widths[k - 1],
                                          lambda i, j, k=k: sp.Symbol(f"W{k}_{i}{j}", real=True)))
            self.biases.append(sp.Matrix(widths[k], 1, lambda i, _, k=k: sp.Symbol(f"b{k}_{i}", real=True)))
        self.parameters = tuple(s for W, b in zip(self.weights, self.biases) for s in (*W, *b))

    def output(self, sigma) -> list:
        h = sp.Matrix(self.x)
        for depth, (W, b) in enumerate(zip(self.weights, self.biases), start=1):
            z = W * h + b
            h = z if depth == len(self.weights) else z.applyfunc(sigma)
        return list(h)

    def loss(self, sigma, ell) -> sp.Expr:
        return ell(*self.output(sigma), *self.y)

    def permutation(self, layer: int, order) -> dict:
        """{theta_a: (P theta)_a}: neuron p of hidden ``layer`` takes the weights of neuron order[p]."""
        layer = integer(layer, "layer", 1)
        require(layer <= len(self.widths) - 2, "layer", f"a hidden layer 1..{len(self.widths) - 2}", layer)
        order = tuple(order)
        require(sorted(order) == list(range(self.widths[layer])), "order",
                f"a permutation of 0..{self.widths[layer] - 1}", order)
        W_in, b_in, W_out = self.weights[layer - 1], self.biases[layer - 1], self.weights[layer]
        mapping = {}
        for p, source in enumerate(order):
            for j in range(W_in.shape[1]):
                mapping[W_in[p, j]] = W_in[source, j]
            mapping[b_in[p]] = b_in[source]
            for o in range(W_out.shape[0]):
                mapping[W_out[o, p]] = W_out[o, source]
        return mapping


def _generic():
    return sp.Function("sigma"), sp.Function("ell")


def _concrete(outputs: int, rng) -> dict:
    """sigma = tanh and ell = a random positive quadratic in (f, y) (plus a linear term)."""
    return tanh_and_quadratic(*_generic(), 2 * outputs, rng)


def _derivatives(net: ExplicitNetwork, hessian: bool) -> dict[str, dict]:
    """Loss, gradient and Hessian (upper triangle) of the generic network, keyed by parameter indices."""
    sigma, ell = _generic()
    theta = net.parameters
    L = net.loss(sigma, ell)
    grad = {(a,): sp.diff(L, s) for a, s in enumerate(theta)}
    out = {"loss": {(): L}, "gradient": grad}
    if hessian:
        out["hessian"] = {(a, b): sp.diff(grad[(a,)], theta[b])
                          for a in range(len(theta)) for b in range(a, len(theta))}
    return out


def _nontrivial_permutations(width: int):
    return [p for p in permutations(range(width)) if p != tuple(range(width))]


def explicit_network_claims(networks=PROOF_NETWORKS, points: int = 2, seed: int = 0,
                            hessian: bool = True) -> dict[str, Claim]:
    """The lemma on each explicit network, each hidden layer, each non-trivial permutation:
    symbolically, expression(P theta) - reference(theta) simplifies to 0; numerically, the concrete
    network's derivatives at P theta and at theta (different numbers) satisfy the same relation."""
    claims = {}
    rng = np.random.default_rng(seed)
    for widths in networks:
        net = ExplicitNetwork(widths)
        symbols = (*net.parameters, *net.x, *net.y)
        index = {s: a for a, s in enumerate(symbols)}
        tables = _derivatives(net, hessian)
        concrete = _concrete(widths[-1], rng)
        numeric_tables = {name: compiled(list(table.values()), symbols, concrete) for name, table in tables.items()}
        samples = [rng.normal(size=len(symbols)) for _ in range(points)]
        for layer in range(1, len(widths) - 1):
            for order in _nontrivial_permutations(widths[layer]):
                move = net.permutation(layer, order)
                source = [index[move.get(s, s)] for s in symbols]  # (P theta)_a = theta_source[a]
                for name, table in tables.items():
                    keys = list(table)
                    position = {key: i for i, key in enumerate(keys)}
                    refs = [tuple(sorted(source[a] for a in key)) for key in keys]
                    symbolic = [table[key].xreplace(move) - table[ref] for key, ref in zip(keys, refs)]
                    numeric = []
                    for values in samples:
                        at_theta, at_moved = numeric_tables[name](values), numeric_tables[name](values[source])
                        numeric += [sp.Float(at_moved[position[key]] - at_theta[position[ref]])
                                    for key, ref in zip(keys, refs)]
                    label = f"{name} equivariance on {list(widths)}, layer {layer}, order {order}"
                    claims[label] = residual_claim(label, symbolic, numeric, points, simplifier=_simplify_derivatives)
    return claims


def _simplify_derivatives(expr):
    # the residuals are differences of identical derivative trees: doit + expand decides them fast
    return sp.expand(expr.doit())


def entrywise_claims(sizes=(2, 3, 4), columns: int = 2) -> dict[str, Claim]:
    """sigma.(Pi Z) = Pi sigma.(Z) and (Pi A) o (Pi B) = Pi (A o B) for every permutation matrix of
    each size (sigma undefined; o the entrywise product)."""
    sigma = sp.Function("sigma")
    residuals, count = [], 0
    for n in sizes:
        Z = sp.Matrix(n, columns, lambda i, j: sp.Symbol(f"z_{i}{j}", real=True))
        A = sp.Matrix(n, columns, lambda i, j: sp.Symbol(f"a_{i}{j}", real=True))
        for order in permutations(range(n)):
            Pi = sp.Matrix(n, n, lambda i, j, order=order: int(order[i] == j))
            residuals += list((Pi * Z).applyfunc(sigma) - Pi * Z.applyfunc(sigma))
            residuals += list((Pi * Z).multiply_elementwise(Pi * A) - Pi * Z.multiply_elementwise(A))
            count += 1
    statement = f"entrywise maps and products commute with every row permutation (n in {list(sizes)})"
    return {"entrywise lemma": residual_claim(statement, residuals, [], count)}


def matrix_form_claims() -> dict[str, Claim]:
    """With symbolic sizes and Pi orthogonal: the next layer's input is unchanged, and the weight
    gradients transform like the weights."""
    n, p, q, N = sp.symbols("n_k n_{k-1} n_{k+1} N", integer=True, positive=True)
    Pi = sp.MatrixSymbol("Pi", n, n)
    W_next = sp.MatrixSymbol("W^{(k+1)}", q, n)
    S = sp.MatrixSymbol(r"\sigma(Z)", n, N)  # sigma.(Z); sigma.(Pi Z) = Pi S by the entrywise lemma
    H = sp.MatrixSymbol(r"\tilde{H}", p, N)  # the layer's input (with a row of ones for the bias)
    delta = sp.MatrixSymbol(r"\Delta_k", n, N)  # back-propagated errors of layer k
    delta_next = sp.MatrixSymbol(r"\Delta_{k+1}", q, N)
    orthogonal = sp.Q.orthogonal(Pi)
    forward = sp.refine(W_next * Pi.T * (Pi * S), orthogonal) - W_next * S
    grad_in = (Pi * delta) * H.T - Pi * (delta * H.T)  # dL/dW^(k) = Delta_k H~^T, Delta_k -> Pi Delta_k
    grad_out = delta_next * (Pi * S).T - (delta_next * S.T) * Pi.T  # dL/dW^(k+1) = Delta_{k+1} S^T
    simplify = lambda e: sp.simplify(sp.expand(e.doit()))  # noqa: E731
    return {
        "forward invariance (matrix form)": residual_claim(
            "W^(k+1) Pi^T sigma.(Pi Z) = W^(k+1) sigma.(Z) for orthogonal Pi, symbolic sizes", [forward], [], 1,
            simplifier=lambda e: simplify(sp.refine(e, orthogonal))),
        "incoming gradient (matrix form)": residual_claim(
            "dL/dW^(k) at P theta = Pi dL/dW^(k)", [grad_in], [], 1, simplifier=simplify),
        "outgoing gradient (matrix form)": residual_claim(
            "dL/dW^(k+1) at P theta = dL/dW^(k+1) Pi^T", [grad_out], [], 1, simplifier=simplify),
    }


def collision_claims(networks=PROOF_NETWORKS, points: int = 2, seed: int = 0) -> dict[str, Claim]:
    """The collision subspace Fix(P_ij) = {w_i = w_j, u_i = u_j} is invariant under gradient flow:
    on it grad L(theta) = grad L(P theta) = P grad L(theta), so the gradient lies in it too.  Checked
    for the swap of neurons 0 and 1 of every hidden layer (sigma, loss undefined; numbers with tanh
    and a random quadratic loss)."""
    claims = {}
    rng = np.random.default_rng(seed)
    for widths in networks:
        net = ExplicitNetwork(widths)
        sigma, ell = _generic()
        L = net.loss(sigma, ell)
        grad = {s: sp.diff(L, s) for s in net.parameters}
        concrete = _concrete(widths[-1], rng)
        for layer in range(1, len(widths) - 1):
            if widths[layer] < 2:
                continue
            move = net.permutation(layer, (1, 0, *range(2, widths[layer])))
            second = {*net.weights[layer - 1][1, :], net.biases[layer - 1][1], *net.weights[layer][:, 1]}
            collide = {s: move[s] for s in second}  # neuron 1 takes neuron 0's weights
            pairs = [(grad[s].xreplace(collide), grad[move[s]].xreplace(collide)) for s in second]
            label = f"gradient stays in the collision subspace on {list(widths)}, layer {layer}"
            claims[label] = identity_claim(label, pairs, (*net.parameters, *net.x, *net.y), concrete, rng, points,
                                           simplifier=_simplify_derivatives)
    return claims
