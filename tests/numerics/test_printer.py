"""Tests for the SymPy -> Numba printers (numerics/codegen/printer.py).

Oracles: the original SymPy expression evaluated at 50 digits (mpmath through evalf),
analytic limits at huge margins, and explicit SymPy matrices / SciPy for the matrix printer.
"""

from __future__ import annotations

import ast

import mpmath
import numpy as np
import pytest
import scipy.special
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradflow.numerics.codegen import support
from gradflow.numerics.codegen.printer import lane_block, lane_code, matrix_code, stable_forms, stable_lane_code
from gradflow.numerics.drivers.lanes import LaneSimulator
from gradflow.theory.flow import Map
from gradflow.theory.matrix_functions import RowLogSumExp, RowSoftmax, RowSoftmaxJVP

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset

SETTINGS = settings(max_examples=25, deadline=None)

m = sp.Symbol("m", real=True)
eta, M, p, c = sp.symbols("eta M p c", positive=True)

EXPRESSIONS = {
    "margin map": m + eta * M * p / (M + sp.exp(m) - 1),
    "loss (log form)": -m + sp.log(M - 1 + sp.exp(m)),
    "loss (log1p form)": sp.log(1 + (M - 1) * sp.exp(-m)),
    "margin velocity": p * M / (sp.exp(m) + M - 1),
    "sigmoid": 1 / (1 + sp.exp(-m)),
    "sigmoid of 2m": sp.exp(2 * m) / (1 + sp.exp(2 * m)),
    "softplus": sp.log(1 + sp.exp(m)),
}


def _high_precision(expr, values: dict):
    return sp.N(expr.subs({k: sp.Float(v, 60) for k, v in values.items()}), 50)


def _exp_of(expr, x):
    return [e for e in expr.atoms(sp.exp) if x in e.free_symbols]


# --------------------------------------------------------------------------- stable_forms


@pytest.mark.parametrize("label", sorted(EXPRESSIONS))
@SETTINGS
@given(
    mv=st.floats(min_value=-40.0, max_value=40.0),
    Mv=st.integers(min_value=2, max_value=1000),
    pv=st.floats(min_value=1e-3, max_value=1.0),
    etav=st.floats(min_value=1e-3, max_value=1e3),
)
def test_stable_forms_equal_the_expression(label, mv, Mv, pv, etav):
    expr = EXPRESSIONS[label]
    positive, negative, aux = stable_forms(expr, m)
    assert aux is not None
    values = {m: mv, M: Mv, p: pv, eta: etav}
    exact = _high_precision(expr, values)
    # u = e^{-|m|} in the branch each form is used in; the identities hold for every m, so both
    # forms are checked at every drawn m with their own definition of u
    pos = _high_precision(positive.subs(aux, sp.exp(-m)), values)
    neg = _high_precision(negative.subs(aux, sp.exp(m)), values)
    scale = max(abs(exact), sp.Float(1e-300))
    assert abs(pos - exact) / scale < 1e-30, (positive, pos, exact)
    assert abs(neg - exact) / scale < 1e-30, (negative, neg, exact)


@pytest.mark.parametrize("label", sorted(EXPRESSIONS))
def test_stable_forms_never_exponentiate_the_pivot(label):
    positive, negative, aux = stable_forms(EXPRESSIONS[label], m)
    for form in (positive, negative):
        assert _exp_of(form, m) == [], form
        # no negative power of u survives: the form stays finite when u -> 0 (|m| -> infinity)
        at_zero = form.subs(aux, 0)
        assert not at_zero.has(sp.zoo, sp.oo, -sp.oo, sp.nan), form
    assert aux.is_positive


def test_stable_forms_of_an_expression_without_exp_are_unchanged():
    expr = m ** 2 + eta * m
    assert stable_forms(expr, m) == (expr, expr, None)
    code = stable_lane_code(expr, m, {m: "x0", eta: "q0"}, "    ", "out[0]")
    assert code.startswith("    out[0] = ") and code.count("\n") == 1 and "if" not in code
    namespace = {"x0": 1.5, "q0": -0.25, "out": [None]}
    exec(code.strip(), namespace)
    assert namespace["out"][0] == 1.5 ** 2 - 0.25 * 1.5


