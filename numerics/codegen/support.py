"""Hand-written Numba helpers that generated modules import (stable row-wise functions)."""

from __future__ import annotations

import math

import llvmlite.ir
import numba
import numba.extending
import numpy as np

# libm's exp is a scalar call that LLVM cannot vectorise (and costs most of a two-particle GD step or
# a softmax row); this one is plain arithmetic that it vectorises.  Cody-Waite reduction
# t = k ln2 + r, |r| <= ln2/2, e^r by its Taylor series to r^13 (truncation < 5e-18), 2^k from the
# exponent bits in two halves (subnormal results round once).  Within 1 ulp of the exact value
# (measured: < 0.93 ulp on 3e5 samples over the whole range, subnormal results included;
# tests/numerics/test_lane_conditions.py); inf -> inf, -inf -> 0, nan -> nan.  The generated lane
# kernels import it.


@numba.extending.intrinsic
def _double_from_bits(typingctx, bits):
    """The float64 whose IEEE bits are the int64 ``bits``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvmlite.ir.DoubleType())
    return numba.types.float64(numba.types.int64), codegen


@numba.njit(cache=True, inline="always")
def _exp(t):
    """e^t within 1 ulp, vectorisable (see the comment above)."""
    s = 0.0 if t != t else (-746.0 if t < -746.0 else (710.0 if t > 710.0 else t))
    k = math.floor(s * 1.4426950408889634 + 0.5)
    r = (s - k * 0.6931471803691238) - k * 1.9082149292705877e-10
    c = r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0 + r * (
        1.0 / 40320.0 + r * (1.0 / 362880.0 + r * (1.0 / 3628800.0 + r * (1.0 / 39916800.0 + r * (
            1.0 / 479001600.0 + r * (1.0 / 6227020800.0)))))))))))
    p = 1.0 + (r + r * r * (0.5 + c))
    n = np.int64(k)
    h = n >> 1
    y = p * _double_from_bits((h + 1023) << 52) * _double_from_bits((n - h + 1023) << 52)
    return y if t == t else t


@numba.extending.intrinsic
def _bits_from_double(typingctx, value):
    """The int64 holding the IEEE bits of the float64 ``value``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvmlite.ir.IntType(64))
    return numba.types.int64(numba.types.float64), codegen


# libm's log1p is a scalar call too (about 9 ns, three times exp); softplus and its relatives take one
# per neuron and sample.  Written the way fdlibm does, in plain arithmetic: u = 1 + y = 2^k m with
# m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f), log m = 2 atanh s
# = f - (f^2/2 - s (f^2/2 + R)) with R = sum_j 2 s^(2j) / (2j + 1) (Taylor to s^22: s^2 <= 0.0295,
# truncation < 1e-18), and the rounding of 1 + y restored by c = (y - (u - 1)) / u.  Measured within
# 1 ulp (tests/numerics/test_vector_math.py); -1 -> -inf, below -1 -> nan, inf -> inf, nan -> nan.


