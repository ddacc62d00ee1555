"""The expansion manifold of a one-hidden-layer student f(x) = sum_j a_j sigma(w_j . x) (no biases).

A teacher of width r* (distinct w*_i, non-zero a*_i) is embedded in a student of width m = r* + h by a
*labelling* lambda: {0..m-1} -> {0..r*}, onto {1..r*}.  Its affine piece Gamma_lambda:
  replicas (lambda(j) = i >= 1): w_j = w*_{i}, and the a_j of role i sum to a*_i;
  zero type (lambda(j) = 0): a_j = 0, w_j free.
Every point has zero loss.  With k zero-type neurons, dim Gamma_lambda = k d + (m - k - r*) d_out, and
at zero loss (H = 2 J^T J / N for the squared error) the Hessian's nullity is, for generic data,
  k d + sum_i [(s_i - 1) d_out + (s_i - rank A_i) d],   A_i = [a_j : lambda(j) = i], s_i its size.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from gradflow.numerics.symmetry.paths import MIN_POINTS, rearrangement_path
from gradflow.numerics.symmetry.problems import mlp
from gradflow.theory.errors import require
from gradflow.theory.symmetry.counts import labelling_dimension, labelling_nullity
from gradflow.theory.symmetry.enumeration import labellings as theory_labellings
from gradflow.theory.mlp.network import Network


def shallow(d: int, m: int, d_out: int = 1, activation: str = "softplus", bias: bool = False) -> Network:
    """[d, m, d_out] (:func:`~gradflow.numerics.symmetry.problems.mlp`), bias-free softplus by default."""
    return mlp((d, m, d_out), activation, bias)


def pack(W, A) -> np.ndarray:
    """theta of the bias-free shallow net from incoming rows W (m, d) and outgoing rows A (m, d_out)."""
    return np.concatenate([np.asarray(W, dtype=float).ravel(), np.asarray(A, dtype=float).T.ravel()])


def unpack(net: Network, theta) -> tuple[np.ndarray, np.ndarray]:
    W1, W2 = net.unflatten(np.asarray(theta, dtype=float))
    return W1.copy(), W2.T.copy()


@dataclass(frozen=True)
class Teacher:
    W: np.ndarray  # (r*, d) incoming vectors
    A: np.ndarray  # (r*, d_out) outgoing vectors

    @property
    def width(self) -> int:
        return self.W.shape[0]

    def outputs(self, X, activation: str = "softplus") -> np.ndarray:
        """f*(X), (N, d_out): the teacher as a bias-free shallow net with ``activation``."""
        return shallow(self.W.shape[1], self.width, self.A.shape[1], activation).forward(pack(self.W, self.A), X)


def random_teacher(width: int, d: int, d_out: int = 1, seed: int = 0, min_a: float = 0.3,
                   min_distance: float = 0.3, tries: int = 10_000) -> Teacher:
    """w*_i ~ N(0, I_d), a*_i ~ N(0, I), redrawn until min |a*_i| >= min_a and min ||w*_i - w*_j|| >= min_distance."""
    rng = np.random.default_rng(seed)
    for _ in range(tries):
        W, A = rng.normal(size=(width, d)), rng.normal(size=(width, d_out))
        gaps = [np.linalg.norm(W[a] - W[b]) for a, b in itertools.combinations(range(width), 2)]
        if np.min(np.linalg.norm(A, axis=1)) >= min_a and (not gaps or min(gaps) >= min_distance):
            return Teacher(W, A)
    raise RuntimeError(f"no teacher with min |a*| >= {min_a} and min distance >= {min_distance} in {tries} draws")


def labellings(r: int, m: int) -> np.ndarray:
    """All labellings {0..m-1} -> {0..r} onto {1..r}, one per row (enumerated, m small)."""
    return np.array(theory_labellings(r, m), dtype=int).reshape(-1, m)


def _check_labelling(labelling, r: int) -> np.ndarray:
    lab = np.asarray(labelling)
    require(lab.ndim == 1 and np.issubdtype(lab.dtype, np.integer) and lab.min() >= 0 and lab.max() <= r
            and set(range(1, r + 1)) <= set(lab.tolist()), "labelling", f"a map onto 1..{r} with values in 0..{r}",
            labelling)
    return lab


def random_point(teacher: Teacher, labelling, rng) -> np.ndarray:
    """A random point of Gamma_lambda (bias-free layout of :func:`pack`): replicas split a*_i with
    N(0, 1) parts, zero-type neurons get a_j = 0 and w_j ~ N(0, I)."""
    lab = _check_labelling(labelling, teacher.width)
    m, d, d_out = lab.size, teacher.W.shape[1], teacher.A.shape[1]
    W, A = np.empty((m, d)), np.zeros((m, d_out))
    for j in np.flatnonzero(lab == 0):
        W[j] = rng.normal(size=d)
    for role in range(1, teacher.width + 1):
        members = np.flatnonzero(lab == role)
        W[members] = teacher.W[role - 1]
        parts = rng.normal(size=(members.size - 1, d_out))
        A[members[:-1]] = parts
        A[members[-1]] = teacher.A[role - 1] - parts.sum(axis=0)
    return pack(W, A)


def dimension(labelling, r: int, d: int, d_out: int) -> int:
    """dim Gamma_lambda (:func:`~gradflow.theory.symmetry.counts.labelling_dimension`)."""
    lab = _check_labelling(labelling, r)
    return labelling_dimension(lab.size, r, int(np.sum(lab == 0)), d, d_out)


def nullity_formula(labelling, r: int, d: int, A) -> int:
    """k d + sum_i [(s_i - 1) d_out + (s_i - rank A_i) d] at the point whose outgoing rows are A (m, d_out)
    (:func:`~gradflow.theory.symmetry.counts.labelling_nullity` with the ranks of the A_i)."""
    lab = _check_labelling(labelling, r)
    A = np.asarray(A, dtype=float)
    blocks = [A[lab == role] for role in range(1, r + 1)]
    return labelling_nullity(int(np.sum(lab == 0)), [b.shape[0] for b in blocks],
                             [int(np.linalg.matrix_rank(b)) for b in blocks], d, A.shape[1])


def output_jacobian(net: Network, theta, X) -> np.ndarray:
    """d f(x_mu)_o / d theta, (N d_out, P), by hand for the bias-free shallow net."""
    W, A = unpack(net, theta)
    X = np.asarray(X, dtype=float)
    act = net.layers[0].activation[0]
    Z = X @ W.T
    S, Sp = act(Z), act.prime(Z)
    n, d, m, d_out = X.shape[0], X.shape[1], W.shape[0], A.shape[1]
    J = np.zeros((n, d_out, net.n_params))
    for o in range(d_out):
        J[:, o, :m * d] = ((A[:, o][None, :] * Sp)[:, :, None] * X[:, None, :]).reshape(n, m * d)
        J[:, o, m * d + o * m: m * d + (o + 1) * m] = S
    return J.reshape(n * d_out, net.n_params)


def numeric_nullity(net: Network, theta, X, tolerance: float = 1e-12) -> int:
    """Zero eigenvalues of the Gauss-Newton matrix 2 J^T J / N (the Hessian at zero loss):
    |lambda| <= tolerance * lambda_max.  The exact zeros sit at rounding level (1e-17 relative) while
    smooth features of nearby neurons give genuine eigenvalues down to ~1e-10: hence 1e-12."""
    J = output_jacobian(net, theta, X)
    values = np.linalg.eigvalsh(2.0 * J.T @ J / X.shape[0])
    return int(np.sum(np.abs(values) <= tolerance * np.max(np.abs(values))))


def role_swap_path(net: Network, theta, labelling, a: int, b: int, n_points: int = MIN_POINTS) -> np.ndarray:
    """Constant (zero) loss path on the expansion manifold from ``theta`` (a point of Gamma_lambda) to
    P_ab theta: neurons a and b exchange their roles through a zero-type neuron (three relocations; a
    single relocation when b itself is zero-type).  The last row is P_ab theta exactly."""
    lab = np.asarray(labelling)
    m = net.layers[0].width
    require(lab.shape == (m,), "labelling", f"one label per neuron ({m})", lab.shape)
    require(a != b and 0 <= a < m and 0 <= b < m, "b", f"a neuron in 0..{m - 1} other than a", b)
    require(lab[a] != 0, "a", "a replica neuron (non-zero label)", a)
    order = np.arange(m)
    order[[a, b]] = order[[b, a]]
    free = [b] if lab[b] == 0 else [j for j in np.flatnonzero(lab == 0) if j not in (a, b)]
    require(bool(free), "labelling", "a zero-type neuron (label 0) to pass the roles through", labelling)
    return rearrangement_path(net, theta, 1, order, int(free[0]), n_points)


__all__ = ["Teacher", "dimension", "labellings", "nullity_formula", "numeric_nullity", "output_jacobian", "pack",
           "random_point", "random_teacher", "role_swap_path", "shallow", "unpack"]
