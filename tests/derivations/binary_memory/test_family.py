"""The binary memory family: the binary map kernel, its checks (contributed to am-random) and the
experiments am-underparam and am-large-memory (quick variants)."""

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import expit

from gradflow.derivations import registry
from gradflow.derivations.associative_memory.instances import unit_rows
from gradflow.derivations.associative_memory.oracles import binary_margin_loss_numpy, binary_margin_map_numpy
from gradflow.derivations.associative_memory.simulators import logit_particle_simulator
from gradflow.derivations.binary_memory import FAMILY, AmLargeMemory, AmUnderparam, checks
from gradflow.derivations.binary_memory.experiments import forgetting_times
from gradflow.derivations.binary_memory.instances import BinaryInstance, circle_instance, worked_instance
from gradflow.derivations.binary_memory.laws import BinaryLaws
from gradflow.derivations.binary_memory.simulators import binary_map_run, derivation
from gradflow.numerics.compare import Verdict
from gradflow.theory.errors import ParameterError
from gradflow.theory.models import binary_memory as bm


def oracle(inst, eta, steps):
    """The NumPy margin map from the instance's W_0, every step."""
    return binary_margin_map_numpy(inst.signed_gram, inst.p, inst.kappa, eta, steps, inst.initial_margins)


def random_instance(N, d, seed, W0_scale=0.0):
    rng = np.random.default_rng(seed)
    p = rng.random(N) + 0.05
    return BinaryInstance(unit_rows(N, d, rng), unit_rows(2, d, rng), p / p.sum(), rng.integers(0, 2, N),
                              W0_scale * rng.standard_normal((d, d)))


@pytest.mark.long  # about 10-20 s from an empty cache: not in the quick subset
@settings(max_examples=12, deadline=None)
@given(N=st.sampled_from([2, 3, 4]), d=st.integers(2, 4), seed=st.integers(0, 10_000), eta=st.floats(0.05, 2.0))
def test_binary_map_kernel_equals_numpy_and_logit_particles(N, d, seed, eta):
    # unit embeddings: the Hessian in W is at most kappa/4 <= 1, so eta <= 2 keeps GD non-expansive and rounding
    # differences between the three implementations cannot grow (above that, chaotic runs amplify them)
    inst = random_instance(N, d, seed, W0_scale=0.5)
    steps = 100
    lanes = binary_map_run(inst, [eta], steps)[:, 0, :]
    np.testing.assert_allclose(lanes, oracle(inst, eta, steps), rtol=1e-10, atol=1e-10)
    run = logit_particle_simulator().gd(inst.initial_logits, inst.data, inst.labels, eta, steps)
    np.testing.assert_allclose(lanes, run.margins, rtol=1e-10, atol=1e-10)
    # the recorded loss of the full system is the binary loss of the margins
    np.testing.assert_allclose(binary_margin_loss_numpy(lanes, inst.p), run.loss, rtol=1e-10, atol=1e-14)


def test_binary_map_oracle_is_the_hand_written_formula():
    inst = random_instance(3, 3, 5)
    m = oracle(inst, 2.0, 1)[1]
    assert np.allclose(m, 2.0 * inst.kappa * inst.signed_gram @ (inst.p * expit(0.0)))


def two_particles(alpha, p1):
    E = np.array([[1.0, 0.0], [alpha, np.sqrt(1 - alpha ** 2)]])
    return BinaryInstance(E, np.eye(2), np.array([p1, 1 - p1]), np.array([0, 1]), np.zeros((2, 2)))


@settings(max_examples=8, deadline=None)
@given(alpha=st.floats(0.0, 0.7), p1=st.floats(0.5, 0.85), eta=st.floats(1.0, 10.0))
def test_two_particle_separable_limits(alpha, p1, eta):
    """The two-particle model as a special case: eta t L -> 1/(1 - alpha), m_x - log(eta t) -> log(2 (1 - alpha) p_x).
    (alpha >= 0: the approach exponent is 1, so a fixed tolerance at fixed T is fair.)"""
    inst = two_particles(alpha, p1)
    T = 50_000
    m = binary_map_run(inst, [eta], T, [T])[-1, 0]
    assert eta * T * binary_margin_loss_numpy(m, inst.p) == pytest.approx(1 / (1 - alpha), rel=0.01)
    np.testing.assert_allclose(m - np.log(eta * T), np.log(2 * (1 - alpha) * inst.p), atol=0.01)


def test_cooperative_interference_approaches_the_limit_like_t_to_minus_mu():
    """alpha = -0.5: mu = smallest eigenvalue of Kt diag(lambda) = (1 + alpha)/(1 - alpha) = 1/3 (derived)."""
    inst = two_particles(-0.5, 0.7)
    const = bm.separable_constants(inst.signed_gram, inst.p, inst.kappa, derivation())
    assert const.approach_exponent == pytest.approx(1 / 3, rel=1e-12)
    T = [10_000, 100_000]
    m = binary_map_run(inst, [1.0], T[-1], T)[:, 0]
    gaps = [np.abs(m[k] - np.log(T[k]) - const.c).max() for k in range(2)]
    assert np.log(gaps[0] / gaps[1]) / np.log(10) == pytest.approx(1 / 3, abs=0.02)


