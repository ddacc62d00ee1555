"""one_blas_thread: one OpenBLAS thread inside, the previous count after, also when nested."""

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
