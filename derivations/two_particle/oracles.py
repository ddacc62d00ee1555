"""Plain NumPy forms of the two-particle dynamics, written by hand: the kernels' oracles and the
``--backend numpy`` path of ``am-two-particle``.

The GD map and its loss are the binary margin map of the associative memory (two classes:
m <- m + eta kappa Kt (p * sigma(-m)), with kappa = 2 and Kt = ``Instance.Kt``):
:func:`binary_margin_map_numpy` and :func:`binary_margin_loss_numpy`, re-exported here.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.associative_memory.oracles import binary_margin_loss_numpy, binary_margin_map_numpy

__all__ = ["binary_margin_loss_numpy", "binary_margin_map_numpy", "binary_margin_flow_numpy"]


def binary_margin_flow_numpy(Kt, p, kappa, times):
    """dm/dt = kappa Kt (p * sigma(-m)) from m = 0 by SciPy's DOP853 (rtol 1e-11, atol 1e-13), at ``times``
    (from 0); (len(times), 2).  sigma(-m) by expit, which is stable at any margin."""
    from scipy.integrate import solve_ivp  # imported when needed: saves 0.4 s at start
    from scipy.special import expit

    Kt, p, times = np.asarray(Kt, dtype=float), np.asarray(p, dtype=float), np.asarray(times, dtype=float)
    rhs = lambda _, m: kappa * Kt @ (p * expit(-m))  # noqa: E731 - the formula, by hand
    return solve_ivp(rhs, (0.0, times[-1]), np.zeros(p.size), t_eval=times, rtol=1e-11, atol=1e-13,
                     method="DOP853").y.T
