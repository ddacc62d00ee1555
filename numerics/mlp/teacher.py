"""Teacher-student setups: a fixed network that labels Gaussian inputs, and the alignment of a trained
student with its teacher up to the symmetries of the network (neuron permutations, sign flips of odd
activations, positive rescaling of positively homogeneous ones)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from gradflow.numerics.mlp import embeddings
from gradflow.theory.errors import require
from gradflow.theory.mlp.network import Network, random_params


class TeacherNet:
    """A network with fixed parameters; calling it on inputs gives the targets.

    ``theta`` defaults to ``random_params(network, seed)``.
    """

    def __init__(self, network, theta=None, seed=None):
        if theta is None:
            theta = random_params(network, seed)
        theta = np.array(theta, dtype=float)
        require(theta.shape == (network.n_params,), "theta", f"a vector of length {network.n_params}",
                theta.shape)
        require(bool(np.all(np.isfinite(theta))), "theta", "finite", theta)
        theta.setflags(write=False)
        self.network = network
        self.theta = theta

    def __call__(self, X) -> np.ndarray:
        return np.asarray(self.network.forward(self.theta, X))

    def __repr__(self) -> str:
        return f"TeacherNet({self.network!r})"


@dataclass(frozen=True)
class TeacherData:
    """Inputs ``X`` drawn from N(0, I) and the teacher's outputs ``Y`` on them."""

    X: np.ndarray
    Y: np.ndarray
    seed: object


def teacher_data(teacher: TeacherNet, n: int, seed=None) -> TeacherData:
    """``n`` standard Gaussian inputs (one row per sample) labelled by ``teacher``."""
    require(isinstance(n, (int, np.integer)) and n >= 1, "n", "a positive integer", n)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((int(n), teacher.network.input_dim))
    return TeacherData(X=X, Y=teacher(X), seed=seed)


@dataclass(frozen=True)
class TeacherMatch:
    """The student mapped onto the teacher: per hidden layer, ``orders[l-1][t]`` is the student neuron
    placed at teacher position ``t`` and ``flips[l-1][t]`` says whether it was sign-flipped.
    ``aligned_theta`` is the student after alignment, ``max_param_distance`` its largest absolute
    deviation from the teacher's parameters (both with every positively homogeneous hidden neuron
    rescaled to a unit incoming row, the one representative of its scaling orbit) and
    ``max_output_distance`` the largest output deviation on the given inputs (None without inputs)."""

    orders: tuple
    flips: tuple
    aligned_theta: np.ndarray
    max_param_distance: float
    max_output_distance: float | None


def _homogeneous(act) -> bool:
    return act.positively_homogeneous


def _normalised(net, theta):
    """Rescale each positively homogeneous hidden neuron to a unit incoming row (a symmetry)."""
    for layer in range(1, len(net.layers)):
        for i, act in enumerate(net.layers[layer - 1].activation):
            norm = np.linalg.norm(net.unflatten(theta)[layer - 1][i])
            if _homogeneous(act) and norm > 0:
                net, theta = embeddings.scale_neuron(net, theta, layer, i, 1.0 / norm)
    return net, theta


def match_teacher(student_net, student_theta, teacher_net, teacher_theta, X=None) -> TeacherMatch:
    """Align the student's hidden neurons with the teacher's, layer by layer from the input.

    In each hidden layer the assignment minimising the summed squared distance of incoming rows
    (``scipy.optimize.linear_sum_assignment``) decides the permutation; odd activations may match
    with a flipped sign, and positively homogeneous ones are compared after rescaling to unit
    incoming rows.  Aligning a layer moves the next layer's columns along, so deeper layers are
    compared in aligned coordinates.
    """
    require(student_net.shapes == teacher_net.shapes, "student_net",
            "the same architecture as the teacher", student_net.shapes)
    for layer in range(1, len(student_net.layers)):
        s_names = [a.name for a in student_net.layers[layer - 1].activation]
        t_names = [a.name for a in teacher_net.layers[layer - 1].activation]
        require(sorted(s_names) == sorted(t_names), "student_net",
                f"the teacher's activations in layer {layer}", s_names)
    student_net, theta = _normalised(student_net, np.asarray(student_theta, dtype=float))
    teacher_net, teacher_theta = _normalised(teacher_net, np.asarray(teacher_theta, dtype=float))
    orders, flips = [], []
    for layer in range(1, len(student_net.layers)):
        s_rows = student_net.unflatten(theta)[layer - 1]
        t_rows = teacher_net.unflatten(teacher_theta)[layer - 1]
        s_acts = student_net.layers[layer - 1].activation
        t_acts = teacher_net.layers[layer - 1].activation
        plain = ((s_rows[:, None, :] - t_rows[None, :, :]) ** 2).sum(-1)
        flipped = ((s_rows[:, None, :] + t_rows[None, :, :]) ** 2).sum(-1)
        odd = np.array([a.odd for a in s_acts])[:, None]
        cost = np.where(odd, np.minimum(plain, flipped), plain)
        # A neuron may only stand in for one with the same activation.
        same = np.array([[a.name == b.name for b in t_acts] for a in s_acts])
        cost = np.where(same, cost, np.inf)  # forbidden pairs; a feasible assignment always exists
        students, teachers = scipy.optimize.linear_sum_assignment(cost)
        order = np.empty_like(students)
        order[teachers] = students
        flip = np.array([bool(odd[s, 0]) and flipped[s, t] < plain[s, t] for t, s in enumerate(order)])
        student_net, theta = embeddings.permute(student_net, theta, layer, order)
        for t in np.flatnonzero(flip):
            student_net, theta = embeddings.flip_neuron(student_net, theta, layer, int(t))
        orders.append(order)
        flips.append(flip)
    max_output = None
    if X is not None:
        max_output = float(np.max(np.abs(np.asarray(student_net.forward(theta, X))
                                         - np.asarray(teacher_net.forward(teacher_theta, X)))))
    return TeacherMatch(orders=tuple(orders), flips=tuple(flips), aligned_theta=theta,
                        max_param_distance=float(np.max(np.abs(theta - teacher_theta))),
                        max_output_distance=max_output)


__all__ = ["TeacherNet", "TeacherData", "TeacherMatch", "teacher_data", "match_teacher"]


def aligned_distance(student: np.ndarray, teacher: np.ndarray, net: Network) -> float:
    """max |student - teacher| after matching hidden neurons (``match_teacher`` on the same network)."""
    return match_teacher(net, student, net, teacher).max_param_distance
