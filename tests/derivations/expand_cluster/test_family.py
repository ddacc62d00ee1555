"""The expand_cluster family: registration, the model entry, its checks and the reproductions (tiny variants;
the --quick runs are marked slow)."""

import sys

from dataclasses import replace

import numpy as np
import pytest

from gradflow.derivations import registry
from gradflow.derivations.expand_cluster import FAMILY
from gradflow.derivations.expand_cluster.deep_experiment import TEACHER_WIDTHS, deep_network, deep_teacher
from gradflow.derivations.expand_cluster.toy_experiment import summarise
from gradflow.theory.errors import ParameterError


def test_registered_with_its_experiments():
    assert FAMILY in registry.families() and FAMILY.name == "expand_cluster"
    assert [e.name for e in FAMILY.experiments] == ["ec-toy", "ec-digits", "ec-deep"]
    assert registry.get_model("expand-cluster") is FAMILY.entries[0]
    entry = FAMILY.entries[0]
    assert entry.methods == ("engine", "code")
    with pytest.raises(ParameterError, match="level"):
        entry.settings({"level": 7})
    with pytest.raises(ParameterError, match="activation"):
        entry.parse_settings(["activation=relu"])


@pytest.mark.long  # SymPy classes and ensemble training from an empty cache: not in the quick subset
def test_check_expand_cluster_passes():
    verdicts = registry.checks("expand-cluster", quick=True)
    assert len(verdicts) >= 25 and all(v.passed for v in verdicts), [str(v) for v in verdicts if not v.passed]
    names = " ".join(v.name for v in verdicts)
    assert "ensemble equals it trained alone" in names and "cut rule example" in names and "g: no class" in names


def test_simulate_one_task():
    out = registry.get_model("expand-cluster").simulate({"level": 1, "rho": 1, "n_students": 4, "maxtime": 2.0})
    result = out["result"]
    assert result["N"] == 4 and result["rho"] == 1 and len(result["students"]) == 4
    assert result["layers"][0]["K"] >= 1 and "toy_success" in result


def test_ec_toy_tiny():
    rep = registry.get_experiment("ec-toy").reproduce(
        {"seeds": [0], "rhos": [1], "levels": [1], "n_students": 4, "maxtime": 2.0})
    r = rep.results
    assert set(r["success_fraction"]) == {"code", "robust", "robust+fg"}
    assert set(r["success_fraction"]["code"]) == {"tanh", "sigmoid", "g"}
    assert 0.0 <= r["success_fraction"]["robust"]["tanh"]["1"]["1"] <= 1.0
    assert set(r["converged_fraction"]) == {"tanh", "sigmoid", "g"} and len(r["runs"]) == 3
    assert r["N"] == 4 and r["rho"] == [1] and r["seeds"] == [0]
    assert "success_vs_rho" in rep.figures and "success fraction" in rep.report_markdown
    assert "dendrogram_robust_layer1" in rep.figures and "Clustering figures: tanh/L1/s0 rho 1" in rep.report_markdown


def test_summary_tables():
    def record(act, level, rho, ok, conv):
        return {"activation": act, "level": level, "rho": rho, "converged_fraction": conv,
                "variants": {"code": {"success": ok}, "robust": {"success": True}, "robust+fg": {"success": ok}}}
    s = summarise([record("tanh", 1, 2, True, 1.0), record("tanh", 2, 2, False, 0.5), record("g", 1, 4, False, 0.0)])
    assert s["success_fraction"]["code"]["tanh"] == {"1": {"2": 1.0}, "2": {"2": 0.0}}
    assert s["success_fraction_by_rho"]["code"]["tanh"]["2"] == 0.5
    assert s["converged_fraction"]["tanh"]["2"] == 0.75 and s["success_fraction"]["robust"]["g"]["1"]["4"] == 1.0


def test_deep_teacher():
    weights, X, y = deep_teacher(0, 100)
    assert [w.shape for w in weights] == [(4, 5), (3, 5), (1, 4)]
    assert np.allclose(deep_network(TEACHER_WIDTHS).forward(deep_network(TEACHER_WIDTHS).flatten(weights), X), y)
    again = deep_teacher(0, 100)
    assert np.array_equal(again[1], X)


def test_digits_teacher_and_missing_sklearn(monkeypatch):
    from gradflow.derivations.expand_cluster import digits_experiment as de

    pytest.importorskip("sklearn")
    X, labels = de.digits()
    assert X.shape == (1797, 64) and X.max() <= 1.0 and set(labels.tolist()) == set(range(10))
    net, theta, logits, accuracy = de.train_teacher("tanh", X[:256], labels[:256], epochs=2)
    assert logits.shape == (256, 10) and 0.0 <= accuracy <= 1.0
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ParameterError, match="scikit-learn"):
        de.digits()


def test_the_pixel_mask_drops_constant_and_near_constant_pixels():
    from gradflow.derivations.expand_cluster.digits_experiment import pixel_mask

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4)) * np.array([0.0, 1e-3, 0.7, 1.0])  # variances 0, 1e-6, 0.49, 1 (about)
    assert pixel_mask(X, 0.0).tolist() == [False, True, True, True]
    assert pixel_mask(X, 1e-2).tolist() == [False, False, True, True]
    assert pixel_mask(X, 0.6).tolist() == [False, False, False, True]


def test_digits_mask_counts_and_parameter_errors():
    from gradflow.derivations.expand_cluster import digits_experiment as de

    with pytest.raises(ParameterError, match="width"):
        registry.get_experiment("ec-digits").reproduce({"width": 12}, quick=True)
    with pytest.raises(ParameterError, match="mask_variance"):
        registry.get_experiment("ec-digits").reproduce({"mask_variance": 1.0}, quick=True)
    pytest.importorskip("sklearn")
    X, _ = de.digits()
    assert int(de.pixel_mask(X, 0.0).sum()) == 61 and int(de.pixel_mask(X, 1e-2).sum()) == 52


def test_digits_students_take_the_polish_and_its_cap():
    from gradflow.derivations.expand_cluster.digits_experiment import ECDigits
    from gradflow.numerics.expand_cluster.expansion import train_students
    from gradflow.numerics.expand_cluster.toy_tasks import ToyTask

    settings = ECDigits(polish="gauss-newton", polish_iterations=30).trainer(False, 600.0)
    assert (settings.polish, settings.maxiterations_ode, settings.maxiterations_optim) == ("gauss-newton", 3000, 30)
    default = ECDigits().trainer(True, 60.0)
    assert (default.polish, default.maxiterations_ode, default.maxiterations_optim) == ("bfgs", 1500, 1500)
    # the same 30 polish iterations after 500 Adam steps: Levenberg-Marquardt reaches zero loss, BFGS does not
    task = ToyTask("tanh", 1, 0)
    starts = np.array([task.student_init(2, m) for m in range(2)])
    losses = {polish: train_students(task.network(2 * task.r_star), task.X, task.y, starts,
                                     replace(settings, polish=polish, maxiterations_ode=500)).losses
              for polish in ("gauss-newton", "bfgs")}
    assert np.all(losses["gauss-newton"] <= 1e-20) and np.all(losses["bfgs"] > 1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ec-toy", "ec-deep", "ec-digits"])
def test_quick_reproductions(name, tmp_path):
    if name == "ec-digits":
        pytest.importorskip("sklearn")
    rep = registry.get_experiment(name).reproduce({}, quick=True)
    assert rep.results and (tmp_path / name).parent.exists()
    rep.write(tmp_path)
    assert (tmp_path / name / "results.json").exists()
