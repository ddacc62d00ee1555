"""Property tests of the landscape tools on small exact points (bounds: n <= 5, d <= 3, m <= 3,
d_out <= 2, integer data in [-3, 3]), including points built on kinks and with zero neurons."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from gradflow.theory.activations import ReluLike
from gradflow.theory.landscape import (add_dead_neuron, add_inactive_neuron, add_zero_neuron, d_map, directional_derivative,
                              exact_point, landscape_report, loss_along_ray, replicate_neuron, split_neuron,
                              zero_neuron_map_vanishes)

R = sp.Rational
ACTIVATIONS = [ReluLike(R(1), R(0)), ReluLike(R(1), R(1, 4)), ReluLike(R(1), R(-1)), ReluLike(R(2), R(-1, 2))]
RELU = ACTIVATIONS[0]
entries = st.integers(-3, 3)


def matrices(rows, cols, elements=entries):
    return st.lists(st.lists(elements, min_size=cols, max_size=cols), min_size=rows, max_size=rows)


@st.composite
def kinked_points(draw, n_max=5, d_max=3, m_max=3, d_out_max=2):
    """Random exact points whose neurons are free, zero, or orthogonal to one input (on its kink)."""
    n, d = draw(st.integers(1, n_max)), draw(st.integers(1, d_max))
    m, d_out = draw(st.integers(1, m_max)), draw(st.integers(1, d_out_max))
    X = np.array(draw(matrices(n, d)), dtype=object)
    W = []
    for _ in range(m):
        kind = draw(st.sampled_from(["free", "zero", "kink"]))
        if kind == "zero":
            W.append([0] * d)
            continue
        r = np.array(draw(st.lists(entries, min_size=d, max_size=d)), dtype=object)
        if kind == "kink":  # project r off x_k (scaled to stay integer): w . x_k = 0 exactly
            x = X[draw(st.integers(0, n - 1))]
            r = r * x.dot(x) - r.dot(x) * x
        W.append(list(r))
    H = draw(matrices(m, d_out, st.integers(-2, 2)))
    Y = draw(matrices(n, d_out))
    return exact_point(W, H, X, Y, draw(st.sampled_from(ACTIVATIONS)))


@st.composite
def directions(draw, point):
    small = st.integers(-2, 2)
    return draw(matrices(point.m, point.d, small)), draw(matrices(point.m, point.d_out, small))


def moved(point, dW, dH, t):
    return point.with_parameters(point.W + t * np.array(dW, dtype=object), point.H + t * np.array(dH, dtype=object))


# ---- directional derivatives ------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_directional_derivative_is_the_slope_of_the_exact_ray_polynomial(data):
    point = data.draw(kinked_points())
    dW, dH = data.draw(directions(point))
    ray = loss_along_ray(point, dW, dH)
    assert directional_derivative(point, dW, dH) == ray.slope
    times = [R(1), R(1, 3), R(5)] if ray.t_max == sp.oo else [ray.t_max, ray.t_max / 2, ray.t_max / 7]
    for t in times:
        assert ray(t) == moved(point, dW, dH, t).loss()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_float_directional_derivative_matches_one_sided_finite_differences(data):
    exact = data.draw(kinked_points())
    dW, dH = data.draw(directions(exact))
    point = exact.to_float()
    derivative = directional_derivative(point, dW, dH)
    assert derivative == pytest.approx(float(directional_derivative(exact, dW, dH)), rel=1e-9, abs=1e-9)
    t = 1e-7  # integer data: the first kink crossing is at t >= 1/18, far beyond
    quotient = (moved(point, dW, dH, t).loss() - point.loss()) / t
    curvature = float(abs(loss_along_ray(exact, dW, dH).coefficients[2]))
    assert abs(quotient - derivative) <= 2 * curvature * t + 1e-6 * max(1.0, point.loss())


# ---- soundness of the report ------------------------------------------------------------
@st.composite
def fitted_points(draw):
    """Output weights fitted by exact least squares ((S1) holds), d in {1, 2}, d_out in {1, 2}, zero neurons
    likely (a third of the rows)."""
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 2))
    m, d_out = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    X = draw(matrices(n, d))
    row = st.one_of(st.just([0] * d), st.lists(st.integers(-2, 2), min_size=d, max_size=d))
    W = draw(st.lists(row, min_size=m, max_size=m))
    Y = draw(matrices(n, d_out))
    activation = draw(st.sampled_from(ACTIVATIONS))
    features = sp.Matrix(np.asarray(activation(np.array(X, dtype=object).dot(np.array(W, dtype=object).T))))
    H = features.pinv() * sp.Matrix(Y)  # the minimum-norm least-squares fit: h = 0 on zero features
    return exact_point(W, [list(row) for row in H.tolist()], X, Y, activation)


def inside_certificate(point, certificate, rng, count):
    """Exact perturbations with ||Delta||_1 below a rational lower bound of the radius: random ones, and
    escape-path-shaped ones (dw_i = u, dh_i = -+ D_i(u), the directions an escape would take)."""
    radius = R(1) if certificate.radius == sp.oo else R(float(certificate.radius)) * (1 - R(1, 10**6))
    candidates = []
    for _ in range(count):
        candidates.append((np.array(rng.integers(-50, 51, size=point.W.shape), dtype=object),
                           np.array(rng.integers(-50, 51, size=point.H.shape), dtype=object)))
    for i in range(point.m):
        u = np.array(rng.integers(-3, 4, size=point.d), dtype=object)
        for sign in (1, -1):
            dW, dH = 0 * point.W, 0 * point.H
            dW[i], dH[i] = u, -sign * d_map(point, i)(u)
            candidates.append((dW, dH))
    for dW, dH in candidates:
        total = sum(abs(v) for v in dW.ravel()) + sum(abs(v) for v in dH.ravel())
        if total == 0:
            continue
        scale = radius * R(int(rng.integers(1, 1001)), 1000) / total
        yield dW * scale, dH * scale


def assert_report_is_sound(point, seed=0):
    report = landscape_report(point)
    event(report.classification)  # --hypothesis-show-statistics shows the mix of verdicts
    if report.d_stationary:
        assert report.clarke_stationary  # d-stationary => Clarke => the chain-rule estimate
    if report.classification == "not stationary":
        descent = next(n.descent for n in report.neurons if n.descent is not None)
        assert descent.derivative < 0
        ray = loss_along_ray(point, descent.dW, descent.dH)
        assert ray.slope == descent.derivative == directional_derivative(point, descent.dW, descent.dH)
        t = min(R(1), ray.t_max)
        while ray(t) >= point.loss():  # a negative slope: the loss drops for small t
            t /= 2
        assert moved(point, descent.dW, descent.dH, t).loss() < point.loss()
    elif report.classification == "local minimum":
        certificate = report.certificate
        assert certificate.radius > 0
        for dW, dH in inside_certificate(point, certificate, np.random.default_rng(seed), 25):
            assert certificate.covers(dW, dH)
            assert moved(point, dW, dH, 1).loss() >= point.loss()
    elif report.classification == "saddle":
        change = report.escape_path.actual_change if report.escape_path else report.second_order.change
        assert change < 0
        if report.escape_path:
            assert report.escape_path.predicted_change == report.escape_path.actual_change
    return report


@settings(max_examples=40, deadline=None)
@given(fitted_points(), st.integers(0, 2**16))
def test_report_is_sound_on_fitted_points(point, seed):
    assert_report_is_sound(point, seed)


@settings(max_examples=25, deadline=None)
@given(kinked_points(m_max=2), st.integers(0, 2**16))
def test_report_is_sound_on_random_kinked_points(point, seed):
    assert_report_is_sound(point, seed)


# ---- local minima of the basis family and their embeddings  -------------
@st.composite
def basis_minima(draw):
    """ReLU, X = diag(s) (pairwise independent), scalar targets y; one neuron (a_j e_j, y_j / (a_j s_j)) for
    each y_j > 0, the others on its kink.  (S2) holds because h_j e_l = -h_j y_l >= 0 for every l not fitted,
    and h_j != 0 leaves no escape neuron: a local minimum with loss sum_{y_l <= 0} y_l^2 / d."""
    d = draw(st.integers(1, 3))
    s = draw(st.lists(st.integers(1, 3), min_size=d, max_size=d))
    y = draw(st.lists(entries, min_size=d, max_size=d))
    assume(any(v > 0 for v in y))
    W, H = [], []
    for j in range(d):
        if y[j] > 0:
            a = draw(st.integers(1, 3))
            W.append([a if l == j else 0 for l in range(d)])
            H.append(R(y[j], a * s[j]))
    X = [[s[j] if l == j else 0 for l in range(d)] for j in range(d)]
    return exact_point(W, H, X, y, RELU)


@settings(max_examples=25, deadline=None)
@given(basis_minima())
def test_basis_minima_are_certified_local_minima(point):
    report = assert_report_is_sound(point)
    assert report.classification == "local minimum"
    assert point.loss() == R(sum(v * v for v in point.Y[:, 0] if v <= 0), point.n)


@settings(max_examples=25, deadline=None)
@given(basis_minima())
def test_a_zero_neuron_turns_a_non_global_minimum_into_a_saddle(point):
    report = assert_report_is_sound(add_zero_neuron(point))
    assert report.classification == ("saddle" if point.loss() > 0 else "local minimum")


@settings(max_examples=20, deadline=None)
@given(basis_minima(), st.integers(1, 3))
def test_a_dead_neuron_preserves_the_local_minimum(point, size):
    dead = add_dead_neuron(point, [-size] * point.d)
    assert np.array_equal(dead.outputs(), point.outputs())
    report = assert_report_is_sound(dead)
    assert report.classification == "local minimum"
    assert report.neurons[-1].status == "dead"


@settings(max_examples=30, deadline=None)
@given(basis_minima(), st.sampled_from([R(-1), R(0), R(1, 3), R(1, 2), R(1), R(2)]), st.sampled_from([R(1), R(2)]))
def test_replication_lambdas_classify_as_section_4_says(point, lam, scale):
    # copies (scale w, lam h / scale) and (w, (1 - lam) h): sum c_l lambda_l = 1 with lambdas lam / scale, 1 - lam
    split = split_neuron(point, 0, [lam / scale, 1 - lam], scales=[scale, 1])
    assert np.array_equal(split.outputs(), point.outputs())
    report = assert_report_is_sound(split)
    if point.loss() == 0:  # D_i == 0: every lambda keeps a local minimum
        expected = "local minimum"
    elif lam in (0, 1):
        expected = "saddle"
    elif 0 < lam < 1:
        expected = "local minimum"
    else:
        expected = "not stationary"
    assert report.classification == expected


# ---- embeddings keep f ------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.data())
def test_embeddings_preserve_the_function_exactly(data):
    point = data.draw(kinked_points())
    i = data.draw(st.integers(0, point.m - 1))
    copies = data.draw(st.integers(1, 3))
    scales = [R(c, 2) for c in data.draw(st.lists(st.integers(1, 6), min_size=copies, max_size=copies))]
    weights = [np.array(w, dtype=object) for w in data.draw(matrices(copies - 1, point.d_out))]
    last = (point.H[i] - sum((c * w for c, w in zip(scales, weights)), 0 * point.H[i])) / scales[-1]
    v = data.draw(st.lists(entries, min_size=point.d, max_size=point.d))
    for wider in (add_zero_neuron(point), add_inactive_neuron(point, v),
                  replicate_neuron(point, i, weights + [last], scales)):
        assert wider.m > point.m or copies == 1
        assert np.array_equal(wider.outputs(), point.outputs())
        assert wider.loss() == point.loss()


# ---- zero-neuron lemma ------------------------------------------------------------------
def pairwise_independent(X):
    return all(X[k][0] * X[l][1] - X[k][1] * X[l][0] != 0 for k in range(len(X)) for l in range(k))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.data())
def test_zero_neuron_lemma(n, data):
    X = data.draw(matrices(n, 2))
    assume(all(any(v != 0 for v in x) for x in X) and pairwise_independent(X))
    Y = [[0]] * n if data.draw(st.booleans()) else data.draw(matrices(n, 1))
    point = exact_point([[0, 0]], [0], X, Y, data.draw(st.sampled_from(ACTIVATIONS)))  # theta = 0: e = -Y
    assert zero_neuron_map_vanishes(point) == all(v == 0 for v in point.residuals().ravel())


def test_zero_neuron_lemma_needs_independent_inputs():
    # x_1 = x_2 with opposite residuals: e != 0 but D_0 == 0
    point = exact_point([[0, 0]], [0], [[1, 2], [1, 2]], [1, -1])
    assert zero_neuron_map_vanishes(point)
    assert any(v != 0 for v in point.residuals().ravel())
