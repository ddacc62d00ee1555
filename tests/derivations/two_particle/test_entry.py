"""The CLI model am-two-particle and the experiments am-landscape, am-spike, am-phase."""

import dataclasses
import json

import numpy as np
import pytest
from scipy.special import expit

from gradflow.derivations import registry
from gradflow.derivations.two_particle import FAMILY, AmLandscape, AmPhase, AmSpike, TwoParticle
from gradflow.derivations.two_particle.phase import first_hits, phase_axes
from gradflow.derivations.two_particle.simulators import lane_map_simulator
from gradflow.theory.errors import ParameterError
from tests.latex_checker import problems

ENTRY = registry.get_model("am-two-particle")


def simulate(*pairs, method="gd", steps=None, t_end=None, backend="cpu"):
    settings = ENTRY.parse_settings(list(pairs))
    out = ENTRY.simulate(settings, method, steps, t_end, backend)
    json.dumps(out)  # JSON-ready
    return out


def test_names_and_exports():
    assert ENTRY.name == "am-two-particle" and ENTRY.methods == ("gd", "flow")
    assert isinstance(ENTRY, TwoParticle) and FAMILY.entries == (ENTRY,)
    assert [p.name for p in ENTRY.parameters] == ["p1", "alpha", "labels", "eta"]
    assert [e.name for e in FAMILY.experiments] == ["am-landscape", "am-spike", "am-phase", "am-phase-large"]
    assert all(e.summary for e in FAMILY.experiments)
    assert ENTRY.backends == ("cpu", "numpy", "cuda") and ENTRY.backends_for("flow") == ("cpu", "numpy")


def test_checks_all_pass():
    verdicts = ENTRY.checks(quick=True)
    failed = [str(v) for v in verdicts if not v.passed]
    assert not failed, failed
    names = " ".join(v.name for v in verdicts)
    for needle in ("W-space GD", "first GD step", "dip", "sharpness at 0", "linearised GD", "alpha < 0",
                   "benign", "edge of stability", "eta t L", "finite"):
        assert needle in names, needle


def test_simulate_spike_run_and_observables():
    out = simulate()  # defaults: p1 = 0.75, alpha = 0.95, opposite labels, eta = 10, 35 steps
    assert set(out) == {"params", "t", "loss", "l01", "margins", "sharpness", "observables"}
    margins = np.array(out["margins"])
    assert margins.shape == (36, 2) and len(out["sharpness"]) == 36
    np.testing.assert_allclose(margins[1], [10 * (0.75 - 0.95 * 0.25), 10 * (0.25 - 0.95 * 0.75)], rtol=1e-14)
    obs = out["observables"]
    s0 = (1 + np.sqrt(1 - 4 * 0.75 * 0.25 * (1 - 0.95**2))) / 4
    assert out["sharpness"][0] == pytest.approx(s0, rel=1e-12) and obs["sharpness_at_zero"] == pytest.approx(s0)
    assert obs["unstable_at_start"] and obs["dips"] and obs["dip_condition"]
    loss = np.array(out["loss"])
    assert obs["loss_increases"] == np.flatnonzero(loss[1:] > loss[:-1]).tolist() and len(obs["loss_increases"]) >= 3
    assert len(obs["sign_changes"][1]) >= 3
    eos = obs["edge_of_stability"]
    assert eos["threshold"] == 0.2 and eos["max_ratio"] > 1 > eos["final_ratio"]
    assert out["l01"][0] == 0.25 and out["l01"][-1] == 0.0


