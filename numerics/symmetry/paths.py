"""Constant-loss paths between permuted copies of a permutation point.

A *free slot* is a neuron with zero outgoing vector: its incoming vector is irrelevant to the loss.
Relocating role l into free slot a takes two segments, each at constant loss:
  (1) w_a -> w_l linearly (u_a = 0 throughout);
  (2) (u_a, u_l) = (t u_l, (1 - t) u_l), t: 0 -> 1 (both neurons compute the same thing).
Afterwards a holds l's role and l is the free slot.  Any rearrangement of the roles is a sequence of
relocations (a transposition (a b) with free slot f: a -> f, b -> a, f -> b).  Starting from a
permutation point, moving along the plateau to its free slot, rearranging, and moving back joins
theta_P to every permuted copy at the loss L(theta_P).

Interpolations are written (1 - t) x + t y, so segment ends are the exact vectors.
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.symmetry.neurons import check_hidden_layer, check_neuron, neuron_indices
from gradflow.theory.errors import require

MIN_POINTS = 21


def _ts(n_points: int) -> np.ndarray:
    require(isinstance(n_points, (int, np.integer)) and n_points >= 2, "n_points", "an integer >= 2", n_points)
    return np.linspace(0.0, 1.0, int(n_points))


def _segment(start, indices, target, n_points):
    """Points of ``start`` with theta[indices] moved linearly to ``target``."""
    out = np.repeat(np.asarray(start, dtype=float)[None], n_points, axis=0)
    t = _ts(n_points)[:, None]
    out[:, indices] = (1.0 - t) * start[indices] + t * target
    return out


def move_free_slot(net, theta, layer: int, a: int, w_target, n_points: int = MIN_POINTS) -> np.ndarray:
    """Move the incoming vector of free slot ``a`` (u_a = 0) linearly to ``w_target``."""
    inc_a, out_a = neuron_indices(net, layer, a)
    theta = np.asarray(theta, dtype=float)
    require(not np.any(theta[out_a]), "a", "a free slot (zero outgoing vector)", a)
    return _segment(theta, inc_a, np.asarray(w_target, dtype=float), n_points)


def relocation(net, theta, layer: int, source: int, slot: int, n_points: int = MIN_POINTS) -> np.ndarray:
    """(2 n_points, P): role ``source`` moved into free ``slot``; the last row has ``source`` free."""
    require(source != slot, "slot", "a neuron other than the source", slot)
    inc_l, out_l = neuron_indices(net, layer, source)
    inc_a, out_a = neuron_indices(net, layer, slot)
    first = move_free_slot(net, theta, layer, slot, theta[inc_l], n_points)
    middle = first[-1]
    second = np.repeat(middle[None], n_points, axis=0)
    t = _ts(n_points)[:, None]
    u_l = middle[out_l]
    second[:, out_a] = t * u_l
    second[:, out_l] = (1.0 - t) * u_l
    return np.vstack([first, second])


def rearrangement_path(net, theta, layer: int, order, free: int, n_points: int = MIN_POINTS) -> np.ndarray:
    """Constant-loss path from ``theta`` (neuron ``free`` a free slot) to the point whose neuron p
    holds the role of old neuron ``order[p]``, the free slot ending at p with order[p] = free and with
    its original incoming vector restored."""
    layer = check_hidden_layer(net, layer)
    free = check_neuron(net, layer, free, "free")
    width = net.layers[layer - 1].width
    order = np.asarray(order)
    require(order.shape == (width,) and np.array_equal(np.sort(order), np.arange(width)), "order",
            f"a permutation of 0..{width - 1}", order)
    theta = np.asarray(theta, dtype=float)
    w_free = theta[neuron_indices(net, layer, free)[0]].copy()
    where = list(range(width))  # where[p]: the old neuron whose role sits at p now (the blank: free)
    blank, pieces, current = free, [theta[None]], theta
    while True:
        if order[blank] != free:  # fill the blank with the role it must hold
            source = where.index(order[blank])
        else:
            wrong = [p for p in range(width) if where[p] != order[p] and p != blank]
            if not wrong:
                break
            source = wrong[0]  # a cycle without the blank: open it
        path = relocation(net, current, layer, source, blank, n_points)
        pieces.append(path)
        current = path[-1]
        where[blank], where[source] = where[source], free
        blank = source
    pieces.append(move_free_slot(net, current, layer, blank, w_free, n_points))
    return np.vstack(pieces)


def permutation_path(net, theta_P, layer: int, i: int, j: int, order, n_points: int = MIN_POINTS) -> np.ndarray:
    """Constant-loss path from the permutation point ``theta_P`` (neurons i, j the duplicated pair) to
    its permuted copy (new neuron p = old neuron order[p]): along the plateau to the free slot at i,
    rearrange, and back along the plateau of the pair's new positions.  The last row is the permuted
    point exactly."""
    layer = check_hidden_layer(net, layer)
    theta_P = np.asarray(theta_P, dtype=float)
    _, out_i = neuron_indices(net, layer, i)
    _, out_j = neuron_indices(net, layer, j)
    require(np.array_equal(theta_P[out_i], theta_P[out_j]), "theta_P", "a point with u_i = u_j (a duplicated pair)")
    pair = np.concatenate([out_i, out_j])
    total = theta_P[out_i] + theta_P[out_j]
    to_free = _segment(theta_P, pair, np.concatenate([np.zeros_like(total), total]), n_points)
    middle = rearrangement_path(net, to_free[-1], layer, order, i, n_points)
    order = np.asarray(order)
    new_i, new_j = int(np.flatnonzero(order == i)[0]), int(np.flatnonzero(order == j)[0])
    _, out_ni = neuron_indices(net, layer, new_i)
    _, out_nj = neuron_indices(net, layer, new_j)
    back = _segment(middle[-1], np.concatenate([out_ni, out_nj]),
                    np.concatenate([theta_P[out_i], theta_P[out_j]]), n_points)
    return np.vstack([to_free, middle, back])


def transposition_path(net, theta, layer: int, a: int, b: int, free: int, n_points: int = MIN_POINTS):
    """Roles a and b exchanged through free slot ``free`` (three relocations), constant loss."""
    width = net.layers[check_hidden_layer(net, layer) - 1].width
    order = np.arange(width)
    order[[a, b]] = order[[b, a]]
    require(free not in (a, b), "free", "a neuron other than a and b", free)
    return rearrangement_path(net, theta, layer, order, free, n_points)


__all__ = ["MIN_POINTS", "move_free_slot", "permutation_path", "rearrangement_path", "relocation", "transposition_path"]