@numba.njit(cache=True, inline="always", error_model="numpy")
def _log1p(y):
    """log(1 + y) within 1 ulp, vectorisable (see the comment above)."""
    u = 1.0 + y
    ok = u > 0.0 and u < math.inf
    v = u if ok else 1.0
    bits = _bits_from_double(v)
    k = ((bits >> 52) & 0x7FF) - 1023
    m = _double_from_bits((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    if m > 1.4142135623730951:
        m = 0.5 * m
        k = k + 1
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    R = z * (2.0 / 3.0 + z * (2.0 / 5.0 + z * (2.0 / 7.0 + z * (2.0 / 9.0 + z * (2.0 / 11.0 + z * (
        2.0 / 13.0 + z * (2.0 / 15.0 + z * (2.0 / 17.0 + z * (2.0 / 19.0 + z * (2.0 / 21.0 + z * (
            2.0 / 23.0)))))))))))
    hfsq = 0.5 * f * f
    c = (y - (v - 1.0)) / v if k < 54 else 0.0
    kf = float(k)
    out = kf * 0.6931471803691238 - ((hfsq - (s * (hfsq + R) + (kf * 1.9082149292705877e-10 + c))) - f)
    if ok:
        return out if y != 0.0 else y  # keeps the sign of -0.0
    if u == 0.0:
        return -math.inf
    return u if u == math.inf else math.nan


# log(1 + u) for u in [0, 1] (softplus's log(1 + e^{-|x|})): 1 + u = 2^k (1 + f) with f exact, so no
# bit fields and no rounding correction: k = 0, f = u for u <= 1/2; k = 1, f = (u - 1) / 2 above
# (u - 1 exact by Sterbenz's lemma for u >= 1/2).  Then s = f / (2 + f), |s| <= 1/5 (s^2 <= 0.04,
# the series to s^26: truncation < 1e-19), and log(1 + f) as in _log1p.  Measured within 1 ulp
# (tests/numerics/test_vector_math.py); about 1.2x _log1p's speed in softplus.


@numba.njit(cache=True, inline="always", error_model="numpy")
def _log1p_unit(u):
    """log(1 + u) within 1 ulp for 0 <= u <= 1 only, vectorisable (see the comment above)."""
    big = u > 0.5
    f = 0.5 * (u - 1.0) if big else u
    kf = 1.0 if big else 0.0
    s = f / (2.0 + f)
    z = s * s
    R = z * (2.0 / 3.0 + z * (2.0 / 5.0 + z * (2.0 / 7.0 + z * (2.0 / 9.0 + z * (2.0 / 11.0 + z * (
        2.0 / 13.0 + z * (2.0 / 15.0 + z * (2.0 / 17.0 + z * (2.0 / 19.0 + z * (2.0 / 21.0 + z * (
            2.0 / 23.0 + z * (2.0 / 25.0 + z * (2.0 / 27.0)))))))))))))
    hfsq = 0.5 * f * f
    return kf * 0.6931471803691238 - ((hfsq - (s * (hfsq + R) + kf * 1.9082149292705877e-10)) - f)


# A running maximum or sum along a row is one chain of dependent operations (an add's latency, about four
# cycles, per element); eight independent ones fill a vector register instead.  The wide sum adds in
# another order than a sequential one (the difference is rounding).  The softmax helpers allow LLVM to
# contract _exp's polynomial into fused multiply-adds (half its instructions, no less accurate); nothing
# else in them has a multiply feeding an add.  1024 x 1024 logits: the cross-entropy
# gradient diag(w) (softmax - B) 2.3 -> 1.3 ms (the softmax alone: 1.0 ms); 128 x 128: 31 -> 16 us.


@numba.njit(cache=True, inline="always")
def _row_max_wide(S, i):
    """max_j S[i, j] (NaNs skipped, as by _row_max), by eight running maxima."""
    m = S.shape[1]
    t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = S[i, 0]
    j = 0
    while j + 8 <= m:
        t0 = S[i, j] if S[i, j] > t0 else t0
        t1 = S[i, j + 1] if S[i, j + 1] > t1 else t1
        t2 = S[i, j + 2] if S[i, j + 2] > t2 else t2
        t3 = S[i, j + 3] if S[i, j + 3] > t3 else t3
        t4 = S[i, j + 4] if S[i, j + 4] > t4 else t4
        t5 = S[i, j + 5] if S[i, j + 5] > t5 else t5
        t6 = S[i, j + 6] if S[i, j + 6] > t6 else t6
        t7 = S[i, j + 7] if S[i, j + 7] > t7 else t7
        j += 8
    for k in range(j, m):
        t0 = S[i, k] if S[i, k] > t0 else t0
    t0 = t1 if t1 > t0 else t0
    t2 = t3 if t3 > t2 else t2
    t4 = t5 if t5 > t4 else t4
    t6 = t7 if t7 > t6 else t6
    t0 = t2 if t2 > t0 else t0
    t4 = t6 if t6 > t4 else t4
    return t4 if t4 > t0 else t0


@numba.njit(cache=True, inline="always")
def _row_total_wide(A, i):
    """sum_j A[i, j] by eight running sums."""
    m = A.shape[1]
    t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = 0.0
    j = 0
    while j + 8 <= m:
        t0 += A[i, j]
        t1 += A[i, j + 1]
        t2 += A[i, j + 2]
        t3 += A[i, j + 3]
        t4 += A[i, j + 4]
        t5 += A[i, j + 5]
        t6 += A[i, j + 6]
        t7 += A[i, j + 7]
        j += 8
    for k in range(j, m):
        t0 += A[i, k]
    return ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7))


