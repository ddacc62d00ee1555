"""EC-Toy-150: the teachers, data and student starts as drawn, and the success test."""

import numpy as np
import pytest

from gradflow.numerics.expand_cluster.toy_tasks import (TOY_LEVELS, ToyTask, min_pair_dissimilarity, toy_success,
                                                        toy_tasks)
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp import activation


def test_the_task_list():
    tasks = toy_tasks()
    assert len(tasks) == 150 and len(set(tasks)) == 150
    assert tasks[0] == ToyTask("tanh", 1, 0) and tasks[-1] == ToyTask("g", 5, 9)


@pytest.mark.parametrize("level", sorted(TOY_LEVELS))
def test_teacher_as_described(level):
    task = ToyTask("sigmoid", level, 3)
    V, a = task.teacher_incoming, task.teacher_outgoing[:, 0]
    d, r = TOY_LEVELS[level]
    assert V.shape == (r, d + 1) and a.shape == (r,)
    norms = np.linalg.norm(V[:, :d], axis=1)
    assert np.all((norms >= 1.5) & (norms <= 2.5))
    assert np.all(np.abs(V[:, d]) <= norms)  # hyperplanes within distance 1 of the origin
    assert np.all((np.abs(a) >= 0.5) & (np.abs(a) <= 1.5))
    assert min_pair_dissimilarity(V) >= 1e-2
    assert task.X.shape == (500 if d <= 4 else 2000, d)


def test_deterministic_and_independent_of_the_activation_choice():
    one, two = ToyTask("tanh", 2, 5), ToyTask("tanh", 2, 5)
    assert np.array_equal(one.teacher_incoming, two.teacher_incoming) and np.array_equal(one.X, two.X)
    # the generator is seeded by level and seed only: the same weights for every activation
    assert np.array_equal(ToyTask("g", 2, 5).teacher_incoming, one.teacher_incoming)
    rng = np.random.default_rng(1000 * 2 + 5)
    W = rng.normal(size=(4, 2))
    W = W / np.linalg.norm(W, axis=1, keepdims=True) * rng.uniform(1.5, 2.5, size=(4, 1))
    if min_pair_dissimilarity(np.c_[W, rng.uniform(-1, 1, 4) * np.linalg.norm(W, axis=1)]) >= 1e-2:
        assert np.allclose(one.teacher_incoming[:, :2], W)  # the first draw kept when no pair is parallel


def test_targets_are_the_teacher_network():
    task = ToyTask("g", 3, 1)
    y_np = activation("g")(task.X @ task.teacher_incoming[:, :-1].T + task.teacher_incoming[:, -1]) \
        @ task.teacher_outgoing
    assert np.allclose(task.y, y_np, rtol=1e-14, atol=1e-14)
    net = task.network(task.r_star)
    assert np.allclose(net.forward(task.teacher_theta(), task.X), task.y, rtol=1e-13, atol=1e-13)


def test_student_starts():
    task = ToyTask("tanh", 4, 0)
    net = task.network(3 * task.r_star)
    thetas = np.array([task.student_init(3, m) for m in range(4)])
    assert thetas.shape == (4, net.n_params)
    assert not np.allclose(thetas[0], thetas[1])
    rng = np.random.default_rng([4, 0, 30, 2])
    W = rng.normal(0, np.sqrt(1 / 4), size=(24, 4))
    assert np.array_equal(net.unflatten(thetas[2])[0][:, :4], W)
    W2 = net.unflatten(thetas[2])[1]
    assert W2[0, -1] == 0.0  # c = 0


def test_success_of_the_teacher_itself_up_to_symmetry():
    task = ToyTask("tanh", 2, 0)
    V, a = task.teacher_incoming.copy(), task.teacher_outgoing.copy()
    order = np.array([2, 0, 3, 1])
    V, a = V[order], a[order]
    V[1], a[1] = -V[1], -a[1]  # an odd flip: still the teacher
    assert toy_success(task, V, a).success
    assert not toy_success(task, V[:3], a[:3]).success  # K != r*
    bad = a.copy()
    bad[0] *= 1.05
    result = toy_success(task, V, bad)
    assert not result.success and max(result.output_errors) == pytest.approx(0.05)
    tilted = V.copy()
    tilted[2] += 0.1
    assert not toy_success(task, tilted, a).success
    # class none: a flipped vector is a different neuron
    g = ToyTask("g", 2, 0)
    Vg = g.teacher_incoming.copy()
    Vg[0] = -Vg[0]
    assert not toy_success(g, Vg, g.teacher_outgoing).success
    assert toy_success(g, g.teacher_incoming, g.teacher_outgoing).success


def test_bad_tasks_refused():
    with pytest.raises(ParameterError, match="level"):
        ToyTask("tanh", 6, 0)
    with pytest.raises(ParameterError, match="activation"):
        ToyTask("relu", 1, 0)
