"""Generate the Numba GD kernel of a shallow network from its symbolic gradient.

The forward pass, loss, G = dL/dS and both parameter gradients are the expressions derived in
``theory.models.shallow_network`` with the activation bound, compiled by ``loops.LoopProgram``
into one fused step over preallocated buffers.  Two layouts are generated side by side:
explicit loops (small networks: no call overhead, no allocation per step) and BLAS products
(large networks).  Kernels are dtype-generic: float32 arrays and a float32 ``consts`` array give
a float32 run, as in PyTorch.
"""

from __future__ import annotations

import sympy as sp

from dataclasses import dataclass
from functools import lru_cache

from gradflow.theory.activations import ReluLike
from gradflow.theory.model import MeanSquaredError
from gradflow.theory.models import shallow_network as sn

from gradflow.numerics.codegen.cache import cached_module, canonical_srepr
from gradflow.numerics.codegen.loops import LoopProgram, Ref

_ARGUMENTS = {sn.W: "W", sn.H: "H", sn.X: "X", sn.Y: "Y"}
_SIZES = {sn.n: "n", sn.d: "d", sn.m: "m", sn.d_out: "d_out"}


# ReLU-like slopes are runtime constants: one compiled module serves ReLU, leaky ReLU, |z|, ...
A_PLUS, A_MINUS = sp.symbols("a_plus a_minus", real=True)


@dataclass(frozen=True)
class _SlopeGenericReluLike(ReluLike):
    """rho(z) = a_plus z (z > 0), a_minus z (z <= 0) with the slopes left as symbols."""

    def __post_init__(self):
        pass

    @property
    def name(self) -> str:
        return "relu_like(a_plus, a_minus)"

    def expr(self, z):
        return sp.Piecewise((A_PLUS * z, z > 0), (A_MINUS * z, True))

    def derivative(self, z):
        return sp.Piecewise((A_PLUS, z > 0), (A_MINUS, True))


def kernel_network(network: sn.ShallowNetwork) -> sn.ShallowNetwork:
    """The network the kernel is generated for: ReLU-like activations become slope-generic."""
    if isinstance(network.activation, ReluLike):
        return sn.ShallowNetwork(_SlopeGenericReluLike(), network.loss)
    return network


def slopes(network: sn.ShallowNetwork) -> tuple:
    """(a_plus, a_minus) to pass to ``constants`` (zeros for smooth activations)."""
    act = network.activation
    return (float(act.a_plus), float(act.a_minus)) if isinstance(act, ReluLike) else (0.0, 0.0)


def _program(network: sn.ShallowNetwork, blas: bool):
    if not isinstance(network.model.head, MeanSquaredError):
        raise NotImplementedError("generated shallow-network kernels cover the mean squared loss")
    network = kernel_network(network)
    model = network.model
    program = LoopProgram(dict(_ARGUMENTS), dict(_SIZES), blas=blas, wide=sn.m, runtime=(A_PLUS, A_MINUS))
    zero = program.constant(0)
    prediction = network.bind(model.prediction)
    program.materialise(prediction, name="S")
    program.bind(model.prediction_symbol, Ref("S"))
    # Loss: c tr(R^T R) with R the residual, printed as a sum of squares.
    loss = model.head.loss(model.prediction_symbol)
    (trace,) = loss.atoms(sp.Trace)
    coefficient = sp.simplify(loss / trace)
    residual = trace.arg.args[-1]
    residual_ref = program.materialise(residual, name="E")
    program.sum_of_squares(residual_ref, residual.shape, "sq")
    program.statements.append(f"loss = {program.coefficient(coefficient)} * sq")
    forward = len(program.statements)
    program.materialise(model.head.gradient(model.prediction_symbol), name="G")
    program.bind(model.loss_gradient_symbol, Ref("G"))
    gradients = network.gradients(placeholder=True)
    program.materialise(network.bind(gradients[sn.W]), name="gW")
    program.materialise(network.bind(gradients[sn.H]), name="gH")
    return program, forward, zero


def _indent(lines, depth: int) -> str:
    pad = "    " * depth
    return "".join(f"{pad}{line}\n" for line in lines)


_SHAPES = (("n", "X.shape[0]"), ("d", "X.shape[1]"), ("m", "W.shape[0]"), ("d_out", "H.shape[1]"))


def _size_lines(fixed: dict | None) -> list:
    """Sizes read from the arrays, or (``fixed``) literals that let LLVM unroll the short loops
    and vectorise the long ones; a fixed-size kernel refuses arrays of other shapes."""
    if not fixed:
        return [f"{name} = {code}" for name, code in _SHAPES]
    lines = [f"{name} = {int(fixed[name])}" for name, _ in _SHAPES]
    condition = " or ".join(f"{code} != {name}" for name, code in _SHAPES)
    return lines + [f"if {condition}:", "    raise ValueError('array shapes differ from the sizes this kernel was generated for')"]