def test_stable_lane_code_branches_on_the_sign_and_renames():
    code = stable_lane_code(EXPRESSIONS["sigmoid"], m, {m: "x0"}, "  ", "y")
    lines = code.splitlines()
    assert lines[0] == "  if x0 > 0.0:"
    assert "_u = math.exp(-x0)" in lines[1]
    assert lines[3] == "  else:"
    assert "_u = math.exp(x0)" in lines[4]
    namespace = {"math": __import__("math")}
    for x in (-800.0, -3.0, 0.0, 2.5, 800.0):
        namespace["x0"] = x
        exec(compile(code.replace("\n  ", "\n").lstrip(), "<lane>", "exec"), namespace)
        assert namespace["y"] == pytest.approx(float(scipy.special.expit(x)), rel=1e-15, abs=1e-300)


def test_lane_block_with_a_vectorisable_exp_takes_it_once_before_the_branch():
    # the CPU kernels' form: _u = _exp(-abs(m)); if m > 0.0: ... else: ... (a select for LLVM), the same
    # doubles as the math.exp form (which is checked against 50 digits above), with _exp = math.exp
    exprs = [EXPRESSIONS[k] for k in ("margin map", "margin velocity", "sigmoid", "softplus")]
    names = {m: "x0", eta: "q0", M: "q1", p: "q2"}
    targets = [f"out[{i}]" for i in range(len(exprs))]
    hoisted = lane_block(exprs, (m,), names, "", targets, exp="_exp")
    branched = lane_block(exprs, (m,), names, "", targets)
    lines = hoisted.splitlines()
    assert lines[0] == "_u = _exp(-abs(x0))" and lines[1] == "if x0 > 0.0:" and "exp(" not in "".join(lines[1:])
    math = __import__("math")
    for x in (-800.0, -30.0, -1.0, -1e-300, 0.0, 1e-300, 0.5, 3.0, 745.0, 1e4):
        results = []
        for code in (hoisted, branched):
            scope = {"math": math, "_exp": math.exp, "out": [None] * len(exprs), "x0": x, "q0": 0.7, "q1": 10.0,
                     "q2": 0.3}
            exec(compile(code, "<lane_block>", "exec"), scope)  # noqa: S102 - our own printer's output
            results.append(scope["out"])
        assert results[0] == results[1], (x, results)


def test_lane_code_renames_and_uses_log1p_expm1():
    x, a = sp.symbols("x a")
    assert lane_code(sp.log(1 + x), {x: "x0"}) == "math.log1p(x0)"
    assert lane_code(sp.exp(x) - 1, {x: "x0"}) == "math.expm1(x0)"
    code = lane_code(a * x + sp.log(1 + x * a), {x: "x0", a: "q3"})
    assert "x0" in code and "q3" in code and " x " not in f" {code} " and "log1p" in code
    value = eval(code, {"math": __import__("math"), "x0": 1e-20, "q3": 3.0})  # noqa: S307
    assert value == pytest.approx(3e-20 + 3e-20, rel=1e-15)


def test_stable_forms_handle_shifted_exponentials():
    expr = -m + sp.log(M - 1 + sp.exp(m - c))
    positive, negative, aux = stable_forms(expr, m)
    assert _exp_of(positive, m) == []


# ----------------------------------------------------------------- generated lane code


@pytest.fixture(scope="module")
def margin_sim():
    system = Map((m,), (EXPRESSIONS["margin map"],), (eta, M, p), eta, name="printer test margin map")
    observables = {
        "loss": EXPRESSIONS["loss (log form)"],
        "loss1p": EXPRESSIONS["loss (log1p form)"],
        "sigmoid": EXPRESSIONS["sigmoid"],
        "velocity": EXPRESSIONS["margin velocity"],
    }
    return LaneSimulator(system, observables)


