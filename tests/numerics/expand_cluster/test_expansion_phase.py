"""The expansion phase (schedule, stopping rule, ranking, fixed width) and the code trainer's schedule."""

import math

import numpy as np
import pytest

from gradflow.numerics.expand_cluster.code_trainer import CodeSchedule, _Plateau, kaiming_init, train_code
from gradflow.numerics.expand_cluster.expansion import (TrainerSettings, expansion_phase, train_at_width,
                                                        train_students)
from gradflow.numerics.expand_cluster.student_set import StudentSet, target_variance
from gradflow.numerics.expand_cluster.toy_tasks import ToyTask
from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.training import train
from gradflow.theory.errors import ParameterError

# generous wall-time caps (a loaded machine must not change the outcome), iteration caps for speed
FAST = TrainerSettings(maxtime_ode=30.0, maxtime_optim=30.0, maxiterations_ode=3000, maxiterations_optim=100,
                       probe_scale=0.5)


@pytest.fixture(scope="module")
def task():
    return ToyTask("tanh", 1, 0)


def test_target_variance():
    Y = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])
    assert target_variance(Y) == pytest.approx(np.mean([np.var([0, 2, 4]), 0.0]))


def test_expansion_stops_at_the_first_width_that_reaches_zero_loss(task):
    log = []
    result = expansion_phase(lambda m: task.network(m * task.r_star), task.X[:250], task.y[:250], multipliers=(1, 2),
                             n_probe=3, n_students=4, settings=FAST,
                             init=lambda m, member: task.student_init(m, member), progress=log.append)
    assert result.reached and result.multiplier == 1 and len(result.probes) == 1
    assert result.probes[0].fraction >= 0.8 and log
    students = result.students
    assert students.size == 4 and sorted(students.members.tolist()) == [0, 1, 2, 3]
    assert np.all(np.diff(students.losses) >= 0)  # ranked, best first
    assert np.mean(students.zero_loss()) >= 0.75
    json = result.to_json()
    assert json["multiplier"] == 1 and len(json["students"]) == 4 and "relative_loss" in json["students"][0]


def test_expansion_without_success_uses_the_last_width(task):
    result = expansion_phase(lambda m: task.network(m * task.r_star), task.X[:100], task.y[:100], multipliers=(1,),
                             n_probe=2, n_students=2, epsilon=1e-300, settings=FAST,
                             init=lambda m, member: task.student_init(m, member))
    assert not result.reached and result.multiplier == 1 and result.probes[0].fraction == 0.0


def test_fixed_width_mode_and_layer_vectors(task):
    students = train_at_width(lambda m: task.network(m * task.r_star), task.X[:100], task.y[:100], 2, n_students=2,
                              settings=FAST, init=lambda m, member: task.student_init(m, member))
    incoming, outgoing = students.layer_vectors(1)
    assert incoming.shape == (2, 4, 3) and outgoing.shape == (2, 4, 1)
    W1, W2 = students.network.unflatten(students.thetas[1])
    assert np.array_equal(incoming[1], W1) and np.array_equal(outgoing[1, :, 0], W2[0, :4])


def test_ranking_keeps_the_runs_together():
    from gradflow.theory.mlp import Layer, Network
    net = Network(1, (Layer(1, "tanh"), Layer(1, "identity")))
    s = StudentSet.ranked(net, np.arange(12.0).reshape(3, 4), [3.0, 1.0, 2.0], [0.3, 0.1, 0.2], [False, True, True],
                          [0, 1, 2], 1.0)
    assert s.members.tolist() == [1, 2, 0] and s.thetas[0, 0] == 4.0 and s.gnorms.tolist() == [0.1, 0.2, 0.3]


def test_bad_settings_refused(task):
    with pytest.raises(ParameterError, match="trainer"):
        TrainerSettings(trainer="torch")
    with pytest.raises(ParameterError, match="n_probe"):
        expansion_phase(lambda m: task.network(m), task.X, task.y, n_probe=11, n_students=10)


def test_plateau_schedule_like_pytorch():
    plateau = _Plateau(CodeSchedule(patience=2, cooldown=3, factor=0.5, lr=1.0, min_lr=0.1))
    lrs = []
    for value in [5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]:
        plateau.step(value)
        lrs.append(plateau.lr)
    # bad epochs 1, 2, 3 > patience: halve; 3 cooldown epochs (bad count reset), then 3 bad epochs: halve again
    assert lrs[:5] == [1.0, 1.0, 1.0, 1.0, 0.5]
    assert lrs[5:10] == [0.5] * 5 and lrs[10] == 0.25
    assert not plateau.finished


def test_code_trainer_equals_the_engines_adam_at_a_fixed_rate(task):
    net = task.network(4)
    objective = MLPObjective.create(net, task.X[:400], task.y[:400])
    theta0 = task.student_init(2, 0)
    run = train_code(objective, theta0[None], CodeSchedule(lr=1e-2, batchsize=100, max_epochs=3))
    ref = train(objective, theta0, method="adam", lr=1e-2, batchsize=100, polish="none", maxiterations_ode=12,
                minloss=0, min_gnorm=0, spectrum=False)
    assert run.epochs == 3 and run.stopped_by == "max_epochs"
    assert np.allclose(run.thetas[0], ref.x, rtol=0, atol=1e-13)


def test_code_trainer_stops_at_min_lr_and_kaiming_scale():
    from gradflow.theory.mlp import Layer, Network
    net = Network(3, (Layer(2000, "tanh"), Layer(1, "identity")))
    theta = kaiming_init(net, 0)
    W1 = net.unflatten(theta)[0]
    assert np.std(W1[:, :3]) == pytest.approx(math.sqrt(2 / 3), rel=0.03) and np.all(W1[:, 3] == 0)
    small = Network(1, (Layer(1, "tanh"), Layer(1, "identity")))
    X = np.linspace(-1, 1, 8)[:, None]
    objective = MLPObjective.create(small, X, np.zeros((8, 1)))
    run = train_code(objective, np.zeros((1, small.n_params)),
                     CodeSchedule(lr=1e-3, patience=1, cooldown=0, min_lr=1e-5, factor=0.1))
    assert run.stopped_by == "min_lr" and run.final_lr < 1e-5 + 1e-8 and run.losses[0] == 0.0


def test_code_trainer_through_train_students(task):
    settings = TrainerSettings(trainer="code", code=CodeSchedule(lr=1e-2, max_epochs=20))
    net = task.network(4)
    students = train_students(net, task.X[:200], task.y[:200], [kaiming_init(net, s) for s in (0, 1)], settings)
    assert students.size == 2 and np.all(np.isfinite(students.losses))