def _kernels(network: sn.ShallowNetwork, suffix: str, blas: bool, fixed: dict | None = None) -> str:
    program, forward, zero = _program(network, blas)
    allocations = program.allocations("W.dtype")
    head = _size_lines(fixed) + [f"zero = {zero}"] + allocations
    forward_lines, backward_lines = program.statements[:forward], program.statements[forward:]
    update = ["for i in range(m):", "    for j in range(d):", "        W[i, j] -= lr * gW[i, j]",
              "    for j in range(d_out):", "        H[i, j] -= lr * gH[i, j]"]
    return f'''
@numba.njit(cache=True)
def loss_and_gradients_{suffix}(W, H, X, Y, consts, grad_W, grad_H):
    """Loss at (W, H); writes dL/dW and dL/dH into grad_W, grad_H."""
{_indent(head, 1)}{_indent(forward_lines, 1)}{_indent(backward_lines, 1)}    grad_W[:, :] = gW
    grad_H[:, :] = gH
    return loss


@numba.njit(cache=True, fastmath=_FAST)
def run_gd_{suffix}(W, H, X, Y, consts, lr, first_step, end_step, n_steps, loss_every, snap_every, stop_loss, loss_out,
               snap_W, snap_H, status):
    """Full-batch GD in place on (W, H): steps first_step .. end_step - 1 of a run of n_steps steps (a
    long run is cut into such chunks, so that Ctrl-C is answered between them; end_step = n_steps + 1
    for the last).  Records the loss before step s when s % loss_every == 0 and (W, H) when
    s % snap_every == 0.  status = [code, last step]: code 0 finished, 1 stopped at loss <= stop_loss,
    2 non-finite loss, 3 paused at end_step (the next chunk goes on from there)."""
{_indent(head, 1)}    next_loss = -(-first_step // loss_every) * loss_every
    next_snap = -(-first_step // snap_every) * snap_every
    for step in range(first_step, end_step):
{_indent(forward_lines, 2)}        if not math.isfinite(loss):
            status[0] = 2
            status[1] = step
            return
        # counters instead of step % k: no integer division in the hot loop
        if step == next_loss:
            loss_out[step // loss_every] = loss
            next_loss += loss_every
        if step == next_snap:
            snap_W[step // snap_every, :, :] = W
            snap_H[step // snap_every, :, :] = H
            next_snap += snap_every
        if loss <= stop_loss or step == n_steps:
            status[0] = 1 if loss <= stop_loss else 0
            status[1] = step
            if step % loss_every != 0:
                loss_out[step // loss_every + 1] = loss
            return
{_indent(backward_lines, 2)}{_indent(update, 2)}    status[0] = 3
    status[1] = end_step


@numba.njit(cache=True, parallel=True)
def run_gd_ensemble_{suffix}(W, H, X, Y, consts, lr, first_step, end_step, n_steps, loss_every, snap_every, stop_loss,
                        loss_out, snap_W, snap_H, status):
    """run_gd for each member e of W[e], H[e], lr[e] still running (status[e, 0] == 3), in parallel."""
    for e in numba.prange(W.shape[0]):
        if status[e, 0] == 3:
            run_gd_{suffix}(W[e], H[e], X, Y, consts, lr[e], first_step, end_step, n_steps, loss_every, snap_every,
                       stop_loss, loss_out[e], snap_W[e], snap_H[e], status[e])
'''


def render(network: sn.ShallowNetwork, fixed: dict | None = None) -> str:
    network = kernel_network(network)
    program, _, _ = _program(network, blas=False)
    constants = ", ".join(_python_constant(c) for c in program.constants)
    grads = network.gradients(placeholder=True)
    header = (
        f'"""Generated by gradflow from {network.model.name!r}.\n\n'
        f"Parameters: W (m, d), H (m, d_out).  Data: X (n, d), Y (n, d_out).\n"
        f"Prediction S = {network.model.prediction}\n"
        f"rho(z) = {network.activation.expr(sp.Symbol('z'))}; rho'(z) = {network.activation.derivative(sp.Symbol('z'))}\n"
        f"G = dL/dS = {network.model.head.gradient(network.model.prediction_symbol)}\n"
        f"dL/dW = {grads[sn.W]}\n"
        f"dL/dH = {grads[sn.H]}\n"
        f"Layouts: *_loops (explicit loops, small sizes) and *_blas (np.dot products).\n"
        f"Sizes: {'fixed at ' + str(fixed) if fixed else 'read from the arrays'}.\n"
        f'"""\n'
        "import math\n\nimport numba\nimport numpy as np\n\n"
        "# Reassociation lets reductions vectorise; no nnan/ninf, so divergence checks stay exact.\n"
        "_FAST = {'nsz', 'arcp', 'contract', 'reassoc'}\n\n\n"
        f"def constants(n, m, d, d_out, a_plus=0.0, a_minus=0.0):\n    \"\"\"The scalar constants of the kernels, in order.\"\"\"\n"
        f"    return [{constants}]\n"
    )
    return header + _kernels(network, "loops", blas=False, fixed=fixed) + _kernels(network, "blas", blas=True, fixed=fixed)


def _python_constant(value) -> str:
    value = sp.sympify(value)
    free = {str(s) for s in value.free_symbols}
    if not free <= {"n", "m", "d", "d_out", "a_plus", "a_minus"}:
        raise ValueError(f"constant {value} depends on {free}")
    return f"float({sp.pycode(value)})" if free else repr(float(value))


def network_key(network: sn.ShallowNetwork, fixed: tuple = ()) -> str:
    """The symbolic input of the network's kernels: canonical, so the same in every process (the
    prediction holds a Lambda whose Dummy variable is new in each process)."""
    network = kernel_network(network)
    return canonical_srepr((network.model.prediction, network.activation.expr(sp.Symbol("z")),
                            network.activation.derivative(sp.Symbol("z")), network.loss,
                            tuple((str(name), int(size)) for name, size in fixed)))  # 5 and np.int64(5): one key


# what every network module defines (``cached_module`` regenerates a cached file that lacks one)
DEFINES = ("constants", *(f"{kind}_{layout}" for kind in ("loss_and_gradients", "run_gd", "run_gd_ensemble")
                          for layout in ("loops", "blas")))


@lru_cache(maxsize=None)
def network_module(network: sn.ShallowNetwork, fixed: tuple = ()):
    """(module, path, hit) for the network's kernels; memoised per process.  ``fixed`` =
    (("n", 5), ("d", 2), ...) generates a kernel specialised to those sizes."""
    return cached_module(network_key(network, fixed), lambda: render(network, dict(fixed) or None), DEFINES)
