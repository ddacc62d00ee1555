"""gradflow's BFGS: finite termination on quadratics, Rosenbrock, a teacher-student network to a
gradient at rounding level, and its place among the polish methods."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.teacher import TeacherNet, teacher_data
from gradflow.numerics.mlp.training import POLISHES, bfgs, train
from gradflow.numerics.mlp.training.dense_bfgs import HESSIAN_EVERY
from gradflow.numerics.mlp.training.termination import Limits, Tracker
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp import Layer, Network, random_params


class _Counted:
    """A loss from (loss, gradient) function, with the rest of the contract ``train`` needs."""

    n_samples = 0

    def __init__(self, fg, n_params=2, hessian=None):
        self.fg, self.evaluations, self.n_params, self._hessian = fg, 0, n_params, hessian

    def loss_and_gradient(self, x):
        self.evaluations += 1
        return self.fg(x)

    def hessian(self, x):
        return self._hessian

    @property
    def data_term(self):
        return self


def _quadratic(P, seed):
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((P, P))
    A = Q @ Q.T + 0.5 * np.eye(P)  # condition number up to a few hundred
    b = rng.standard_normal(P)
    minimum = np.linalg.solve(A, b)
    # the same gradient as x.A.x / 2 - b.x; shifted to a minimum value of 0 (values stay accurate there)
    return A, b, _Counted(lambda x: (float(0.5 * (x - minimum) @ A @ (x - minimum)), A @ x - b), P, A)


@pytest.mark.parametrize("P, seed", [(2, 0), (5, 1), (8, 3), (12, 2)])  # rounding erodes conjugacy beyond
def test_with_exact_line_searches_a_quadratic_is_solved_in_at_most_P_plus_one_iterations(P, seed):
    A, b, objective = _quadratic(P, seed)
    tracker = Tracker(Limits(minloss=0.0, min_gnorm=1e-7 * np.abs(b).max(), maxiterations=P + 1))
    x = bfgs(objective, np.zeros(P), tracker, c1=1e-11, c2=1e-10)
    # a loss of exactly 0 (minloss) can happen on the last step; the gradient falls 7 decades at once
    assert tracker.stopped_by in ("min_gnorm", "minloss"), (tracker.stopped_by, tracker.iterations)
    assert tracker.iterations <= P + 1
    assert np.allclose(x, np.linalg.solve(A, b), rtol=1e-6, atol=1e-7)


def test_the_default_wolfe_search_also_solves_a_quadratic_to_rounding():
    A, b, objective = _quadratic(30, 4)
    tracker = Tracker(Limits(minloss=0.0, min_gnorm=1e-13))
    x = bfgs(objective, np.ones(30), tracker)
    assert tracker.stopped_by == "min_gnorm" and tracker.iterations < 200
    assert np.allclose(x, np.linalg.solve(A, b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("start", [(-1.2, 1.0), (2.0, -1.0), (0.0, 0.0, 0.0, 0.0, 0.0)])
def test_rosenbrock_to_a_gradient_at_rounding_level(start):
    objective = _Counted(lambda x: (float(rosen(x)), rosen_der(x)))
    tracker = Tracker(Limits(minloss=0.0, min_gnorm=1e-12))
    x = bfgs(objective, np.array(start), tracker)
    assert tracker.stopped_by == "min_gnorm" and np.allclose(x, 1.0, atol=1e-9)
    assert objective.evaluations < 400


def test_a_teacher_student_network_down_to_a_gradient_of_1e_10():
    teacher = TeacherNet(Network(2, (Layer(2, "softplus"), Layer(1))), seed=0)
    data = teacher_data(teacher, 200, seed=1)
    student = Network(2, (Layer(3, "softplus"), Layer(1)))
    objective = MLPObjective.create(student, data.X, data.Y)
    result = train(objective, random_params(student, 2), method="gd", lr=0.1, maxiterations_ode=1, polish="bfgs",
                   min_gnorm=1e-10, spectrum=False)
    assert result.polish == "bfgs" and result.optim_stopped_by == "min_gnorm" and result.gnorm <= 1e-10
    loss, grad = objective.loss_and_gradient(result.x)
    assert loss == result.loss and np.max(np.abs(grad)) <= 1e-10


class _SwitchingCurvature(_Counted):
    """A loss flat to rounding (every value 1.0) whose gradient is ``first @ x`` for the first ``after``
    evaluations and ``then @ x`` afterwards: the curvature BFGS learnt stops fitting under its feet."""

    def __init__(self, first, then, after):
        super().__init__(lambda x: (1.0, (first if self.evaluations <= after else then) @ x), first.shape[0])


def test_where_the_learnt_curvature_no_longer_fits_bfgs_restarts_instead_of_stopping():
    # BFGS learns H ~ diag(1e3, 1) from the first field; under the identity that follows, every fraction of
    # -H grad overshoots the first coordinate and raises |grad|_inf, while the gradient's own step lands on
    # the minimum.  Without the restart the run stops there ("no_progress", |grad|_inf ~ 1e-6; measured for
    # switches after 65 to 90 evaluations).  Every loss is 1.0, so no rounding of the loss decides the path.
    objective = _SwitchingCurvature(np.diag([1e-3, 1.0]), np.eye(2), after=80)
    tracker = Tracker(Limits(min_gnorm=1e-15, maxiterations=400))
    x = bfgs(objective, np.array([1.0, 1.0]), tracker)
    assert objective.evaluations > 80  # the switch happened
    assert tracker.stopped_by == "min_gnorm" and np.max(np.abs(x)) <= 1e-15, (tracker.stopped_by, x)


def test_gradflow_and_scipy_bfgs_reach_the_same_minimum():
    A, b, objective = _quadratic(6, 5)
    options = dict(method="gd", lr=1e-3, maxiterations_ode=1, minloss=0.0, min_gnorm=1e-11)
    ours = train(objective, np.zeros(6), polish="bfgs", **options)
    scipy = train(objective, np.zeros(6), polish="scipy-bfgs", **options)
    assert "scipy-bfgs" in POLISHES and ours.polish == "bfgs" and scipy.polish == "scipy-bfgs"
    assert np.allclose(ours.x, scipy.x, atol=1e-9)


def test_it_stops_by_the_tracker_rules_and_names_the_stop():
    objective = _Counted(lambda x: (float(rosen(x)), rosen_der(x)))
    tracker = Tracker(Limits(maxiterations=3))
    bfgs(objective, np.array([-1.2, 1.0]), tracker)
    assert tracker.stopped_by == "maxiterations" and tracker.iterations == 3


def test_a_stationary_start_is_returned_at_once():
    objective = _Counted(lambda x: (float(1 + x @ x), 2 * x))
    tracker = Tracker(Limits())
    assert np.array_equal(bfgs(objective, np.zeros(3), tracker), np.zeros(3))
    assert tracker.stopped_by == "min_gnorm" and objective.evaluations == 1


def test_bad_wolfe_constants_and_polish_names_are_clear_errors():
    objective = _Counted(lambda x: (float(x @ x), 2 * x))
    with pytest.raises(ParameterError, match="c1, c2"):
        bfgs(objective, np.ones(2), Tracker(Limits()), c1=0.5, c2=0.1)
    with pytest.raises(ParameterError, match="min_gnorm"):
        Limits(min_gnorm=-1.0)
    with pytest.raises(ParameterError, match="polish"):
        train(objective, np.ones(2), polish="newton-cg")


def test_when_the_loss_is_flat_to_rounding_steps_that_lower_the_gradient_are_taken():
    # 1 + x.A.x / 2 with |x| ~ 1e-9: the quadratic part is below the spacing of doubles near 1, so every
    # loss is exactly 1.0 and no Wolfe step exists; the gradient A x still points the way
    A = np.diag([1.0, 2.0, 3.0])
    objective = _Counted(lambda x: (float(1.0 + 0.5 * x @ A @ x), A @ x), 3, A)
    start = np.array([1e-9, -2e-9, 1.5e-9])
    assert objective.loss_and_gradient(start)[0] == 1.0
    tracker = Tracker(Limits(min_gnorm=1e-15, maxiterations=200))
    bfgs(objective, start, tracker)
    assert tracker.stopped_by == "min_gnorm", tracker.stopped_by


# --- bfgs-hessian: H from the exact Hessian every hessian_every iterations ---------------------------


def test_the_floored_inverse_hessian_takes_curvatures_by_magnitude_and_floors_them():
    from gradflow.numerics.mlp.training.dense_bfgs import _floored_inverse_hessian

    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    curvature = Q @ np.diag([-4.0, 1e-3, 0.5, 10.0]) @ Q.T  # a saddle with a nearly flat direction
    objective = _Counted(None, 4, curvature)
    grad = np.array([0.0, 0.03, 0.0, 0.04])  # |grad|_2 = 0.05: floor 30 x 0.05 = 1.5
    H = _floored_inverse_hessian(objective, np.zeros(4), grad, 30.0)
    np.testing.assert_allclose(H, Q @ np.diag([1 / 4.0, 1 / 1.5, 1 / 1.5, 1 / 10.0]) @ Q.T, rtol=1e-12, atol=1e-15)
    assert float(grad @ (-(H @ grad))) < 0  # positive definite: a direction down even at a saddle
    # a small floor leaves the curvatures above it alone (Newton's step where the Hessian is definite)
    H = _floored_inverse_hessian(objective, np.zeros(4), grad, 1e-12)
    expected = Q @ np.diag([1 / 4.0, 1e3, 1 / 0.5, 1 / 10.0]) @ Q.T
    np.testing.assert_allclose(H, expected, rtol=0, atol=1e-9)
    # a Hessian that is not finite gives None (BFGS then keeps what it learnt)
    assert _floored_inverse_hessian(_Counted(None, 4, np.full((4, 4), np.nan)), np.zeros(4), grad, 30.0) is None


def test_bfgs_hessian_takes_newtons_step_where_the_hessian_is_definite_above_the_floor():
    A, b, objective = _quadratic(8, 3)  # curvatures 0.50 to 32.9, |grad|_2 3.5 at 0
    tracker = Tracker(Limits(minloss=0.0, min_gnorm=1e-12))
    x = bfgs(objective, np.zeros(8), tracker, hessian_every=20, floor=1e-3)
    assert tracker.stopped_by in ("min_gnorm", "minloss") and tracker.iterations == 1
    assert np.allclose(x, np.linalg.solve(A, b), rtol=1e-12, atol=1e-12)


def test_bfgs_hessian_without_a_finite_hessian_is_plain_bfgs():
    def fg(x):
        return float(rosen(x)), rosen_der(x)

    runs = []
    for every, curvature in ((0, None), (5, np.full((2, 2), np.inf))):
        tracker = Tracker(Limits(minloss=0.0, min_gnorm=1e-12))
        runs.append((bfgs(_Counted(fg, 2, curvature), np.array([-1.2, 1.0]), tracker, hessian_every=every),
                     tracker.iterations))
    assert runs[0][1] == runs[1][1] and np.array_equal(runs[0][0], runs[1][0])


def test_bfgs_hessian_needs_fewer_evaluations_on_teacher_student_networks():
    # measured on these six starts: 4365 evaluations against plain BFGS's 6617 (fewer on every start)
    teacher = TeacherNet(Network(2, (Layer(2, "softplus"), Layer(1))), seed=0)
    data = teacher_data(teacher, 200, seed=1)
    student = Network(2, (Layer(3, "softplus"), Layer(1)))
    objective = MLPObjective.create(student, data.X, data.Y)
    evaluations = {0: 0, HESSIAN_EVERY: 0}
    for seed in range(6):
        for every in evaluations:
            tracker = Tracker(Limits(minloss=0.0, min_gnorm=1e-12, maxiterations=20000))
            x = bfgs(objective, random_params(student, seed), tracker, hessian_every=every)
            assert tracker.stopped_by in ("min_gnorm", "minloss"), (seed, every, tracker.stopped_by)
            assert np.max(np.abs(objective.loss_and_gradient(x)[1])) <= 1e-12
            evaluations[every] += tracker.evaluations
    assert evaluations[HESSIAN_EVERY] < 0.8 * evaluations[0], evaluations


def test_bfgs_hessian_as_a_polish_and_its_bad_settings():
    A, b, objective = _quadratic(6, 5)
    result = train(objective, np.zeros(6), method="gd", lr=1e-3, maxiterations_ode=1, polish="bfgs-hessian",
                   minloss=0.0, min_gnorm=1e-11)
    assert result.polish == "bfgs-hessian" and result.optim_stopped_by in ("min_gnorm", "minloss")
    assert np.allclose(result.x, np.linalg.solve(A, b), atol=1e-9)
    with pytest.raises(ParameterError, match="hessian_every"):
        bfgs(objective, np.ones(6), Tracker(Limits()), hessian_every=-1)
    with pytest.raises(ParameterError, match="floor"):
        bfgs(objective, np.ones(6), Tracker(Limits()), hessian_every=5, floor=0.0)
