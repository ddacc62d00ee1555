"""`gradflow bench --quick` runs and every implementation agrees (no timing assertions here)."""

import contextlib
import io
import json

import numpy as np
import pytest

from gradflow.derivations.cli import main

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset


@pytest.fixture(scope="module")
def quick_report():
    """One `gradflow bench --quick --json` run shared by the tests below (it takes most of a minute)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["bench", "--quick", "--json"])
    return code, json.loads(out.getvalue())


def _cells(report, prefix):
    return [c for c in report["cells"] if c["name"] == prefix or c["name"].startswith(prefix + "[")]


def test_quick_bench_agrees(quick_report):
    code, report = quick_report
    assert code == 0
    machine = report["machine"]
    assert machine["blas_gflops"] == max(machine["blas_gflops_by_library"].values()) > 0
    assert set(machine["blas_cores"]) == {"numpy", "kernels"}  # which OpenBLAS kernels ran (None: not OpenBLAS)
    for cell in _cells(report, "am-particles"):  # the BLAS threads the products ran on, and why
        assert cell["notes"]["strategy"]["threads"] >= 0 and cell["notes"]["strategy"]["reason"]
    names = [c["name"] for c in report["cells"]]
    assert any(n.startswith("am-particles") for n in names) and any(n.startswith("am-flow") for n in names)
    for cell in report["cells"]:
        assert set(cell) >= {"name", "skipped", "agree", "max_rel_diff", "times", "ratios", "fraction_of_ceiling"}
        assert cell["agree"], cell
        if cell["skipped"]:
            assert cell["skipped_implementations"]["cell"] and not cell["times"] and not cell["ratios"], cell
        else:
            assert "gradflow" in cell["times"] or cell["name"].startswith("codegen")


def test_am_ensemble_first_hits_identical(quick_report):
    (cell,) = _cells(quick_report[1], "am-ensemble")
    assert not cell["skipped"] and cell["agree"] and cell["max_rel_diff"] == 0.0
    assert {"gradflow", "gradflow-record-all", "numpy"} <= set(cell["times"])
    assert all(v == 0.0 for v in cell["notes"]["max_rel_diff_by_impl"].values())
    assert cell["notes"]["members"] == 1000 and cell["notes"]["steps"] == 200
    assert cell["ceiling"] == "exp" and cell["fraction_of_ceiling"] > 0
    for peer in ("jax", "torch"):  # run when installed, otherwise reported as skipped (never faked)
        assert (peer in cell["times"]) != (peer in cell["skipped_implementations"])


def test_relu_gd_final_loss_agrees(quick_report):
    cells = {c["name"]: c for c in _cells(quick_report[1], "relu-gd")}
    assert set(cells) == {"relu-gd[float64]", "relu-gd[float32]"}
    assert cells["relu-gd[float64]"]["max_rel_diff"] <= 1e-10
    assert cells["relu-gd[float32]"]["max_rel_diff"] <= 1e-3
    for cell in cells.values():
        assert cell["agree"] and "numpy" in cell["times"] and cell["notes"]["steps"] == 20_000
        assert ("torch" in cell["times"]) != ("torch" in cell["skipped_implementations"])
        for scaled in cell["scaled_implementations"].values():  # reported time = measured median * scale
            assert scaled["scale"] > 1 and scaled["measured_median_s"] > 0


def test_gpu_ensemble_reports_a_clean_skip_or_agrees(quick_report):
    from gradflow.numerics.drivers.cuda import cuda_available, simulator_enabled

    cells = _cells(quick_report[1], "gpu-ensemble")
    assert cells
    if not cuda_available() or simulator_enabled():
        (cell,) = cells
        assert cell["skipped"] is True and cell["times"] == {} and cell["ratios"] == {}
        assert cell["fraction_of_ceiling"] is None and cell["notes"]["skipped_reason"]
    else:
        assert all(c["agree"] and not c["skipped"] for c in cells)


def test_scaled_implementation_is_compared_with_its_reference():
    from gradflow.bench.harness import Implementation, run_cell

    cell = run_cell("toy", [Implementation("gradflow", lambda: np.array([2.0]), False),
                            Implementation("gradflow@short", lambda: np.array([1.0]), False, scale=10.0, agree_with=None),
                            Implementation("peer", lambda: np.array([1.0]), scale=10.0, agree_with="gradflow@short")],
                    1, 0.0)
    assert cell.agree and cell.notes["max_rel_diff_by_impl"] == {"peer": 0.0}
    assert set(cell.scaled) == {"gradflow@short", "peer"} and cell.scaled["peer"]["scale"] == 10.0
    assert cell.times["peer"] == pytest.approx(10.0 * cell.scaled["peer"]["measured_median_s"])


def test_unknown_cell_is_a_clear_error(capsys):
    assert main(["bench", "--cell", "warp-drive"]) == 2
    assert "--cell: must be one of am-particles" in capsys.readouterr().err


def test_mlp_hessian_quick_sizes_agree_and_judge_their_targets(quick_report):
    cells = {c["name"]: c for c in _cells(quick_report[1], "mlp-hessian")}
    assert set(cells) == {f"mlp-hessian[{kind} k=10 N={n}]" for kind in ("gradient", "hessian") for n in (10, 1000)}
    for cell in cells.values():
        notes = cell["notes"]
        assert cell["agree"] and cell["max_rel_diff"] <= notes["tolerance"]
        assert notes["P"] == 41 and notes["calls_per_timing"] >= 1 and cell["ceiling"] == "blas"
        assert cell["fraction_of_ceiling"] > 0
        for family in ("torch", "jax"):  # run in their own processes when installed, otherwise skipped
            ran = any(name.startswith(family) for name in cell["times"])
            assert ran != (family in cell["skipped_implementations"]), cell
        if len(cell["times"]) > 1:
            assert notes["best_peer"] in cell["times"] and isinstance(notes["target_met"], bool)
        else:
            assert notes["target_met"] is None


def test_mlp_hessian_call_counts_follow_the_work():
    from gradflow.bench.mlp_hessian import calls_per_timing

    assert calls_per_timing("gradient", 10, 10) == 5773  # floor(sqrt(1e10 / 300))
    assert calls_per_timing("hessian", 10, 10) == 333  # floor(sqrt(1e8 / 100) / 3)
    assert calls_per_timing("hessian", 100_000, 100) == 1


def test_mlp_train_runs_every_implementation_and_they_agree(quick_report):
    (cell,) = _cells(quick_report[1], "mlp-train")
    names = {"gradflow", "gradflow-bfgs-hessian", "gradflow-ensemble", "gradflow-ensemble-newton-bfgs", "scipy-bfgs",
             "scipy-bfgs-pool", "gradflow-gd"}
    assert not cell["skipped"] and set(cell["times"]) == names and cell["agree"]
    notes = cell["notes"]
    assert notes["seeds"] == 4 and notes["n_samples"] == 2000 and notes["n_params"] == 33
    # every reported loss is NumPy's loss at the reported point; the pooled SciPy run retraces the serial one
    assert all(v <= 1e-9 for v in notes["max_rel_diff_by_impl"].values())
    for name in names:
        rows = notes["per_seed"][name]
        assert [row["seed"] for row in rows] == [0, 1, 2, 3]
        for row in rows:
            assert row["loss"] >= 0 and isinstance(row["minimum"], int)
            # a run that reached 1e-12 reached 1e-8 no later
            assert row["t_1e-12"] is None or (row["t_1e-8"] is not None and row["t_1e-8"] <= row["t_1e-12"])
    for target in ("target_bfgs_3x_scipy_to_1e-8", "target_bfgs_hessian_3x_scipy_to_1e-8", "target_ensemble_throughput"):
        assert isinstance(notes[target], bool)  # measured and reported, never assumed
    assert notes["ensemble_throughput"]["members"] == 4


def test_sweep_cells_agree_and_report_their_measurements(quick_report):
    cells = {c["name"]: c for c in _cells(quick_report[1], "sweep")}
    assert set(cells) == {"sweep[overhead]", "sweep[scale]"}
    overhead, scale = cells["sweep[overhead]"], cells["sweep[scale]"]
    assert overhead["agree"] and overhead["max_rel_diff"] == 0.0  # identical first hits through the runner
    assert set(overhead["times"]) == {"gradflow", "sweep-local-cluster"} and overhead["notes"]["throughput_fraction"] > 0
    assert scale["agree"] and scale["notes"]["complete"] and scale["notes"]["members"] >= 50_000
    assert scale["notes"]["store_mb"] > 0 and min(scale["notes"]["peak_worker_rss_mb"]) > 0
