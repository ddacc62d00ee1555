"""Compile matrix expressions into straight-line Numba code over preallocated buffers.

Used for networks whose matrices are small and whose steps are many (a width-50 network on
5 points takes 6e5 GD steps): every intermediate gets a buffer allocated once, outside the
step loop; element-wise nodes (sums, Hadamard products, activations, scalar multiples) are
fused into one loop nest; matrix products are either explicit loops (``blas=False``, no call
overhead for tiny sizes) or ``np.dot`` (``blas=True``, BLAS for large sizes).  Transposes never
move data: X W^T and W X^T share one buffer read with swapped indices.

Scalar constants (coefficients such as 2/(n d_out), activation slopes) are collected into a
``consts`` array passed in the working dtype, so float32 kernels stay in float32.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.pycode import PythonCodePrinter


def push_transposes(expr):
    """An equal expression with Transpose only around MatrixSymbols."""
    if isinstance(expr, sp.Transpose):
        inner = expr.arg
        if isinstance(inner, sp.Transpose):
            return push_transposes(inner.arg)
        if isinstance(inner, sp.MatrixSymbol):
            return expr
        if isinstance(inner, sp.MatMul):
            scalars = [a for a in inner.args if not a.is_Matrix]
            factors = [push_transposes(sp.Transpose(a)) for a in reversed([a for a in inner.args if a.is_Matrix])]
            return sp.MatMul(*scalars, *factors)
        if isinstance(inner, sp.MatAdd):
            return sp.MatAdd(*[push_transposes(sp.Transpose(a)) for a in inner.args])
        if isinstance(inner, sp.HadamardProduct):
            return sp.HadamardProduct(*[push_transposes(sp.Transpose(a)) for a in inner.args])
        if isinstance(inner, ElementwiseApplyFunction):
            return ElementwiseApplyFunction(inner.function, push_transposes(sp.Transpose(inner.expr)))
        if isinstance(inner, (sp.ZeroMatrix, sp.OneMatrix)):
            return type(inner)(inner.shape[1], inner.shape[0])
        raise NotImplementedError(f"cannot transpose {type(inner).__name__}")
    if isinstance(expr, (sp.MatMul, sp.MatAdd, sp.HadamardProduct)):
        return type(expr)(*[push_transposes(a) if a.is_Matrix else a for a in expr.args])
    if isinstance(expr, ElementwiseApplyFunction):
        return ElementwiseApplyFunction(expr.function, push_transposes(expr.expr))
    return expr


@dataclass(frozen=True)
class Ref:
    """A materialised matrix: a buffer (or argument) name, read transposed or not."""

    name: str
    transposed: bool = False

    def at(self, i: str, j: str) -> str:
        return f"{self.name}[{j}, {i}]" if self.transposed else f"{self.name}[{i}, {j}]"

    def view(self) -> str:
        return f"{self.name}.T" if self.transposed else self.name

    def flipped(self) -> "Ref":
        return Ref(self.name, not self.transposed)


class _ScalarPrinter(PythonCodePrinter):
    def __init__(self, names: dict):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self._names = names

    def _print_Symbol(self, expr):
        return self._names.get(expr, super()._print_Symbol(expr))

    _print_Dummy = _print_Symbol


@dataclass
class LoopProgram:
    """Accumulates statements computing matrix expressions.

    ``arguments`` maps MatrixSymbols to the names of arrays the kernel receives; ``sizes`` maps
    size symbols to code (e.g. n -> "X.shape[0]").  ``constant`` returns the code of a scalar
    constant, registered in ``constants`` (a list of SymPy scalars in the size symbols).
    """

    arguments: dict
    sizes: dict
    blas: bool = False
    wide: object = None  # the size symbol expected to be largest: loops run along it innermost
    runtime: tuple = ()  # symbols (e.g. activation slopes) passed in ``consts`` rather than baked in
    statements: list = field(default_factory=list)
    buffers: dict = field(default_factory=dict)  # name -> (rows code, cols code)
    constants: list = field(default_factory=list)
    _cache: dict = field(default_factory=dict)
    _counter: int = 0

    # -- constants -------------------------------------------------------------------------
    def constant(self, value) -> str:
        value = sp.nsimplify(value) if isinstance(value, sp.Float) else sp.sympify(value)
        for position, known in enumerate(self.constants):
            if known == value:
                return f"consts[{position}]"
        self.constants.append(value)
        return f"consts[{len(self.constants) - 1}]"

    def coefficient(self, value) -> str:
        """A scalar that depends on the sizes only: computed once, outside the kernel."""
        value = sp.sympify(value)
        if not value.free_symbols <= set(self.sizes) | set(self.runtime):
            raise NotImplementedError(f"coefficient {value} depends on more than the sizes")
        return self.constant(value)

    def scalar(self, expr, names: dict | None = None) -> str:
        """Code of a scalar expression whose numbers are all routed through ``consts``."""
        expr = sp.sympify(expr)
        numbers = {}
        # sorted: the order of a set of symbols changes with the process's string hashing, and the order
        # of ``consts`` must be the same whichever process generates the module
        for atom in sorted(expr.atoms(sp.Number), key=sp.default_sort_key):
            if atom == sp.S.NegativeOne and not isinstance(expr, sp.Number):
                continue  # printed as a sign: no dtype promotion
            numbers[atom] = sp.Symbol(f"__k{len(numbers)}")
        for atom in (s for s in self.runtime if s in expr.free_symbols):
            numbers[atom] = sp.Symbol(f"__k{len(numbers)}")
        # Integer exponents must stay literal: numbers inside Pow exponents are restored.
        placeholders = {v: k for k, v in numbers.items()}
        replaced = expr.xreplace(numbers)
        replaced = replaced.replace(lambda e: isinstance(e, sp.Pow), lambda e: sp.Pow(e.base, e.exp.xreplace(placeholders)))
        code_names = dict(names or {})
        for symbol, original in placeholders.items():
            code_names[symbol] = self.constant(original)
        for size, code in self.sizes.items():
            code_names.setdefault(size, code)
        return _ScalarPrinter(code_names).doprint(replaced)

    # -- buffers ---------------------------------------------------------------------------
    def _new_buffer(self, shape) -> str:
        self._counter += 1
        name = f"t{self._counter}"
        self.buffers[name] = tuple(self.scalar_size(s) for s in shape)
        return name

    def scalar_size(self, size) -> str:
        return _ScalarPrinter({k: v for k, v in self.sizes.items()}).doprint(sp.sympify(size))

    def bind(self, expr, ref: Ref) -> None:
        self._cache[expr] = ref
        self._cache[push_transposes(sp.Transpose(expr))] = ref.flipped()

    # -- materialisation -------------------------------------------------------------------
    def materialise(self, expr, name: str | None = None) -> Ref:
        """A Ref to a buffer holding ``expr`` (computed now unless already available)."""
        expr = push_transposes(expr)
        if expr in self._cache and name is None:
            return self._cache[expr]
        if isinstance(expr, sp.MatrixSymbol) and name is None:
            return Ref(self.arguments[expr])
        if isinstance(expr, sp.Transpose) and name is None:
            return self.materialise(expr.arg).flipped()
        target = name or self._new_buffer(expr.shape)
        if name is not None and name not in self.buffers:
            self.buffers[name] = tuple(self.scalar_size(s) for s in expr.shape)
        if isinstance(expr, sp.MatMul) and sum(a.is_Matrix for a in expr.args) >= 2:
            self._product(expr, target)
        else:
            self._elementwise(expr, target)
        ref = Ref(target)
        self.bind(expr, ref)
        return ref

    def _product(self, expr, target: str) -> None:
        scalars = sp.Mul(*[a for a in expr.args if not a.is_Matrix])
        factors = [a for a in expr.args if a.is_Matrix]
        left = self.materialise(factors[0])
        for position, factor in enumerate(factors[1:], start=2):
            right = self.materialise(factor)
            last = position == len(factors)
            partial = sp.MatMul(*factors[:position])
            out = target if last else self._new_buffer(partial.shape)
            self._matmul(left, right, out, partial.shape, factors[position - 1].shape[0], scalars if last else 1)
            left = Ref(out)

    def _matmul(self, left: Ref, right: Ref, out: str, shape, inner, coefficient) -> None:
        rows, cols, depth = self.scalar_size(shape[0]), self.scalar_size(shape[1]), self.scalar_size(inner)
        scale = "" if coefficient == 1 else f"{self.coefficient(coefficient)} * "
        if self.blas:
            self.statements.append(f"{out}[:, :] = {scale}np.dot({left.view()}, {right.view()})")
            return
        if self.wide is not None and shape[1] == self.wide and inner != self.wide:
            # Output columns run along the wide size: accumulate rows so the inner loop vectorises.
            self.statements += [
                f"for i in range({rows}):",
                f"    for j in range({cols}):",
                f"        {out}[i, j] = zero",
                f"    for k in range({depth}):",
                f"        a = {left.at('i', 'k')}",
                f"        for j in range({cols}):",
                f"            {out}[i, j] += a * {right.at('k', 'j')}",
            ]
            if coefficient != 1:
                self.statements += [f"    for j in range({cols}):", f"        {out}[i, j] *= {self.coefficient(coefficient)}"]
            return
        self.statements += [
            f"for i in range({rows}):",
            f"    for j in range({cols}):",
            "        acc = zero",
            f"        for k in range({depth}):",
            f"            acc += {left.at('i', 'k')} * {right.at('k', 'j')}",
            f"        {out}[i, j] = {scale}acc",
        ]

    def element(self, expr, i: str, j: str) -> str:
        """Code for entry (i, j) of an element-wise expression (matrix products are materialised)."""
        expr = push_transposes(expr)
        if expr in self._cache:
            return self._cache[expr].at(i, j)
        if isinstance(expr, sp.MatrixSymbol):
            return Ref(self.arguments[expr]).at(i, j)
        if isinstance(expr, sp.Transpose):
            return self.element(expr.arg, j, i)
        if isinstance(expr, sp.MatAdd):
            return "(" + " + ".join(self.element(a, i, j) for a in expr.args) + ")"
        if isinstance(expr, sp.HadamardProduct):
            return "(" + " * ".join(self.element(a, i, j) for a in expr.args) + ")"
        if isinstance(expr, sp.MatMul):
            matrices = [a for a in expr.args if a.is_Matrix]
            if len(matrices) == 1:
                coefficient = sp.Mul(*[a for a in expr.args if not a.is_Matrix])
                if coefficient == -1:
                    return f"(-{self.element(matrices[0], i, j)})"
                return f"({self.coefficient(coefficient)} * {self.element(matrices[0], i, j)})"
            return self.materialise(expr).at(i, j)
        if isinstance(expr, ElementwiseApplyFunction):
            argument = self.materialise(expr.expr) if not isinstance(expr.expr, sp.MatrixSymbol) else None
            access = argument.at(i, j) if argument else Ref(self.arguments[expr.expr]).at(i, j)
            (variable,) = expr.function.variables
            return "(" + self.scalar(expr.function.expr, {variable: access}) + ")"
        if isinstance(expr, sp.ZeroMatrix):
            return "zero"
        raise NotImplementedError(f"no element-wise code for {type(expr).__name__}: {expr}")

    def _elementwise(self, expr, target: str) -> None:
        rows, cols = (self.scalar_size(s) for s in expr.shape)
        body = self.element(expr, "i", "j")
        self.statements += [f"for i in range({rows}):", f"    for j in range({cols}):", f"        {target}[i, j] = {body}"]

    def sum_of_squares(self, ref: Ref, shape, target: str) -> None:
        rows, cols = (self.scalar_size(s) for s in shape)
        self.statements += [f"{target} = zero", f"for i in range({rows}):", f"    for j in range({cols}):",
                            f"        {target} += {ref.at('i', 'j')} * {ref.at('i', 'j')}"]

    def allocations(self, dtype: str) -> list:
        return [f"{name} = np.empty(({rows}, {cols}), dtype={dtype})" for name, (rows, cols) in self.buffers.items()]
