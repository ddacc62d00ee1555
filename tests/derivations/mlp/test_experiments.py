"""mlp-teacher-student at tiny sizes: the folder, the results, the figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradflow.derivations.registry import get_experiment
from gradflow.numerics.mlp.teacher import aligned_distance
from gradflow.theory.mlp import Layer, Network, random_params

pytestmark = pytest.mark.long  # whole reproductions or subprocesses: not in the quick subset


def test_teacher_student_writes_its_folder(tmp_path):
    experiment = get_experiment("mlp-teacher-student")
    result = experiment.reproduce({"n": 200, "t_end": 5.0, "maxtime": 2.0}, quick=True)
    folder = result.write(tmp_path)
    assert (folder / "figures" / "loss_curves.png").exists() and (folder / "figures" / "trajectory_distances.pdf").exists()
    results = json.loads((folder / "results.json").read_text())
    assert set(results["methods"]) == {"flow", "gd", "sgd", "adam"}
    assert len(results["recovery"]["tries"]) == 2
    # small-step GD stays close to the flow: the same curve up to O(lr) (lr = 0.1 against curvature ~ 1)
    assert results["methods"]["gd"]["largest_distance"] < 1e-2
    data = np.load(folder / "data.npz")
    assert data["flow_time"][-1] == np.float64(5.0) or abs(data["flow_time"][-1] - 5.0) < 1e-9
    assert "| gd |" in (folder / "report.md").read_text()


def test_aligned_distance_sees_through_permutations_and_signs():
    net = Network(2, (Layer(3, "tanh"), Layer(1)))
    theta = random_params(net, 0) + 0.1
    W1, W2 = (W.copy() for W in net.unflatten(theta))
    order = [2, 0, 1]
    W1p, W2p = W1[order].copy(), np.concatenate([W2[:, :3][:, order], W2[:, 3:]], axis=1)
    W1p[1] *= -1  # tanh is odd: flip a neuron's incoming and outgoing weights together
    W2p[:, 1] *= -1
    assert aligned_distance(net.flatten([W1p, W2p]), theta, net) < 1e-15
    W2p[:, 3] += 1e-3  # the output bias is not symmetric
    assert abs(aligned_distance(net.flatten([W1p, W2p]), theta, net) - 1e-3) < 1e-12