def _mp_update(mv, etav, Mv, pv):
    with mpmath.workdps(60):
        mv, etav, Mv, pv = map(mpmath.mpf, (mv, etav, Mv, pv))
        return mv + etav * Mv * pv / (Mv + mpmath.exp(mv) - 1)


def _mp_loss(mv, Mv):
    with mpmath.workdps(60):
        return mpmath.log1p((mpmath.mpf(Mv) - 1) * mpmath.exp(-mpmath.mpf(mv)))


def _mp_sigmoid(mv):
    with mpmath.workdps(60):
        return 1 / (1 + mpmath.exp(-mpmath.mpf(mv)))


def _mp_velocity(mv, Mv, pv):
    with mpmath.workdps(60):
        return mpmath.mpf(pv) * Mv / (mpmath.exp(mpmath.mpf(mv)) + Mv - 1)


HUGE = np.array([700.0, -700.0, 1e4, -1e4, 745.5, -745.5, 1e300, -1e300, 0.0, 30.0, -30.0])


TINY = 2.2250738585072014e-308  # smallest normal double


def _close(got, want, rel, scale=None, subnormal_ulps=0):
    """got (a double) matches want (an mpf) to rel relative to scale (default |want|); values below
    the smallest normal double only need to come out below it too.  ``subnormal_ulps`` allows that many
    units of the smallest subnormal (2^-1074) besides: a result just above the smallest normal computed
    from a subnormal factor (e^{-|m|} for |m| > 708) carries that factor's absolute rounding."""
    want = mpmath.mpf(want)
    scale = abs(want) if scale is None else mpmath.mpf(scale)
    if scale < TINY:
        return abs(got) <= 4 * TINY
    return abs(mpmath.mpf(got) - want) <= rel * scale + subnormal_ulps * mpmath.mpf(2) ** -1074


@SETTINGS
@given(Mv=st.integers(min_value=2, max_value=1000), pv=st.floats(min_value=1e-3, max_value=1.0),
       etav=st.sampled_from([1e-3, 0.5, 1.0, 1e3]))
def test_generated_map_is_finite_and_exact_at_huge_margins(margin_sim, Mv, pv, etav):
    x0 = HUGE.reshape(-1, 1)
    q = np.tile([etav, float(Mv), pv], (HUGE.size, 1))
    traj = margin_sim.iterate(x0, q, 1)
    after = traj.states[1, :, 0]
    assert np.all(np.isfinite(after))
    for i, mv in enumerate(HUGE):
        want = _mp_update(mv, etav, Mv, pv)
        # m + increment may cancel (m = -30, increment 30): judge the error on the scale of the terms
        assert _close(after[i], want, 1e-15, scale=abs(mv) + abs(want - mv)), (mv, after[i], want)
    obs = traj.observables
    for name in ("loss", "loss1p", "sigmoid", "velocity"):
        assert np.all(np.isfinite(obs[name])), name
    for r in range(2):
        for i, mv in enumerate(traj.states[r, :, 0]):
            assert _close(obs["sigmoid"][r, i], _mp_sigmoid(mv), 1e-15)
            # p M e^{-m} / (1 + (M - 1) e^{-m}): e^{-m}'s rounding, times up to M
            assert _close(obs["velocity"][r, i], _mp_velocity(mv, Mv, pv), 1e-15, subnormal_ulps=Mv)
            if mv <= 0:  # the loss where it is O(1) or larger; see the xfail below for m > 0
                assert _close(obs["loss"][r, i], _mp_loss(mv, Mv), 1e-15)
                assert _close(obs["loss1p"][r, i], _mp_loss(mv, Mv), 1e-15)
            else:  # relative accuracy where the loss is O(1), absolute where it is tiny
                want = _mp_loss(mv, Mv)
                assert _close(obs["loss"][r, i], want, 2e-15, scale=max(want, 1))


