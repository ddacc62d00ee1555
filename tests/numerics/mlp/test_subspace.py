import numpy as np
import pytest

from gradflow.numerics.mlp.objective import Objective
from gradflow.numerics.mlp.subspace import LinearSubspace, subspace_minloss, subspace_minloss_on_grid
from gradflow.theory.errors import ParameterError

pytestmark = pytest.mark.long  # whole reproductions or subprocesses: not in the quick subset


class Quadratic:
    """L(theta) = 0.5 (theta - c)^T A (theta - c) + l0, with A symmetric positive definite."""

    n_samples = 1

    def __init__(self, A, c, l0=0.0):
        self.A, self.c, self.l0 = A, c, l0
        self.n_params = c.size

    def loss(self, theta):
        d = theta - self.c
        return 0.5 * d @ self.A @ d + self.l0

    def loss_and_gradient(self, theta):
        return self.loss(theta), self.A @ (theta - self.c)

    def hessian(self, theta):
        return self.A

    def hessian_vector(self, theta, v):
        return self.A @ v

    def on_samples(self, start, stop):
        return self

    def shuffled(self, order):
        return self

    @property
    def data_term(self):
        return self


def quadratic(p, seed):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((p, p))
    return Quadratic(m @ m.T + p * np.eye(p), rng.standard_normal(p), l0=0.3)


def closed_form_minimum(q, subspace, a1, a2):
    # Minimise over x: theta = v + B x; normal equations B^T A (v + B x - c) = 0.
    v, B = subspace.point(a1, a2), subspace.complement
    x = np.linalg.solve(B.T @ q.A @ B, B.T @ q.A @ (q.c - v))
    theta = v + B @ x
    return q.loss(theta), theta


def test_subspace_basis_is_orthonormal_and_complementary():
    rng = np.random.default_rng(1)
    s = LinearSubspace(rng.standard_normal(6), rng.standard_normal(6), rng.standard_normal(6))
    full = np.column_stack([s.u1, s.u2, s.complement])
    np.testing.assert_allclose(full.T @ full, np.eye(6), atol=1e-14)
    assert s.local_coords(s.point(0.7, -1.3)) == pytest.approx((0.7, -1.3), abs=1e-14)


@pytest.mark.parametrize("p, seed", [(4, 0), (7, 1)])
def test_quadratic_closed_form(p, seed):
    q = quadratic(p, seed)
    assert isinstance(q, Objective)
    rng = np.random.default_rng(seed + 10)
    s = LinearSubspace(rng.standard_normal(p), rng.standard_normal(p), rng.standard_normal(p))
    result = subspace_minloss(q, s, 0.4, -0.8, n_restarts=3, seed=0)
    loss, theta = closed_form_minimum(q, s, 0.4, -0.8)
    assert result.loss == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(result.point, theta, atol=1e-7)
    assert s.local_coords(result.point) == pytest.approx((0.4, -0.8), abs=1e-12)
    assert result.delta_loss == pytest.approx(q.loss(s.point(0.4, -0.8)) - loss, rel=1e-10)
    assert result.delta_loss > 0


def test_default_restart_count_is_three_per_free_direction():
    q = quadratic(4, 3)
    calls = []

    class Counting(Quadratic):
        def loss_and_gradient(self, theta):
            calls.append(1)
            return super().loss_and_gradient(theta)

    counted = Counting(q.A, q.c)
    s = LinearSubspace(np.zeros(4), np.eye(4)[0], np.eye(4)[1])
    subspace_minloss(counted, s, 0.0, 0.0, seed=0)
    default_calls = len(calls)
    calls.clear()
    subspace_minloss(counted, s, 0.0, 0.0, seed=0, n_restarts=1)
    assert default_calls > 3 * len(calls)  # 6 restarts + fine-tune versus 1 + fine-tune


def test_grid_matches_closed_form_everywhere():
    q = quadratic(5, 4)
    rng = np.random.default_rng(5)
    s = LinearSubspace(rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(5))
    g1, g2 = np.linspace(-1, 1, 3), np.linspace(0, 2, 2)
    land = subspace_minloss_on_grid(q, s, g1, g2, n_restarts=1, seed=0)
    assert land.loss.shape == (3, 2) and land.points.shape == (3, 2, 5)
    for i, a1 in enumerate(g1):
        for j, a2 in enumerate(g2):
            loss, theta = closed_form_minimum(q, s, a1, a2)
            assert land.loss[i, j] == pytest.approx(loss, rel=1e-10)
            assert land.delta_loss[i, j] == pytest.approx(q.loss(s.point(a1, a2)) - loss, rel=1e-9)


def test_nonconvex_restarts_find_the_lower_valley():
    # Double well along the free direction e3: minima at x = -1 (loss 0.5) and x = +1 (loss 0);
    # started near 0.5 only, L-BFGS reaches the lower one; the origin-centred restarts do too.
    class DoubleWell:
        n_params, n_samples = 3, 1

        def loss(self, t):
            return self.loss_and_gradient(t)[0]

        def loss_and_gradient(self, t):
            x = t[2]
            loss = (x * x - 1) ** 2 + 0.25 * (1 - x) + t[0] ** 2 + t[1] ** 2
            return loss, np.array([2 * t[0], 2 * t[1], 4 * x * (x * x - 1) - 0.25])

    s = LinearSubspace(np.array([0.0, 0.0, -1.0]), np.eye(3)[0], np.eye(3)[1])
    result = subspace_minloss(DoubleWell(), s, 0.0, 0.0, n_restarts=6, sigma=1.0, seed=0)
    assert result.point[2] > 0.9
    assert result.loss < 0.01


def test_bad_input():
    with pytest.raises(ParameterError) as info:
        LinearSubspace(np.zeros(4), np.ones(4), 2 * np.ones(4))
    assert info.value.parameter == "v2"
    with pytest.raises(ParameterError) as info:
        LinearSubspace(np.zeros(4), np.zeros(4), np.ones(4))
    assert info.value.parameter == "v1"
    s = LinearSubspace(np.zeros(4), np.eye(4)[0], np.eye(4)[1])
    with pytest.raises(ParameterError) as info:
        subspace_minloss(quadratic(4, 0), s, 0.0, np.nan)
    assert info.value.parameter == "a2"
    with pytest.raises(ParameterError) as info:
        subspace_minloss(quadratic(5, 0), s, 0.0, 0.0)
    assert info.value.parameter == "objective"


def test_on_a_network_the_plane_through_a_minimum_keeps_it_and_elsewhere_loss_only_drops():
    from gradflow.numerics.mlp import MLPObjective
    from gradflow.numerics.mlp.training import train
    from gradflow.theory.mlp import Layer, Network, random_params

    net = Network(1, (Layer(2, "tanh"), Layer(1)))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1))
    objective = MLPObjective.create(net, X, np.tanh(2 * X) - 0.5 * np.tanh(X - 1))
    minimum = train(objective, random_params(net, 1), maxtime_ode=5, spectrum=False).x
    plane = LinearSubspace(minimum, rng.normal(size=net.n_params), rng.normal(size=net.n_params))
    at_minimum = subspace_minloss(objective, plane, 0.0, 0.0, n_restarts=4, seed=0)
    assert at_minimum.loss <= objective.loss(minimum) + 1e-12 and at_minimum.delta_loss >= -1e-12
    away = subspace_minloss(objective, plane, 0.3, -0.2, n_restarts=4, seed=0)
    assert away.loss <= objective.loss(plane.point(0.3, -0.2)) + 1e-12  # minimising over the complement only helps
    assert np.allclose(plane.local_coords(away.point)[:2], [0.3, -0.2], atol=1e-10)
