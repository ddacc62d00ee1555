"""Generate a Numba module for a matrix-valued gradient system (one large system).

The state X is one matrix (W for W-space GD, S for logit particles).  Products are printed
as ``@`` so Numba calls BLAS; the step loop, observables and divergence checks live inside
the compiled function, so a run of many steps is one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from gradflow.theory.model import Head, SoftmaxCrossEntropy

from gradflow.numerics.codegen.cache import cached_module, canonical_srepr
from gradflow.numerics.codegen.printer import cross_entropy_gradient_rows_code, matrix_code

_TEMPLATE = '''
@numba.njit(cache=True)
def prediction(X, {data}):
    return {prediction}


@numba.njit(cache=True)
def velocity_unscaled(X, {data}):
    """dX/dt / VELOCITY_SCALE = {unscaled_text}; GD folds the number into its step (no pass of its own)."""
    S = prediction(X, {data})
    G = {meaning}
    return {unscaled}


VELOCITY_SCALE = {scale}


@numba.njit(cache=True)
def velocity(X, {data}):
    """dX/dt = {rhs_text}"""
    return {velocity}


@numba.njit(cache=True)
def loss_of_prediction(S, {data}):
    return {loss}[0, 0]


@numba.njit(cache=True)
def _record(r, X, S, {data}, labels, loss_out, l01_out, margins_out, norm_out):
    norm_out[r] = _frobenius_norm(X)
    loss_out[r] = loss_of_prediction(S, {data})
    l01_out[r] = _zero_one(S, labels, {weights})
    margins = _margins(S, labels)
    for i in range(margins.shape[0]):  # not margins_out[r, :] = ...: its shape check takes seconds to compile
        margins_out[r, i] = margins[i]


{run_gd}


@numba.njit(cache=True)
def run_rk4(X0, {data}, labels, h, times, clock, max_steps, loss_out, l01_out, margins_out, norm_out, status):
    """Fixed-step RK4 on the flow; steps shortened to land on each times[r].  Goes on from
    clock = [r, t] (record r next, at time t) for at most max_steps steps, then leaves clock where it
    stopped (a long flow is run in such chunks, so that Ctrl-C is answered between them).
    status = (steps of this call, 0) on a non-finite state."""
    X = X0.copy()
    r = np.int64(clock[0])
    t = clock[1]
    step = 0
    while r < times.shape[0]:
        while t < times[r]:
            if step == max_steps:
                clock[0] = r
                clock[1] = t
                return X
            dt = min(h, times[r] - t)
            k1 = velocity(X, {data})
            k2 = velocity(X + 0.5 * dt * k1, {data})
            k3 = velocity(X + 0.5 * dt * k2, {data})
            k4 = velocity(X + dt * k3, {data})
            X = X + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            step += 1
            if not _all_finite(X):
                status[0] = step
                return X
            t = times[r] if dt < h else t + h
        _record(r, X, prediction(X, {data}), {data}, labels, loss_out, l01_out, margins_out, norm_out)
        r += 1
    clock[0] = r
    clock[1] = t
    return X
'''

# GD and SGD: one function per way of running a step (``step``: the lines that set ``ok``).
_GD_TEMPLATE = '''
@numba.njit(cache=True{options})
def {name}(X0, {data}, labels, eta, n_steps, record, batch, seed, loss_out, l01_out, margins_out, norm_out, status{extra}):
    """{doc}"""
    X = X0.copy()
    r = np.int64(0)  # not the literal 0: _record would be compiled twice (Literal[int](0) and int64)
    R = record.shape[0]
    full_weights = {weights}
    cumulative = np.cumsum(full_weights[:, 0])
    if batch > 0 and seed >= 0:
        _seed(seed)
    while r < R and record[r] == 0:
        _record(r, X, prediction(X, {data}), {data}, labels, loss_out, l01_out, margins_out, norm_out)
        r += 1{before}
    for step in range(1, n_steps + 1):
        if batch > 0:
            {weights} = _sample_batch_weights(cumulative, batch)
{step}
        {weights} = full_weights
        if not ok:
            status[0] = step
            return X
        while r < R and record[r] == step:
            _record(r, X, prediction(X, {data}), {data}, labels, loss_out, l01_out, margins_out, norm_out)
            r += 1
    return X
'''

_GD_DOC = """GD (batch == 0) or SGD with a batch of i.i.d. inputs (batch > 0) for n_steps steps.
    Observables after record[r] steps go to row r.  status = (step, 0) on a non-finite state."""

_STEP = "        ok = _step_in_place(X, eta * VELOCITY_SCALE, velocity_unscaled(X, {data}))"

# The velocity is a product whose first factor is a data matrix with the state's rows (K G Gamma of the
# logit particles), and G, the softmax cross-entropy gradient, is row by row: each of ``blocks`` threads
# fills its rows of G, then (all of G filled) multiplies its rows of that factor by the rest on one BLAS
# thread, so no product is handed between threads.  OpenBLAS's own split of each product synchronises its
# threads inside it, which on a 2-core virtual machine cost up to 1.7x at N = 128 (logit particles,
# N = M, 200 steps: 28 -> 17 ms where it did, 15 -> 13 ms where it did not; 24.3 -> 23.4 ms a step at 1024).
_ROWS_STEP = """        S = prediction(X, {data})
        for b in numba.prange(blocks):
            row0 = b * S.shape[0] // blocks
            row1 = (b + 1) * S.shape[0] // blocks
            {meaning_rows}
        for b in numba.prange(blocks):
            row0 = b * X.shape[0] // blocks
            row1 = (b + 1) * X.shape[0] // blocks
            finite[b] = _step_in_place(X[row0:row1], eta * VELOCITY_SCALE, {first}[row0:row1] @ {rest})
        ok = finite.all()"""

_ROWS_DOC = """run_gd with the rows of each step split into ``blocks`` blocks, one per thread: a thread fills its
    rows of G, then multiplies its rows of {first} by the other factors on one BLAS thread (the caller holds
    the BLAS at one).  The same steps as run_gd, up to the rounding of the products."""


_HVP_TEMPLATE = '''

@numba.njit(cache=True)
def hessian_vector_product(X, V, {data}):
    """Hessian of the loss in X applied to the direction V (same shape as X)."""
    S = {prediction}
    return {hvp}
'''


@dataclass(frozen=True)
class MatrixSystem:
    """dX/dt = rhs(X, data, G) with G = meaning(S), S = prediction(X, data)."""

    name: str
    state: sp.MatrixSymbol
    data: tuple
    prediction: sp.MatrixExpr
    rhs: sp.MatrixExpr
    placeholder: sp.MatrixSymbol
    meaning: sp.MatrixExpr
    prediction_symbol: sp.MatrixSymbol
    head: Head
    hvp: sp.MatrixExpr | None = None  # Hessian-vector product in X and a direction V
    direction: sp.MatrixSymbol | None = None

    def key(self) -> str:
        """The symbolic input of the module: canonical (``cache.canonical_srepr``), one text in every process."""
        return canonical_srepr((self.name, self.state, self.data, self.prediction, self.rhs, self.placeholder,
                                self.meaning, self.prediction_symbol, self.head.loss(self.prediction_symbol),
                                self.hvp, self.direction))

    def defines(self) -> tuple:
        """The names its module defines."""
        return (("prediction", "velocity_unscaled", "VELOCITY_SCALE", "velocity", "loss_of_prediction", "run_gd",
                 "run_rk4") + (("hessian_vector_product",) if self.hvp is not None else ())
                + (("run_gd_rows",) if row_split(self) is not None else ()))


def _numeric_factor(rhs) -> tuple:
    """(c, R) with rhs = c R and c a float: a product's numeric coefficient, 1.0 otherwise."""
    if isinstance(rhs, sp.MatMul):
        coefficient, matrices = rhs.as_coeff_matrices()
        if coefficient.is_number and coefficient != 1:
            return float(coefficient), (sp.MatMul(*matrices) if len(matrices) > 1 else matrices[0])
    return 1.0, rhs