def test_generated_map_limits(margin_sim):
    # analytic limits: e^m -> infinity freezes the margin; e^m -> 0 adds eta M p / (M - 1)
    Mv, pv, etav = 10.0, 0.5, 1e3
    x0 = np.array([[1e4], [-1e4], [1e300], [-1e300]])
    traj = margin_sim.iterate(x0, np.tile([etav, Mv, pv], (4, 1)), 3)
    np.testing.assert_array_equal(traj.states[:, 0, 0], 1e4)
    np.testing.assert_array_equal(traj.states[:, 2, 0], 1e300)
    np.testing.assert_array_equal(traj.states[:, 3, 0], -1e300)  # the increment is below one ulp
    step = etav * Mv * pv / (Mv - 1)
    np.testing.assert_allclose(traj.states[:, 1, 0], -1e4 + step * np.arange(4), rtol=1e-15)
    np.testing.assert_array_equal(traj.observables["sigmoid"][:, 0], 1.0)
    np.testing.assert_array_equal(traj.observables["sigmoid"][:, 1], 0.0)
    np.testing.assert_allclose(traj.observables["loss"][:, 1], -traj.states[:, 1, 0] + np.log(Mv - 1), rtol=1e-15)


def test_generated_source_is_documented_and_branches(margin_sim):
    src = margin_sim.source
    assert "State order: m" in src and "Parameter order: eta, M, p" in src
    assert '"""(m) <- ' in src  # the update is restated in the kernel docstring
    tree = ast.parse(src)
    update = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "lane_update")
    position = next(i for i, node in enumerate(update.body) if isinstance(node, ast.If))
    branch = update.body[position]
    # _u = _exp(-abs(<m>)); if <m> > 0.0: ... else: ... (the CPU kernels take the shared e^{-|m|} once,
    # by the vectorisable _exp, before the stable branch, which LLVM then turns into a select)
    state = ast.unparse(branch.test.left)
    assert ast.unparse(branch.test) == f"{state} > 0.0"
    assert ast.unparse(update.body[position - 1]) == f"_u = _exp(-abs({state}))"
    # exp is only ever taken of -|m|, once: the kernel calls no libm exp at all
    calls = [ast.unparse(n) for n in ast.walk(update) if isinstance(n, ast.Call) and "exp" in ast.unparse(n.func)]
    assert calls == [f"_exp(-abs({state}))"]


def test_generated_loss_keeps_relative_precision_at_large_margins(margin_sim):
    margins = np.array([[20.0], [40.0], [100.0], [700.0]])
    traj = margin_sim.iterate(margins, np.tile([1.0, 10.0, 0.5], (4, 1)), 0)
    for name in ("loss", "loss1p"):
        for i, mv in enumerate(margins[:, 0]):
            assert _close(traj.observables[name][0, i], _mp_loss(mv, 10), 1e-13), (name, mv)


# ------------------------------------------------------------------------ matrix printer

N, K, D = 3, 4, 2
A = sp.MatrixSymbol("A", N, K)
B = sp.MatrixSymbol("B", K, D)
C = sp.MatrixSymbol("C", N, D)
E = sp.MatrixSymbol("E", N, D)
w = sp.MatrixSymbol("w", N, 1)
k = sp.Symbol("k")
MATRIX_NAMES = {A: "A_", B: "B_", C: "C_", E: "E_", w: "w_"}

MATRIX_EXPRESSIONS = {
    "product": A * B,
    "transpose": (A * B).T,
    "sum": A * B + C,
    "affine": 2 * A * B - C,
    "negated": -A * B,
    "rational coefficient": sp.Rational(1, 2) * A * B,
    "hadamard": sp.HadamardProduct(A * B, C),
    "diag first": sp.DiagMatrix(w) * A * B,
    "diag in the middle": C.T * sp.DiagMatrix(w) * A,
    "diag alone": sp.DiagMatrix(w),
    "row sums": A * sp.OneMatrix(K, 1),
    "row sums after product": A * B * sp.OneMatrix(D, 1),
    "long chain": A * B * C.T * A,
    "gram": C.T * C + E.T * E,
}


def _explicit(expr, values):
    subs = {sym: sp.Matrix(values[name]) for sym, name in MATRIX_NAMES.items()}
    explicit = sp.Matrix(expr.subs(subs).doit())
    return np.array(explicit.evalf(30).tolist(), dtype=float)


