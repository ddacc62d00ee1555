"""one_blas_thread: one OpenBLAS thread inside, the previous count after, also when nested; kernel_core."""

import os

import pytest

from gradflow.numerics.blas import blas_threads, one_blas_thread


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
