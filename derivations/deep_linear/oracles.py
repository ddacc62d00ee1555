"""Plain NumPy GD of the two-layer network, written by hand from its formulas.

The independent oracle for the generated W-space kernel and the ``--backend numpy`` path of
``--method gd``.  Nothing here is generated, on purpose.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.deep_linear.weight_space import SquaredTrajectory
from gradflow.numerics.errors import DivergenceError
from gradflow.theory.errors import require


def numpy_loss(W1, W2, C) -> float:
    """L = 1/2 ||C - W2 W1||_F^2."""
    residual = C - W2 @ W1
    return 0.5 * float(np.sum(residual * residual))


def numpy_gd(initial, data: dict, eta: float, n_steps: int, record=None) -> SquaredTrajectory:
    """GD on L = 1/2 ||C - W2 W1||^2 written by hand: W1 += eta W2^T E, W2 += eta E W1^T, E = C - W2 W1."""
    require(np.isfinite(eta) and eta > 0, "eta", "a finite number > 0", eta)
    W1, W2 = (np.array(w, dtype=float) for w in initial)
    C, U, V = (np.asarray(data[name], dtype=float) for name in ("C", "U", "V"))
    steps = np.arange(n_steps + 1) if record is None else np.unique(np.asarray(record, dtype=np.int64))
    wanted = set(int(q) for q in steps)
    loss, modes = [], []

    def observe():
        loss.append(numpy_loss(W1, W2, C))
        modes.append(np.diag(U.T @ (W2 @ W1) @ V).copy())

    if 0 in wanted:
        observe()
    for step in range(1, int(n_steps) + 1):
        residual = C - W2 @ W1
        W1, W2 = W1 + eta * W2.T @ residual, W2 + eta * residual @ W1.T
        if not (np.all(np.isfinite(W1)) and np.all(np.isfinite(W2))):
            raise DivergenceError(step, "W_1" if not np.all(np.isfinite(W1)) else "W_2", f"NumPy GD with eta = {eta}")
        if step in wanted:
            observe()
    return SquaredTrajectory(steps.astype(float), np.array(loss), np.array(modes), (W1, W2), "gd (numpy)")
