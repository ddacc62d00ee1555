"""Classifiers trained by full-batch GD with the MLP engine's generated kernels: softmax regression
(``layers=d,C:softmax``) and tanh MLPs (``layers=d,W:tanh,C:softmax``), mean negative log-likelihood
plus (l2/2) |theta|^2 on every parameter, constant step ``lr``.

A bootstrap member is the same data with per-sample weights w_n = multiplicity of n in the resample
(the mean loss (1/N) sum_n w_n loss_n is then the mean over the resampled set), so every member
shares one data array.  Members run in one ``train_ensemble`` call; each returns its last GD iterate
(the engine also keeps the best-loss point; GD's result here is the point after exactly ``steps``
steps).
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.confusion.scores import log_softmax
from gradflow.numerics.mlp import L2, MLPObjective
from gradflow.numerics.mlp.training import train_ensemble
from gradflow.theory.errors import require
from gradflow.theory.mlp.network import Layer, Network, random_params


def softmax_regression(d: int, C: int) -> Network:
    """``layers=d,C:softmax``: logits W [x; 1], NLL."""
    return Network(d, (Layer(C, "softmax"),), loss="nll")


def tanh_mlp(d: int, width: int, C: int) -> Network:
    """``layers=d,W:tanh,C:softmax``."""
    return Network(d, (Layer(width, "tanh"), Layer(C, "softmax")), loss="nll")


def initial_parameters(network: Network, seed: int) -> np.ndarray:
    """theta_0: zero for softmax regression (its loss is convex: no symmetry to break), Glorot normal
    (``random_params(network, seed)``, biases 0) with hidden layers."""
    return np.zeros(network.n_params) if network.depth == 1 else random_params(network, seed)


def bootstrap_weights(n: int, members: int, rng: np.random.Generator) -> np.ndarray:
    """(members, n) multiplicities: member m draws n indices with replacement (in member order)."""
    require(isinstance(n, (int, np.integer)) and n >= 1, "n", "an integer >= 1", n)
    return np.stack([np.bincount(rng.integers(0, n, n), minlength=n).astype(float) for _ in range(members)])


def train_gd(network: Network, X, y, Theta0, *, steps: int, lr: float, l2: float = 0.0, weights=None,
             workers: int | None = None) -> np.ndarray:
    """(E, P) parameters after ``steps`` full-batch GD steps from each row of ``Theta0``; ``weights`` is
    None (all 1), one (N,) vector shared by every member, or (E, N), one row per member."""
    Theta0 = np.atleast_2d(np.asarray(Theta0, dtype=float))
    require(isinstance(steps, (int, np.integer)) and steps >= 0, "steps", "an integer >= 0", steps)
    require(np.isfinite(lr) and lr > 0, "lr", "a number > 0", lr)
    E = Theta0.shape[0]
    if weights is None or np.ndim(weights) == 1:
        objectives = MLPObjective.create(network, X, y, weights=weights, penalties=(L2(l2),))
    else:
        weights = np.asarray(weights, dtype=float)
        require(weights.shape[0] == E, "weights", f"one row per member ({E})", weights.shape)
        objectives = [MLPObjective.create(network, X, y, weights=w, penalties=(L2(l2),)) for w in weights]
    if steps == 0:
        return Theta0.copy()
    results = train_ensemble(objectives, Theta0, workers=workers, method="gd", lr=lr, polish="none", spectrum=False,
                             maxiterations_ode=int(steps), minloss=0.0, min_gnorm=0.0, n_samples_trajectory=2,
                             maxtime_ode=float("inf"))
    # the recorder always keeps the run's last point: the iterate after exactly `steps` steps
    return np.stack([r.trajectory[-1] for r in results])


def member_log_probabilities(network: Network, Theta, X) -> np.ndarray:
    """(E, n, C) log-softmax of each member's logits on X."""
    Theta = np.atleast_2d(np.asarray(Theta, dtype=float))
    return np.stack([log_softmax(network.forward(theta, X)) for theta in Theta])


def predict(network: Network, theta, X) -> np.ndarray:
    """The predicted class (lowest index on ties)."""
    return np.argmax(network.forward(theta, X), axis=1)
