"""``confusion-synthetic``: Gaussian class mixtures with three shifts, the estimate against the truth.

Per seed, ``numpy.random.default_rng(seed)`` draws, in this order (a mixture draw: labels, then x):
class means mu_c ~ N(0, 1.2^2 I_d); the training set, then the ID test set (y uniform, x = mu_y + N(0, I));
the ensemble's bootstrap indices, member by member; then three shifted sets, labels from the same
mechanism:

  hard-resample  batches of mixture draws, each followed by as many uniforms; a point is kept with
                 probability clip(0.05 + H_Bayes(x) / log C, 0, 1), H_Bayes the entropy of the true
                 posterior p(y|x) ~ exp(-|x - mu_y|^2 / 2); the first n kept (p(y|x) unchanged)
  noise          a fresh mixture draw plus N(0, 0.8^2 I) on x
  class-shift    a fresh mixture draw whose class-0 points move 60 % of the way to mu_1 (a spurious
                 feature of one class: the kind of shift the estimate is not built for)

The ensemble: softmax regressions on bootstrap resamples (GD, generated kernels).  Evaluated: softmax
regression on the full training set (the reference) and tanh MLPs of width 8 and 32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.derivations.confusion.analysis import SeedData
from gradflow.numerics.confusion.ensembles import (bootstrap_weights, initial_parameters, member_log_probabilities,
                                                   predict, softmax_regression, tanh_mlp, train_gd)
from gradflow.numerics.confusion.scores import log_softmax

SHIFTS = ("hard-resample", "noise", "class-shift")
MLP_WIDTHS = (8, 32)


@dataclass(frozen=True)
class SyntheticSettings:
    classes: int = 5
    dim: int = 10
    mean_scale: float = 1.2
    n_train: int = 600
    n_test: int = 5000
    members: int = 10
    steps: int = 300
    lr: float = 0.5
    l2: float = 1e-3
    noise: float = 0.8
    shift_fraction: float = 0.6
    keep_floor: float = 0.05


def _mixture(rng, mu: np.ndarray, n: int):
    y = rng.integers(0, mu.shape[0], n)
    return mu[y] + rng.normal(size=(n, mu.shape[1])), y


def bayes_entropy(X: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Entropy of p(y|x) ~ exp(-|x - mu_y|^2 / 2) (equal priors)."""
    lp = log_softmax(-0.5 * ((X[:, None, :] - mu[None]) ** 2).sum(axis=2))
    return -(np.exp(lp) * lp).sum(axis=1)


def _hard_resample(rng, mu: np.ndarray, n: int, floor: float):
    kept_x, kept_y, count = [], [], 0
    while count < n:
        X, y = _mixture(rng, mu, n)
        u = rng.random(n)
        keep = u < np.clip(floor + bayes_entropy(X, mu) / np.log(mu.shape[0]), 0.0, 1.0)
        kept_x.append(X[keep])
        kept_y.append(y[keep])
        count += int(keep.sum())
    return np.concatenate(kept_x)[:n], np.concatenate(kept_y)[:n]


def draw_world(seed: int, s: SyntheticSettings) -> dict:
    """Every data set of one seed, drawn in the documented order: name -> (X, y); plus the means and the
    members' bootstrap weights."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.0, s.mean_scale, size=(s.classes, s.dim))
    train = _mixture(rng, mu, s.n_train)
    test = _mixture(rng, mu, s.n_test)
    weights = bootstrap_weights(s.n_train, s.members, rng)
    hard = _hard_resample(rng, mu, s.n_test, s.keep_floor)
    X, y = _mixture(rng, mu, s.n_test)
    noise = (X + rng.normal(0.0, s.noise, size=X.shape), y)
    X, y = _mixture(rng, mu, s.n_test)
    X = X + np.where((y == 0)[:, None], s.shift_fraction * (mu[1] - mu[0]), 0.0)
    return {"mu": mu, "train": train, "id": test, "weights": weights,
            "shifted": {"hard-resample": hard, "noise": noise, "class-shift": (X, y)}}


def seed_data(seed: int, s: SyntheticSettings) -> SeedData:
    """Train the ensemble and the evaluated models of one seed; their outputs on every set."""
    world = draw_world(seed, s)
    X, y = world["train"]
    net = softmax_regression(s.dim, s.classes)
    members = train_gd(net, X, y, np.zeros((s.members, net.n_params)), steps=s.steps, lr=s.lr, l2=s.l2,
                       weights=world["weights"])
    sets = {"id": world["id"], **world["shifted"]}
    models = {"softmax": (net, train_gd(net, X, y, np.zeros((1, net.n_params)), steps=s.steps, lr=s.lr, l2=s.l2)[0])}
    for width in MLP_WIDTHS:
        mlp = tanh_mlp(s.dim, width, s.classes)
        models[f"tanh-{width}"] = (mlp, train_gd(mlp, X, y, initial_parameters(mlp, seed)[None], steps=s.steps,
                                                 lr=s.lr, l2=s.l2)[0])
    predictions = {name: {k: predict(m, theta, Xk) for k, (Xk, _) in sets.items()}
                   for name, (m, theta) in models.items()}
    return SeedData(s.classes, member_log_probabilities(net, members, world["id"][0]), world["id"][1],
                    {k: (member_log_probabilities(net, members, Xk), yk) for k, (Xk, yk) in world["shifted"].items()},
                    predictions, "softmax")


__all__ = ["SHIFTS", "SyntheticSettings", "bayes_entropy", "draw_world", "seed_data"]
