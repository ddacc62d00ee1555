"""The thread strategy of lane kernel calls: chosen from the work size, and it changes no number."""

import numba
import numpy as np
import pytest

from gradflow.numerics.drivers import strategy
from gradflow.numerics.drivers.strategy import PARALLEL_WORK, choose_strategy


def test_small_work_runs_serially_whatever_the_machine():
    for work in (0.0, 1.0, PARALLEL_WORK / 2, np.nextafter(PARALLEL_WORK, 0)):
        chosen = choose_strategy(work, threads=8, cores=8, load=0.0)
        assert chosen.threads == 1 and chosen.serial and "serial" in chosen.reason


def test_large_work_takes_the_spare_cores():
    assert choose_strategy(PARALLEL_WORK, threads=8, cores=8, load=1.0).threads == 8  # only this process runs
    assert choose_strategy(PARALLEL_WORK, threads=2, cores=8, load=0.0).threads == 2  # at most Numba's threads
    assert choose_strategy(1e9, threads=8, cores=8, load=4.0).threads == 5  # 3 cores taken by others
    busy = choose_strategy(1e9, threads=2, cores=2, load=7.0)  # a shared 2-core machine
    assert busy.threads == 1 and "no spare core" in busy.reason
    assert choose_strategy(1e9, threads=1, cores=8, load=0.0).threads == 1
    parallel = choose_strategy(1e9, threads=4, cores=4, load=0.5)
    assert parallel.threads == 4 and parallel.to_dict() == {"threads": 4, "work": 1e9, "reason": parallel.reason,
                                                            "row_blocks": False}


def test_the_load_is_the_threads_runnable_now_not_the_lagging_average(monkeypatch):
    import io

    monkeypatch.setattr(strategy.os, "getloadavg", lambda: (5.0, 4.0, 3.0))
    monkeypatch.setattr(strategy, "open", lambda path: io.StringIO("7.50 3.00 1.00 3/120 999\n"), raising=False)
    assert strategy._load() == 3.0  # three runnable threads now, though the last minute averaged 7.5

    def unreadable(path):
        raise OSError("no /proc here")

    monkeypatch.setattr(strategy, "open", unreadable, raising=False)
    assert strategy._load() == 5.0  # then the 1-minute average


def test_this_processs_own_waiting_worker_pools_are_no_load(monkeypatch, tmp_path):
    import threading

    # three runnable threads: this Python thread, a native pool thread of this process spinning after a
    # parallel region (Numba's OpenMP, OpenBLAS), and one of another program; a sleeping pool thread
    (tmp_path / "loadavg").write_text("2.00 1.00 0.50 3/120 999\n")
    tasks = {threading.get_native_id(): "R", 999999991: "R", 999999992: "S"}
    for task, state in tasks.items():
        (tmp_path / "self" / "task" / str(task)).mkdir(parents=True)
        (tmp_path / "self" / "task" / str(task) / "stat").write_text(f"{task} (python3 (a) b) {state} 1 2 3\n")
    monkeypatch.setattr(strategy, "PROC", str(tmp_path))
    assert strategy._own_pool_threads_running() == 1
    assert strategy._load() == 2.0
    assert choose_strategy(1e9, threads=4, cores=4).threads == 3  # the other program takes one core of four
    (tmp_path / "self" / "task" / "999999992" / "stat").write_text("999999992 (x) R 1\n")  # a Python thread?
    monkeypatch.setattr(threading, "enumerate", lambda: [threading.current_thread(),
                                                         type("T", (), {"native_id": 999999992})()])
    assert strategy._own_pool_threads_running() == 1  # this process's other Python threads count as load


def test_the_thread_count_is_restored():
    before = numba.get_num_threads()
    with strategy.threads_of(choose_strategy(0.0)):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


@pytest.fixture
def forced(monkeypatch):
    """force(True): every call parallel on all threads; force(False): every call serial."""
    def force(parallel: bool):
        monkeypatch.setattr(strategy, "PARALLEL_WORK", 0.0 if parallel else np.inf)
        monkeypatch.setattr(strategy, "_load", lambda: 0.0)
        monkeypatch.setattr(strategy.os, "cpu_count", lambda: numba.config.NUMBA_NUM_THREADS)
    return force


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
def test_serial_and_parallel_runs_give_identical_numbers(forced):
    from gradflow.derivations.associative_memory.simulators import margin_flow_simulator, margin_map_simulator

    lanes = 1000
    p = np.random.default_rng(1).uniform(0.05, 1.0, lanes)
    runs = {}
    for parallel in (False, True):
        forced(parallel)
        gd = margin_map_simulator().iterate(np.zeros((lanes, 1)), {"p": p, "M": 4.0, "eta": 0.7}, 50, [0, 7, 50])
        flow = margin_flow_simulator().integrate(np.zeros((lanes, 1)), {"p": p, "M": 4.0}, [0.0, 1.0, 1e4], "logtime")
        rk4 = margin_flow_simulator().integrate(np.zeros((lanes, 1)), {"p": p, "M": 4.0}, [0.0, 0.5], "rk4", step=0.05)
        assert gd.strategy.serial is not parallel and flow.strategy.serial is not parallel
        runs[parallel] = (gd, flow, rk4)
    for serial, parallel in zip(runs[False], runs[True]):
        np.testing.assert_array_equal(serial.states, parallel.states)
        for name in serial.observables:
            np.testing.assert_array_equal(serial.observables[name], parallel.observables[name])
    # and both are the plain NumPy margin map (the oracle)
    from gradflow.derivations.associative_memory.oracles import margin_map_numpy

    oracle = margin_map_numpy(p, 4.0, 0.7, 50, [0, 7, 50])
    np.testing.assert_allclose(runs[True][0].states[:, :, 0], oracle, rtol=1e-12, atol=1e-14)