@numba.njit(cache=True, inline="always")
def _shifted_row_exps(S, i, out):
    """out[i, j] = e^(S[i, j] - max_j S[i, j]); returns their sum (>= 1 unless the row holds a NaN)."""
    top = _row_max_wide(S, i)
    for j in range(S.shape[1]):  # apart from the sum, so that LLVM vectorises it
        out[i, j] = _exp(S[i, j] - top)
    return _row_total_wide(out, i)


@numba.njit(cache=True, fastmath={"contract"})
def _row_softmax(S):
    out = np.empty_like(S)
    for i in range(S.shape[0]):
        total = _shifted_row_exps(S, i, out)
        for j in range(S.shape[1]):
            out[i, j] /= total
    return out


@numba.njit(cache=True, inline="always")
def _weighted_softmax_minus_row(S, B, w, out, i):
    total = _shifted_row_exps(S, i, out)
    weight = w[i, 0]
    for j in range(S.shape[1]):
        out[i, j] = weight * (out[i, j] / total - B[i, j])


@numba.njit(cache=True, fastmath={"contract"})
def _weighted_softmax_minus(S, B, w):
    """diag(w) (softmax_row(S) - B) with no temporary matrices: the cross-entropy gradient
    P (Pi - Y), which the printer emits for that pattern."""
    out = np.empty_like(S)
    for i in range(S.shape[0]):
        _weighted_softmax_minus_row(S, B, w, out, i)
    return out


@numba.njit(cache=True, fastmath={"contract"})
def _weighted_softmax_minus_rows(S, B, w, out, first, last):
    """Rows first:last of _weighted_softmax_minus(S, B, w), written into ``out``: one thread's share."""
    for i in range(first, last):
        _weighted_softmax_minus_row(S, B, w, out, i)


@numba.njit(cache=True)
def _row_max(S, i):
    top = S[i, 0]
    for j in range(1, S.shape[1]):
        if S[i, j] > top:
            top = S[i, j]
    return top


@numba.njit(cache=True)
def _row_logsumexp(S):
    out = np.empty((S.shape[0], 1))
    for i in range(S.shape[0]):
        top = _row_max(S, i)
        total = 0.0
        for j in range(S.shape[1]):
            total += math.exp(S[i, j] - top)
        out[i, 0] = top + math.log(total)
    return out


@numba.njit(cache=True)
def _row_sums(A):
    """A @ ones((n, 1)) as a column, by loops: Numba's A.sum(axis=1) takes seconds to compile (axis checks
    with formatted error messages)."""
    out = np.zeros((A.shape[0], 1))
    for i in range(A.shape[0]):
        total = 0.0
        for j in range(A.shape[1]):
            total += A[i, j]
        out[i, 0] = total
    return out


@numba.njit(cache=True)
def _weighted_cross_entropy(S, B, w):
    """w^T (logsumexp_row(S) - (B o S) 1) as a 1 x 1 matrix, in one pass with no temporaries: the
    softmax cross-entropy loss, which the printer emits for that pattern."""
    total = 0.0
    for i in range(S.shape[0]):
        top = _row_max(S, i)
        exps = 0.0
        dot = 0.0
        for j in range(S.shape[1]):
            exps += math.exp(S[i, j] - top)
            dot += B[i, j] * S[i, j]
        total += w[i, 0] * (top + math.log(exps) - dot)
    out = np.empty((1, 1))
    out[0, 0] = total
    return out


@numba.njit(cache=True)
def _frobenius_norm(X):
    """sqrt(sum X_ij^2) without the temporary X * X."""
    total = 0.0
    for v in X.ravel():
        total += v * v
    return math.sqrt(total)


@numba.njit(cache=True)
def _row_softmax_jvp(S, dS):
    pi = _row_softmax(S)
    out = np.empty_like(S)
    for i in range(S.shape[0]):
        mean = 0.0
        for j in range(S.shape[1]):
            mean += pi[i, j] * dS[i, j]
        for j in range(S.shape[1]):
            out[i, j] = pi[i, j] * (dS[i, j] - mean)
    return out


