"""Hand-written numba-cuda kernels that generated matrix modules (``matrix_cuda_module``) launch.

The CUDA counterpart of ``support.py``: every kernel computes what the CPU helper of the same name
computes, with the same arithmetic per element where it can (row-wise parts use the same formulas, so
a row of S gives the same doubles).  Row-wise parts run one thread per row of S (a particle); matrix
products run one thread per output element, ``TILE``-wide slabs of the inner dimension staged in
shared memory; element-wise parts one thread per element.  Every kernel has a host launcher (the
plain name) that picks the grid from the output's shape; generated code calls only the launchers.
Arrays are float64 device arrays; column vectors are (n, 1) matrices, as in the MatrixExprs.

Importing this module needs ``numba.cuda`` but no GPU: kernels compile at their first launch.
"""

from __future__ import annotations

import math

from numba import cuda, float64
from numba.core import config

from gradflow.numerics.codegen import support
from gradflow.numerics.codegen.cuda_simulator_shared import serialise_shared_arrays

SIMULATED = bool(config.ENABLE_CUDASIM)
if SIMULATED:
    serialise_shared_arrays()  # the simulator's shared arrays race between its threads otherwise
# Each simulated thread is a Python thread: small blocks keep the simulator fast, and a tile of 4
# makes the tests' small matrices span several tiles (the multi-tile path is what a GPU runs).
TILE = 4 if SIMULATED else 16
THREADS = 32 if SIMULATED else 128  # threads per block of the row-wise and element-wise kernels
REDUCE_THREADS = 32 if SIMULATED else 256  # one block; a power of two for the tree reduction


# --- matrix product ---------------------------------------------------------------------------


