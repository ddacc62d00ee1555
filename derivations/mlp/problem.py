"""From declared settings to a training problem: the networks, the data, the objective, the start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradflow.derivations.mlp.files import TrainingData, load_data, load_init
from gradflow.derivations.mlp.layers import LayersSpec, parse_layers
from gradflow.derivations.mlp.parameters import check_consistent
from gradflow.numerics.mlp import Barrier, MLPObjective
from gradflow.numerics.mlp.population import PopulationNetwork, gauss_hermite_data
from gradflow.theory.mlp import Layer, Network, activation, random_params


def network_of(spec: LayersSpec, output_mean: bool = False) -> Network:
    layers = tuple(Layer(layer.width, tuple(activation(a.name, *a.params) for a in layer.activations), layer.bias)
                   for layer in spec.layers)
    return Network(spec.input_dim, layers, loss=spec.loss, output_mean=output_mean)


@dataclass(frozen=True)
class Problem:
    student: Network
    teacher: Network | None
    teacher_theta: np.ndarray | None
    data: TrainingData
    objective: object  # an MLPObjective, or a PopulationNetwork for data=population
    data_source: str  # "teacher", "hermite" or the --data file


def teacher_targets(teacher: Network, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The teacher's outputs; for a softmax teacher, its class probabilities (soft labels)."""
    out = teacher.forward(theta, X)
    if teacher.loss == "nll":
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    return out


def build_problem(settings: dict, data_path: Path | None = None) -> Problem:
    student_spec = parse_layers(settings["layers"])
    student = network_of(student_spec)
    penalties = (Barrier(settings["maxnorm"]),) if settings["maxnorm"] is not None else ()
    if data_path is not None:
        data = load_data(data_path, student_spec)
        check_consistent(dict(settings, teacher=settings["layers"]), data.n_samples)
        objective = MLPObjective.create(student, data.X, data.Y, data.weights, penalties)
        return Problem(student, None, None, data, objective, str(data_path))
    check_consistent(settings)
    teacher = network_of(parse_layers(settings["teacher"], "teacher"))
    rng = np.random.default_rng(settings["teacher_seed"])
    teacher_theta = random_params(teacher, rng)
    if settings["data"] == "population":
        return _population_problem(student, teacher, teacher_theta)
    if settings["data"] == "hermite":
        X, w = gauss_hermite_data(student.input_dim, settings["nodes"])
    else:
        X, w = rng.normal(size=(settings["n"], student.input_dim)), None
    data = TrainingData(X, teacher_targets(teacher, teacher_theta, X), w)
    check_consistent(settings, data.n_samples)
    objective = MLPObjective.create(student, data.X, data.Y, data.weights, penalties)
    return Problem(student, teacher, teacher_theta, data, objective, settings["data"])


def initial_point(problem: Problem, settings: dict, init_path: Path | None, members: int = 1) -> np.ndarray:
    """(P,) for one network, (members, P) for an ensemble: from --init, or Glorot with seed, seed+1, ..."""
    P = problem.student.n_params
    if init_path is not None:
        return load_init(init_path, P, members)
    if members == 1:
        return random_params(problem.student, settings["seed"])
    return np.stack([random_params(problem.student, settings["seed"] + e) for e in range(members)])


def _population_problem(student: Network, teacher: Network, teacher_theta: np.ndarray) -> Problem:
    """The exact expected loss over x ~ N(0, I): no samples, the same parameter layout as the network."""
    W1, W2 = teacher.unflatten(teacher_theta)
    d = teacher.input_dim
    hidden, output = student.layers
    objective = PopulationNetwork(
        hidden.activation[0].name, d, hidden.width, teacher_weights=W1[:, :d], teacher_output=W2[0, :W1.shape[0]],
        hidden_bias=hidden.bias, output_bias=output.bias,
        teacher_biases=W1[:, d] if teacher.layers[0].bias and hidden.bias else None,
        teacher_output_bias=float(W2[0, -1]) if teacher.layers[1].bias else 0.0)
    empty = TrainingData(np.zeros((0, d)), np.zeros((0, 1)), None)
    return Problem(student, teacher, teacher_theta, empty, objective, "population")