@pytest.mark.long  # the family's whole check from an empty cache: not in the quick subset
def test_checks_pass_and_are_verdicts():
    verdicts = checks(quick=True)
    assert FAMILY.contributed_checks == {"am-random": checks}  # `gradflow check am-random` runs them after its own
    assert all(isinstance(v, Verdict) for v in verdicts) and len(verdicts) >= 30
    failed = [str(v) for v in verdicts if not v.passed]
    assert not failed, failed
    names = " ".join(v.name for v in verdicts)
    for needle in ("logit-particle GD, M = 2", "log(kappa p / lambda)", "1/(kappa gamma*^2)", "does not depend on eta",
                   "|grad L(v*)| = 0", "0.9 * 2/lambda_max", "1.1 * 2/lambda_max", "period-2"):
        assert needle in names
    json.dumps([v.to_dict() for v in verdicts])


def test_worked_instance_against_an_independent_minimizer():
    wi = worked_instance()
    Z = np.array([1, -1, 1])[:, None] * wi.E

    def loss(v):  # by hand, independent of the family's geometry module
        return float(wi.p @ np.log1p(np.exp(-(Z @ v))))

    ref = minimize(loss, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 5000})
    result = AmUnderparam().run(quick=True)
    a = result.arrays
    np.testing.assert_allclose(a["ce_minimizer"], ref.x, atol=1e-6)
    np.testing.assert_allclose(a["ce_margins"], Z @ ref.x, atol=1e-6)
    assert float(a["l01_ce"]) == pytest.approx(5 / 11) and float(a["l01_best"]) == pytest.approx(2 / 11)
    assert float(a["excess"]) == pytest.approx(3 / 11)
    np.testing.assert_allclose(a["gd_margins_final"], a["ce_margins"], atol=1e-9)  # GD (eta = 1) converges to it
    # the SGD forgetting run: optimum reached, left, and the run ends at L01 of the CE minimizer
    forgetting = result.parameters["forgetting"]
    assert forgetting["shows_forgetting"]
    assert forgetting["first_at_optimum"] < forgetting["left_optimum"] <= forgetting["settled_at_ce_level"]
    assert a["sgd_l01"][-1] == pytest.approx(float(a["sgd_l01_ce"]))
    assert a["sgd_loss"][-1] < a["sgd_loss"][forgetting["left_optimum"]]  # CE kept decreasing
    data = result.to_json()
    for key in ("ce_minimizer", "ce_margins", "l01_ce", "l01_best", "excess", "sgd_t", "sgd_loss", "sgd_l01"):
        assert key in data
    json.dumps(data)
    assert len(data["sgd_t"]) == len(data["sgd_loss"]) == len(data["sgd_l01"]) == 2_001


def test_large_memory_quick(tmp_path):
    result = AmLargeMemory().run(quick=True)
    a = result.arrays
    assert a["loss"].shape == (3, 3, 301) and a["loss_increases"].shape == (3, 3)
    counts = np.sum(np.diff(a["loss"], axis=2) > 1e-12 * a["loss"][:, :, 1:], axis=2)
    np.testing.assert_array_equal(a["loss_increases"], counts)
    np.testing.assert_allclose(a["eta_t_loss"], a["eta"][None, :] * 300 * a["loss"][:, :, -1])
    data = result.to_json()
    assert data["d"] == [3, 5, 10] and data["eta"] == [3.0, 10.0, 20.0]
    assert len(data["loss"][2][1]) == 301
    folder = result.write(tmp_path)
    for name in ("report.md", "data.npz", "metadata.json", "figures/loss.png", "figures/margins.pdf"):
        assert (folder / name).exists()


def test_forgetting_times_logic():
    t = np.arange(8)
    l01 = np.array([0.5, 0.3, 0.1, 0.1, 0.3, 0.1, 0.3, 0.3])
    out = forgetting_times(t, l01, best=0.1, ce_level=0.3)
    assert (out["first_at_optimum"], out["left_optimum"], out["last_at_optimum"], out["settled_at_ce_level"]) == (2, 4, 5, 6)
    assert out["shows_forgetting"]
    assert not forgetting_times(t, np.full(8, 0.3), best=0.1, ce_level=0.3)["shows_forgetting"]


def test_experiment_names():
    assert [e.name for e in FAMILY.experiments] == ["am-underparam", "am-large-memory"]
    assert all(e.summary for e in FAMILY.experiments)


