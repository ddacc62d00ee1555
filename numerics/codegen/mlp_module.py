"""Generate the Numba kernels of multilayer perceptrons: loss, gradient, Hessian, Hessian-vector.

One module serves every network.  Its activation function ``activate(code, prm, x)`` returns
(sigma, sigma', sigma'') and is printed from the SymPy expressions of every activation in
``gradflow.theory.mlp.activations`` (their numeric forms, which stay finite); a neuron's activation
is a runtime code, so per-neuron activations cost nothing extra and any depth, width or mix of
activations runs without compiling again.  The kernels call ``activate``, the forward pass, the output
layer and the backward pass at their addresses (``parts``, from ``part_addresses()``): Numba links a direct
callee's code into its caller and optimises it again there, so each of these would be compiled again into
every kernel that reaches it.  The layer recursions are the textbook ones, one layer at a time, over
chunks of samples with BLAS products (``np.dot``):

  forward   z_l = A~_{l-1} W_l^T,  a_l = sigma(z_l)           (A~: activations with a ones column)
  backward  delta_L = dloss/dz_L,  g_l = delta_{l+1} Wbar_{l+1},  delta_l = g_l * sigma'(z_l)
            grad W_l = delta_l^T A~_{l-1}
  Hessian   sum over units of (curvature) J^T J  +  the cross terms of the bilinear z_l = W_l a_{l-1}:
            c_L = d2 loss / dz_L^2 (diagonal for mse; diag(p) - p p^T for nll), c_l = g_l * sigma''(z_l),
            J_l = dz_l / dtheta propagated forward (J_l = Wbar_l (sigma'_{l-1} * J_{l-1}) plus W_l's own
            block, which is A~_{l-1} on neuron u's row and never stored), and
            d2 z_l[p] / dW_l[p, q] dtheta' = sigma'_{l-1}[q] J_{l-1}[q, theta'] weighted by delta_l[p].
  H v       forward and backward directional derivatives (the R-operator), no Hessian formed.

Sample weights and 1/N are folded into delta_L and c_L, so every sum over samples is a product.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.codegen.cfunctions import expm1
from sympy.codegen.rewriting import expm1_opt, optimize
from sympy.logic.boolalg import Boolean

from gradflow.theory.mlp.activations import ACTIVATION_NAMES, SLOPE, MLPActivation, z

from gradflow.numerics.codegen.cache import cached_module, canonical_srepr
from gradflow.numerics.codegen.printer import _log1p_of_sums, condition_code, lane_code

DEFINES = ("activate", "part_addresses", "chunk_addresses", "loss_chunk", "gradient_chunk", "hessian_chunk",
           "symmetrize", "hvp_chunk", "loss_ensemble", "gradient_ensemble", "gradient_shares")

_SAMPLE = {"leaky_relu": (0.01,), "poly": (0.0,)}


def _forms(name: str) -> tuple:
    act = MLPActivation(name, _SAMPLE.get(name, ()))
    return tuple(act.numeric_form(order) for order in range(3))


# exp and log1p are the vectorisable ones of support (libm's are scalar calls LLVM cannot vectorise)
_FUNCTIONS = {"exp": "_exp", "log1p": "_log1p"}
_OUTPUTS = ("s", "d1", "d2")


def _element_loop(body: list, indent: str) -> str:
    """A loop over the elements of the flat z, ``body`` computing from x = z[i]."""
    inner = indent + "    "
    return f"{indent}for i in range(z.shape[0]):\n{inner}x = z[i]\n" + "".join(f"{inner}{line}\n" for line in body)


def _element_loops(passes: list, indent: str) -> str:
    return "".join(_element_loop(body, indent) for body in passes)


def _poly_body(order: int) -> list:
    # c0 + c1 x + ...: Horner on the neuron's coefficients (any degree)
    body = ["h0 = 0.0", "h1 = 0.0", "h2 = 0.0", "for j in range(prm.shape[0] - 1, -1, -1):",
            "    h2 = h2 * x + 2.0 * h1", "    h1 = h1 * x + h0", "    h0 = h0 * x + prm[j]"]
    return body + [f"{out}[i] = {value}" for out, value in zip(_OUTPUTS[:order + 1], ("h0", "h1", "h2"))]


def _kernel_form(expr):
    """log(1 + ...) -> log1p(...); e^x - 1 -> expm1(x) only where there is one: SymPy's expm1 pass also
    turns the stable e^{-|x|} / (1 + e^{-|x|}) into 1 / (e^{|x|} + 1), a second exponential per element."""
    logs = _log1p_of_sums(expr)
    optimized = optimize(logs, [expm1_opt])
    return optimized if optimized.has(expm1) else logs


def _exponentials_first(forms: list, order: int) -> tuple:
    """The forms with each e^{f(x)} replaced by a symbol e<j>, and a first pass that stores those
    exponentials in the output arrays (e<j> in ``_OUTPUTS[j]``), which the main pass reads before it
    writes them.  One loop with both _exp and _log1p inlined keeps more constants and temporaries
    than the vector registers hold and ran 1.6x slower than the two passes (softplus, AVX-512)."""
    found = []
    for form in forms:
        for power in sorted(form.atoms(sp.exp), key=sp.default_sort_key):
            if power not in found and power.free_symbols <= {z}:
                found.append(power)
    if not found or len(found) > order + 1:
        return forms, [], {}
    symbols = {power: sp.Symbol(f"e{j}") for j, power in enumerate(found)}
    return [form.xreplace(symbols) for form in forms], found, symbols


def _activation_body(name: str, order: int) -> list:
    """The passes of one activation and order: a list of loop bodies, each computing from x = z[i]."""
    if name == "poly":
        return [_poly_body(order)]
    names = {z: "x", SLOPE: "prm[0]"}
    temps = sp.numbered_symbols("t")
    # log(1 + e^{-|x|}) -> log1p(...) before the common subexpressions hide the 1 + ...
    forms, powers, symbols = _exponentials_first([_kernel_form(form) for form in _forms(name)[:order + 1]], order)
    first = [f"{_OUTPUTS[j]}[i] = {lane_code(power, names, _FUNCTIONS)}" for j, power in enumerate(powers)]
    lines = [f"{symbols[power]} = {_OUTPUTS[j]}[i]" for j, power in enumerate(powers)]
    names.update({symbol: str(symbol) for symbol in symbols.values()})
    shared, outputs = sp.cse(forms, symbols=temps)
    for symbol, expr in shared:
        printed = (condition_code(expr, names, _FUNCTIONS) if isinstance(expr, Boolean)
                   else lane_code(expr, names, _FUNCTIONS))
        lines.append(f"{symbol} = {printed}")
        names[symbol] = str(symbol)
    lines += [f"{out}[i] = float({lane_code(expr, names, _FUNCTIONS)})" for out, expr in zip(_OUTPUTS, outputs)]
    for power, symbol in symbols.items():  # e^{-|...|} lies in [0, 1]: the cheaper log1p of that range
        if power.args[0].is_nonpositive:
            lines = [line.replace(f"_log1p({symbol})", f"_log1p_unit({symbol})") for line in lines]
    return [first, lines] if first else [lines]


def _activation_branch(code: int, name: str) -> str:
    """Both orders of one activation: (sigma, sigma') for loss and gradient, and sigma'' as well."""
    return (f"    if code == {code}:  # {name}\n        if order == 2:\n"
            + _element_loops(_activation_body(name, 2), "            ")
            + "        else:\n" + _element_loops(_activation_body(name, 1), "            ")
            + "        return\n")


# The activation loops run with multiply-adds contracted into fused ones (exp's and log1p's polynomials: about
# half their instructions, no less accurate): softplus and its slope 1.9 -> 1.2 ns per element (AVX-512), the
# gradient of a width-50 softplus layer 1.36x faster.  Nothing else in the module is contracted.


def render() -> str:
    branches = "".join(_activation_branch(code, name) for code, name in enumerate(ACTIVATION_NAMES))
    return _HEADER + f'''

@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={{"contract"}})
def activate(code, prm, z, order, s, d1, d2):
    """s = sigma(z), d1 = sigma'(z) and, for order 2, d2 = sigma''(z), all flat arrays, for activation
    ``code`` with numbers prm.  One flat loop per activation and order, with no call to libm's exp or
    log1p in it, so that LLVM vectorises it.  Codes: {", ".join(f"{i} {n}" for i, n in enumerate(ACTIVATION_NAMES))}."""
{branches}    raise ValueError("unknown activation code")


def part_addresses():
    """The kernels' ``parts``: where the compiled code of activate, _forward, _output and _backward is (at
    their signatures below).  Every kernel calls them there, so each is compiled once, not again into each
    kernel that reaches it."""
    return np.array([native_address(activate, ACTIVATE_SIGNATURE), native_address(_forward, FORWARD_SIGNATURE),
                     native_address(_output, OUTPUT_SIGNATURE), native_address(_backward, BACKWARD_SIGNATURE)],
                    dtype=np.int64)


def chunk_addresses():
    """(loss_chunk's, gradient_chunk's) addresses: the parallel kernels' ``chunks`` (their members' and shares'
    calls go there, and the chunk kernels are not compiled again into each of them)."""
    return np.array([native_address(loss_chunk, LOSS_CHUNK_SIGNATURE),
                     native_address(gradient_chunk, GRADIENT_CHUNK_SIGNATURE)], dtype=np.int64)
''' + _TEMPLATE


def module_key() -> str:
    return canonical_srepr(tuple((name, _forms(name)) for name in ACTIVATION_NAMES))


@lru_cache(maxsize=None)
def mlp_module():
    """(module, path, hit) of the MLP kernels; memoised per process."""
    return cached_module(module_key(), render, DEFINES)


_HEADER = '''"""Multilayer-perceptron kernels generated by gradflow (gradflow.numerics.codegen.mlp_module).

Network layout, passed to every kernel:
  widths (L+1,) int64    D0, k_1, ..., k_L
  biases (L,) int64      1 if layer l has biases (last column of W_l)
  offsets (L+1,) int64   where W_l starts in theta; offsets[L] = P
  codes (sum k_l,) int64 every neuron's activation code, layer after layer
  prms (sum k_l, m)      every neuron's numbers (leaky_relu slope, poly coefficients; zero-padded)
  parts (4,) int64       part_addresses(): where the compiled code of activate, the forward pass, the output
                         layer and the backward pass is (the kernels call them there, so that each is compiled
                         once and not again into every kernel)
  loss_kind              0: mean squared error (scaled by out_scale), 1: softmax negative log-likelihood
Samples: X (N, D0), T (N, k_L) targets or probability rows, w (N,) sample weights already divided by N.
"""

import math

import numba
import numpy as np

from gradflow.numerics.codegen.support import _bits_from_double, _double_from_bits, _exp, _log1p, _log1p_unit  # vectorisable
from gradflow.numerics.codegen.support import address_caller, native_address

_ARRAY = numba.types.float64[::1]
ACTIVATE_SIGNATURE = numba.types.none(numba.types.int64, _ARRAY, _ARRAY, numba.types.int64, _ARRAY, _ARRAY, _ARRAY)
_call_activate = address_caller(ACTIVATE_SIGNATURE)
_INT, _MATRIX, _INTS = numba.types.int64, numba.types.float64[:, ::1], numba.types.int64[::1]
_CHUNK = (_ARRAY, _MATRIX, _MATRIX, _ARRAY, _INT, _INT, _INTS, _INTS, _INTS, _INTS, _MATRIX, _INTS, _INT,
          numba.types.float64)  # theta, X, T, w, start, stop, the layout (parts included), loss_kind, out_scale
LOSS_CHUNK_SIGNATURE = numba.types.float64(*_CHUNK)
GRADIENT_CHUNK_SIGNATURE = numba.types.float64(*_CHUNK, _ARRAY)
_call_loss_chunk = address_caller(LOSS_CHUNK_SIGNATURE)
_call_gradient_chunk = address_caller(GRADIENT_CHUNK_SIGNATURE)
_LIST, _FLOAT, _BOOL = numba.types.ListType(_MATRIX), numba.types.float64, numba.types.boolean
FORWARD_SIGNATURE = numba.types.Tuple((_LIST, _LIST, _LIST, _LIST, _MATRIX))(
    _ARRAY, _MATRIX, _INT, _INT, _INTS, _INTS, _INTS, _INTS, _MATRIX, _INTS, _INT)
OUTPUT_SIGNATURE = numba.types.Tuple((_FLOAT, _MATRIX, _MATRIX, _INTS))(
    _MATRIX, _MATRIX, _MATRIX, _MATRIX, _MATRIX, _ARRAY, _INT, _INT, _FLOAT, _BOOL)
BACKWARD_SIGNATURE = numba.types.Tuple((_LIST, _LIST))(
    _ARRAY, _INTS, _INTS, _INTS, _LIST, _LIST, _LIST, _MATRIX, _ARRAY, _BOOL)
_call_forward = address_caller(FORWARD_SIGNATURE)
_call_output = address_caller(OUTPUT_SIGNATURE)
_call_backward = address_caller(BACKWARD_SIGNATURE)
'''

_TEMPLATE = '''
# Constant arguments of internal calls are written np.int64(1), np.bool_(False): Numba compiles a callee once
# more for every literal constant it is called with (the forward pass twice, the activation runs four times).

@numba.njit(cache=True, nogil=True)
def _weights(theta, widths, biases, offsets, layer):
    rows = widths[layer + 1]
    cols = widths[layer] + biases[layer]
    return theta[offsets[layer]:offsets[layer + 1]].reshape(rows, cols)


@numba.njit(cache=True, nogil=True)
def _activate_run(code, prm, Z, u0, u1, order, A, D1, D2, act):
    """A[:, u0:u1], D1[:, u0:u1], D2[:, u0:u1] (order 2) of activation ``code`` on Z[:, u0:u1]; through
    contiguous copies unless the run is the whole of Z (flat loops vectorise, short strided rows do not)."""
    n, k = Z.shape
    whole = u0 == 0 and u1 == k
    m = u1 - u0
    z = Z.reshape(n * k) if whole else np.ascontiguousarray(Z[:, u0:u1]).reshape(n * m)
    s = A.reshape(n * k) if whole and A.shape[1] == k else np.empty(n * m)
    d1 = D1.reshape(n * k) if whole else np.empty(n * m)
    d2 = (D2.reshape(n * k) if whole else np.empty(n * m)) if order == 2 else np.empty(0)
    _call_activate(act, (code, prm, z, order, s, d1, d2))
    if not (whole and A.shape[1] == k):
        A[:, u0:u1] = s.reshape(n, m)
    if not whole:
        D1[:, u0:u1] = d1.reshape(n, m)
        if order == 2:
            D2[:, u0:u1] = d2.reshape(n, m)


@numba.njit(cache=True, nogil=True)
def _forward(theta, X, start, stop, widths, biases, offsets, codes, prms, parts, order):
    """A~_0..A~_{L-1} (activations with their ones column), Z, S', S'' (order 2; else empty) for layers 1..L."""
    L = widths.shape[0] - 1
    n = stop - start
    inputs = numba.typed.List()
    zs = numba.typed.List()
    d1s = numba.typed.List()
    d2s = numba.typed.List()
    A = np.empty((n, widths[0] + biases[0]))  # every column is written: the inputs, then the ones
    A[:, :widths[0]] = X[start:stop]
    if biases[0]:
        A[:, widths[0]] = 1.0
    first = 0
    for layer in range(L):
        inputs.append(A)
        W = _weights(theta, widths, biases, offsets, layer)
        Z = np.dot(A, W.T)
        k = widths[layer + 1]
        nxt = np.empty((n, k + (biases[layer + 1] if layer + 1 < L else 0)))  # the runs below fill :k
        if nxt.shape[1] > k:
            nxt[:, k] = 1.0
        D1 = np.empty((n, k))
        D2 = np.empty((n, k) if order == 2 else (0, 0))
        u0 = np.int64(0)
        while u0 < k:  # runs of neurons with the same activation, each as one flat array
            u1 = u0 + 1
            while u1 < k and codes[first + u1] == codes[first + u0] and np.all(prms[first + u1] == prms[first + u0]):
                u1 += 1
            _activate_run(codes[first + u0], prms[first + u0], Z, u0, u1, order, nxt, D1, D2, parts[0])
            u0 = u1
        zs.append(Z)
        d1s.append(D1)
        d2s.append(D2)
        first += k
        A = nxt
    return inputs, zs, d1s, d2s, A


@numba.njit(cache=True, nogil=True)
def _output(A_L, Z_L, D1_L, D2_L, T, w, start, loss_kind, out_scale, curvature):
    """(loss sum, delta_L = dloss/dz_L, c_L, best).  mse: c_L is the diagonal of d2loss/dz_L^2.
    nll (p = softmax, s = w sum t, b = best = argmax p per sample, q_u = p_u off b, r = 1 - p_b = sum q):
    c_L = s q off b and s r at b.  The curvature s (diag p - p p^T) then equals c_L's diagonal minus
    s (J_b Jt^T + Jt J_b^T + Dbar Dbar^T), Jt = sum_{u != b} q_u J_u, Dbar = Jt - r J_b, for the Jacobians
    J_u of z_u: every term is of order r, so a confident prediction (r ~ 1e-9) loses no digits to the
    cancellation of diag(p) against p p^T.  delta_b = w (sum_{u != b} t_u - r sum t), without 1 - p_b."""
    n, k = Z_L.shape
    delta = np.empty((n, k))
    c = np.zeros((n, k))
    bests = np.zeros(n, dtype=np.int64)
    loss = 0.0
    if loss_kind == 0:
        for i in range(n):
            wi = w[start + i] * out_scale
            for u in range(k):
                e = A_L[i, u] - T[start + i, u]
                loss += wi * e * e
                delta[i, u] = 2.0 * wi * e * D1_L[i, u]
                if curvature:
                    c[i, u] = 2.0 * wi * (D1_L[i, u] * D1_L[i, u] + e * D2_L[i, u])
    else:
        for i in range(n):
            # log-sum-exp as top + log1p(rest), rest = sum of e^{z_c - top} over the other classes:
            # a confident, correct prediction has a loss of about rest, kept to full relative precision
            best = 0
            for u in range(1, k):
                if Z_L[i, u] > Z_L[i, best]:
                    best = u
            bests[i] = best
            top = Z_L[i, best]
            rest = 0.0
            for u in range(k):
                if u != best:
                    rest += math.exp(Z_L[i, u] - top)
            log_norm = math.log1p(rest)
            r = rest / (1.0 + rest)
            mass = 0.0
            others = 0.0
            for u in range(k):
                mass += T[start + i, u]
                if u != best:
                    others += T[start + i, u]
            wi = w[start + i]
            for u in range(k):
                t = T[start + i, u]
                if t != 0.0:
                    loss += wi * t * ((top - Z_L[i, u]) + log_norm)
                if u == best:
                    delta[i, u] = wi * (others - mass * r)
                    if curvature:
                        c[i, u] = wi * mass * r
                else:
                    p = math.exp(Z_L[i, u] - top) / (1.0 + rest)
                    delta[i, u] = wi * (mass * p - t)
                    if curvature:
                        c[i, u] = wi * mass * p
    return loss, delta, c, bests


@numba.njit(cache=True, nogil=True)
def loss_chunk(theta, X, T, w, start, stop, widths, biases, offsets, codes, prms, parts, loss_kind, out_scale):
    """Sum over samples start..stop-1 of w_n loss_n."""
    inputs, zs, d1s, d2s, A = _call_forward(parts[1], (theta, X, start, stop, widths, biases, offsets, codes, prms,
                                                        parts, np.int64(1)))
    L = widths.shape[0] - 1
    loss, delta, c, bests = _call_output(parts[2], (A, zs[L - 1], d1s[L - 1], d2s[L - 1], T, w, start, loss_kind,
                                                    out_scale, np.bool_(False)))
    return loss


# Products with an inner or outer size of a few (D0 + 1 inputs, a single output) run at a few GFLOP/s
# through BLAS, whose blocking assumes large sizes; these loops vectorise over the long side instead.
THIN = 8


@numba.njit(cache=True, nogil=True)
def _add_transposed_product(G, D, A):
    """G += D^T A for D (n, r) and A (n, c): BLAS unless c is at most THIN, then a loop over the
    samples that vectorises over r (2.8x BLAS for c = 3, r = 100)."""
    c = A.shape[1]
    if c > THIN:
        G += np.dot(D.T, A)
        return
    n, r = D.shape
    Gt = np.zeros((c, r))
    for i in range(n):
        for j in range(c):
            a = A[i, j]
            for u in range(r):
                Gt[j, u] += a * D[i, u]
    G += Gt.T


@numba.njit(cache=True, nogil=True)
def _product_head(D, W, k):
    """(D W)[:, :k] for D (n, r) and W (r, >= k): BLAS unless r is at most THIN, then a loop that
    vectorises over k (the column of ones' weights, W's last column, is not needed)."""
    r = D.shape[1]
    if r > THIN:
        return np.dot(D, W)[:, :k]
    n = D.shape[0]
    out = np.zeros((n, k))
    for i in range(n):
        for j in range(r):
            d = D[i, j]
            for u in range(k):
                out[i, u] += d * W[j, u]
    return out


@numba.njit(cache=True, nogil=True)
def _backpropagate(delta, W, k, D1, D2, curvature):
    """(g * D1, g * D2 when ``curvature``, else an empty array) for g = (delta W)[:, :k]: the layer below's
    delta and c.  With few rows in W (r <= THIN) loops over the samples that vectorise over k: g built in
    ``out`` row by row, then scaled (a buffer row per sample ran 2-3x slower); a single row in one pass."""
    n, r = delta.shape
    if r > THIN:
        g = np.dot(delta, W)[:, :k]
        return g * D1, (g * D2 if curvature else np.empty((0, 0)))
    Wk = np.ascontiguousarray(W[:, :k])
    out = np.empty((n, k))
    c = np.empty((n, k) if curvature else (0, 0))
    if r == 1:
        for i in range(n):
            d = delta[i, 0]
            for u in range(k):
                out[i, u] = d * Wk[0, u] * D1[i, u]
        if curvature:
            for i in range(n):
                d = delta[i, 0]
                for u in range(k):
                    c[i, u] = d * Wk[0, u] * D2[i, u]
        return out, c
    for i in range(n):
        d = delta[i, 0]
        for u in range(k):
            out[i, u] = d * Wk[0, u]
        for j in range(1, r):
            d = delta[i, j]
            for u in range(k):
                out[i, u] += d * Wk[j, u]
    if curvature:
        for i in range(n):
            for u in range(k):
                c[i, u] = out[i, u] * D2[i, u]
    for i in range(n):
        for u in range(k):
            out[i, u] *= D1[i, u]
    return out, c


@numba.njit(cache=True, nogil=True)
def _backward(theta, widths, biases, offsets, inputs, d1s, d2s, delta, grad, curvature):
    """Accumulates the gradient; returns delta_l and c_l = g_l sigma''(z_l) for l = 1..L-1 (index l-1)."""
    L = widths.shape[0] - 1
    deltas = numba.typed.List()
    cs = numba.typed.List()
    for layer in range(L):  # placeholders of the right type, overwritten layer by layer below
        deltas.append(delta)
        cs.append(delta)
    for layer in range(L - 1, -1, -1):
        rows = widths[layer + 1]
        cols = widths[layer] + biases[layer]
        G = grad[offsets[layer]:offsets[layer + 1]].reshape(rows, cols)
        _add_transposed_product(G, delta, inputs[layer])
        if layer == 0:
            break
        W = _weights(theta, widths, biases, offsets, layer)
        delta, c = _backpropagate(delta, W, widths[layer], d1s[layer - 1], d2s[layer - 1], curvature)
        deltas[layer - 1] = delta
        if curvature:
            cs[layer - 1] = c
    return deltas, cs


@numba.njit(cache=True, nogil=True)
def gradient_chunk(theta, X, T, w, start, stop, widths, biases, offsets, codes, prms, parts, loss_kind, out_scale,
                   grad):
    """Adds the chunk's sum of w_n grad loss_n to ``grad``; returns its loss sum."""
    inputs, zs, d1s, d2s, A = _call_forward(parts[1], (theta, X, start, stop, widths, biases, offsets, codes, prms,
                                                        parts, np.int64(1)))
    L = widths.shape[0] - 1
    loss, delta, c, bests = _call_output(parts[2], (A, zs[L - 1], d1s[L - 1], d2s[L - 1], T, w, start, loss_kind,
                                                    out_scale, np.bool_(False)))
    _call_backward(parts[3], (theta, widths, biases, offsets, inputs, d1s, d2s, delta, grad, np.bool_(False)))
    return loss


@numba.njit(cache=True, nogil=True)
def _own_rows(offsets, widths, biases, layer, u):
    cols = widths[layer] + biases[layer]
    first = offsets[layer] + u * cols
    return first, first + cols


@numba.njit(cache=True, nogil=True)
def _softmax_remainder(H, T, w, start, offsets, widths, biases, layer, Ain, J, before, c, bests):
    """H -= s (J_b Jt^T + Jt J_b^T + Dbar Dbar^T) per sample (the terms of _output's docstring)."""
    n, k = c.shape
    P_all = offsets[layer + 1]
    s = np.empty(n)
    r = np.zeros(n)
    q = np.zeros((n, k))
    onb = np.zeros((n, k))
    for i in range(n):
        mass = 0.0
        for u in range(k):
            mass += T[start + i, u]
        s[i] = w[start + i] * mass
        for u in range(k):
            if u == bests[i]:
                onb[i, u] = 1.0
            elif s[i] != 0.0:
                q[i, u] = c[i, u] / s[i]
                r[i] += q[i, u]
    Jt = np.zeros((n, P_all))
    Jb = np.zeros((n, P_all))
    for u in range(k):
        a, b = _own_rows(offsets, widths, biases, layer, u)
        Jt[:, a:b] = Ain * q[:, u:u + 1]
        Jb[:, a:b] = Ain * onb[:, u:u + 1]
        if before > 0:
            Jt[:, :before] += J[u] * q[:, u:u + 1]
            Jb[:, :before] += J[u] * onb[:, u:u + 1]
    Dbar = Jt - Jb * r[:, None]
    cross = np.dot((Jb * s[:, None]).T, Jt)
    H -= cross + cross.T + np.dot((Dbar * s[:, None]).T, Dbar)


@numba.njit(cache=True, nogil=True)
def _own_curvature(H, offsets, widths, biases, layer, Ain, c):
    """H[own_u, own_u] += Ain^T diag(c[:, u]) Ain for every unit u of the layer.  Few inputs (cols <= THIN):
    one product of the pairwise input products with c for all units at once, instead of k tiny ones."""
    n, cols = Ain.shape
    k = c.shape[1]
    if cols > THIN:
        for u in range(k):
            a, b = _own_rows(offsets, widths, biases, layer, u)
            H[a:b, a:b] += np.dot(Ain.T, Ain * c[:, u:u + 1])
        return
    pairs = np.empty((n, cols * cols))
    for i in range(n):
        for j in range(cols):
            for j2 in range(cols):
                pairs[i, j * cols + j2] = Ain[i, j] * Ain[i, j2]
    M = np.dot(pairs.T, c)  # (cols^2, k)
    for u in range(k):
        a, b = _own_rows(offsets, widths, biases, layer, u)
        for j in range(cols):
            for j2 in range(cols):
                H[a + j, a + j2] += M[j * cols + j2, u]


# Up to this many rows a product J^T diag(c) J is cheaper as loops over its lower triangle (half the
# multiply-adds, no temporary to add into H) than as BLAS's full square: 150 columns, 10 rows 23.7 ->
# 13.7 us, 16 rows 30.4 -> 22.1 us; at 24 rows the loops are slower (32.7 against 30.1 us).
FEW_ROWS = 16


@numba.njit(cache=True, nogil=True)
def _add_low_rank_lower(H, J, c):
    """H[:b, :b] += J^T diag(c) J for J (m, b), as twice its strict lower triangle plus the diagonal (nothing
    above it): the same mean of the two triangles, which ``symmetrize`` takes."""
    m, b = J.shape
    for i in range(b):
        for s in range(m):
            v = 2.0 * c[s] * J[s, i]
            for j in range(i):
                H[i, j] += v * J[s, j]
            H[i, i] += 0.5 * v * J[s, i]


@numba.njit(cache=True, nogil=True)
def hessian_chunk(theta, X, T, w, start, stop, widths, biases, offsets, codes, prms, parts, loss_kind, out_scale, grad,
                  H):
    """Adds the chunk's gradient to ``grad`` and its Hessian to ``H``, up to ``symmetrize``; returns the loss sum.

    Blocks that pair a layer's own parameters with earlier ones are added twice below the diagonal and
    not at all above it (times 2 is exact), so that ``symmetrize``'s mean of the two triangles is the
    Hessian: half the strided writes of adding each block and its transpose.

    dz_l/dtheta of unit u of layer l is [sigma'_{l-1} J_{l-1} through Wbar_l on the parameters before
    layer l | A~_{l-1} on u's own row]: the own part is never stored (it is A~_{l-1} scaled), so the
    first layer's Jacobian costs nothing and later ones only their columns before the layer."""
    inputs, zs, d1s, d2s, A = _call_forward(parts[1], (theta, X, start, stop, widths, biases, offsets, codes, prms,
                                                        parts, np.int64(2)))
    L = widths.shape[0] - 1
    n = stop - start
    loss, delta_L, c_L, bests = _call_output(parts[2], (A, zs[L - 1], d1s[L - 1], d2s[L - 1], T, w, start, loss_kind,
                                                        out_scale, np.bool_(True)))
    deltas, cs = _call_backward(parts[3], (theta, widths, biases, offsets, inputs, d1s, d2s, delta_L, grad,
                                            np.bool_(True)))
    cs[L - 1] = c_L
    # J holds the parameters-before-the-layer part of dz_l/dtheta, laid out (k_l, n, P_<l)
    J = np.zeros((widths[1], n, 0))
    for layer in range(L):
        k = widths[layer + 1]
        before = offsets[layer]
        Ain = inputs[layer]
        cols = Ain.shape[1]
        c = cs[layer]
        # curvature of the units of this layer: own x own, own x before, before x before
        _own_curvature(H, offsets, widths, biases, layer, Ain, c)
        if before > 0:
            for u in range(k):
                a, b = _own_rows(offsets, widths, biases, layer, u)
                H[a:b, :before] += np.dot((Ain * (2.0 * c[:, u:u + 1])).T, J[u])
            Jr = J.reshape(k * n, before)
            cr = np.ascontiguousarray(c.T).reshape(k * n)
            if k * n <= FEW_ROWS:
                _add_low_rank_lower(H, Jr, cr)
            else:
                H[:before, :before] += np.dot(Jr.T, Jr * cr[:, None])
        if layer == L - 1:
            if loss_kind == 1:  # the softmax curvature beyond c_L's diagonal (see _output)
                _softmax_remainder(H, T, w, start, offsets, widths, biases, layer, Ain, J, before, c_L, bests)
            break
        # K_u = sigma'_l[:, u] * dz_l,u/dtheta over the parameters up to layer l: [Kb_u | Ain on u's row]
        upto = offsets[layer + 1]
        D1 = d1s[layer]
        Kb = np.empty((k, n, before))
        for u in range(k):
            for i in range(n):
                for j in range(before):
                    Kb[u, i, j] = J[u, i, j] * D1[i, u]
        # cross terms of z_{l+1} = W_{l+1} a_l: delta_{l+1}[p] K_q on the entry (p, q) of W_{l+1}
        nxt = layer + 1
        delta = deltas[nxt]
        kn = widths[nxt + 1]
        ncols = widths[nxt] + biases[nxt]
        W = _weights(theta, widths, biases, offsets, nxt)
        for p_ in range(kn):
            own = np.dot((D1 * (2.0 * delta[:, p_:p_ + 1])).T, Ain)  # (k, cols): row q is 2 K_q's own part . delta_p
            for q in range(k):
                row = offsets[nxt] + p_ * ncols + q
                a, b = _own_rows(offsets, widths, biases, layer, q)
                H[row, a:b] += own[q]
        if before > 0:
            twice = 2.0 * delta.T
            for q in range(k):
                R = np.dot(twice, Kb[q])
                for p_ in range(kn):
                    row = offsets[nxt] + p_ * ncols + q
                    H[row, :before] += R[p_]
        # J_{l+1} = Wbar_{l+1} K: the parameters before layer l by one product, layer l's own rows unit by unit
        Jn = np.empty((kn, n, upto))
        if before > 0:
            Jn[:, :, :before] = np.dot(np.ascontiguousarray(W[:, :k]), Kb.reshape(k, n * before)).reshape(kn, n, before)
        for p_ in range(kn):
            for u in range(k):
                a, b = _own_rows(offsets, widths, biases, layer, u)
                weight = W[p_, u]
                for i in range(n):
                    scale = weight * D1[i, u]
                    for j in range(cols):
                        Jn[p_, i, a + j] = scale * Ain[i, j]
        J = Jn
    return loss


@numba.njit(cache=True, nogil=True)
def symmetrize(H, also):
    """H <- (H + H^T) / 2 in place, tile by tile (both tiles stay in cache); True when every entry of H and of
    the vector ``also`` (the gradient) is finite (0 * v is nan for an infinite or nan v, so one sum tells,
    without a branch per entry)."""
    P = H.shape[0]
    nonfinite = 0.0
    for i in range(also.shape[0]):
        nonfinite += 0.0 * also[i]
    for i0 in range(0, P, 32):
        for j0 in range(0, i0 + 1, 32):
            for i in range(i0, min(i0 + 32, P)):
                for j in range(j0, min(j0 + 32, i)):
                    v = 0.5 * (H[i, j] + H[j, i])
                    H[i, j] = v
                    H[j, i] = v
                    nonfinite += 0.0 * v
    for i in range(P):
        nonfinite += 0.0 * H[i, i]
    return nonfinite == 0.0


@numba.njit(cache=True, nogil=True)
def hvp_chunk(theta, v, X, T, w, start, stop, widths, biases, offsets, codes, prms, parts, loss_kind, out_scale, Hv):
    """Adds the chunk's H v to ``Hv`` (forward and backward directional derivatives)."""
    inputs, zs, d1s, d2s, A = _call_forward(parts[1], (theta, X, start, stop, widths, biases, offsets, codes, prms,
                                                        parts, np.int64(2)))
    L = widths.shape[0] - 1
    n = stop - start
    loss, delta, c, bests = _call_output(parts[2], (A, zs[L - 1], d1s[L - 1], d2s[L - 1], T, w, start, loss_kind,
                                                    out_scale, np.bool_(True)))
    # forward: Zdot_l = A~_{l-1} V_l^T + Adot_{l-1} Wbar_l^T; Adot_l = sigma' Zdot_l
    zdots = numba.typed.List()
    adots = numba.typed.List()
    Adot = np.zeros((n, widths[0]))
    for layer in range(L):
        adots.append(Adot)
        V = _weights(v, widths, biases, offsets, layer)
        Zdot = np.dot(inputs[layer], V.T)
        if layer > 0:
            W = _weights(theta, widths, biases, offsets, layer)
            Zdot += np.dot(Adot, np.ascontiguousarray(W[:, :widths[layer]]).T)
        zdots.append(Zdot)
        Adot = Zdot * d1s[layer]
    ZL = zs[L - 1]
    ZdotL = zdots[L - 1]
    k = widths[L]
    ddelta = np.empty((n, k))
    if loss_kind == 0:
        e = A - T[start:stop]
        for i in range(n):
            wi = w[start + i] * out_scale
            for u in range(k):
                ddelta[i, u] = 2.0 * wi * (d1s[L - 1][i, u] * d1s[L - 1][i, u] + e[i, u] * d2s[L - 1][i, u]) * ZdotL[i, u]
    else:
        for i in range(n):
            # s (diag p - p p^T) Zdot, from the best class b: off b, s q_u ((Zdot_u - Zdot_b) - mean shift);
            # at b, minus their sum (the row sums to zero): no 1 - p_b, no cancellation (see _output)
            b = bests[i]
            mass = 0.0
            for u in range(k):
                mass += T[start + i, u]
            s_i = w[start + i] * mass
            shift = 0.0
            if s_i != 0.0:
                for u in range(k):
                    if u != b:
                        shift += c[i, u] / s_i * (ZdotL[i, u] - ZdotL[i, b])
            total = 0.0
            for u in range(k):
                if u != b:
                    ddelta[i, u] = c[i, u] * ((ZdotL[i, u] - ZdotL[i, b]) - shift)
                    total += ddelta[i, u]
            ddelta[i, b] = -total
    for layer in range(L - 1, -1, -1):
        rows = widths[layer + 1]
        cols = widths[layer] + biases[layer]
        out = Hv[offsets[layer]:offsets[layer + 1]].reshape(rows, cols)
        _add_transposed_product(out, ddelta, inputs[layer])
        if layer > 0:
            _add_transposed_product(out[:, :widths[layer]], delta, adots[layer])
        if layer == 0:
            break
        W = _weights(theta, widths, biases, offsets, layer)
        V = _weights(v, widths, biases, offsets, layer)
        g = _product_head(delta, W, widths[layer])
        gdot = _product_head(ddelta, W, widths[layer]) + _product_head(delta, V, widths[layer])
        D1 = d1s[layer - 1]
        D2 = d2s[layer - 1]
        delta = g * D1
        ddelta = gdot * D1 + g * D2 * zdots[layer - 1]
    return loss


@numba.njit(cache=True, nogil=True, parallel=True)
def gradient_shares(theta, X, T, w, spans, widths, biases, offsets, codes, prms, parts, loss_kind, out_scale, losses,
                    grads, chunks):
    """One call's samples split over Numba's threads: share s takes the chunks spans[s], spans[s + S], ... (S =
    len(losses) shares) into losses[s] and grads[s]."""
    shares = losses.shape[0]
    for s in numba.prange(shares):
        total = 0.0
        for j in range(s, spans.shape[0], shares):
            total += _call_gradient_chunk(chunks[1], (theta, X, T, w, spans[j, 0], spans[j, 1], widths, biases, offsets,
                                                      codes, prms, parts, loss_kind, out_scale, grads[s]))
        losses[s] = total


@numba.njit(cache=True, nogil=True, parallel=True)
def loss_ensemble(Theta, X, T, w, chunk, widths, biases, offsets, codes, prms, parts, loss_kind, out_scale, out,
                  chunks):
    """out[e] = the loss of member e (rows of Theta), members in parallel."""
    N = X.shape[0]
    for e in numba.prange(Theta.shape[0]):
        total = 0.0
        for start in range(0, N, chunk):
            stop = min(start + chunk, N)
            total += _call_loss_chunk(chunks[0], (Theta[e], X, T, w, start, stop, widths, biases, offsets, codes, prms,
                                                  parts, loss_kind, out_scale))
        out[e] = total


@numba.njit(cache=True, nogil=True, parallel=True)
def gradient_ensemble(Theta, X, T, w, chunk, widths, biases, offsets, codes, prms, parts, loss_kind, out_scale, out,
                      grads, chunks):
    """out[e], grads[e] = loss and gradient of member e, members in parallel."""
    N = X.shape[0]
    for e in numba.prange(Theta.shape[0]):
        total = 0.0
        for start in range(0, N, chunk):
            stop = min(start + chunk, N)
            total += _call_gradient_chunk(chunks[1], (Theta[e], X, T, w, start, stop, widths, biases, offsets, codes,
                                                      prms, parts, loss_kind, out_scale, grads[e]))
        out[e] = total
'''
