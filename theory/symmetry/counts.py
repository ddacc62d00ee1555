"""Exact counts of the permutation-symmetry geometry of a one-hidden-layer student.

A teacher of width r* (distinct incoming vectors, non-zero outgoing ones) and a student of width
m = r* + h.  Every count is an exact Python integer (ratios are ``fractions.Fraction``):

* T(r*, m), the zero-loss affine subspaces (labellings lambda: {1..m} -> {0..r*} onto {1..r*};
  neurons labelled 0 are "zero-type": outgoing weight 0, incoming weight free).  By definition
  T = sum_k binom(m, k) r*! S(m - k, r*) (k zero-type neurons, the rest a surjection onto the
  roles); the derived closed form is T = r*! S(m + 1, r* + 1) (see ``closed_forms``).
* G(r, m) = r! S(m, r), the symmetry-induced critical subspaces built from a critical point of
  width r < r* (surjections {1..m} -> {1..r}); variants ``sum_below`` (all widths r < r*) and
  ``with_zero_neurons`` (also zero-type neurons: T's sum with r for r*).
* the dominance ratio R(r*, h) = G(r* - 1, r* + h) / T(r*, r* + h) and its crossover
  h_c(r*) = max{h : R > 1};
* K-th order permutation points (K neurons of a layer merged into pairs), zero-loss dimension and
  Hessian nullity on a labelling's subspace, and the depth products.

S is the Stirling number of the second kind (``sympy.functions.combinatorial.numbers.stirling``).
"""

from __future__ import annotations

from fractions import Fraction
from math import comb, factorial, prod

import numpy as np
from sympy.functions.combinatorial.numbers import stirling

from gradflow.theory.errors import ParameterError, require

RATIO_VARIANTS = ("default", "sum_below", "with_zero_neurons")