def _numpy_eval(code, values):
    namespace = {"np": np, "_row_softmax": support._row_softmax, "_row_logsumexp": support._row_logsumexp,
                 "_row_softmax_jvp": support._row_softmax_jvp, "_row_sums": support._row_sums,
                 "_weighted_softmax_minus": support._weighted_softmax_minus,
                 "_weighted_cross_entropy": support._weighted_cross_entropy, **values}
    return eval(code, namespace)  # noqa: S307 - evaluating our own printer's output


finite = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)


def _matrices():
    return st.fixed_dictionaries({
        "A_": hnp.arrays(float, (N, K), elements=finite), "B_": hnp.arrays(float, (K, D), elements=finite),
        "C_": hnp.arrays(float, (N, D), elements=finite), "E_": hnp.arrays(float, (N, D), elements=finite),
        "w_": hnp.arrays(float, (N, 1), elements=finite),
    })


@pytest.mark.parametrize("label", sorted(MATRIX_EXPRESSIONS))
@settings(max_examples=10, deadline=None)
@given(values=_matrices())
def test_matrix_code_matches_explicit_sympy(label, values):
    expr = MATRIX_EXPRESSIONS[label]
    code = matrix_code(expr, MATRIX_NAMES)
    got = _numpy_eval(code, values)
    want = _explicit(expr, values)
    assert got.shape == want.shape == tuple(int(s) for s in expr.shape)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_matrix_code_uses_matmul_and_never_forms_the_diagonal_matrix():
    assert matrix_code(A * B, MATRIX_NAMES) == "(A_ @ B_)"
    code = matrix_code(C.T * sp.DiagMatrix(w) * A, MATRIX_NAMES)
    assert "np.diag" not in code and "@" in code
    assert "np.diag" not in matrix_code(sp.DiagMatrix(w) * A * B, MATRIX_NAMES)
    assert matrix_code(A * sp.OneMatrix(K, 1), MATRIX_NAMES) == "_row_sums(A_)"  # no .sum(axis=1): slow to compile


@settings(max_examples=15, deadline=None)
@given(S=hnp.arrays(float, (N, D + 2), elements=st.floats(min_value=-800.0, max_value=800.0)),
       w_=hnp.arrays(float, (N, 1), elements=st.floats(min_value=0.0, max_value=1.0)),
       labels=hnp.arrays(np.int64, N, elements=st.integers(0, D + 1)))
def test_softmax_cross_entropy_loss_is_one_fused_call(S, w_, labels):
    """The head's loss w^T (logsumexp_row(S) - (Y o S) 1) prints as _weighted_cross_entropy; oracle: SciPy's
    logsumexp with the one-hot Y (logits of +-800: the row maximum is shifted out)."""
    from gradflow.theory.model import SoftmaxCrossEntropy

    Sm, Ym = sp.MatrixSymbol("S", N, D + 2), sp.MatrixSymbol("Y", N, D + 2)
    code = matrix_code(SoftmaxCrossEntropy(w, Ym).loss(Sm), {Sm: "S_", Ym: "Y_", w: "w_"})
    assert code == "_weighted_cross_entropy(S_, Y_, w_)"
    Y_ = np.eye(D + 2)[labels]
    got = _numpy_eval(code, {"S_": S, "Y_": Y_, "w_": w_})
    want = w_[:, 0] @ (scipy.special.logsumexp(S, axis=1) - S[np.arange(N), labels])
    assert got.shape == (1, 1)
    np.testing.assert_allclose(got[0, 0], want, rtol=1e-12, atol=1e-12 * np.abs(S).max())


def test_frobenius_norm_helper():
    X = np.arange(-6.0, 6.0).reshape(3, 4)
    assert support._frobenius_norm(X) == pytest.approx(np.linalg.norm(X), rel=1e-15)
    assert support._frobenius_norm(np.zeros((2, 0))) == 0.0


def test_matrix_code_symbolic_coefficient():
    code = matrix_code(k * A * B, MATRIX_NAMES)
    values = {"A_": np.arange(12.0).reshape(N, K), "B_": np.ones((K, D)), "k": 0.25}
    np.testing.assert_allclose(_numpy_eval(code, values), 0.25 * values["A_"] @ values["B_"], rtol=1e-15)


