"""``confusion-digits`` data and models: scikit-learn's 8x8 digits (shipped with it, no download).

Per seed: a stratified 60/20/20 split into training, ID test and OOD pool
(``train_test_split(test_size=0.4, stratify=y, random_state=seed)``, then the 40 % halved the same way,
the first half the ID test set); ``numpy.random.default_rng(seed)`` then draws the members' bootstrap
indices (member by member), the hard resample and the pixel noise.  Shifted sets from the pool, labels
kept, pixels on the 0..16 scale (inputs are pixels / 16):

  hard-resample   |pool| draws with replacement, probability ~ q^8, q = d_same / (d_same + d_other), the
                  Euclidean distances to the nearest training image of x's class and of another class
  noise           Gaussian pixel noise, sigma 4, clipped to [0, 16]
  blur            3x3 box blur with zero padding (or, named ``translate``: one pixel right, zero fill)
  class-specific  the mean class-1 training image added to every class-7 image, clipped to [0, 16]

Ensemble: tanh MLPs of width 64 on bootstrap weights (member m starts at ``random_params(net, [seed, m])``).
Evaluated: gradflow softmax regression and tanh MLPs of width 16, 32, 128 (``random_params(net, seed)``),
and scikit-learn's LogisticRegression(max_iter=2000), SVC(), KNeighborsClassifier(5) and
RandomForestClassifier(200, random_state=seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.derivations.confusion.analysis import SeedData
from gradflow.numerics.confusion.ensembles import (bootstrap_weights, initial_parameters, member_log_probabilities,
                                                   predict, softmax_regression, tanh_mlp, train_gd)
from gradflow.theory.mlp.network import random_params

GRADFLOW_WIDTHS = (16, 32, 128)
SKLEARN_MODELS = ("logistic", "svc", "knn", "forest")
MODELS = ("softmax",) + tuple(f"tanh-{w}" for w in GRADFLOW_WIDTHS) + SKLEARN_MODELS


@dataclass(frozen=True)
class DigitsSettings:
    members: int = 10
    width: int = 64
    steps: int = 1000
    lr: float = 0.5
    l2: float = 1e-4
    hardness_power: float = 8.0
    noise_sigma: float = 4.0
    variant_c: str = "blur"  # or "translate"
    reference: str = "softmax"


def split(seed: int):
    """(train, id, pool), each (pixels 0..16 as float (n, 64), labels)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X, y = digits.data.astype(float), digits.target.astype(np.int64)
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
    X_id, X_pool, y_id, y_pool = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=seed)
    return (X_train, y_train), (X_id, y_id), (X_pool, y_pool)


def _nearest(X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Distance from each row of X to its nearest row of R."""
    d2 = (X ** 2).sum(1)[:, None] - 2 * X @ R.T + (R ** 2).sum(1)[None]
    return np.sqrt(np.maximum(d2.min(axis=1), 0.0))


def hardness(X: np.ndarray, y: np.ndarray, X_train: np.ndarray, y_train: np.ndarray) -> np.ndarray:
    """q = d_same / (d_same + d_other), ensemble-free: near 1 when another class's training image is closer."""
    q = np.empty(len(y))
    for c in np.unique(y):
        rows = y == c
        same, other = _nearest(X[rows], X_train[y_train == c]), _nearest(X[rows], X_train[y_train != c])
        q[rows] = same / np.maximum(same + other, 1e-300)
    return q


def box_blur(X: np.ndarray) -> np.ndarray:
    images = np.pad(X.reshape(-1, 8, 8), ((0, 0), (1, 1), (1, 1)))
    out = sum(images[:, 1 + i:9 + i, 1 + j:9 + j] for i in (-1, 0, 1) for j in (-1, 0, 1)) / 9.0
    return out.reshape(-1, 64)


def translate(X: np.ndarray) -> np.ndarray:
    images = X.reshape(-1, 8, 8)
    out = np.zeros_like(images)
    out[:, :, 1:] = images[:, :, :-1]
    return out.reshape(-1, 64)


def shifted_sets(rng, train, pool, s: DigitsSettings) -> dict:
    (X_train, y_train), (X_pool, y_pool) = train, pool
    q = hardness(X_pool, y_pool, X_train, y_train)
    p = q ** s.hardness_power
    pick = rng.choice(len(y_pool), size=len(y_pool), replace=True, p=p / p.sum())
    noisy = np.clip(X_pool + rng.normal(0.0, s.noise_sigma, size=X_pool.shape), 0.0, 16.0)
    moved = X_pool.copy()
    moved[y_pool == 7] = np.clip(moved[y_pool == 7] + X_train[y_train == 1].mean(axis=0), 0.0, 16.0)
    third = box_blur(X_pool) if s.variant_c == "blur" else translate(X_pool)
    return {"hard-resample": (X_pool[pick], y_pool[pick]), "noise": (noisy, y_pool), s.variant_c: (third, y_pool),
            "class-specific": (moved, y_pool)}


def _sklearn_models(seed: int) -> dict:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    return {"logistic": LogisticRegression(max_iter=2000), "svc": SVC(), "knn": KNeighborsClassifier(5),
            "forest": RandomForestClassifier(200, random_state=seed)}


def _sklearn_predictions(seed: int, X, y, sets: dict) -> dict:
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    out = {}
    # one BLAS thread: these fits are small, and BLAS threads fighting over the cores made lbfgs 100x slower
    with threadpool_limits(limits=1):
        for name, model in _sklearn_models(seed).items():
            model.fit(X, y)
            out[name] = {k: np.asarray(model.predict(Xk), dtype=np.int64) for k, (Xk, _) in sets.items()}
    return out


def seed_data(seed: int, s: DigitsSettings) -> tuple[SeedData, dict]:
    """(the seed's data for the analysis, the pixel sets for the example grid)."""
    train, test, pool = split(seed)
    rng = np.random.default_rng(seed)
    n, C = len(train[1]), 10
    weights = bootstrap_weights(n, s.members, rng)
    shifted = shifted_sets(rng, train, pool, s)
    X, y = train[0] / 16.0, train[1]
    net = tanh_mlp(64, s.width, C)
    Theta0 = np.stack([random_params(net, [seed, m]) for m in range(s.members)])
    members = train_gd(net, X, y, Theta0, steps=s.steps, lr=s.lr, l2=s.l2, weights=weights)
    sets = {"id": (test[0] / 16.0, test[1]), **{k: (Xk / 16.0, yk) for k, (Xk, yk) in shifted.items()}}
    predictions = {}
    for name, model in [("softmax", softmax_regression(64, C))] + [(f"tanh-{w}", tanh_mlp(64, w, C))
                                                                    for w in GRADFLOW_WIDTHS]:
        theta = train_gd(model, X, y, initial_parameters(model, seed)[None], steps=s.steps, lr=s.lr, l2=s.l2)[0]
        predictions[name] = {k: predict(model, theta, Xk) for k, (Xk, _) in sets.items()}
    predictions.update(_sklearn_predictions(seed, X, y, sets))
    data = SeedData(C, member_log_probabilities(net, members, sets["id"][0]), sets["id"][1],
                    {k: (member_log_probabilities(net, members, sets[k][0]), sets[k][1]) for k in shifted},
                    predictions, s.reference, {m: source(m) for m in predictions})
    return data, {"ID test": test, **shifted}


def source(model: str) -> str:
    return "sklearn" if model in SKLEARN_MODELS else "gradflow"