def integer(value, name: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (bools and non-integers are refused, naming ``name``)."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum
    require(ok, name, f"an integer >= {minimum}", value)
    return int(value)


def _widths(r, m, r_name: str = "r_star", r_min: int = 1) -> tuple[int, int]:
    r = integer(r, r_name, r_min)
    m = integer(m, "m", 1)
    require(r <= m, r_name, f"<= m = {m} (the student must be at least as wide)", r)
    return r, m


def stirling2(n: int, k: int) -> int:
    """S(n, k): partitions of n labelled items into k non-empty blocks (S(0, 0) = 1)."""
    return int(stirling(integer(n, "n", 0), integer(k, "k", 0)))


# --- zero-loss subspaces: T ------------------------------------------------------------------------

def expansion_count_sum(r_star: int, m: int) -> int:
    """T(r*, m) by its definition, sum_{k=0}^{m} binom(m, k) r*! S(m - k, r*)."""
    r, m = _widths(r_star, m)
    return sum(comb(m, k) * factorial(r) * stirling2(m - k, r) for k in range(m + 1))


def expansion_count(r_star: int, m: int) -> int:
    """T(r*, m) = r*! S(m + 1, r* + 1), the derived closed form (the number of zero-loss affine
    subspaces of a width-m student of a width-r* teacher)."""
    r, m = _widths(r_star, m)
    return factorial(r) * stirling2(m + 1, r + 1)


def expansion_count_alternating(r_star: int, m: int) -> int:
    """T(r*, m) = sum_{j=0}^{r*} (-1)^j binom(r*, j) (r* + 1 - j)^m, by inclusion-exclusion over
    the roles missed (no Stirling number: an independent check of the other two forms)."""
    r, m = _widths(r_star, m)
    return sum((-1) ** j * comb(r, j) * (r + 1 - j) ** m for j in range(r + 1))


# --- critical subspaces: G -------------------------------------------------------------------------

def critical_count(r: int, m: int) -> int:
    """G(r, m) = r! S(m, r): affine subspaces of symmetry-induced critical points made from one
    critical point of width r (one per surjection {1..m} -> {1..r})."""
    r, m = _widths(r, m, "r")
    return factorial(r) * stirling2(m, r)


def surjection_row(m: int, top: int) -> list[int]:
    """[s! S(m, s) for s = 0..top] (surjections {1..m} -> {1..s}), by the recurrence
    s! S(m + 1, s) = s ((s-1)! S(m, s-1) + s! S(m, s)): O(m top) integer operations."""
    row = [1] + [0] * integer(top, "top", 0)
    for _ in range(integer(m, "m", 0)):
        row = [0] + [s * (row[s] + row[s - 1]) for s in range(1, top + 1)]
    return row


def critical_count_sum_below(r_star: int, m: int) -> int:
    """sum_{r=1}^{r*-1} G(r, m): critical subspaces from every width below the teacher's."""
    r_star, m = _widths(r_star, m, "r_star", 2)
    return sum(surjection_row(m, r_star - 1)[1:])


def critical_count_with_zero_neurons(r: int, m: int) -> int:
    """G counted with zero-type neurons too (w_j = 0, a_j = 0; critical when sigma(0) times the
    summed loss derivative vanishes): T's sum with r in place of r*, i.e. r! S(m + 1, r + 1)."""
    r, m = _widths(r, m, "r")
    return expansion_count_sum(r, m)


def _critical_for_ratio(r_star: int, m: int, variant: str) -> int:
    if variant == "default":
        return critical_count(r_star - 1, m)
    if variant == "sum_below":
        return critical_count_sum_below(r_star, m)
    return critical_count_with_zero_neurons(r_star - 1, m)


def _variant(variant: str) -> str:
    require(variant in RATIO_VARIANTS, "variant", f"one of {', '.join(RATIO_VARIANTS)}", variant)
    return variant


def dominance_ratio(r_star: int, h: int, variant: str = "default") -> Fraction:
    """R(r*, h) = G(r* - 1, r* + h) / T(r*, r* + h) exactly; ``sum_below`` puts sum_{r<r*} G(r, m)
    in the numerator, ``with_zero_neurons`` G with zero-type neurons.  R > 1: critical subspaces
    outnumber the zero-loss ones."""
    r_star = integer(r_star, "r_star", 2)
    h = integer(h, "h", 0)
    m = r_star + h
    return Fraction(_critical_for_ratio(r_star, m, _variant(variant)), expansion_count(r_star, m))


def crossover(r_star: int, variant: str = "default", h_max: int = 100_000) -> int | None:
    """h_c(r*) = max{h : R(r*, h) > 1}, or None when R(r*, 0) <= 1.

    R decreases in h (checked over the tabulated range by the tests; for fixed r* it falls
    geometrically like ((r* - 1)/(r* + 1))^m), so h_c is the last h before R first drops to <= 1.
    The Stirling rows are advanced in m by S(m + 1, k) = k S(m, k) + S(m, k - 1): O(r*) per h."""
    r = integer(r_star, "r_star", 2)
    variant = _variant(variant)
    h_max = integer(h_max, "h_max", 0)
    row = [stirling2(r, k) for k in range(r + 2)]  # S(m, k), k = 0..r+1, at m = r
    nxt = _next_row(row)  # S(m + 1, k)
    last = None
    for h in range(h_max + 1):
        minima = factorial(r) * nxt[r + 1]
        if variant == "default":
            critical = factorial(r - 1) * row[r - 1]
        elif variant == "sum_below":
            critical = sum(factorial(s) * row[s] for s in range(1, r))
        else:
            critical = factorial(r - 1) * nxt[r]
        if critical <= minima:
            return last
        last = h
        row, nxt = nxt, _next_row(nxt)
    raise ParameterError("h_max", f"larger: R(r*={r}, h) > 1 still at h = {h_max}", h_max)


def _next_row(row: list[int]) -> list[int]:
    return [0] + [k * row[k] + row[k - 1] for k in range(1, len(row))]


# --- higher-order permutation points ---------------------------------------------------------------

def orbit_size(hidden_widths) -> int:
    """N_min = prod_k n_k!: the permutations of the hidden neurons (sign flips not counted)."""
    widths = _hidden(hidden_widths)
    return prod(factorial(n) for n in widths)


def _hidden(hidden_widths) -> tuple[int, ...]:
    widths = tuple(hidden_widths) if not isinstance(hidden_widths, (int, np.integer)) else (hidden_widths,)
    require(len(widths) >= 1, "hidden_widths", "one hidden width or more", hidden_widths)
    return tuple(integer(n, "hidden_widths", 1) for n in widths)


def pair_embeddings(n: int, K: int) -> int:
    """Maps of n labelled neurons onto n - K reduced ones with exactly K fibres of size 2:
    binom(n - K, K) n! / 2^K (0 when n < 2K)."""
    n, K = integer(n, "n", 1), integer(K, "K", 1)
    if n - K < K:
        return 0
    return comb(n - K, K) * factorial(n) // 2 ** K


def higher_order_factor(hidden_widths, K: int) -> Fraction:
    """sum_k binom(n_k - K, K) / 2^K: the K-th order points per point of the orbit, one layer at a
    time (binom(a, b) = 0 for a < b)."""
    widths = _hidden(hidden_widths)
    K = integer(K, "K", 1)
    return sum((Fraction(comb(n - K, K), 2 ** K) for n in widths if n - K >= K), Fraction(0))


def higher_order_bound(hidden_widths, K: int) -> int:
    """N_K >= N_min sum_k binom(n_k - K, K) / 2^K (an integer: each layer's term is N_min / n_k!
    times :func:`pair_embeddings`)."""
    widths = _hidden(hidden_widths)
    N_min = orbit_size(widths)
    return sum(N_min // factorial(n) * pair_embeddings(n, K) for n in widths)


# --- zero-loss subspaces: dimension and Hessian nullity ---------------------------------------------

def labelling_dimension(m: int, r_star: int, zero_type: int, d: int, d_out: int) -> int:
    """dim Gamma_lambda = k d + (m - k - r*) d_out, k zero-type neurons (free incoming vectors) and
    m - k - r* replicas beyond one per role (outgoing vectors constrained only by their sums)."""
    r, m = _widths(r_star, m)
    k = integer(zero_type, "zero_type", 0)
    require(k <= m - r, "zero_type", f"<= m - r* = {m - r}", k)
    return k * integer(d, "d", 1) + (m - k - r) * integer(d_out, "d_out", 1)


def labelling_nullity(zero_type: int, group_sizes, output_ranks, d: int, d_out: int) -> int:
    """Hessian nullity on Gamma_lambda at generic data: k d + sum_i [(s_i - 1) d_out + (s_i - rank A_i) d],
    s_i the size of role i's replica group and A_i = [a_j] its outgoing vectors (d_out x s_i)."""
    k = integer(zero_type, "zero_type", 0)
    d, d_out = integer(d, "d", 1), integer(d_out, "d_out", 1)
    sizes = tuple(integer(s, "group_sizes", 1) for s in group_sizes)
    ranks = tuple(integer(a, "output_ranks", 0) for a in output_ranks)
    require(len(ranks) == len(sizes), "output_ranks", f"one rank per group ({len(sizes)})", len(ranks))
    for s, a in zip(sizes, ranks):
        require(1 <= a <= min(s, d_out), "output_ranks", "between 1 and min(group size, d_out)", a)
    return k * d + sum((s - 1) * d_out + (s - a) * d for s, a in zip(sizes, ranks))


# --- depth ------------------------------------------------------------------------------------------

def _layerwise(r_stars, ms) -> list[tuple[int, int]]:
    r_stars, ms = tuple(r_stars), tuple(ms)
    require(len(r_stars) >= 1, "r_stars", "one hidden layer or more", r_stars)
    require(len(ms) == len(r_stars), "ms", f"one width per hidden layer ({len(r_stars)})", ms)
    return [_widths(r, m) for r, m in zip(r_stars, ms)]


def deep_expansion_count(r_stars, ms) -> int:
    """prod_l T(r*_l, m_l): labellings of every hidden layer (replicas of layer l act on the merged
    incoming vectors of layer l - 1)."""
    return prod(expansion_count(r, m) for r, m in _layerwise(r_stars, ms))


def deep_critical_count(r_stars, ms) -> int:
    """prod_l G(r*_l - 1, m_l): one neuron fewer than the teacher in every hidden layer."""
    pairs = _layerwise(r_stars, ms)
    for r, _ in pairs:
        require(r >= 2, "r_stars", "every entry >= 2 (G needs width r* - 1 >= 1)", r)
    return prod(critical_count(r - 1, m) for r, m in pairs)


def deep_dominance_ratio(r_stars, ms) -> Fraction:
    """The depth ratio: the layers' ratios multiply."""
    return Fraction(deep_critical_count(r_stars, ms), deep_expansion_count(r_stars, ms))
