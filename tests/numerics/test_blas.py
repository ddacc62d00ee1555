"""one_blas_thread: one OpenBLAS thread inside, the previous count after, also when nested; kernel_core."""

import os

import pytest

import numpy as np

from gradflow.numerics.blas import HOLD_LIMIT, blas_threads, one_blas_thread, one_blas_thread_for


def test_one_thread_inside_and_restored_after():
    before = blas_threads()
    if before is None:
        pytest.skip("not SciPy's bundled OpenBLAS")
    with one_blas_thread():
        assert blas_threads() == 1
        with one_blas_thread():
            assert blas_threads() == 1
        assert blas_threads() == 1
    assert blas_threads() == before


def test_restored_when_the_body_raises():
    before = blas_threads()
    with pytest.raises(RuntimeError), one_blas_thread():
        raise RuntimeError("inside")
    assert blas_threads() == before


def _both():
    return blas_threads("scipy"), blas_threads("numpy")


def test_a_held_run_sets_both_libraries_to_one_thread_and_restores_them():
    before = _both()
    if None in before or 1 in before:
        pytest.skip("SciPy's and NumPy's bundled OpenBLAS, with more than one thread, are needed to tell")
    with one_blas_thread_for(HOLD_LIMIT):
        assert _both() == (1, 1)
        with one_blas_thread():  # a kernel call inside changes nothing
            assert _both() == (1, 1)
        assert _both() == (1, 1)
    assert _both() == before
    with one_blas_thread_for(HOLD_LIMIT + 1):  # large linear algebra keeps its threads
        assert _both() == before


def test_training_holds_one_thread_while_it_evaluates():
    from gradflow.numerics.mlp import MLPObjective
    from gradflow.numerics.mlp.training import train
    from gradflow.theory.mlp import Layer, Network

    before = _both()
    if None in before or 1 in before:
        pytest.skip("SciPy's and NumPy's bundled OpenBLAS, with more than one thread, are needed to tell")
    rng = np.random.default_rng(0)
    net = Network(2, (Layer(3, "softplus"), Layer(1)))
    objective = MLPObjective.create(net, rng.normal(size=(40, 2)), rng.normal(size=40))
    seen = set()

    class Watched:
        n_params, n_samples = objective.n_params, objective.n_samples

        def __getattr__(self, name):
            method = getattr(objective, name)

            def call(*args):
                seen.add(_both())
                return method(*args)
            return call

        @property
        def data_term(self):
            return self

    train(Watched(), rng.normal(size=net.n_params) * 0.3, maxiterations_ode=5, maxiterations_optim=2, spectrum=False)
    assert seen == {(1, 1)}
    assert _both() == before


def test_blas_threads_names_the_package_it_accepts():
    with pytest.raises(ValueError, match="package"):
        blas_threads("torch")


def test_kernel_core_names_the_kernels_openblas_chose():
    """``OPENBLAS_CORETYPE`` forces OpenBLAS's kernels when it loads; kernel_core reads back the choice
    of SciPy's copy (the one Numba's products call) and of NumPy's."""
    import platform
    import subprocess
    import sys

    if blas_threads() is None or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("SciPy's BLAS is not its bundled OpenBLAS, or the CPU has no x86 kernels to force")
    probe = ("from gradflow.numerics.blas import kernel_core, blas_threads; import numpy; "
             "assert kernel_core() is None; blas_threads(); print(kernel_core(), kernel_core('numpy'))")
    for core in ("Haswell", "Sandybridge"):
        env = dict(os.environ, OPENBLAS_CORETYPE=core)
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.split() == [core, core]
