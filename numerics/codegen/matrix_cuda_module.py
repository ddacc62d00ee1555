"""Generate a numba-cuda module for a matrix-valued gradient system: one large system on one GPU.

The CUDA counterpart of ``matrix_module``, from the same :class:`MatrixSystem` (the same MatrixExprs
for the prediction, the velocity and its meaning G, and the head's loss).  ``_LaunchPrinter`` walks a
MatrixExpr as ``printer._MatrixPrinter`` does and, instead of a NumPy expression, prints host lines
that launch one kernel of ``matrix_cuda_kernels`` per node into a buffer of a workspace ``w``
allocated once per run, so the state and every intermediate stay on the device for the whole run;
only the recorded observables travel back.  Kept deliberately thin (the CUDA package is in
maintenance mode): it prints exactly the nodes the existing systems use and raises
NotImplementedError naming any other.

Generated host functions (device arrays in and out; data in the system's data order):

- ``workspace(X, *data)``: the buffers (sizes read from the arrays' shapes).
- ``prediction(X, *data, w)``, ``velocity(X, *data, w)``: S and dX/dt (in ``w.S`` / ``w.V``).
- ``record(r, X, *data, labels, records, margins, w)``: ``records[r] = (loss, 0-1 error, |X|_F)``,
  ``margins[r]`` = the margins of S.
- ``run_gd(X, *data, labels, eta, n_steps, record_steps, records, margins, status, w, check_every)``:
  ``n_steps`` GD steps in place; ``record`` after ``record_steps[r]`` steps (sorted, host ints, this
  call's numbering) into row r; ``status[0]`` = the first step whose state is non-finite (left alone if
  already >= 0); a diverged run stops at the next multiple of ``check_every`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from gradflow.theory.matrix_functions import RowSoftmax
from gradflow.theory.model import SoftmaxCrossEntropy

from gradflow.numerics.codegen.cache import cached_module, canonical_srepr
from gradflow.numerics.codegen.matrix_module import MatrixSystem

CUDA_MATRIX_TEMPLATE_VERSION = "1"


@dataclass(frozen=True)
class _Operand:
    """A device array in the generated code, used as its transpose when ``transposed``."""

    code: str
    transposed: bool = False


class _Workspace:
    """Names and symbolic shapes of the buffers the generated ``workspace`` allocates."""

    def __init__(self):
        self.shapes = {}

    def new(self, shape, name: str | None = None) -> str:
        name = name or f"t{len(self.shapes)}"
        self.shapes[name] = tuple(shape)
        return f"w.{name}"


def _number(coefficient) -> str:
    if not sp.sympify(coefficient).is_number:
        raise NotImplementedError(f"CUDA matrix printer: a symbolic coefficient {coefficient} (only numbers)")
    return repr(float(coefficient))


class _LaunchPrinter:
    """MatrixExpr -> host source lines, one kernel launch per node (``matrix_cuda_kernels``' launchers).

    ``self(expr, out)`` appends the launches that leave expr in ``out`` (a fresh workspace buffer when
    None) and returns the operand holding it.  A MatrixSymbol launches nothing and a Transpose only
    flips a flag, which the matrix product reads (a transpose anywhere else is not printed)."""

    def __init__(self, names: dict, workspace: _Workspace, lines: list):
        self.names, self.workspace, self.lines = names, workspace, lines

    def __call__(self, expr, out: str | None = None) -> _Operand:
        method = getattr(self, "_" + type(expr).__name__, None)
        if method is None:
            raise NotImplementedError(f"CUDA matrix printer cannot print {type(expr).__name__}: {expr}")
        return method(expr, out)

    def _launch(self, call: str) -> None:
        self.lines.append(f"    {call}\n")

    def _target(self, expr, out):
        return out if out is not None else self.workspace.new(expr.shape)

    def _dense(self, expr) -> str:
        operand = self(expr)
        if operand.transposed:
            raise NotImplementedError(f"CUDA matrix printer: a transpose outside a matrix product: {expr}")
        return operand.code

    def _MatrixSymbol(self, e, out):
        if e not in self.names:
            raise NotImplementedError(f"CUDA matrix printer: {e} is neither the state, a data array nor the "
                                      "placeholder")
        if out is None:
            return _Operand(self.names[e])
        self._launch(f"scaled(1.0, {self.names[e]}, {out})")  # a copy
        return _Operand(out)

    def _Transpose(self, e, out):
        inner = self(e.arg)
        if out is not None:
            raise NotImplementedError(f"CUDA matrix printer: a transpose as a result: {e}")
        return _Operand(inner.code, not inner.transposed)

    def _MatAdd(self, e, out):
        terms = []
        for term in e.args:
            coefficient, matrices = term.as_coeff_matrices() if isinstance(term, sp.MatMul) else (1, [term])
            matrix = sp.MatMul(*matrices) if len(matrices) > 1 else matrices[0]
            terms.append((_number(coefficient), self._dense(matrix)))
        target = self._target(e, out)
        (a, A), (b, B) = terms[:2]
        self._launch(f"linear_combination({a}, {A}, {b}, {B}, {target})")
        for c, C in terms[2:]:
            self._launch(f"linear_combination(1.0, {target}, {c}, {C}, {target})")
        return _Operand(target)

    def _MatMul(self, e, out):
        coefficient, factors = e.as_coeff_matrices()
        scale = _number(coefficient)
        if isinstance(factors[0], sp.DiagMatrix):
            return self._weighted_softmax_minus(e, factors, scale, out)
        if len(factors) == 1:
            target = self._target(e, out)
            self._launch(f"scaled({scale}, {self._dense(factors[0])}, {target})")
            return _Operand(target)
        acc, rows = self(factors[0]), factors[0].shape[0]
        for k, factor in enumerate(factors[1:], start=2):
            last = k == len(factors)
            # the coefficient rides on the last launch; partial products get their own buffers
            target = self._target(e, out) if last else self.workspace.new((rows, factor.shape[1]))
            step_scale = scale if last else "1.0"
            if isinstance(factor, sp.OneMatrix) and factor.shape[1] == 1:
                if acc.transposed:
                    raise NotImplementedError(f"CUDA matrix printer: row sums of a transpose in {e}")
                self._launch(f"row_sums({acc.code}, {step_scale}, {target})")
            elif isinstance(factor, sp.DiagMatrix):
                raise NotImplementedError(f"CUDA matrix printer: DiagMatrix after the first factor in {e}")
            else:
                right = self(factor)
                self._launch(f"matmul({acc.code}, {acc.transposed}, {right.code}, {right.transposed}, {step_scale}, "
                             f"{target})")
            acc = _Operand(target)
        return acc

    def _weighted_softmax_minus(self, e, factors, scale, out):
        """diag(w) (RowSoftmax(A) - B) for a column w: one fused row-wise kernel (as the CPU printer fuses it)."""
        weights = factors[0].args[0]
        rest = factors[1] if len(factors) == 2 else None
        if weights.shape[1] != 1 or not isinstance(rest, sp.MatAdd) or len(rest.args) != 2:
            raise NotImplementedError(f"CUDA matrix printer: DiagMatrix outside diag(w) (RowSoftmax(A) - B): {e}")
        softmax = [a for a in rest.args if isinstance(a, RowSoftmax)]
        other = [a for a in rest.args if not isinstance(a, RowSoftmax)]
        minus = other[0].as_coeff_matrices() if len(other) == 1 and isinstance(other[0], sp.MatMul) else (0, ())
        if len(softmax) != 1 or minus[0] != -1 or len(minus[1]) != 1:
            raise NotImplementedError(f"CUDA matrix printer: DiagMatrix outside diag(w) (RowSoftmax(A) - B): {e}")
        target = self._target(e, out)
        self._launch(f"weighted_softmax_minus({self._dense(softmax[0].args[0])}, {self._dense(minus[1][0])}, "
                     f"{self._dense(weights)}, {scale}, {target})")
        return _Operand(target)

    def _HadamardProduct(self, e, out):
        factors = [self._dense(a) for a in e.args]
        target = self._target(e, out)
        self._launch(f"hadamard({factors[0]}, {factors[1]}, {target})")
        for factor in factors[2:]:
            self._launch(f"hadamard({target}, {factor}, {target})")
        return _Operand(target)

    def _RowSoftmax(self, e, out):
        argument = self._dense(e.args[0])
        target = self._target(e, out)
        self._launch(f"row_softmax({argument}, {target})")
        return _Operand(target)

    def _RowLogSumExp(self, e, out):
        argument = self._dense(e.args[0])
        target = self._target(e, out)
        self._launch(f"row_logsumexp({argument}, {target})")
        return _Operand(target)


def _size_bindings(system: MatrixSystem) -> dict:
    """Each size symbol -> where its value is read, e.g. N -> 'K.shape[0]' (first array that has it)."""
    bindings = {}
    for symbol, name in [(system.state, "X"), *((a, str(a)) for a in system.data)]:
        for axis, size in enumerate(symbol.shape):
            if isinstance(size, sp.Symbol):
                bindings.setdefault(size, f"{name}.shape[{axis}]")
    return bindings


def _shape_code(shape, bindings: dict) -> str:
    def one(size):
        size = sp.sympify(size)
        if size.is_Integer:
            return str(int(size))
        if size not in bindings:
            raise NotImplementedError(f"CUDA matrix printer: size {size} is not a size of the state or of a data "
                                      "array")
        return str(size)

    return "(" + ", ".join(one(s) for s in shape) + ")"


def _function(signature: str, doc: str, lines: list, result: str = "") -> str:
    body = "".join(lines) + (f"    return {result}\n" if result else "") if lines or result else "    pass\n"
    return f"\n\ndef {signature}:\n    \"\"\"{doc}\"\"\"\n{body}"


_RUN_GD = '''

def run_gd(X, {data}, labels, eta, n_steps, record_steps, records, margins, status, w, check_every):
    """n_steps GD steps X <- X + eta dX/dt in place, on the device.  Observables after record_steps[r]
    steps (sorted host ints, this call's numbering) go to row r of records and margins; status[0] =
    the first step whose state is non-finite (kept once set).  Every check_every steps the host reads
    status (one small copy) and stops a diverged run early."""
    r = 0
    while r < len(record_steps) and record_steps[r] == 0:
        record(r, X, {data}, labels, records, margins, w)
        r += 1
    for step in range(1, n_steps + 1):
        gd_step(X, eta, velocity(X, {data}, w), step, status)
        while r < len(record_steps) and record_steps[r] == step:
            record(r, X, {data}, labels, records, margins, w)
            r += 1
        if step % check_every == 0 and status.copy_to_host()[0] >= 0:
            return
'''


def render(system: MatrixSystem) -> str:
    if not isinstance(system.head, SoftmaxCrossEntropy):
        raise NotImplementedError("matrix kernels with margins and 0-1 error need a softmax cross-entropy head")
    data_names = {a: str(a) for a in system.data}
    data = ", ".join(data_names.values())
    bindings = _size_bindings(system)
    clash = {str(s) for s in bindings} & {*data_names.values(), "X", "S", "w"}
    if clash:
        raise NotImplementedError(f"CUDA matrix printer: size names {sorted(clash)} clash with array names")
    work = _Workspace()
    # the state may be the prediction itself (logit particles): each piece is printed with the names
    # its function defines, as in matrix_module
    of_state = {**data_names, system.state: "X", system.placeholder: "w.G"}
    of_prediction = {**data_names, system.prediction_symbol: "S", system.placeholder: "w.G"}

    prediction = []
    if system.prediction == system.state:
        prediction_result = "X"
    else:
        prediction_result = work.new(system.prediction.shape, "S")
        _LaunchPrinter(of_state, work, prediction)(system.prediction, prediction_result)

    velocity = ["    S = prediction(X, " + data + ", w)\n"]
    _LaunchPrinter(of_prediction, work, velocity)(system.meaning, work.new(system.placeholder.shape, "G"))
    _LaunchPrinter(of_state, work, velocity)(system.rhs, work.new(system.state.shape, "V"))

    record = ["    S = prediction(X, " + data + ", w)\n"]
    _LaunchPrinter(of_prediction, work, record)(system.head.loss(system.prediction_symbol), "records[r:r + 1, 0:1]")
    wrong = work.new((system.prediction_symbol.shape[0], 1), "wrong")
    weights = data_names[system.head.weights]
    record += [f"    margins_and_errors(S, labels, r, margins, {wrong})\n",
               f"    matmul({weights}, True, {wrong}, False, 1.0, records[r:r + 1, 1:2])  # 0-1 error\n",
               "    frobenius_norm(X, records[r:r + 1, 2:3])\n"]

    allocations = "".join(f"    {size} = {where}\n" for size, where in bindings.items())
    allocations += "    return SimpleNamespace(\n" + "".join(
        f"        {name}=cuda.device_array({_shape_code(shape, bindings)}),\n" for name, shape in work.shapes.items())
    allocations += "    )\n"
    header = (
        f'"""Generated by gradflow (numba-cuda, one large matrix system) from {system.name!r}.\n\n'
        f"State: {system.state} {system.state.shape}\n"
        f"Data order: {data}\n"
        f"Prediction S = {system.prediction}\n"
        f"{system.placeholder} = {system.meaning}\n"
        f"dX/dt = {system.rhs}\n"
        f"Loss = {system.head.loss(system.prediction_symbol)}\n"
        f'"""\n'
        "from types import SimpleNamespace\n\nfrom numba import cuda\n\n"
        "from gradflow.numerics.codegen.matrix_cuda_kernels import (frobenius_norm, gd_step, hadamard, linear_combination,\n"
        "    margins_and_errors, matmul, row_logsumexp, row_softmax, row_sums, scaled, weighted_softmax_minus)\n"
    )
    return (header
            + _function(f"workspace(X, {data})",
                        "Device buffers for every intermediate matrix (allocated once per run).", [allocations])
            + _function(f"prediction(X, {data}, w)", f"S = {system.prediction}", prediction, prediction_result)
            + _function(f"velocity(X, {data}, w)", f"dX/dt = {system.rhs} (in w.V), {system.placeholder} = "
                        f"{system.meaning} (in w.G)", velocity, "w.V")
            + _function(f"record(r, X, {data}, labels, records, margins, w)",
                        "records[r] = (loss, 0-1 error, Frobenius norm of X); margins[r] = margins of S.", record)
            + _RUN_GD.format(data=data))


def matrix_cuda_module(system: MatrixSystem):
    """Load (generating on a cache miss) the CUDA module for ``system``; returns (module, path, hit).

    Importing the module needs ``numba.cuda`` but no GPU: kernels compile at their first launch."""
    return cached_module(matrix_cuda_module_key(system), lambda: render(system), DEFINES)


# the host functions every module defines (see the module docstring)
DEFINES = ("workspace", "prediction", "velocity", "record", "run_gd")


def matrix_cuda_module_key(system: MatrixSystem) -> str:
    """The symbolic input of the module: the template version and the (canonical) ``MatrixSystem.key``."""
    return canonical_srepr(("numba-cuda-matrix", CUDA_MATRIX_TEMPLATE_VERSION)) + system.key()