@pytest.mark.parametrize("pairs", [(), ("labels=same", "alpha=0.6", "eta=3"), ("alpha=-0.5", "eta=100", "p1=0.6")])
def test_cpu_and_numpy_backends_agree(pairs):
    a = simulate(*pairs, steps=60)
    b = simulate(*pairs, steps=60, backend="numpy")
    np.testing.assert_allclose(a["margins"], b["margins"], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(a["sharpness"], b["sharpness"], rtol=1e-11, atol=1e-15)
    assert a["l01"] == b["l01"] and a["observables"]["loss_increases"] == b["observables"]["loss_increases"]


def test_long_runs_use_the_derived_sharpness():
    out = simulate("eta=1", steps=6000)
    assert "derived" in out["params"]["sharpness_method"] and len(out["sharpness"]) == 6001
    short = simulate("eta=1", steps=50)
    np.testing.assert_allclose(out["sharpness"][:51], short["sharpness"], rtol=1e-12)
    assert out["observables"]["loss_increases"] == []


def test_same_labels_independent_oracle():
    """Same labels: Kt = [[1, alpha], [alpha, 1]] by hand; the kernel runs them with alpha -> -alpha."""
    out = simulate("labels=same", "alpha=0.6", "p1=0.7", "eta=2", steps=40)
    p = np.array([0.7, 0.3])
    Kt = np.array([[1, 0.6], [0.6, 1]])
    m = np.zeros(2)
    for _ in range(40):
        m = m + 2 * 2 * Kt @ (p * expit(-m))
    np.testing.assert_allclose(out["margins"][-1], m, rtol=1e-12)
    assert out["observables"]["loss_increases"] == []


def test_flow_cpu_and_numpy_agree():
    a = simulate("alpha=0.5", method="flow", t_end=20.0)
    b = simulate("alpha=0.5", method="flow", t_end=20.0, backend="numpy")
    np.testing.assert_allclose(a["margins"], b["margins"], atol=1e-8)
    assert a["t"][-1] == 20.0 and len(a["t"]) == 201


@pytest.mark.parametrize("pair, name", [("alpha=1.5", "alpha"), ("p1=1", "p1"), ("p1=0", "p1"), ("eta=0", "eta"),
                                        ("labels=different", "labels"), ("alpha=nan", "alpha"), ("gamma=1", "gamma")])
def test_bad_settings_name_the_parameter(pair, name):
    with pytest.raises(ParameterError) as info:
        simulate(pair)
    assert info.value.parameter == name


@pytest.mark.parametrize("kwargs, name", [({"method": "sgd"}, "--method"), ({"backend": "gpu"}, "--backend"),
                                          ({"steps": -1}, "--steps"), ({"method": "flow", "t_end": -1.0}, "--t-end"),
                                          ({"method": "flow", "backend": "cuda"}, "--backend")])
def test_bad_run_options(kwargs, name):
    with pytest.raises(ParameterError) as info:
        simulate(**kwargs)
    assert info.value.parameter == name


def test_am_spike(tmp_path):
    rep = AmSpike().run(quick=True)
    assert set(rep.arrays) == {"eta", "loss", "l01", "margins", "sharpness"}
    assert rep.arrays["eta"].tolist() == [10.0, 1.0]
    assert rep.arrays["loss"].shape == (2, 36) and rep.arrays["margins"].shape == (2, 36, 2)
    assert rep.arrays["sharpness"].shape == (2, 36) and rep.arrays["l01"].shape == (2, 36)
    loss = rep.arrays["loss"]
    assert loss[0, -1] < loss[1, -1]  # benign spikes
    assert np.any(np.diff(loss[0]) > 0) and np.all(np.diff(loss[1]) < 0)
    folder = rep.write(tmp_path)
    for name in ("report.md", "derivation.tex", "data.npz", "metadata.json", "figures/spike.png", "figures/spike.pdf",
                 "figures/trajectory.png"):
        assert (folder / name).is_file(), name
    assert set(rep.to_json()) == {"experiment", "parameters", "eta", "loss", "l01", "margins", "sharpness"}
    assert problems((folder / "derivation.tex").read_text()) == []


def test_am_phase_is_one_fast_launch(monkeypatch):
    sim = lane_map_simulator()
    sim.iterate(np.zeros((1, 2)), {"p1": 0.7, "alpha": 0.5, "eta": 1.0}, 1)  # compiled / loaded
    calls = []
    original = sim.module.iterate_map
    monkeypatch.setattr(sim.module, "iterate_map", lambda *a: calls.append(a[0].shape) or original(*a))
    p1, alpha, eta = phase_axes()
    first, seconds = first_hits(p1, alpha, eta)
    assert calls == [(1000, 2)] and seconds < 5.0
    assert first.shape == (10, 10, 10) and first.dtype.kind == "i"
    assert np.all(first[:, -1, :] == 999)  # alpha = 1: e_2 = e_1 with opposite labels, never separated
    P, A = np.meshgrid(p1, alpha, indexing="ij")
    no_dip = A < (1 - P) / P
    assert no_dip.any() and np.all(first[no_dip] == 1) and np.all(first[~no_dip] > 1)
    # one lane against the NumPy map: first t with m1 >= 0 and m2 > 0
    i, j, k = 6, 7, 4
    m = np.zeros(2)
    Kt, p = np.array([[1, -alpha[j]], [-alpha[j], 1]]), np.array([p1[i], 1 - p1[i]])
    t = 0
    while not (m[0] >= 0 and m[1] > 0) and t < 999:
        m, t = m + 2 * eta[k] * Kt @ (p * expit(-m)), t + 1
    assert first[i, j, k] == t


def test_am_phase_and_landscape_reproductions(tmp_path):
    rep = AmPhase().run(quick=True)
    assert set(rep.arrays) == {"p1", "alpha", "eta", "first_hit"}
    assert rep.arrays["first_hit"].shape == (10, 10, 10) and rep.timings["ensemble_kernel"] < 5.0
    assert (rep.write(tmp_path) / "figures" / "phase.png").is_file()
    land = AmLandscape().run(quick=True)
    theta = land.arrays["theta_lim1"]
    centre = np.argmin(np.abs(theta))
    assert theta[centre] == 0.0
    loss, l01 = land.arrays["loss_over_N_lim1"], land.arrays["l01_lim1"]
    assert loss.shape == (3, theta.size, theta.size)
    np.testing.assert_allclose(loss[:, centre, centre], np.log(2) / 2, rtol=1e-14)  # L/N at v = 0
    np.testing.assert_array_equal(l01[:, centre, centre], 0.25)  # ties go to class 0: the rare input is wrong
    # a grid point against the formula: m(x) = eps_x <v, e_x>
    a, v = 0.5, np.array([theta[-1], theta[3]])
    e2 = np.array([a, np.sqrt(1 - a * a)])
    expected = (0.75 * np.logaddexp(0, -v[0]) + 0.25 * np.logaddexp(0, v @ e2)) / 2
    assert loss[1, -1, 3] == pytest.approx(expected, rel=1e-13)
    assert (land.write(tmp_path) / "figures" / "landscape.pdf").is_file()


# --- the experiments' declared parameters -------------------------------------------------------------


@pytest.mark.parametrize("experiment, names", [(AmLandscape(), ["p1", "alphas", "lims"]),
                                               (AmSpike(), ["p1", "alpha", "etas", "steps"]), (AmPhase(), [])])
def test_experiment_parameters_are_declared_fields(experiment, names):
    assert [p.name for p in experiment.parameters] == names
    fields = {f.name: f.default for f in dataclasses.fields(experiment)}
    assert {p.name: p.default for p in experiment.parameters} == {n: fields[n] for n in names}
    assert registry.get_experiment(experiment.name) == experiment
    assert experiment.backends == (("cpu", "cuda") if experiment.name == "am-phase" else ("cpu",))


@pytest.mark.parametrize("name, settings, bad", [
    ("am-landscape", {"p1": 1.0}, "p1"), ("am-landscape", {"alphas": (0.5, 1.5)}, "alphas"),
    ("am-landscape", {"lims": (1.0, 0.0)}, "lims"), ("am-spike", {"alpha": -1.01}, "alpha"),
    ("am-spike", {"etas": (10.0,)}, "etas"), ("am-spike", {"etas": (10.0, 10.0)}, "etas"),
    ("am-spike", {"etas": (10.0, 3.0, 1.0, 0.5)}, "etas"), ("am-spike", {"etas": (10.0, -1.0)}, "etas"),
    ("am-spike", {"steps": 0}, "steps"),
])
def test_bad_experiment_settings_name_the_parameter(name, settings, bad):
    with pytest.raises(ParameterError) as info:
        registry.get_experiment(name).configured(settings)
    assert info.value.parameter == bad


def test_am_phase_takes_no_settings():
    with pytest.raises(ParameterError) as info:
        registry.get_experiment("am-phase").parse_settings(["steps=10"])
    assert info.value.parameter == "steps"


def test_cuda_is_refused_where_not_declared():
    with pytest.raises(ParameterError) as info:
        registry.get_experiment("am-spike").reproduce(quick=True, backend="cuda")
    assert info.value.parameter == "--backend"


def test_configured_landscape_with_one_panel():
    land = registry.get_experiment("am-landscape").configured({"alphas": (0.3,), "lims": (2.0,)}).run(quick=True)
    assert land.parameters["alphas"] == [0.3] and land.parameters["lims"] == [2.0]
    assert land.arrays["loss_over_N_lim2"].shape == (1, 41, 41) and set(land.figures) == {"landscape"}
    assert "| 0.3 | 2 |" in land.report_markdown


def test_configured_spike_below_the_dip_threshold():
    """alpha = 0.2 < p2/p1 = 1/3: no dip, and the report says so; three step sizes take three colours."""
    rep = registry.get_experiment("am-spike").configured({"alpha": 0.2, "etas": (8.0, 2.0, 0.5), "steps": 12}).run(
        quick=True)
    assert rep.arrays["margins"].shape == (3, 13, 2) and np.all(rep.arrays["margins"][:, 1, 1] > 0)
    assert "no dip" in rep.report_markdown and "goes negative" not in rep.report_markdown
    assert "1/(1 - alpha) = 1.2 (derived)" in rep.report_markdown
    limit_line = next(line for line in rep.report_markdown.splitlines() if "1/(1 - alpha)" in line)
    assert "verdict: " in limit_line and "gap" in limit_line  # a measured-vs-limit number has its verdict
