"""The pipeline on exact zero-loss students built from a teacher by function-preserving embeddings:
clustering, rebuilt deep students, assembly (bias shift, covert-pair skip), comparison per layer."""

import numpy as np
import pytest

from gradflow.numerics.expand_cluster.covert_pairs import covert_pairs, pairs_affine
from gradflow.numerics.expand_cluster.expansion import TrainerSettings
from gradflow.numerics.expand_cluster.frozen import FrozenObjective
from gradflow.numerics.expand_cluster.layer_loop import cluster_layers, rebuilt_students
from gradflow.numerics.expand_cluster.options import ClusteringOptions
from gradflow.numerics.expand_cluster.pipeline import PipelineOptions, expand_and_cluster
from gradflow.numerics.expand_cluster.student_set import StudentSet, target_variance
from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.embeddings import add_neuron, flip_neuron, permute, split_neuron
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp import Layer, Network, activation


def teacher(act: str, widths, d: int, seed: int):
    rng = np.random.default_rng(seed)
    net = Network(d, tuple(Layer(w, act) for w in widths) + (Layer(1, "identity"),), output_mean=True)
    weights, fan = [], d
    for w in widths:
        W = rng.normal(size=(w, fan))
        W = W / np.linalg.norm(W, axis=1, keepdims=True) * rng.uniform(1.5, 2.5, size=(w, 1))
        weights.append(np.c_[W, rng.uniform(-1, 1, w) * np.linalg.norm(W, axis=1)])
        fan = w
    weights.append(np.r_[rng.choice([-1, 1], fan) * rng.uniform(0.5, 1.5, fan), 0.3][None, :])
    return net, weights


def embedded_student(net, theta, rng, splits=2, zeros=2, flip=True):
    """f-preserving: splits, zero-output neurons, sign flips (odd), a random permutation, per hidden layer."""
    for layer in range(1, net.depth):
        for _ in range(splits):
            i = int(rng.integers(net.layers[layer - 1].width))
            net, theta = split_neuron(net, theta, layer, i, float(rng.uniform(0.2, 0.8)))
        for _ in range(zeros):
            fan = net.shapes[layer - 1][1]
            net, theta = add_neuron(net, theta, layer, rng.normal(0, 0.3, fan), 0.0)
        if flip:
            for i in range(net.layers[layer - 1].width):
                if rng.random() < 0.5:
                    net, theta = flip_neuron(net, theta, layer, i)
        net, theta = permute(net, theta, layer, rng.permutation(net.layers[layer - 1].width))
    return net, theta


def student_set(act, widths, d, seed, N=6, flip=True, n=300):
    net, weights = teacher(act, widths, d, seed)
    rng = np.random.default_rng(seed + 1)
    X = rng.normal(size=(n, d))
    theta = net.flatten(weights)
    y = net.forward(theta, X)
    students = [embedded_student(net, theta, rng, flip=flip) for _ in range(N)]
    wide = students[0][0]
    thetas = np.array([t for _, t in students])
    for s_net, t in students:
        assert np.allclose(s_net.forward(t, X), y, atol=1e-12)
    losses = np.linspace(1e-32, 1e-31, N)
    return StudentSet.ranked(wide, thetas, losses, losses, np.ones(N, bool), np.arange(N), target_variance(y)), \
        weights, X, y


@pytest.mark.parametrize("act", ["tanh", "g"])
def test_one_layer_reconstructs_the_teacher(act):
    students, weights, X, y = student_set(act, (3,), 2, 0, flip=act == "tanh")
    options = PipelineOptions(clustering=ClusteringOptions(variant="robust"), finetune=False)
    result = expand_and_cluster(students, X, y, act, options, teacher=weights)
    assert result.widths == (3,)
    rec = result.reconstruction
    assert rec.loss_before <= 1e-24 and rec.pairs == 0 and rec.correction.kind == "bias"
    assert result.success and result.comparisons[0].max_d_w <= 1e-12
    assert np.max(result.comparisons[0].a_error) <= 1e-10
    json = result.to_json(rho=2, seeds=[0])
    for key in ("variant", "gamma", "beta", "N", "rho", "seeds", "students", "layers", "reconstruction",
                "comparison", "success"):
        assert key in json
    assert set(json["layers"][0]) >= {"linkage", "cut_height", "counts", "clusters", "winner", "K"}