def row_split(system: MatrixSystem) -> tuple | None:
    """(first, rest, meaning_rows) when dX/dt is c first rest[0] rest[1] ... with ``first`` a data matrix
    that has the state's rows and G row by row (see _ROWS_STEP; meaning_rows: the statement filling rows
    row0:row1 of G), else None."""
    _, unscaled = _numeric_factor(system.rhs)
    if not isinstance(unscaled, sp.MatMul):
        return None
    coefficient, matrices = unscaled.as_coeff_matrices()
    first = matrices[0]
    if coefficient != 1 or len(matrices) < 2 or first not in system.data or first.shape[0] != system.state.shape[0]:
        return None
    names = {**{a: str(a) for a in system.data}, system.prediction_symbol: "S"}
    meaning_rows = cross_entropy_gradient_rows_code(system.meaning, names, "G", "row0", "row1")
    return None if meaning_rows is None else (first, tuple(matrices[1:]), meaning_rows)


def render(system: MatrixSystem) -> str:
    if not isinstance(system.head, SoftmaxCrossEntropy):
        raise NotImplementedError("matrix kernels with margins and 0-1 error need a softmax cross-entropy head")
    # The state may be the prediction itself (logit particles): print each piece with the
    # names its function defines.
    data_names = {a: str(a) for a in system.data}
    of_state = {**data_names, system.state: "X", system.placeholder: "G"}
    of_prediction = {**data_names, system.prediction_symbol: "S", system.placeholder: "G"}
    data = ", ".join(str(a) for a in system.data)
    header = (
        f'"""Generated by gradflow from {system.name!r}.\n\n'
        f"State: {system.state} {system.state.shape}\n"
        f"Data order: {data}\n"
        f"Data shapes: {', '.join(f'{a} {a.shape}' for a in system.data)}\n"
        f"Prediction S = {system.prediction}\n"
        f"{system.placeholder} = {system.meaning}\n"
        f'"""\n'
        "import math\n\nimport numba\nimport numpy as np\n\n"
        "from gradflow.numerics.codegen.support import (_all_finite, _frobenius_norm, _margins, _row_logsumexp,\n"
        "    _row_softmax, _row_softmax_jvp, _row_sums, _sample_batch_weights, _seed, _step_in_place,\n"
        "    _weighted_cross_entropy, _weighted_softmax_minus, _weighted_softmax_minus_rows, _zero_one)\n"
    )
    scale, unscaled = _numeric_factor(system.rhs)
    weights = str(system.head.weights)
    run_gd = _GD_TEMPLATE.format(options="", name="run_gd", data=data, extra="", doc=_GD_DOC, before="",
                                 weights=weights, step=_STEP.format(data=data))
    split = row_split(system)
    if split is not None:
        first, rest, meaning_rows = split
        run_gd = run_gd.strip("\n") + "\n\n" + _GD_TEMPLATE.format(
            options=", parallel=True", name="run_gd_rows", data=data, extra=", blocks",
            doc=_ROWS_DOC.format(first=first), weights=weights,
            before=(f"\n    G = np.empty_like(prediction(X, {data}))  # filled row block by row block every step"
                    "\n    finite = np.ones(blocks, dtype=np.bool_)"),
            step=_ROWS_STEP.format(data=data, first=first, meaning_rows=meaning_rows,
                                   rest=" @ ".join(matrix_code(factor, of_state) for factor in rest)))
    source = header + _TEMPLATE.format(
        run_gd=run_gd.strip("\n"),
        data=data,
        unscaled=matrix_code(unscaled, of_state),
        unscaled_text=str(unscaled),
        scale=repr(scale),
        velocity=(f"velocity_unscaled(X, {data})" if scale == 1.0
                  else f"VELOCITY_SCALE * velocity_unscaled(X, {data})"),
        prediction=matrix_code(system.prediction, of_state),
        meaning=matrix_code(system.meaning, of_prediction),
        rhs_text=str(system.rhs),
        loss=matrix_code(system.head.loss(system.prediction_symbol), of_prediction),
        weights=weights,
    )
    if system.hvp is not None:
        of_state_v = {**of_state, system.direction: "V"}
        source += _HVP_TEMPLATE.format(data=data, hvp=matrix_code(system.hvp, {**of_state_v, system.prediction_symbol: "S"}),
                                       prediction="prediction(X, " + data + ")")
    return source


def matrix_module(system: MatrixSystem):
    return cached_module(system.key(), lambda: render(system), system.defines())