@numba.njit(cache=True)
def _margins(S, labels):
    """m(x) = S[x, f*(x)] - max_{y != f*(x)} S[x, y]."""
    out = np.empty(S.shape[0])
    for i in range(S.shape[0]):
        c = labels[i]
        best = -np.inf
        for j in range(S.shape[1]):
            if j != c and S[i, j] > best:
                best = S[i, j]
        out[i] = S[i, c] - best
    return out


@numba.njit(cache=True)
def _zero_one(S, labels, weights):
    """sum_x p(x) 1{argmax S[x] != f*(x)}, ties to the first maximal index."""
    err = 0.0
    for i in range(S.shape[0]):
        arg = 0
        for j in range(1, S.shape[1]):
            if S[i, j] > S[i, arg]:
                arg = j
        if arg != labels[i]:
            err += weights[i, 0]
    return err


@numba.njit(cache=True)
def _step_in_place(X, eta, V):
    """X += eta V, fused with the finiteness check (one pass, no temporaries); False on NaN/Inf.

    Not parallel on purpose: a cached caller of a parallel=True function segfaults when its
    cache is loaded in a new process (Numba), and these helpers are called from cached code."""
    flat_x, flat_v = X.reshape(-1), V.reshape(-1)
    finite = True
    for i in range(flat_x.size):
        flat_x[i] += eta * flat_v[i]
        if not math.isfinite(flat_x[i]):
            finite = False
    return finite


@numba.njit(cache=True)
def _all_finite(A):
    for v in A.ravel():
        if not math.isfinite(v):
            return False
    return True


@numba.njit(cache=True)
def _sample_batch_weights(cumulative, batch):
    """Empirical weights count_x / B of B inputs drawn i.i.d. from p (inverse CDF)."""
    counts = np.zeros((cumulative.shape[0], 1))
    for _ in range(batch):
        k = np.searchsorted(cumulative, np.random.random(), side="right")
        if k >= cumulative.shape[0]:
            k = cumulative.shape[0] - 1
        counts[k, 0] += 1.0
    return counts / batch


@numba.njit(cache=True)
def _seed(seed):
    np.random.seed(seed)


# A Numba function that calls another compiles the callee's code into its own, again for every caller: the MLP
# kernels' activate (every activation, both orders: about 4 s to compile) cost that much in each of the seven
# kernels that reach it.  Called by address instead, it is compiled once; the address is an argument (never a
# constant in the caller's code), so the callers stay cacheable across processes.


def native_address(dispatcher, signature) -> int:
    """The address of ``dispatcher``'s compiled code for ``signature`` (compiled, or loaded from Numba's cache,
    on first use), in Numba's own calling convention: what ``address_caller(signature)`` calls."""
    dispatcher.compile(signature.args)
    compiled = dispatcher.overloads[signature.args]
    # the caller reads the result as signature.return_type: another layout would be read as garbage
    if compiled.signature.return_type != signature.return_type:
        raise TypeError(f"native_address: {dispatcher.py_func.__name__} returns {compiled.signature.return_type}, "
                        f"not {signature.return_type}")
    return compiled.library.get_pointer_to_function(compiled.fndesc.mangled_name)


def address_caller(signature):
    """An intrinsic ``call(address, *args)`` calling the function at ``address`` (from ``native_address`` with
    the same signature).  The arguments must have exactly the signature's types (a mismatch is a typing error,
    never a call with the wrong layout); the callee's exceptions propagate as from a direct call."""
    from numba.core import cgutils
    from numba.core.errors import TypingError

    @numba.extending.intrinsic
    def call(typingctx, address, args):
        if address != numba.types.int64 or tuple(args) != tuple(signature.args):
            raise TypingError(f"address_caller: arguments {tuple(args)} where {tuple(signature.args)} are needed")

        def codegen(context, builder, call_signature, values):
            arguments = cgutils.unpack_tuple(builder, values[1])
            function = context.call_conv.get_function_type(signature.return_type, signature.args)
            pointer = builder.inttoptr(values[0], function.as_pointer())
            status, result = context.call_conv.call_function(builder, pointer, signature.return_type,
                                                             signature.args, arguments)
            with cgutils.if_unlikely(builder, status.is_error):
                context.call_conv.return_status_propagate(builder, status)
            return result

        return signature.return_type(address, args), codegen

    return call