def test_sigmoid_output_bias_is_realigned():
    """Flips of sigmoid neurons shift the output by a: the assembly's bias shift undoes it exactly."""
    net, weights = teacher("sigmoid", (3,), 2, 4)
    X = np.random.default_rng(0).normal(size=(200, 2))
    theta = net.flatten(weights)
    y = net.forward(theta, X)
    rng = np.random.default_rng(5)
    thetas = []
    for _ in range(5):
        W1, W2 = [np.array(w) for w in net.unflatten(theta)]
        flip = rng.random(3) < 0.5
        W1[flip] *= -1
        W2[0, :3][flip] *= -1  # without the bias change c + a: the bias shift must absorb it
        thetas.append(net.flatten([W1, W2]))
    students = StudentSet.ranked(net, thetas, np.zeros(5), np.zeros(5), np.ones(5, bool), np.arange(5),
                                 target_variance(y))
    result = expand_and_cluster(students, X, y, "sigmoid", PipelineOptions(finetune=False), teacher=weights)
    assert result.widths == (3,) and result.reconstruction.loss_before <= 1e-26


@pytest.mark.parametrize("act", ["softplus", "relu"])
def test_even_linear_skip_is_carried_by_covert_pairs(act):
    """One teacher neuron flipped with a kept: the affine lstsq fixes it exactly, as covert pairs."""
    net, weights = teacher(act, (3,), 2, 1)
    X = np.random.default_rng(0).normal(size=(300, 2))
    theta = net.flatten(weights)
    y = net.forward(theta, X)
    thetas = []
    for flip in ([0], [1], [0, 2], [2], []):
        W1, W2 = [np.array(w) for w in net.unflatten(theta)]
        W1[flip] *= -1
        thetas.append(net.flatten([W1, W2]))
    students = StudentSet.ranked(net, thetas, np.zeros(5), np.zeros(5), np.ones(5, bool), np.arange(5),
                                 target_variance(y))
    result = expand_and_cluster(students, X, y, act, PipelineOptions(finetune=False), teacher=weights)
    rec = result.reconstruction
    assert result.widths == (3,) and rec.correction.kind == "affine"
    assert rec.pairs == 1 and rec.network.layers[0].width == 5
    assert rec.loss_before <= 1e-20 * target_variance(y)
    skip, gap = pairs_affine(*[m[3:] for m in (rec.network.unflatten(rec.theta_before)[0],
                                               rec.network.unflatten(rec.theta_before)[1][:, :5].T)], 0.5)
    assert gap == 0.0 and np.allclose(skip, rec.correction.theta, atol=1e-12)
    fixed = expand_and_cluster(students, X, y, act, PipelineOptions(finetune=False, skip="fixed"))
    assert fixed.reconstruction.skip_fixed and fixed.reconstruction.loss_before <= 1e-20 * target_variance(y)


def test_covert_pairs_against_numpy():
    rng = np.random.default_rng(2)
    theta = rng.normal(size=(4, 3))
    v, a = covert_pairs(theta, 0.5)
    X = np.c_[rng.normal(size=(50, 3)), np.ones(50)]
    relu = activation("relu")
    assert np.allclose(relu(X @ v.T) @ a, X @ theta, atol=1e-12)
    assert len(v) == 6  # rank 3
    assert len(covert_pairs(np.outer(np.ones(4), [1.0, 2.0]), 0.5)[0]) == 2  # rank 1: one pair
    with pytest.raises(ParameterError, match="alpha"):
        covert_pairs(theta, 0.0)


@pytest.mark.parametrize("source", ["original", "retrained"])
def test_deep_students_recover_both_layers(source):
    students, weights, X, y = student_set("tanh", (3, 4), 2, 3, N=6)
    retrain = TrainerSettings(maxtime_ode=2.0, maxtime_optim=2.0)
    options = PipelineOptions(clustering=ClusteringOptions(variant="robust"), layer_source=source, retrain=retrain,
                              finetune=False)
    result = expand_and_cluster(students, X, y, "tanh", options, teacher=weights)
    assert result.widths == (3, 4)
    assert len(result.comparisons) == 2
    assert result.comparisons[0].max_d_w <= 1e-10 and result.comparisons[1].max_d_w <= 1e-6
    assert result.success and result.reconstruction.loss_before <= 1e-12 * target_variance(y)


def test_rebuilt_students_keep_the_function():
    students, weights, X, y = student_set("tanh", (3, 2), 2, 3, N=4)
    loop = cluster_layers(students, X, y, "odd", ClusteringOptions(variant="robust"), layer_source="original")
    net, thetas = rebuilt_students(students, 1, loop.clusterings[0], [])
    assert net.widths[1] == 3
    for theta in thetas:  # in the reconstructed basis of layer 1, each student still computes f
        assert np.allclose(net.forward(theta, X), y, atol=1e-10)


