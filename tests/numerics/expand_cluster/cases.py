"""Plain NumPy activations and one-hidden-layer networks for the clustering tests."""

import numpy as np
import scipy.special

SIGMA = {"tanh": np.tanh, "sigmoid": scipy.special.expit, "relu": lambda z: np.maximum(z, 0.0),
         "softplus": lambda z: np.logaddexp(0.0, z),
         "g": lambda z: scipy.special.expit(4 * z) + np.logaddexp(0.0, z)}
CLASS = {"tanh": "odd", "sigmoid": "odd_constant", "softplus": "even_linear", "relu": "even_linear_positive_scaling",
         "g": "none"}


def shallow(sigma, V, A, X, c=0.0):
    """f(X) = sigma([X, 1] V^T) A + c, rows of V are [w; b], rows of A outgoing weights."""
    X1 = np.column_stack([X, np.ones(len(X))])
    return SIGMA[sigma](X1 @ np.asarray(V).T) @ np.asarray(A).reshape(len(V), -1) + c


def sort_rows(V, *others):
    """Rows ordered by the first coordinate (reconstructions compared as sets of neurons)."""
    order = np.argsort(V[:, 0])
    return (V[order],) + tuple(o[order] for o in others)
