"""Vector output, coupled groups: the least squares of all active groups on the point's partition.

When the groups' feature spaces col(C_g) are not orthogonal their rank-one terms (C_g z_g) h_g^T
couple and no eigenvalue formula applies.  Every network with the same activation patterns still
predicts inside V (x) R^{d_out}, V = col([C_1 ... C_G]), so

    L >= ||Y - P_V Y||_F^2 / (n d_out) =: L_V      (P_V the orthogonal projector on V, exact rationals).

The bound is the plateau value when it is attained with the patterns kept.  With the directions
u_g = N_g z_g fixed, the prediction is A H with A = [C_1 z_1 ... C_G z_G] (n x G) and H the output
weights (G x d_out): a linear least-squares problem.  If col(A) = V its minimum is L_V.  So:
rationalise the refined directions, check rank(A) = rank(V) and the patterns exactly, and solve for
H exactly (the solution nearest the refined output weights).  Such a point is stationary: its
residual Y - P_V Y is orthogonal to every col(C_g), so both the z_g- and the h_g-gradients vanish.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp


@dataclass(frozen=True)
class SpanningPlateau:
    loss: sp.Rational  # L_V, exact
    directions: tuple  # u_g (sympy column vectors), one per group, in the groups' order
    outputs: sp.Matrix  # H (G x d_out), exact
    wrong_sides: tuple  # (group, input, w.x) for each input on the wrong side of u_g (empty if kept)


def _rational(value: float) -> sp.Rational:
    fraction = Fraction(float(value)).limit_denominator(10 ** 6)
    return sp.Rational(fraction.numerator, fraction.denominator)


def _nearest_solution(A: sp.Matrix, Y: sp.Matrix, start: sp.Matrix) -> sp.Matrix:
    """The least-squares solution of A H ~ Y nearest to ``start`` (A of full column rank or not)."""
    rows = A.rowspace()
    B = sp.Matrix.vstack(*rows)
    AB = A * B.T
    return start + B.T * (AB.T * AB).LUsolve(AB.T * (Y - A * start))


def spanning_plateau(groups, features, parts_float, X: sp.Matrix, Y: sp.Matrix):
    """L_V and an exact point attaining it, or None with the reason it is not attained.

    ``features``: the groups' exact C_g and N_g; ``parts_float``: the refined (z_g, h_g) per group."""
    n, d_out = Y.shape
    V = sp.Matrix.hstack(*(f.features for f in features))
    columns = V.columnspace()
    K = sp.Matrix.hstack(*columns)
    projected = K * (K.T * K).LUsolve(K.T * Y)
    residual = Y - projected
    loss = sp.nsimplify(sum(v ** 2 for v in residual) / (n * d_out))
    coordinates = [sp.Matrix([_rational(v) for v in z]) for z, _ in parts_float]  # z_g, rationalised
    directions = [f.basis * z for f, z in zip(features, coordinates)]
    A = sp.Matrix.hstack(*(f.features * z for f, z in zip(features, coordinates)))
    if A.rank() != len(columns):
        return None, (f"the refined directions span {A.rank()} of the {len(columns)} dimensions of the groups' "
                      "features: the partition's least squares is not attained with them")
    start = sp.Matrix([[_rational(v) for v in h] for _, h in parts_float])
    H = _nearest_solution(A, Y, start)
    wrong = []
    for g, (group, u) in enumerate(zip(groups, directions)):
        side = list(X * u)
        wrong += [(g, k, side[k]) for k in group.positive if not side[k] > 0]
        wrong += [(g, k, side[k]) for k in group.negative if not side[k] < 0]
        wrong += [(g, k, side[k]) for k in group.kink if side[k] != 0]
    return SpanningPlateau(loss, tuple(directions), H, tuple(wrong)), None
