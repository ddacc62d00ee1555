import itertools
import math
from functools import lru_cache

import numpy as np
import pytest

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.embeddings import permute
from gradflow.numerics.symmetry import (dimension, graph_components, intersection_graph, labellings,
                                        labellings_intersect, nullity_formula, numeric_nullity, output_jacobian, pack,
                                        random_point, random_teacher, role_swap_path, shallow, transposition_path,
                                        unpack)

D, D_OUT, N = 2, 1, 300
SIZES = [(1, 2), (2, 3), (2, 4), (3, 4)]


@lru_cache(maxsize=None)
def problem(r, m, seed=0, d_out=D_OUT):
    teacher = random_teacher(r, D, d_out, seed=seed)
    X = np.random.default_rng(seed + 100).normal(size=(N, D))
    Y = shallow(D, r, d_out).forward(pack(teacher.W, teacher.A), X)
    net = shallow(D, m, d_out)
    return teacher, X, net, MLPObjective.create(net, X, Y)


def test_teacher_draw_rules():
    t = random_teacher(4, D, 1, seed=3)
    assert np.min(np.abs(t.A)) >= 0.3
    assert min(np.linalg.norm(t.W[a] - t.W[b]) for a, b in itertools.combinations(range(4), 2)) >= 0.3


def test_labellings_are_the_onto_maps():
    labs = labellings(1, 2)
    assert sorted(map(tuple, labs)) == [(0, 1), (1, 0), (1, 1)]  # the three pieces of the smallest case
    assert len(labellings(3, 3)) == 6  # permutations only at h = 0
    for lab in labellings(2, 4):
        assert {1, 2} <= set(lab.tolist()) and lab.max() <= 2
    with pytest.raises(ValueError, match="labelling"):
        dimension([0, 1, 1], 2, D, D_OUT)


@pytest.mark.parametrize("r, m", SIZES)
def test_every_piece_has_zero_loss_and_the_formula_nullity(r, m):
    teacher, X, net, objective = problem(r, m)
    rng = np.random.default_rng(1)
    for lab in labellings(r, m):
        for _ in range(3):
            theta = random_point(teacher, lab, rng)
            loss, grad, H = objective.loss_gradient_hessian(theta)
            assert loss <= 1e-25 and np.linalg.norm(grad) <= 1e-12
            A = unpack(net, theta)[1]
            expected = nullity_formula(lab, r, D, A)
            assert numeric_nullity(net, theta, X) == expected
            values = np.abs(np.linalg.eigvalsh(H))
            assert int(np.sum(values <= 1e-12 * values.max())) == expected
            k = int(np.sum(lab == 0))
            assert dimension(lab, r, D, D_OUT) == k * D + (m - k - r) * D_OUT
            # scalar output: the formula's special form
            sizes = np.bincount(lab, minlength=r + 1)[1:]
            assert expected == k * D + int(np.sum((sizes - 1) * (D + 1)))


def test_dimension_is_the_number_of_free_coordinates():
    """Random points of one piece span an affine space of the stated dimension."""
    teacher, _, _, _ = problem(2, 4)
    rng = np.random.default_rng(2)
    for lab in labellings(2, 4)[::7]:
        points = np.array([random_point(teacher, lab, rng) for _ in range(30)])
        rank = np.linalg.matrix_rank(points[1:] - points[0], tol=1e-9)
        assert rank == dimension(lab, 2, D, D_OUT)


def test_gauss_newton_is_the_hessian_at_zero_loss():
    teacher, X, net, objective = problem(2, 3)
    theta = random_point(teacher, np.array([1, 2, 2]), np.random.default_rng(0))
    J = output_jacobian(net, theta, X)
    assert np.max(np.abs(2 * J.T @ J / N - objective.hessian(theta))) <= 1e-12


