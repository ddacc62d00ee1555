"""An affine map as covert linear pairs of hidden neurons: the even+linear activations' exact skip.

For sigma(z) - sigma(-z) = 2 alpha z, the pair (v, a), (-v, -a) of hidden neurons adds
a sigma(v.x~) - a sigma(-v.x~) = 2 alpha a (v . x~): an affine function of the input.  So a one-hidden-
layer network plus an affine skip Theta ((D + 1) x m, f += [x; 1] Theta) equals the same network with
R = rank(Theta) such pairs appended: Theta = U S V^T, pair r has v_r = sqrt(s_r) V_r (over [x; 1]) and
a_r = sqrt(s_r) U_r / (2 alpha).  The MLP engine has no skip layer; with the pairs, fine-tuning trains
Theta through the engine's own kernels (the pairs may leave the exact pair form while they train).
"""

from __future__ import annotations

import numpy as np

from gradflow.theory.errors import require

RANK_TOLERANCE = 1e-14  # singular values below this times the largest are dropped (no pair needed)


def covert_pairs(theta: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs representing [x; 1] @ theta: incoming (2R, D + 1) rows [w; b] and outgoing (2R, m)."""
    theta = np.asarray(theta, dtype=float)
    require(theta.ndim == 2, "theta", "a matrix (D + 1, m)", theta.shape)
    require(np.isfinite(alpha) and alpha != 0, "alpha", "nonzero (sigma(z) - sigma(-z) = 2 alpha z)", alpha)
    U, s, Vt = np.linalg.svd(theta.T, full_matrices=False)  # theta^T = U S V^T: (m, D+1)
    keep = s > RANK_TOLERANCE * (s[0] if s.size else 0.0)
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    v = np.sqrt(s)[:, None] * Vt
    a = (np.sqrt(s)[None, :] * U).T / (2.0 * alpha)
    return np.concatenate([v, -v]), np.concatenate([a, -a])


def pairs_affine(incoming: np.ndarray, outgoing: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """The affine map ((D + 1) x m) that R appended pairs represent, and how far they are from pair form
    (max |v_r + v_{R+r}|, |a_r + a_{R+r}|): 0 for exact pairs, whose sum is then exactly affine."""
    incoming, outgoing = np.asarray(incoming, dtype=float), np.asarray(outgoing, dtype=float)
    R = len(incoming) // 2
    v, w = incoming[:R], incoming[R:]
    a, b = outgoing[:R], outgoing[R:]
    theta = alpha * (v.T @ a - w.T @ b)  # exact for pairs: 2 alpha a v^T
    gap = max(float(np.max(np.abs(v + w), initial=0.0)), float(np.max(np.abs(a + b), initial=0.0)))
    return theta, gap
