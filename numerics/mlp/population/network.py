"""The population loss of a one-hidden-layer network with Gaussian inputs, as an ``Objective``.

Student f(x) = sum_i a_i sigma(w_i . x + b_i) + beta, teacher f*(x) = sum_j a*_j sigma(w*_j . x + b*_j)
+ beta*, x ~ N(0, I_D).  The loss L = E[(f(x) - f*(x))^2] (mean squared error, no factor 1/2) is

    sum_{n, m} alpha_n alpha_m kappa_nm + 2 (beta - beta*) sum_n alpha_n mean_n + (beta - beta*)^2,

over the neurons of student and teacher together with alpha = (a, -a*), kappa_nm the derived kernel
at a = |w_n|^2, b = |w_m|^2, c = w_n . w_m (p, q: the biases) and mean_n = E[sigma(w_n . x + b_n)].
Gradient and Hessian follow by the chain rule through (a, b, c, p, q) from the kernel's derived
derivatives (generated Numba code); the diagonal n = m uses the kernel simplified on a = b = c.

Parameter layout: a standard 1-hidden-layer MLP's flat vector, theta = [W1 (k x (D + hidden_bias))
row-major, W2 (1 x (k + output_bias))], biases in the LAST column, so a sample-based MLP on the same
theta computes the same function.  A population loss has no samples: n_samples is 0, and
``on_samples``/``shuffled`` raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.mlp.population.kernel_module import kernel_module
from gradflow.theory.errors import ParameterError, require
from gradflow.theory.gaussian.kernels import kernel as derived_kernel

_PARALLEL_TOLERANCE = 1e-10  # ReLU's kappa is not C^2 where 1 - c^2/(ab) vanishes
_RHO_MARGIN = 1e-13


@dataclass(frozen=True)
class PopulationNetwork:
    """E[(student - teacher)^2] under x ~ N(0, I_D) for a teacher (W*, a*[, b*, beta*])."""

    activation: str
    input_dim: int
    hidden: int
    teacher_weights: np.ndarray  # (k*, D)
    teacher_output: np.ndarray  # (k*,)
    hidden_bias: bool = False
    output_bias: bool = False
    teacher_biases: np.ndarray | None = None  # (k*,), hidden_bias only
    teacher_output_bias: float = 0.0
    n_samples: int = 0  # no samples: the loss is an expectation
    _module: object = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        require(self.input_dim >= 1 and self.hidden >= 1, "input_dim, hidden", "positive", (self.input_dim, self.hidden))
        tw = np.atleast_2d(np.asarray(self.teacher_weights, float))
        require(tw.shape[1] == self.input_dim, "teacher_weights", f"of shape (k*, {self.input_dim})", tw.shape)
        ta = np.asarray(self.teacher_output, float).ravel()
        require(ta.size == tw.shape[0], "teacher_output", f"of length {tw.shape[0]}", ta.size)
        tb = np.zeros(tw.shape[0]) if self.teacher_biases is None else np.asarray(self.teacher_biases, float).ravel()
        require(tb.size == tw.shape[0], "teacher_biases", f"of length {tw.shape[0]}", tb.size)
        require(self.hidden_bias or not np.any(tb), "teacher_biases", "zero without hidden_bias", tb)
        object.__setattr__(self, "teacher_weights", tw)
        object.__setattr__(self, "teacher_output", ta)
        object.__setattr__(self, "teacher_biases", tb)
        biased = self.hidden_bias
        object.__setattr__(self, "_module", kernel_module(derived_kernel(self.activation, biased)))

    # ---- layout -------------------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        return self.hidden * (self.input_dim + self.hidden_bias) + self.hidden + self.output_bias

    def unpack(self, theta):
        """(W (k, D), b (k,), a (k,), beta) from the flat vector."""
        theta = np.asarray(theta, float)
        require(theta.shape == (self.n_params,), "theta", f"a vector of length {self.n_params}", theta.shape)
        k, D, hb = self.hidden, self.input_dim, int(self.hidden_bias)
        W1 = theta[: k * (D + hb)].reshape(k, D + hb)
        W2 = theta[k * (D + hb):]
        b = W1[:, D] if hb else np.zeros(k)
        beta = W2[k] if self.output_bias else 0.0
        return W1[:, :D], b, W2[:k], beta

    def _indices(self):
        """Global indices of each neuron's (w, p, alpha) for student then teacher (-1: not a parameter),
        and the index of beta."""
        k, kt, D, hb = self.hidden, self.teacher_output.size, self.input_dim, int(self.hidden_bias)
        w_idx = -np.ones((k + kt, D), int)
        p_idx = -np.ones(k + kt, int)
        a_idx = -np.ones(k + kt, int)
        w_idx[:k] = np.arange(k)[:, None] * (D + hb) + np.arange(D)[None, :]
        if hb:
            p_idx[:k] = np.arange(k) * (D + hb) + D
        a_idx[:k] = k * (D + hb) + np.arange(k)
        beta_idx = k * (D + hb) + k if self.output_bias else -1
        return w_idx, p_idx, a_idx, beta_idx

    def _neurons(self, theta):
        W, b, a, beta = self.unpack(theta)
        weights = np.vstack([W, self.teacher_weights])
        biases = np.concatenate([b, self.teacher_biases])
        alpha = np.concatenate([a, -self.teacher_output])
        return weights, biases, alpha, beta - self.teacher_output_bias

    # ---- evaluation ---------------------------------------------------------------------------
    def _evaluate(self, theta, order: int):
        weights, biases, alpha, beta = self._neurons(theta)
        N, D = weights.shape
        norms = np.einsum("nd,nd->n", weights, weights)
        I, J = np.triu_indices(N, 1)
        zero = norms == 0
        if self.activation == "relu" and zero.any():
            if order >= 1:
                self._check_relu(norms, None, None, None, I, J, 0)
            # a zero neuron outputs the constant relu(b_n): it joins the output bias; evaluate it at a
            # stand-in with no weight (the gradient in beta is the same: beta enters only through beta + ...)
            beta = beta + float(np.sum(np.where(zero, alpha * np.maximum(biases, 0.0), 0.0)))
            weights = np.where(zero[:, None], 1.0, weights)
            norms = np.einsum("nd,nd->n", weights, weights)
            alpha = np.where(zero, 0.0, alpha)
        A, B = norms[I], norms[J]
        C = np.einsum("nd,nd->n", weights[I], weights[J])
        if self.activation == "relu" and self.hidden_bias:
            # the biased closed form divides by sqrt(1 - rho^2): (anti)parallel pairs are evaluated at
            # |rho| = 1 - 1e-13, where kappa and its gradient (continuous there) move by ~1e-13
            limit = np.sqrt(A * B) * (1 - _RHO_MARGIN)
            C = np.clip(C, -limit, limit)
        P, Q = biases[I], biases[J]
        K, gK, hK = np.zeros(I.size), np.zeros((I.size, 5)), np.zeros((I.size, 5, 5))
        self._module.pair_derivatives(A, B, C, P, Q, K, gK, hK)
        S, gS, hS = np.zeros(N), np.zeros((N, 2)), np.zeros((N, 2, 2))
        self._module.self_derivatives(norms, biases, S, gS, hS)
        M, gM, hM = np.zeros(N), np.zeros((N, 2)), np.zeros((N, 2, 2))
        self._module.mean_derivatives(norms, biases, M, gM, hM)
        if order >= 2 and self.activation == "relu":
            self._check_relu(norms, A, B, C, I, J, order)
        loss = 2 * np.sum(alpha[I] * alpha[J] * K) + np.sum(alpha**2 * S) + 2 * beta * np.sum(alpha * M) + beta**2
        if not np.isfinite(loss):
            raise DivergenceError(f"population loss is not finite ({loss})")
        if order == 0:
            return loss, None, None
        return loss, *self._derivatives(order, weights, alpha, beta, I, J, K, gK, hK, S, gS, hS, M, gM, hM)

    def _check_relu(self, norms, A, B, C, I, J, order):
        k = self.hidden
        for n in np.flatnonzero(norms[:k] == 0):
            raise ParameterError(f"neuron pair ({n}, {n})", "nonzero: ReLU's kernel is not differentiable at a "
                                 "zero neuron", 0.0)
        if order < 2:
            return
        gap = 1 - C**2 / np.maximum(A * B, np.finfo(float).tiny)
        bad = np.flatnonzero((gap < _PARALLEL_TOLERANCE) & (I < k))
        if bad.size:
            i, j = int(I[bad[0]]), int(J[bad[0]])
            who = f"student {j}" if j < k else f"teacher {j - k}"
            raise ParameterError(f"neuron pair ({i}, {j})", f"not parallel (student {i} and {who}): ReLU's kernel "
                                 "is not twice differentiable where c^2 = ab", float(gap[bad[0]]))

    def _derivatives(self, order, weights, alpha, beta, I, J, K, gK, hK, S, gS, hS, M, gM, hM):
        N, D = weights.shape
        w_idx, p_idx, a_idx, beta_idx = self._indices()
        n = self.n_params
        grad = np.zeros(n + 1)  # slot n collects what belongs to no parameter (index -1)
        hess = np.zeros((n + 1, n + 1)) if order >= 2 else None

        # local coordinates u = (w_n, p_n, w_m, p_m) of a pair; g = (a, b, c, p, q) with Jacobian Jg
        P = I.size
        Jg = np.zeros((P, 5, 2 * D + 2))
        Jg[:, 0, :D] = 2 * weights[I]
        Jg[:, 1, D + 1: 2 * D + 1] = 2 * weights[J]
        Jg[:, 2, :D] = weights[J]
        Jg[:, 2, D + 1: 2 * D + 1] = weights[I]
        Jg[:, 3, D] = 1.0
        Jg[:, 4, 2 * D + 1] = 1.0
        dphi = np.einsum("pr,pru->pu", gK, Jg)
        u_index = np.hstack([w_idx[I], p_idx[I][:, None], w_idx[J], p_idx[J][:, None]])
        u_index = np.where(u_index < 0, n, u_index)
        ai, aj = np.where(a_idx[I] < 0, n, a_idx[I]), np.where(a_idx[J] < 0, n, a_idx[J])
        coef = alpha[I] * alpha[J]
        # each unordered pair appears twice in the sum over (n, m)
        np.add.at(grad, u_index, 2 * coef[:, None] * dphi)
        np.add.at(grad, ai, 2 * alpha[J] * K)
        np.add.at(grad, aj, 2 * alpha[I] * K)

        # diagonal: alpha_n^2 S(a_n, p_n), local u = (w_n, p_n)
        Js = np.zeros((N, 2, D + 1))
        Js[:, 0, :D] = 2 * weights
        Js[:, 1, D] = 1.0
        dS = np.einsum("pr,pru->pu", gS, Js)
        dM = np.einsum("pr,pru->pu", gM, Js)
        s_index = np.where(np.hstack([w_idx, p_idx[:, None]]) < 0, n, np.hstack([w_idx, p_idx[:, None]]))
        a_all = np.where(a_idx < 0, n, a_idx)
        b_slot = n if beta_idx < 0 else beta_idx
        np.add.at(grad, s_index, (alpha**2)[:, None] * dS + 2 * beta * alpha[:, None] * dM)
        np.add.at(grad, a_all, 2 * alpha * S + 2 * beta * M)
        grad[b_slot] += 2 * np.sum(alpha * M) + 2 * beta
        if order < 2:
            return grad[:n], None

        # pairs: u-u block alpha_n alpha_m (Jg^T HK Jg + sum_r K_r d2 g_r), alpha-u and alpha-alpha blocks
        huu = np.einsum("pru,prs,psv->puv", Jg, hK, Jg)
        eye = np.eye(D)
        huu[:, :D, :D] += 2 * gK[:, 0, None, None] * eye
        huu[:, D + 1: 2 * D + 1, D + 1: 2 * D + 1] += 2 * gK[:, 1, None, None] * eye
        huu[:, :D, D + 1: 2 * D + 1] += gK[:, 2, None, None] * eye
        huu[:, D + 1: 2 * D + 1, :D] += gK[:, 2, None, None] * eye
        rows, cols = u_index[:, :, None], u_index[:, None, :]
        np.add.at(hess, (np.broadcast_to(rows, huu.shape), np.broadcast_to(cols, huu.shape)), 2 * coef[:, None, None] * huu)
        for a_slot, other in ((ai, alpha[J]), (aj, alpha[I])):
            block = 2 * other[:, None] * dphi
            np.add.at(hess, (np.broadcast_to(a_slot[:, None], u_index.shape), u_index), block)
            np.add.at(hess, (u_index, np.broadcast_to(a_slot[:, None], u_index.shape)), block)
        np.add.at(hess, (ai, aj), 2 * K)
        np.add.at(hess, (aj, ai), 2 * K)

        # diagonal and mean terms, local u = (w_n, p_n)
        def second(g, h):
            out = np.einsum("pru,prs,psv->puv", Js, h, Js)
            out[:, :D, :D] += 2 * g[:, 0, None, None] * eye
            return out

        hs = (alpha**2)[:, None, None] * second(gS, hS) + 2 * beta * alpha[:, None, None] * second(gM, hM)
        rows, cols = s_index[:, :, None], s_index[:, None, :]
        np.add.at(hess, (np.broadcast_to(rows, hs.shape), np.broadcast_to(cols, hs.shape)), hs)
        au = 2 * alpha[:, None] * dS + 2 * beta * dM
        np.add.at(hess, (np.broadcast_to(a_all[:, None], s_index.shape), s_index), au)
        np.add.at(hess, (s_index, np.broadcast_to(a_all[:, None], s_index.shape)), au)
        np.add.at(hess, (a_all, a_all), 2 * S)
        bu = 2 * alpha[:, None] * dM
        np.add.at(hess, (np.full(s_index.shape, b_slot), s_index), bu)
        np.add.at(hess, (s_index, np.full(s_index.shape, b_slot)), bu)
        np.add.at(hess, (np.full(N, b_slot), a_all), 2 * M)
        np.add.at(hess, (a_all, np.full(N, b_slot)), 2 * M)
        hess[b_slot, b_slot] += 2.0
        return grad[:n], hess[:n, :n]

    # ---- the Objective protocol ---------------------------------------------------------------
    def loss(self, theta) -> float:
        return float(self._evaluate(theta, 0)[0])

    def loss_and_gradient(self, theta):
        loss, grad, _ = self._evaluate(theta, 1)
        return float(loss), grad

    def hessian(self, theta) -> np.ndarray:
        return self._evaluate(theta, 2)[2]

    def hessian_vector(self, theta, v) -> np.ndarray:
        return self.hessian(theta) @ np.asarray(v, float)

    def on_samples(self, start: int, stop: int):
        raise ParameterError("samples", "absent: a population loss is an expectation over x ~ N(0, I) and "
                             "has no samples to select (minibatches need a sample-based objective)", (start, stop))

    def shuffled(self, order):
        raise ParameterError("samples", "absent: a population loss is an expectation over x ~ N(0, I) and "
                             "has no samples to shuffle", None)

    @property
    def data_term(self):
        return self