@cuda.jit(cache=True)
def _matmul_kernel(A, transpose_a, B, transpose_b, scale, C):
    """C = scale op(A) op(B), op(Z) = Z.T where flagged; thread (i, j) sums its C[i, j] in order of k."""
    a_tile = cuda.shared.array((TILE, TILE), float64)
    b_tile = cuda.shared.array((TILE, TILE), float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    i = cuda.blockIdx.y * TILE + ty
    j = cuda.blockIdx.x * TILE + tx
    inner = A.shape[0] if transpose_a else A.shape[1]
    total = 0.0
    for k0 in range(0, inner, TILE):
        # each thread loads one element of each slab; zeros pad the edges (adding 0.0 changes no sum)
        k = k0 + tx
        a_tile[ty, tx] = 0.0
        if i < C.shape[0] and k < inner:
            a_tile[ty, tx] = A[k, i] if transpose_a else A[i, k]
        k = k0 + ty
        b_tile[ty, tx] = 0.0
        if k < inner and j < C.shape[1]:
            b_tile[ty, tx] = B[j, k] if transpose_b else B[k, j]
        cuda.syncthreads()
        for kk in range(TILE):
            total += a_tile[ty, kk] * b_tile[kk, tx]
        cuda.syncthreads()  # the slab is overwritten next round only after every thread has used it
    if i < C.shape[0] and j < C.shape[1]:
        C[i, j] = scale * total


def _rows(A, transpose):
    return A.shape[1] if transpose else A.shape[0]


def _columns(A, transpose):
    return A.shape[0] if transpose else A.shape[1]


def matmul(A, transpose_a, B, transpose_b, scale, C):
    """C = scale op(A) op(B) (op: transpose where flagged); C must not alias A or B."""
    if _columns(A, transpose_a) != _rows(B, transpose_b) or tuple(C.shape) != (_rows(A, transpose_a),
                                                                              _columns(B, transpose_b)):
        raise ValueError(f"matmul: shapes {A.shape}{'.T' * transpose_a} @ {B.shape}{'.T' * transpose_b} -> {C.shape}")
    blocks = ((C.shape[1] + TILE - 1) // TILE, (C.shape[0] + TILE - 1) // TILE)
    _matmul_kernel[blocks, (TILE, TILE)](A, bool(transpose_a), B, bool(transpose_b), float(scale), C)


# --- launch shapes --------------------------------------------------------------------------


def _per_row(kernel, rows, *args):
    threads = max(1, min(THREADS, rows))
    kernel[(rows + threads - 1) // threads, threads](*args)


def _per_element(kernel, C, *args):
    size = C.shape[0] * C.shape[1]
    threads = max(1, min(THREADS, size))
    kernel[(size + threads - 1) // threads, threads](*args)


# --- element-wise ---------------------------------------------------------------------------


@cuda.jit(cache=True)
def _linear_combination_kernel(a, A, b, B, C):
    n = cuda.grid(1)
    if n < C.shape[0] * C.shape[1]:
        i, j = n // C.shape[1], n % C.shape[1]
        C[i, j] = a * A[i, j] + b * B[i, j]


def linear_combination(a, A, b, B, C):
    """C = a A + b B (C may be A or B: each thread reads its element before writing it)."""
    _per_element(_linear_combination_kernel, C, float(a), A, float(b), B, C)


@cuda.jit(cache=True)
def _scaled_kernel(a, A, C):
    n = cuda.grid(1)
    if n < C.shape[0] * C.shape[1]:
        i, j = n // C.shape[1], n % C.shape[1]
        C[i, j] = a * A[i, j]


def scaled(a, A, C):
    """C = a A."""
    _per_element(_scaled_kernel, C, float(a), A, C)


@cuda.jit(cache=True)
def _hadamard_kernel(A, B, C):
    n = cuda.grid(1)
    if n < C.shape[0] * C.shape[1]:
        i, j = n // C.shape[1], n % C.shape[1]
        C[i, j] = A[i, j] * B[i, j]


def hadamard(A, B, C):
    """C = A * B element-wise."""
    _per_element(_hadamard_kernel, C, A, B, C)


@cuda.jit(cache=True)
def _gd_step_kernel(X, eta, V, step, status):
    n = cuda.grid(1)
    if n < X.shape[0] * X.shape[1]:
        i, j = n // X.shape[1], n % X.shape[1]
        X[i, j] += eta * V[i, j]
        # kernels of one stream run in order, so every thread that sees status < 0 here is in the
        # first failing step and writes the same number
        if not math.isfinite(X[i, j]) and status[0] < 0:
            status[0] = step


def gd_step(X, eta, V, step, status):
    """X += eta V in place (as support._step_in_place); status[0] = step if X became non-finite first here."""
    _per_element(_gd_step_kernel, X, X, float(eta), V, int(step), status)


# --- one thread per row (particle) ----------------------------------------------------------


_row_max = cuda.jit(device=True)(support._row_max.py_func)  # the CPU helper's own code, as a device function


@cuda.jit(device=True)
def _softmax_row_into(S, i, out):
    """out[i] = softmax(S[i]), shifted by the row maximum (support._row_softmax)."""
    top = _row_max(S, i)
    total = 0.0
    for j in range(S.shape[1]):
        out[i, j] = math.exp(S[i, j] - top)
        total += out[i, j]
    for j in range(S.shape[1]):
        out[i, j] /= total


@cuda.jit(cache=True)
def _row_softmax_kernel(S, out):
    i = cuda.grid(1)
    if i < S.shape[0]:
        _softmax_row_into(S, i, out)


def row_softmax(S, out):
    """out = RowSoftmax(S); out must not alias S."""
    _per_row(_row_softmax_kernel, S.shape[0], S, out)


@cuda.jit(cache=True)
def _weighted_softmax_minus_kernel(S, B, w, scale, out):
    i = cuda.grid(1)
    if i < S.shape[0]:
        _softmax_row_into(S, i, out)
        for j in range(S.shape[1]):
            out[i, j] = scale * (w[i, 0] * (out[i, j] - B[i, j]))


def weighted_softmax_minus(S, B, w, scale, out):
    """out = scale diag(w) (RowSoftmax(S) - B), w a column: the cross-entropy gradient, fused."""
    _per_row(_weighted_softmax_minus_kernel, S.shape[0], S, B, w, float(scale), out)


@cuda.jit(cache=True)
def _row_logsumexp_kernel(S, out):
    i = cuda.grid(1)
    if i < S.shape[0]:
        top = _row_max(S, i)
        total = 0.0
        for j in range(S.shape[1]):
            total += math.exp(S[i, j] - top)
        out[i, 0] = top + math.log(total)


def row_logsumexp(S, out):
    """out (n, 1) = RowLogSumExp(S)."""
    _per_row(_row_logsumexp_kernel, S.shape[0], S, out)


@cuda.jit(cache=True)
def _row_sums_kernel(A, scale, out):
    i = cuda.grid(1)
    if i < A.shape[0]:
        total = 0.0
        for j in range(A.shape[1]):
            total += A[i, j]
        out[i, 0] = scale * total


def row_sums(A, scale, out):
    """out (n, 1) = scale A 1 (the printer's A @ OneMatrix(m, 1))."""
    _per_row(_row_sums_kernel, A.shape[0], A, float(scale), out)


@cuda.jit(cache=True)
def _margins_kernel(S, labels, r, margins, wrong):
    i = cuda.grid(1)
    if i < S.shape[0]:
        c = labels[i]
        best = -math.inf
        arg = 0
        for j in range(S.shape[1]):
            if j != c and S[i, j] > best:
                best = S[i, j]
            if S[i, j] > S[i, arg]:
                arg = j
        margins[r, i] = S[i, c] - best
        wrong[i, 0] = 1.0 if arg != c else 0.0


def margins_and_errors(S, labels, r, margins, wrong):
    """margins[r, i] = S[i, f*(i)] - max_{y != f*(i)} S[i, y]; wrong[i] = 1 where argmax S[i] (ties to the
    first) is not f*(i) (support._margins and support._zero_one)."""
    _per_row(_margins_kernel, S.shape[0], S, labels, int(r), margins, wrong)


# --- one block: a reduction -----------------------------------------------------------------


@cuda.jit(cache=True)
def _frobenius_norm_kernel(X, out):
    partial = cuda.shared.array(REDUCE_THREADS, float64)
    t = cuda.threadIdx.x
    total = 0.0
    for n in range(t, X.shape[0] * X.shape[1], REDUCE_THREADS):
        v = X[n // X.shape[1], n % X.shape[1]]
        total += v * v
    partial[t] = total
    cuda.syncthreads()
    half = REDUCE_THREADS // 2
    while half > 0:  # tree: thread t adds its partner t + half
        if t < half:
            partial[t] += partial[t + half]
        cuda.syncthreads()
        half //= 2
    if t == 0:
        out[0, 0] = math.sqrt(partial[0])


def frobenius_norm(X, out):
    """out[0, 0] = sqrt(sum X**2), out a (1, 1) array (or view); one block of REDUCE_THREADS threads."""
    _frobenius_norm_kernel[1, REDUCE_THREADS](X, out)
