"""The Hessian on the antisymmetric space of a collision pair from Hessian-vector products only.

At a permutation point the Hessian is block diagonal in Fix(P_ij) (+) {P v = -v}; the antisymmetric
block has dimension n_{k+1} + n_{k-1} [+1], so n_{k+1} + n_{k-1} [+1] products give it exactly,
for networks far too large for a dense Hessian.
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.symmetry.collision import antisymmetric_basis


def antisymmetric_hessian(objective, theta, layer: int, i: int, j: int) -> np.ndarray:
    """A^T H(theta) A in the orthonormal basis of :func:`antisymmetric_basis` (plateau directions e
    first, then incoming directions q), symmetrised."""
    A = antisymmetric_basis(objective.network, layer, i, j)
    HA = np.column_stack([objective.hessian_vector(theta, column) for column in A.T])
    block = A.T @ HA
    return 0.5 * (block + block.T)


__all__ = ["antisymmetric_hessian"]
