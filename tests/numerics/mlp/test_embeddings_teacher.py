"""Teacher networks, their data, and aligning a student with its teacher up to symmetries."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gradflow.numerics.mlp.embeddings import flip_neuron, permute, scale_neuron
from gradflow.numerics.mlp.teacher import TeacherNet, match_teacher, teacher_data
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp.activations import activation
from gradflow.theory.mlp.network import Layer, Network, random_params


def make_net(input_dim, hidden, out_width=1):
    layers = [Layer(len(names), tuple(activation(n) for n in names), True) for names in hidden]
    layers.append(Layer(out_width, (activation("identity"),) * out_width, True))
    return Network(input_dim, tuple(layers))


def test_teacher_is_fixed_and_labels_gaussian_inputs():
    net = make_net(3, [("tanh",) * 4], 2)
    teacher = TeacherNet(net, seed=5)
    np.testing.assert_array_equal(teacher.theta, random_params(net, 5))
    with pytest.raises(ValueError):
        teacher.theta[0] = 1.0  # read-only
    data = teacher_data(teacher, 4000, seed=1)
    assert data.X.shape == (4000, 3)
    np.testing.assert_array_equal(data.Y, net.forward(teacher.theta, data.X))
    assert np.abs(data.X.mean(0)).max() < 0.1 and np.abs(np.cov(data.X.T) - np.eye(3)).max() < 0.1
    again = teacher_data(teacher, 4000, seed=1)
    np.testing.assert_array_equal(again.X, data.X)
    with pytest.raises(ParameterError) as info:
        teacher_data(teacher, 0)
    assert info.value.parameter == "n"
    with pytest.raises(ParameterError) as info:
        TeacherNet(net, theta=np.zeros(3))
    assert info.value.parameter == "theta"


@settings(max_examples=25)
@given(st.integers(0, 2 ** 31), st.sampled_from(["tanh", "relu", "mixed"]), st.integers(1, 2))
def test_match_recovers_a_hidden_permutation_and_flips(seed, kind, depth):
    rng = np.random.default_rng(seed)
    width = 4
    names = {"tanh": ("tanh",) * width, "relu": ("relu",) * width,
             "mixed": ("tanh", "relu", "erf", "tanh")}[kind]
    net = make_net(2, [names] * depth, 2)
    teacher_theta = rng.standard_normal(net.n_params)
    student, theta = net, teacher_theta
    for layer in range(1, depth + 1):
        student, theta = permute(student, theta, layer, rng.permutation(width))
        for i, act in enumerate(student.layers[layer - 1].activation):
            if act.odd and rng.random() < 0.5:
                student, theta = flip_neuron(student, theta, layer, i)
            if act.name == "relu":
                student, theta = scale_neuron(student, theta, layer, i, float(rng.uniform(0.2, 5.0)))
    X = rng.standard_normal((10, 2))
    match = match_teacher(student, theta, net, teacher_theta, X)
    assert match.max_param_distance <= 1e-12
    assert match.max_output_distance <= 1e-12
    # undoing the alignment: orders/flips say where each teacher neuron came from
    for layer in range(1, depth + 1):
        assert sorted(match.orders[layer - 1].tolist()) == list(range(width))


def test_match_reports_a_real_difference():
    net = make_net(2, [("tanh",) * 3])
    rng = np.random.default_rng(0)
    teacher_theta = rng.standard_normal(net.n_params)
    student_theta = teacher_theta.copy()
    student_theta[0] += 0.3
    match = match_teacher(net, student_theta, net, teacher_theta)
    assert match.max_param_distance == pytest.approx(0.3, rel=1e-12)
    assert match.max_output_distance is None


def test_match_needs_the_same_architecture():
    a, b = make_net(2, [("tanh",) * 3]), make_net(2, [("tanh",) * 4])
    with pytest.raises(ParameterError) as info:
        match_teacher(a, np.zeros(a.n_params), b, np.zeros(b.n_params))
    assert info.value.parameter == "student_net"
