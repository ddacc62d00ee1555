"""EC-Toy-150: 150 deterministic one-hidden-layer teacher tasks, their data, student starts and success.

Activations tanh, sigmoid and g(z) = sigmoid(4z) + softplus(z); five levels (d, r*) = (2, 2), (2, 4),
(4, 4), (4, 8), (8, 8); ten seeds.  Everything is drawn from NumPy's ``default_rng``:

- teacher, ``default_rng(1000 level + seed)`` (level 1..5): W = standard normal rows, normalised, times
  U(1.5, 2.5); b = U(-1, 1) |w| (every hyperplane within distance 1 of the origin); a = +-U(0.5, 1.5)
  (sign and size drawn separately); c = 0; the whole teacher is drawn again (same generator) while two
  canonical vectors v = [w; b] are nearly parallel, min 1 - |cos| < 1e-2;
- data from the same generator after the teacher: X ~ N(0, I_d), n = 500 (d <= 4) or 2000 (d = 8);
  y = sigma(X W^T + b) a;
- student (width r = rho r*, member m), ``default_rng([level, seed, 10 rho, m])``: W ~ N(0, 1/d),
  b ~ N(0, 1/4), a ~ N(0, 1/r), c = 0.

Success of a reconstruction: K = r*, and every teacher neuron has a reconstructed neuron with
dissimilarity <= 1e-3 (1 - |cos| for the odd classes, 1 - cos for none) and |a_hat - s a*| <= 1e-2 |a*|
(s the sign of the cosine for odd classes, else 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gradflow.theory.errors import require
from gradflow.theory.expand_cluster import activation_class
from gradflow.theory.mlp import Layer, Network, activation

TOY_ACTIVATIONS = ("tanh", "sigmoid", "g")
TOY_LEVELS = {1: (2, 2), 2: (2, 4), 3: (4, 4), 4: (4, 8), 5: (8, 8)}  # level -> (d, r*)
TOY_SEEDS = tuple(range(10))
TOY_RHOS = (1, 2, 3, 4, 6)
MIN_DISSIMILARITY = 1e-2  # teachers with two nearly parallel neurons are redrawn
MATCH_TOLERANCE, OUTPUT_TOLERANCE = 1e-3, 1e-2


@dataclass(frozen=True)
class ToyTask:
    """One task: activation, level, seed; the teacher and its data are derived on demand."""

    activation: str
    level: int
    seed: int

    def __post_init__(self):
        require(self.activation in TOY_ACTIVATIONS, "activation", f"one of {', '.join(TOY_ACTIVATIONS)}",
                self.activation)
        require(self.level in TOY_LEVELS, "level", "an integer in 1..5", self.level)
        require(isinstance(self.seed, (int, np.integer)) and self.seed >= 0, "seed", "an integer >= 0", self.seed)

    @property
    def d(self) -> int:
        return TOY_LEVELS[self.level][0]

    @property
    def r_star(self) -> int:
        return TOY_LEVELS[self.level][1]

    @property
    def n(self) -> int:
        return 500 if self.d <= 4 else 2000

    @property
    def activation_class(self) -> str:
        return activation_class(self.activation)

    @cached_property
    def _drawn(self):
        rng = np.random.default_rng(1000 * self.level + self.seed)
        while True:
            W = rng.normal(size=(self.r_star, self.d))
            W = W / np.linalg.norm(W, axis=1, keepdims=True) * rng.uniform(1.5, 2.5, size=(self.r_star, 1))
            b = rng.uniform(-1.0, 1.0, size=self.r_star) * np.linalg.norm(W, axis=1)
            a = rng.choice([-1.0, 1.0], size=self.r_star) * rng.uniform(0.5, 1.5, size=self.r_star)
            if min_pair_dissimilarity(np.c_[W, b]) >= MIN_DISSIMILARITY:
                break
        X = rng.normal(size=(self.n, self.d))
        return W, b, a, X

    @property
    def teacher_incoming(self) -> np.ndarray:
        """(r*, d + 1): [w; b] per teacher neuron, bias last."""
        W, b, _, _ = self._drawn
        return np.c_[W, b]

    @property
    def teacher_outgoing(self) -> np.ndarray:
        """(r*, 1)."""
        return self._drawn[2][:, None].copy()

    @property
    def X(self) -> np.ndarray:
        return self._drawn[3]

    @cached_property
    def y(self) -> np.ndarray:
        """(n, 1) teacher outputs."""
        W, b, a, X = self._drawn
        return (activation(self.activation)(X @ W.T + b) @ a)[:, None]

    def network(self, width: int) -> Network:
        """A student of ``width`` hidden neurons: one hidden layer, identity output with bias, mean loss."""
        return Network(self.d, (Layer(width, self.activation), Layer(1, "identity")), output_mean=True)

    def teacher_weights(self) -> list[np.ndarray]:
        """The teacher's weight matrices in the network layout: [w; b] rows, then [a^T, c] with c = 0."""
        return [self.teacher_incoming, np.r_[self._drawn[2], 0.0][None, :]]

    def teacher_theta(self) -> np.ndarray:
        return self.network(self.r_star).flatten(self.teacher_weights())

    def student_init(self, rho: int, member: int) -> np.ndarray:
        """theta0 of student ``member`` at width rho r*."""
        r = rho * self.r_star
        rng = np.random.default_rng([self.level, self.seed, 10 * rho, member])
        W = rng.normal(0.0, np.sqrt(1.0 / self.d), size=(r, self.d))
        b = rng.normal(0.0, 0.5, size=r)
        a = rng.normal(0.0, np.sqrt(1.0 / r), size=r)
        return self.network(r).flatten([np.c_[W, b], np.r_[a, 0.0][None, :]])

    def label(self) -> str:
        return f"{self.activation}/L{self.level}/s{self.seed}"