@pytest.mark.parametrize("call, parameter", [
    (lambda: binary_map_run(worked_instance(), [0.0], 10), "eta"),
    (lambda: binary_map_run(worked_instance(), [-1.0], 10), "eta"),
    (lambda: binary_map_run(worked_instance(), [np.inf], 10), "eta"),
    (lambda: BinaryInstance(np.eye(2), np.eye(3), [0.5, 0.5], [0, 1], np.zeros((2, 2))), "U"),
    (lambda: BinaryInstance(np.eye(2), np.ones((2, 2)), [0.5, 0.5], [0, 1], np.zeros((2, 2))), "U"),
    (lambda: BinaryInstance(np.eye(2), np.eye(2), [0.5, 0.6], [0, 1], np.zeros((2, 2))), "p"),
    (lambda: BinaryInstance(np.eye(2), np.eye(2), [0.5, 0.5], [0, 2], np.zeros((2, 2))), "labels"),
    (lambda: BinaryInstance(np.eye(2), np.eye(2), [0.5, 0.5], [0, 1], np.zeros((3, 3))), "W0"),
    (lambda: BinaryInstance(np.ones(2), np.eye(2), [0.5, 0.5], [0, 1], np.zeros((2, 2))), "E"),
    (lambda: circle_instance(1, 0), "N"),
    (lambda: circle_instance(10, -1), "seed"),
])
def test_bad_input_names_the_parameter(call, parameter):
    with pytest.raises(ParameterError) as info:
        call()
    assert info.value.parameter == parameter


def test_the_family_is_registered_after_two_particle():
    families = registry.families()
    names = [family.name for family in families]
    assert names.index("binary_memory") == names.index("two_particle") + 1 == 2
    assert families[2] is FAMILY and FAMILY.entries == ()
    assert isinstance(registry.get_experiment("am-underparam"), AmUnderparam)
    assert isinstance(registry.get_experiment("am-large-memory"), AmLargeMemory)
    assert "am-random" in registry.models()  # the model the checks are contributed to


@pytest.mark.parametrize("experiment, names", [
    (AmUnderparam(), ["sgd_N", "zipf", "batch", "eta", "seed", "scan_seeds"]),
    (AmLargeMemory(), ["N", "zipf", "dims", "etas", "seed"]),
])
def test_experiments_declare_their_fields(experiment, names):
    assert [p.name for p in experiment.parameters] == names
    fields = {f.name: f.default for f in dataclasses.fields(experiment)}
    assert fields == {p.name: p.default for p in experiment.parameters}
    assert experiment.backends == ("cpu",)


def test_large_memory_settings_and_one_dimension():
    experiment = AmLargeMemory().configured({"dims": (4.0,), "etas": (3.0,), "N": 3})
    assert experiment.dims == (4,) and type(experiment.dims[0]) is int  # "floats" parses 4 as 4.0
    result = experiment.run(quick=True)
    assert result.arrays["loss"].shape == (1, 1, 301) and result.parameters["d"] == [4]
    assert "| 4 | 3 |" in result.report_markdown and set(result.figures) == {"loss", "margins"}


@pytest.mark.parametrize("experiment, settings, parameter", [
    (AmLargeMemory(), {"dims": (2.5,)}, "dims"),
    (AmLargeMemory(), {"dims": (0.0,)}, "dims"),
    (AmLargeMemory(), {"etas": (0.0,)}, "etas"),
    (AmLargeMemory(), {"N": 1}, "N"),
    (AmUnderparam(), {"sgd_N": 1}, "sgd_N"),
    (AmUnderparam(), {"eta": 0.0}, "eta"),
    (AmUnderparam(), {"batch": 0}, "batch"),
])
def test_bad_settings_name_the_parameter(experiment, settings, parameter):
    with pytest.raises(ParameterError) as info:
        experiment.configured(settings)
    assert info.value.parameter == parameter


def test_underparam_refuses_a_separable_sgd_instance():
    # two inputs with opposite labels on the circle are separable (unless they coincide): no finite CE minimizer
    with pytest.raises(ParameterError) as info:
        AmUnderparam().configured({"sgd_N": 2}).run(quick=True)
    assert info.value.parameter == "seed" and "not separable" in str(info.value)


def test_laws_evaluate_the_derived_expressions():
    laws = BinaryLaws(derivation())
    assert laws.loss_rate(2.0, 0.5) == pytest.approx(1 / (2.0 * 0.25), rel=1e-15)
    assert laws.sharpness(2.0, 0.3) == pytest.approx(0.6, rel=1e-15)
    assert laws.stability_threshold(2.0, 0.3) == pytest.approx(2 / 0.6, rel=1e-15)
    wi = worked_instance()
    const = laws.separable_constants(np.eye(2), np.array([0.5, 0.5]), wi.kappa)
    np.testing.assert_allclose(const.c, np.log(wi.kappa * 0.5))