def test_frozen_objective_is_the_sub_problem():
    net = Network(2, (Layer(3, "tanh"), Layer(1, "identity")))
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(40, 2)), rng.normal(size=(40, 1))
    base = MLPObjective.create(net, X, Y)
    theta = rng.normal(size=net.n_params)
    free = np.arange(net.offsets[1], net.n_params)
    frozen = FrozenObjective(base, theta, free)
    x = theta[free] + 0.1
    loss, grad = frozen.loss_and_gradient(x)
    full = theta.copy()
    full[free] = x
    assert loss == base.loss(full)
    eps = 1e-6
    fd = np.array([(frozen.loss(x + eps * e) - frozen.loss(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])
    assert np.allclose(grad, fd, rtol=1e-6, atol=1e-9)
    assert np.allclose(frozen.hessian(x), base.hessian(full)[np.ix_(free, free)])
    v = rng.normal(size=len(x))
    assert np.allclose(frozen.hessian_vector(x, v), frozen.hessian(x) @ v, atol=1e-10)
    assert frozen.on_samples(0, 10).loss(x) == pytest.approx(base.on_samples(0, 10).loss(full))


def test_freeze_keeps_the_reconstructed_layer():
    students, weights, X, y = student_set("tanh", (3, 2), 2, 3, N=4)
    loop = cluster_layers(students, X, y, "odd", ClusteringOptions(variant="robust"), freeze=True,
                          retrain=TrainerSettings(maxtime_ode=1.0, maxtime_optim=1.0))
    second = loop.student_sets[1]
    W1 = second.network.unflatten(second.thetas)[0]
    assert np.array_equal(W1, np.broadcast_to(loop.clusterings[0].incoming, W1.shape))
    with pytest.raises(ParameterError, match="layer_source"):
        cluster_layers(students, X, y, "odd", layer_source="copy")


def test_fine_tuning_lowers_the_loss_of_a_noisy_reconstruction():
    students, weights, X, y = student_set("tanh", (3,), 2, 0, N=5, n=200)
    # noise on the output weights only: the incoming vectors (what is clustered) stay exact duplicates
    noisy = students.thetas.copy()
    start = students.network.offsets[1]
    noisy[:, start:] += np.random.default_rng(9).normal(0, 1e-4, noisy[:, start:].shape)
    students = StudentSet(students.network, noisy, students.losses, students.gnorms, students.converged,
                          students.members, students.variance)
    options = PipelineOptions(clustering=ClusteringOptions(variant="robust"), finetune_maxtime_ode=0.3,
                              finetune_maxtime_optim=1.0)
    result = expand_and_cluster(students, X, y, "tanh", options, teacher=weights)
    rec = result.reconstruction
    assert result.widths == (3,) and rec.loss_before > 1e-12
    assert rec.loss_after <= 1e-6 * rec.loss_before
    assert result.comparisons[0].max_d_w <= 1e-12  # compared after fine-tuning: the teacher itself


def test_a_failed_fine_tuning_keeps_the_assembled_network_and_says_why(monkeypatch):
    from gradflow.numerics.errors import IntegrationError
    from gradflow.numerics.expand_cluster import pipeline

    def fails(*args, **kwargs):
        raise IntegrationError("the flow could not take a step at t = 1e+18: Required step size is less than "
                               "spacing between numbers.")

    monkeypatch.setattr(pipeline, "train", fails)
    students, weights, X, y = student_set("tanh", (3,), 2, 0, N=5, n=200)
    result = expand_and_cluster(students, X, y, "tanh", PipelineOptions(), teacher=weights)
    rec = result.reconstruction
    assert rec.finetune_error.startswith("IntegrationError: the flow could not take a step")
    assert np.array_equal(rec.theta_after, rec.theta_before) and rec.loss_after == rec.loss_before
    assert rec.to_json()["finetune_error"] == rec.finetune_error
    assert result.widths == (3,) and result.comparisons[0].max_d_w <= 1e-12  # exact students: exact anyway
    monkeypatch.undo()
    assert expand_and_cluster(students, X, y, "tanh", PipelineOptions()).reconstruction.finetune_error is None


def test_comparison_when_a_deeper_layer_keeps_an_extra_neuron():
    """K_2 = r*_2 + 1 (a zero-output neuron kept): layer 1 is still compared (outgoing norms only)."""
    from gradflow.numerics.expand_cluster.affine import AffineCorrection
    from gradflow.numerics.expand_cluster.pipeline import Reconstruction, compare_layers

    net, weights = teacher("tanh", (3, 4), 2, 3)
    theta = net.flatten(weights)
    wide, theta_wide = add_neuron(net, theta, 2, np.random.default_rng(0).normal(size=4), 0.0)
    rec = Reconstruction(wide, (3, 5), theta_wide, theta_wide, AffineCorrection("bias", np.zeros(1), None, 0.0),
                         0.0, 0.0, 0, False, None, None)
    first, second = compare_layers(rec, weights, "odd")
    assert first.max_d_w <= 1e-14 and first.d_a.shape == (3,)  # the extra row adds to the outgoing norms
    assert second.max_d_w <= 1e-14 and second.excess.tolist() == [4] and second.excess_flagged.size == 0