@settings(max_examples=15, deadline=None)
@given(S=hnp.arrays(float, (N, D + 2), elements=st.floats(min_value=-800.0, max_value=800.0)),
       dS=hnp.arrays(float, (N, D + 2), elements=finite))
def test_row_functions_match_scipy(S, dS):
    """Logits of +-800: exp would overflow without the max shift."""
    Sm = sp.MatrixSymbol("S", N, D + 2)
    dSm = sp.MatrixSymbol("dS", N, D + 2)
    names = {Sm: "S_", dSm: "dS_"}
    values = {"S_": S, "dS_": dS}
    pi = _numpy_eval(matrix_code(RowSoftmax(Sm), names), values)
    np.testing.assert_allclose(pi, scipy.special.softmax(S, axis=1), rtol=1e-12, atol=1e-300)
    lse = _numpy_eval(matrix_code(RowLogSumExp(Sm), names), values)
    assert lse.shape == (N, 1)
    np.testing.assert_allclose(lse[:, 0], scipy.special.logsumexp(S, axis=1), rtol=1e-13, atol=1e-12)
    # finite-difference oracle of the softmax along dS (central, step 1e-6), at logits scaled
    # down to +-80 so that rounding S + h dS does not bend the direction
    S = S / 10.0
    values = {"S_": S, "dS_": dS}
    jvp = _numpy_eval(matrix_code(RowSoftmaxJVP(Sm, dSm), names), values)
    h = 1e-6
    fd = (scipy.special.softmax(S + h * dS, axis=1) - scipy.special.softmax(S - h * dS, axis=1)) / (2 * h)
    np.testing.assert_allclose(jvp, fd, rtol=1e-5, atol=1e-8)
    # combined with products: the gradient-like expression diag(w) (softmax(S) - Y)
    Y = sp.MatrixSymbol("Y", N, D + 2)
    Y_ = np.eye(N, D + 2)
    w_ = np.linspace(0.1, 0.3, N).reshape(-1, 1)
    code = matrix_code(sp.DiagMatrix(w) * (RowSoftmax(Sm) - Y), {**names, Y: "Y_", w: "w_"})
    np.testing.assert_allclose(_numpy_eval(code, {**values, "Y_": Y_, "w_": w_}),
                               w_ * (scipy.special.softmax(S, axis=1) - Y_), rtol=1e-12, atol=1e-15)


def test_matrix_code_refuses_unknown_nodes():
    with pytest.raises(NotImplementedError, match="Inverse"):
        matrix_code(sp.Inverse(sp.MatrixSymbol("Q", 3, 3)), {})


def test_matrix_code_diag_of_a_row_vector():
    r = sp.MatrixSymbol("r", 1, 3)
    X = sp.MatrixSymbol("X", 3, 3)
    rng = np.random.default_rng(7)
    rv, Xv = rng.normal(size=(1, 3)), rng.normal(size=(3, 3))
    got = _numpy_eval(matrix_code(sp.DiagMatrix(r) * X, {r: "r_", X: "X_"}), {"r_": rv, "X_": Xv})
    np.testing.assert_allclose(got, np.diag(rv[0]) @ Xv, rtol=1e-12)


def test_generated_code_survives_keyword_and_builtin_symbol_names():
    lam = sp.Symbol("lambda", real=True)
    shadow = sp.Symbol("abs", positive=True)
    system = Map((lam,), (lam - shadow * sp.Abs(lam) / 2,), (shadow,), name="keyword names")
    sim = LaneSimulator(system)
    traj = sim.iterate([[-2.0], [3.0]], [[1.0], [0.5]], 3)
    expected = []
    for x, a in ((-2.0, 1.0), (3.0, 0.5)):
        row = [x]
        for _ in range(3):
            x = x - a * abs(x) / 2
            row.append(x)
        expected.append(row)
    np.testing.assert_allclose(traj.states[:, :, 0], np.array(expected).T, rtol=1e-15)