def _feasible(first, second, teacher):
    """Numeric oracle: is there a point in both pieces?  Incoming vectors must agree; outgoing ones solve
    the two sets of linear constraints (least squares residual)."""
    for p, q in zip(first, second):
        if p and q and not np.array_equal(teacher.W[p - 1], teacher.W[q - 1]):
            return False
    rows, rhs = [], []
    for lab in (first, second):
        for role in range(1, teacher.width + 1):
            rows.append((lab == role).astype(float))
            rhs.append(teacher.A[role - 1, 0])
        for j in np.flatnonzero(lab == 0):
            rows.append(np.eye(lab.size)[j])
            rhs.append(0.0)
    M, b = np.array(rows), np.array(rhs)
    solution = np.linalg.lstsq(M, b, rcond=None)[0]
    return bool(np.max(np.abs(M @ solution - b)) <= 1e-10)


@pytest.mark.parametrize("r, m", SIZES)
def test_intersection_criterion_is_feasibility(r, m):
    teacher = problem(r, m)[0]
    labs = labellings(r, m)
    graph = intersection_graph(labs)
    for a, b in itertools.combinations(range(len(labs)), 2):
        expected = _feasible(labs[a], labs[b], teacher)
        assert labellings_intersect(labs[a], labs[b]) == expected == graph[a, b] == graph[b, a]


@pytest.mark.parametrize("r", [2, 3, 4])
def test_graph_has_no_edges_without_extra_neurons(r):
    graph = intersection_graph(labellings(r, r))
    assert not graph.any() and graph_components(graph) == math.factorial(r)


@pytest.mark.parametrize("r, m", [(1, 2), (2, 3), (2, 5), (3, 4), (3, 6)])
def test_graph_is_connected_with_one_extra_neuron(r, m):
    assert graph_components(intersection_graph(labellings(r, m))) == 1


def test_role_swap_through_a_zero_type_neuron_keeps_zero_loss():
    teacher, _, net, objective = problem(2, 3)
    theta = random_point(teacher, np.array([1, 2, 0]), np.random.default_rng(4))
    path = transposition_path(net, theta, 1, 0, 1, free=2)
    assert np.max(objective.loss_ensemble(path)) <= 1e-25
    assert np.array_equal(path[-1], permute(net, theta, 1, np.array([1, 0, 2]))[1])


def _numpy_loss(net, path, X, Y):
    """The mean squared error of each path point by the plain NumPy forward pass (not the kernels)."""
    return np.array([np.mean(np.sum((net.forward(theta, X) - Y) ** 2, axis=1)) for theta in path])


@pytest.mark.parametrize("r, m, labelling, b", [(1, 2, (1, 0), 1), (2, 3, (2, 0, 1), 2), (2, 4, (1, 2, 0, 2), 1),
                                                (3, 4, (1, 2, 3, 0), 2)])
def test_role_swap_path_stays_at_zero_loss_and_ends_swapped(r, m, labelling, b):
    teacher, X, net, objective = problem(r, m)
    Y = shallow(D, r, D_OUT).forward(pack(teacher.W, teacher.A), X)
    labelling = np.array(labelling)
    theta = random_point(teacher, labelling, np.random.default_rng(7))
    path = role_swap_path(net, theta, labelling, 0, b)
    relocations = 1 if labelling[b] == 0 else 3
    assert path.shape[0] >= relocations * 2 * 21
    assert np.max(_numpy_loss(net, path, X, Y)) <= 1e-25
    assert np.max(objective.loss_ensemble(path)) <= 1e-25
    order = np.arange(m)
    order[[0, b]] = order[[b, 0]]
    assert np.array_equal(path[0], theta) and np.array_equal(path[-1], permute(net, theta, 1, order)[1])
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert np.max(steps) < 0.5 * np.max(np.linalg.norm(path - theta, axis=1))  # a path, not a jump


def test_role_swap_path_needs_a_zero_type_neuron():
    teacher, _, net, _ = problem(2, 3)
    theta = random_point(teacher, np.array([1, 2, 2]), np.random.default_rng(0))
    with pytest.raises(ValueError, match="zero-type"):
        role_swap_path(net, theta, np.array([1, 2, 2]), 0, 1)
