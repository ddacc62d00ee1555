"""The am-phase sweep target against plain NumPy GD on the margins, member by member."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from gradflow.derivations.registry import get_sweep_target
from gradflow.derivations.two_particle.phase import first_hits
from gradflow.numerics.sweep import member_seed, sweep


def numpy_first_hit(p1, alpha, eta, m0, iterates) -> int:
    """m <- m + 2 eta [[1, -alpha], [-alpha, 1]] (p * sigma(-m)) (opposite labels); first t with m1 >= 0, m2 > 0."""
    m, p = np.array(m0, dtype=float), np.array([p1, 1 - p1])
    for t in range(iterates):
        if m[0] >= 0 and m[1] > 0:
            return t
        u = p * expit(-m)
        m = m + 2 * eta * np.array([u[0] - alpha * u[1], u[1] - alpha * u[0]])
    return -1


def test_first_hits_match_numpy_including_random_starts(tmp_path):
    axes = {"p1": "0.55,0.8", "alpha": "0.5,0.9", "eta": "0.3,3", "init": "0,0.5"}
    ds = sweep(get_sweep_target("am-phase"), axes, seeds=2, store=str(tmp_path / "s.zarr"), scheduler="serial",
               settings={"iterates": 60}, members_per_task=5, progress=False)
    hits = ds.first_hit.values
    assert hits.shape == (2, 2, 2, 2, 2) and ds.attrs["tasks_computed"] == 8
    grid = [ds[k].values for k in ("p1", "alpha", "eta", "init")]
    for index in np.ndindex(hits.shape[:-1]):
        p1, alpha, eta, init = (g[i] for g, i in zip(grid, index))
        for s in range(2):
            point = np.ravel_multi_index(index, hits.shape[:-1])
            m0 = init * np.random.default_rng(member_seed(0, point, s)).standard_normal(2) if init else (0, 0)
            assert hits[index + (s,)] == numpy_first_hit(p1, alpha, eta, m0, 60), (index, s)
    assert np.array_equal(hits[..., 0, 0], hits[..., 0, 1])  # W_0 = 0: the seeds are copies
    assert not np.array_equal(hits[..., 1, 0], hits[..., 1, 1])  # random starts differ


def test_the_sweep_reproduces_the_am_phase_ensemble(tmp_path):
    p1s, alphas, etas = np.array([0.6, 0.7, 0.85]), np.array([0.5, 0.8, 1.0]), np.array([0.1, 1.0, 10.0])
    ds = sweep(get_sweep_target("am-phase"), {"p1": p1s, "alpha": alphas, "eta": etas},
               store=str(tmp_path / "s.zarr"), scheduler="serial", settings={"iterates": 300}, progress=False)
    reference, _ = first_hits(p1s, alphas, etas, 300)
    hits = ds.first_hit.values[..., 0, 0]
    assert np.array_equal(np.where(hits < 0, 299, hits), reference)


def test_am_phase_large_reports_from_its_store(tmp_path, monkeypatch):
    from gradflow.derivations.cli import main
    from gradflow.derivations.two_particle.phase_sweep import phase_grid

    monkeypatch.chdir(tmp_path)
    assert main(["reproduce", "am-phase-large", "--quick", "--out", "out", "--json"]) == 0
    assert (tmp_path / "am-phase-large-quick.zarr" / "zarr.json").is_file()
    data = np.load(tmp_path / "out" / "am-phase-large" / "data.npz")
    grid = phase_grid(12, 12, 12)
    reference, _ = first_hits(grid["p1"], grid["alpha"], grid["eta"])
    assert np.array_equal(data["first_hit"], reference)
    report = (tmp_path / "out" / "am-phase-large" / "report.md").read_text()
    assert "1728 members" in report and "first_hit > 1: holds" in report
    assert "(1 tasks computed in this run, 0 found done)" in report
    # the same sweep again resumes the store: nothing to compute
    again = sweep(get_sweep_target("am-phase"), grid, store="am-phase-large-quick.zarr", scheduler="serial",
                  progress=False)
    assert again.attrs["tasks_computed"] == 0 and again.attrs["tasks_already_done"] == 1