def min_pair_dissimilarity(V: np.ndarray) -> float:
    """min over pairs i != j of 1 - |cos(v_i, v_j)| (inf for one vector)."""
    V = np.asarray(V, dtype=float)
    if len(V) < 2:
        return np.inf
    U = V / np.linalg.norm(V, axis=1, keepdims=True)
    C = 1.0 - np.abs(U @ U.T)
    return float(C[~np.eye(len(V), dtype=bool)].min())


def toy_tasks(activations=TOY_ACTIVATIONS, levels=tuple(TOY_LEVELS), seeds=TOY_SEEDS) -> list[ToyTask]:
    """The tasks in a fixed order: activation, then level, then seed (150 with the defaults)."""
    return [ToyTask(act, level, seed) for act in activations for level in levels for seed in seeds]


@dataclass(frozen=True)
class ToySuccess:
    """The success test of one reconstruction against its teacher."""

    success: bool
    K: int
    r_star: int
    dissimilarities: tuple  # per teacher neuron: the best match's dissimilarity
    output_errors: tuple  # per teacher neuron: |a_hat - s a*| / |a*| of that match

    def to_json(self) -> dict:
        return {"success": self.success, "K": self.K, "r_star": self.r_star,
                "dissimilarities": list(self.dissimilarities), "output_errors": list(self.output_errors)}


def toy_success(task: ToyTask, incoming: np.ndarray, outgoing: np.ndarray) -> ToySuccess:
    """Compare reconstructed neurons (K, d + 1) [w; b] and (K, 1) output weights with the teacher."""
    incoming = np.asarray(incoming, dtype=float).reshape(-1, task.d + 1)
    outgoing = np.asarray(outgoing, dtype=float).reshape(len(incoming), -1)[:, 0]
    K = len(incoming)
    odd = task.activation_class in ("odd", "odd_constant")
    dissimilarities, errors = [], []
    for v_star, a_star in zip(task.teacher_incoming, task.teacher_outgoing[:, 0]):
        if K == 0:
            dissimilarities.append(1.0)
            errors.append(np.inf)
            continue
        norms = np.linalg.norm(incoming, axis=1) * np.linalg.norm(v_star)
        cos = np.where(norms > 0, incoming @ v_star / np.where(norms > 0, norms, 1.0), 0.0)
        dis = 1.0 - (np.abs(cos) if odd else cos)
        best = int(np.argmin(dis))
        s = np.sign(cos[best]) if odd else 1.0
        dissimilarities.append(float(max(dis[best], 0.0)))
        errors.append(float(abs(outgoing[best] - s * a_star) / abs(a_star)))
    ok = (K == task.r_star and all(d <= MATCH_TOLERANCE for d in dissimilarities)
          and all(e <= OUTPUT_TOLERANCE for e in errors))
    return ToySuccess(bool(ok), K, task.r_star, tuple(dissimilarities), tuple(errors))