# --- BLAS threads of the particle kernels' products ----------------------------------------------

def test_small_products_run_on_one_blas_thread():
    from gradflow.numerics.drivers.strategy import SERIAL_BLAS_WORK, choose_blas_strategy

    for work in (0.0, 64.0 ** 3, np.nextafter(SERIAL_BLAS_WORK, 0)):
        chosen = choose_blas_strategy(work, threads=2)
        assert chosen.serial and "serial: products" in chosen.reason
    large = choose_blas_strategy(SERIAL_BLAS_WORK, threads=2)
    assert large.threads == 2 and "the BLAS's 2 threads" in large.reason
    assert choose_blas_strategy(512.0 ** 3, threads=1).serial
    from gradflow.numerics.blas import blas_threads

    assert choose_blas_strategy(1e12).threads == (blas_threads() or 0)  # the BLAS's own count (0: not OpenBLAS)


def test_products_split_rows_where_it_pays_and_cores_are_spare():
    from gradflow.numerics.drivers.strategy import ROW_SPLIT_WORK, choose_blas_strategy, split_rows

    small = choose_blas_strategy(np.nextafter(ROW_SPLIT_WORK, 0), threads=2)
    assert split_rows(small, 100, threads=2, cores=2, load=1.0) is small  # too small: one thread
    medium = choose_blas_strategy(ROW_SPLIT_WORK, threads=2)  # one BLAS thread, but worth a row split
    assert medium.serial and split_rows(medium, 100, threads=2, cores=2, load=1.0).row_blocks
    large = choose_blas_strategy(1e8, threads=2)
    assert split_rows(large, 100, threads=1, cores=2, load=1.0) is large  # Numba has one thread
    assert split_rows(large, 1, threads=4, cores=4, load=1.0) is large  # one row (a wide state)
    assert split_rows(large, 100, threads=2, cores=2, load=2.6) is large  # another program holds a core
    other_blas = choose_blas_strategy(1e8, threads=None)  # not SciPy's OpenBLAS: its threads cannot be held
    if other_blas.threads == 0:
        assert split_rows(other_blas, 100, threads=2, cores=2, load=1.0) is other_blas
    rows = split_rows(large, 100, threads=4, cores=8, load=1.0)
    assert rows.row_blocks and rows.threads == 4 and "rows split over 4 threads" in rows.reason
    assert rows.to_dict()["row_blocks"] is True
    from gradflow.numerics.drivers.strategy import Strategy

    assert split_rows(Strategy(0, 1e8, "another BLAS"), 100, threads=2, cores=2, load=1.0).threads == 0


def test_particle_runs_report_and_apply_their_blas_threads(monkeypatch):
    """The serial choice sets SciPy's OpenBLAS (the one Numba's products call) to one thread for the run
    and restores it; large products take the BLAS's threads, or, split by rows, Numba's threads with one
    BLAS thread each (run_gd_rows); the numbers are the same every way."""
    import numba

    from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities
    from gradflow.derivations.associative_memory.simulators import logit_particle_simulator
    from gradflow.numerics import blas
    from gradflow.numerics.drivers import particles

    before = blas.blas_threads()
    if before is None or before < 2 or numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs SciPy's OpenBLAS and Numba with two threads or more")
    sim = logit_particle_simulator()
    inst = memory_instance(200, 200, 200, zipf_probabilities(200, 1.0), 0, orthogonal=False, W0="random")
    seen = []

    def spy(name):
        kernel = getattr(sim.module, name)

        def call(*args):
            seen.append((name, blas.blas_threads(), numba.get_num_threads()))
            return kernel(*args)
        return call

    for name in ("run_gd", "run_gd_rows"):
        monkeypatch.setattr(sim.module, name, spy(name))
    monkeypatch.setattr(strategy, "_load", lambda: 1.0)  # a quiet machine: the row split's cores are spare
    runs = {}
    # every product small (serial); every product large, split by the BLAS's threads; split by rows
    for case, limit, rows in (("serial", np.inf, True), ("blas", 0.0, False), ("rows", 0.0, True)):
        monkeypatch.setattr(strategy, "SERIAL_BLAS_WORK", limit)
        monkeypatch.setattr(strategy, "ROW_SPLIT_WORK", limit)
        monkeypatch.setattr(particles, "split_rows", strategy.split_rows if rows else (lambda chosen, _: chosen))
        seen.clear()
        runs[case] = sim.gd(inst.initial_logits, inst.data, inst.labels, 0.5, 3, [0, 3])
        assert runs[case].strategy.serial is (case == "serial") and runs[case].strategy.row_blocks is (case == "rows")
        threads = numba.get_num_threads()
        expected = {"serial": {("run_gd", 1, threads)}, "blas": {("run_gd", before, threads)},
                    "rows": {("run_gd", 1, 2), ("run_gd_rows", 1, 2)}}[case]  # run_gd: step 0's record
        assert set(seen) == expected and seen[-1][0] == ("run_gd_rows" if case == "rows" else "run_gd")
        assert blas.blas_threads() == before and numba.get_num_threads() == threads
    for case in ("blas", "rows"):
        np.testing.assert_allclose(runs[case].final_state, runs["serial"].final_state, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(runs[case].loss, runs["serial"].loss, rtol=1e-13)
