"""Adaptive Dormand-Prince 5(4) for lane flows, in t or in log-time tau = log t.

In log-time the system integrated is dx/dtau = e^tau f(x): trajectories that grow like log t
become nearly linear in tau, so a few hundred steps reach t = 1e12.  The first stretch
[0, t_switch] is integrated in t (tau = log t is singular at 0).

Every lane keeps its own step size, error control and step count (the lanes are independent
systems), but the lanes are advanced in blocks with the lane loop inside: each stage of a step is
one loop over the block's lanes, states stored by component (``X[i, lane]``), so LLVM vectorises
the right-hand side (``lane_derivative``, with the vectorisable ``_exp``) across lanes.  A lane that
has reached the end of a segment (or failed) rides along masked until the block's slowest lane
is done.  The step-size controller ``_dopri5_control`` is vectorised too (selects, and ``_step_factor``
instead of libm's pow).  SOURCE uses ``_exp`` and ``_double_from_bits`` of the generated lane module
(numerics/codegen/lane_module.py) and its ``_block_rhs``.
"""

BLOCK = 256  # most lanes per block of integrate_dopri5 (a compile-time size: constant strides vectorise)
BLOCK_STATES = 256  # lanes x states per block at most (numerics.drivers.lanes): about 10 such arrays stay in L1/L2

SOURCE = f'''
_FLOW_BLOCK = {BLOCK}
''' + '''
# Dormand-Prince coefficients (Hairer, Norsett, Wanner, Table 5.2)
_A21 = 1.0 / 5.0
_A31 = 3.0 / 40.0; _A32 = 9.0 / 40.0
_A41 = 44.0 / 45.0; _A42 = -56.0 / 15.0; _A43 = 32.0 / 9.0
_A51 = 19372.0 / 6561.0; _A52 = -25360.0 / 2187.0; _A53 = 64448.0 / 6561.0; _A54 = -212.0 / 729.0
_A61 = 9017.0 / 3168.0; _A62 = -355.0 / 33.0; _A63 = 46732.0 / 5247.0; _A64 = 49.0 / 176.0; _A65 = -5103.0 / 18656.0
_B1 = 35.0 / 384.0; _B3 = 500.0 / 1113.0; _B4 = 125.0 / 192.0; _B5 = -2187.0 / 6784.0; _B6 = 11.0 / 84.0
_E1 = 71.0 / 57600.0; _E3 = -71.0 / 16695.0; _E4 = 71.0 / 1920.0; _E5 = -17253.0 / 339200.0; _E6 = 22.0 / 525.0; _E7 = -1.0 / 40.0


@numba.njit(cache=True, error_model="numpy")
def _dopri5_stages(log_time, X, Q, n, S, HH, K, T, Y, ST):
    """One trial step of every lane j < n from (S[j], X[:, j]) with size HH[j]: the stages K[1..6] and
    the 5th-order result Y (K[0] holds f at the step's start; K[6] becomes f at its end)."""
    k = X.shape[0]
    for i in range(k):
        for j in range(n):
            T[i, j] = X[i, j] + HH[j] * _A21 * K[0, i, j]
    for j in range(n):
        ST[j] = S[j] + HH[j] / 5.0
    _block_rhs(log_time, ST, T, Q, n, K[1])
    for i in range(k):
        for j in range(n):
            T[i, j] = X[i, j] + HH[j] * (_A31 * K[0, i, j] + _A32 * K[1, i, j])
    for j in range(n):
        ST[j] = S[j] + 3.0 * HH[j] / 10.0
    _block_rhs(log_time, ST, T, Q, n, K[2])
    for i in range(k):
        for j in range(n):
            T[i, j] = X[i, j] + HH[j] * (_A41 * K[0, i, j] + _A42 * K[1, i, j] + _A43 * K[2, i, j])
    for j in range(n):
        ST[j] = S[j] + 4.0 * HH[j] / 5.0
    _block_rhs(log_time, ST, T, Q, n, K[3])
    for i in range(k):
        for j in range(n):
            T[i, j] = X[i, j] + HH[j] * (_A51 * K[0, i, j] + _A52 * K[1, i, j] + _A53 * K[2, i, j] + _A54 * K[3, i, j])
    for j in range(n):
        ST[j] = S[j] + 8.0 * HH[j] / 9.0
    _block_rhs(log_time, ST, T, Q, n, K[4])
    for i in range(k):
        for j in range(n):
            T[i, j] = X[i, j] + HH[j] * (_A61 * K[0, i, j] + _A62 * K[1, i, j] + _A63 * K[2, i, j] + _A64 * K[3, i, j]
                                         + _A65 * K[4, i, j])
    for j in range(n):
        ST[j] = S[j] + HH[j]
    _block_rhs(log_time, ST, T, Q, n, K[5])
    for i in range(k):
        for j in range(n):
            Y[i, j] = X[i, j] + HH[j] * (_B1 * K[0, i, j] + _B3 * K[2, i, j] + _B4 * K[3, i, j] + _B5 * K[4, i, j]
                                         + _B6 * K[5, i, j])
    _block_rhs(log_time, ST, Y, Q, n, K[6])


@numba.njit(cache=True, error_model="numpy")
def _dopri5_errors(X, Y, K, n, HH, rtol, atol, ERR):
    """ERR[j] = max over components of |local error| / (atol + rtol max(|x|, |y|)); inf if any is not finite."""
    k = X.shape[0]
    for j in range(n):
        ERR[j] = 0.0
    for i in range(k):
        for j in range(n):
            e = HH[j] * (_E1 * K[0, i, j] + _E3 * K[2, i, j] + _E4 * K[3, i, j] + _E5 * K[4, i, j] + _E6 * K[5, i, j]
                         + _E7 * K[6, i, j])
            ratio = abs(e) / (atol + rtol * max(abs(X[i, j]), abs(Y[i, j])))
            ratio = ratio if ratio == ratio else math.inf  # a NaN must not be dropped by the max
            ERR[j] = ratio if ratio > ERR[j] else ERR[j]


@numba.extending.intrinsic
def _bits_of_double(typingctx, value):
    """The int64 holding the IEEE bits of the float64 ``value``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvmlite.ir.IntType(64))
    return numba.types.int64(numba.types.float64), codegen


_FIFTH_ROOT_GUESS = 1.2 * 1023.0 * 2.0 ** 52  # bits of e^(-1/5) ~ 1.2 bias - bits(e) / 5


@numba.njit(cache=True, inline="always")
def _step_factor(err):
    """min(5, max(0.2, 0.9 err^(-1/5))) for err >= 0 (5 at err = 0), without libm's pow so that the lane loop of
    _dopri5_control vectorises: y = e^(-1/5) by five Newton steps y <- y (6 - e y^5) / 5 from a first guess
    read off the exponent bits (error < 9%; 3 eps^2 per step), for e = err clamped to [1e-5, 1e5]: outside
    it the clip decides (0.9 err^(-1/5) > 5 below 1.9e-4, < 0.2 above 1846)."""
    e = min(max(err, 1e-5), 1e5)
    y = _double_from_bits(np.int64(_FIFTH_ROOT_GUESS - 0.2 * _bits_of_double(e)))
    y = y * (1.2 - 0.2 * e * (y * y) * (y * y) * y)
    y = y * (1.2 - 0.2 * e * (y * y) * (y * y) * y)
    y = y * (1.2 - 0.2 * e * (y * y) * (y * y) * y)
    y = y * (1.2 - 0.2 * e * (y * y) * (y * y) * y)
    y = y * (1.2 - 0.2 * e * (y * y) * (y * y) * y)
    return min(5.0, max(0.2, 0.9 * y))


@numba.njit(cache=True, error_model="numpy")
def _dopri5_control(X, Y, K, n, s1, S, H, HH, ERR, work, code, ACC):
    """Accept or reject each running lane's trial step and choose its next step size (in place), with
    selects only, so that LLVM vectorises the lane loops.  ERR[j] is inf where a stage was not finite:
    the step is rejected and shrunk 5x (a true blow-up ends in a step-size underflow, reported as the
    first non-finite component).  code[j]: -1 running, >= 0 non-finite component, -3 step-size underflow."""
    k = X.shape[0]
    blown = False
    for j in range(n):
        live = code[j] == -1 and S[j] < s1
        hh = HH[j]
        err = ERR[j]
        finite = err < math.inf
        accept = live and err <= 1.0
        factor = _step_factor(err) if finite else 0.2
        s = (s1 if hh >= s1 - S[j] else S[j] + hh) if accept else S[j]
        h = hh * factor if hh == H[j] or err > 1.0 else H[j]  # a step cut short at s1 keeps the step size
        underflow = live and h < 1e-14 * max(1.0, abs(s))
        blown = blown or (underflow and not finite)
        S[j] = s
        H[j] = h if live else H[j]
        work[j] += 1 if live else 0
        code[j] = -3 if underflow else code[j]
        ACC[j] = accept
    for i in range(k):
        for j in range(n):
            X[i, j] = Y[i, j] if ACC[j] else X[i, j]
            K[0, i, j] = K[6, i, j] if ACC[j] else K[0, i, j]  # first-same-as-last
    if blown:
        for j in range(n):
            if code[j] == -3 and not math.isfinite(ERR[j]):
                for i in range(k - 1, -1, -1):
                    if not math.isfinite(Y[i, j]):
                        code[j] = i


@numba.njit(cache=True, error_model="numpy")
def _dopri5_segment(log_time, X, Q, n, s0, s1, H, rtol, atol, max_steps, K, T, Y, S, ST, HH, ERR, ACC, work, code):
    """Advance the running lanes (code[j] == -1) of a block from s0 to s1 in place, each with its own
    step size H[j]; work[j] counts every lane's steps (a lane stops with code -2 at max_steps)."""
    for j in range(n):
        S[j] = s0
    _block_rhs(log_time, S, X, Q, n, K[0])
    while True:
        running = 0
        for j in range(n):
            if code[j] == -1 and S[j] < s1:
                if work[j] >= max_steps:
                    code[j] = -2
                else:
                    running += 1
        if running == 0:
            return
        for j in range(n):  # finished lanes take a harmless step of size 0 (masked by _dopri5_control)
            HH[j] = max(0.0, min(H[j], s1 - S[j]))
        _dopri5_stages(log_time, X, Q, n, S, HH, K, T, Y, ST)
        _dopri5_errors(X, Y, K, n, HH, rtol, atol, ERR)
        _dopri5_control(X, Y, K, n, s1, S, H, HH, ERR, work, code, ACC)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def integrate_dopri5(x0, q, times, log_time, t_switch, rtol, atol, max_steps, out, status, block):
    """out[r, lane] = state at times[r].  With log_time, times > t_switch are reached in tau.
    status[lane] = (steps, code): code -1 ok, >= 0 non-finite component, -2 too many steps,
    -3 step size underflow.  Lanes in blocks of ``block`` <= _FLOW_BLOCK (prange over blocks)."""
    L, k = x0.shape
    P = q.shape[1]
    R = times.shape[0]
    block = max(1, min(block, _FLOW_BLOCK))
    for b in numba.prange((L + block - 1) // block):
        lo = b * block
        n = min(block, L - lo)
        X = np.empty((k, _FLOW_BLOCK)); Q = np.empty((P, _FLOW_BLOCK))
        K = np.empty((7, k, _FLOW_BLOCK)); T = np.empty((k, _FLOW_BLOCK)); Y = np.empty((k, _FLOW_BLOCK))
        S = np.empty(_FLOW_BLOCK); ST = np.empty(_FLOW_BLOCK); HH = np.empty(_FLOW_BLOCK); ERR = np.empty(_FLOW_BLOCK)
        ACC = np.empty(_FLOW_BLOCK, dtype=np.bool_)
        H = np.full(_FLOW_BLOCK, 1e-3)
        work = np.zeros(_FLOW_BLOCK, dtype=np.int64)
        code = np.full(_FLOW_BLOCK, -1, dtype=np.int64)
        for j in range(n):
            for i in range(k):
                X[i, j] = x0[lo + j, i]
            for i in range(P):
                Q[i, j] = q[lo + j, i]
        t = 0.0
        for r in range(R):
            target = times[r]
            if target > t:
                # in_tau is a run-time bool (never a literal True/False): one compiled segment serves t and tau
                in_tau = log_time and target > t_switch
                if in_tau:
                    if t < t_switch:
                        _dopri5_segment(not in_tau, X, Q, n, t, t_switch, H, rtol, atol, max_steps, K, T, Y, S, ST, HH,
                                        ERR, ACC, work, code)
                        t = t_switch
                        H[:] = 0.1
                    _dopri5_segment(in_tau, X, Q, n, math.log(t), math.log(target), H, rtol, atol, max_steps, K, T, Y,
                                    S, ST, HH, ERR, ACC, work, code)
                else:
                    _dopri5_segment(in_tau, X, Q, n, t, target, H, rtol, atol, max_steps, K, T, Y, S, ST, HH, ERR,
                                    ACC, work, code)
                t = target
            for j in range(n):
                for i in range(k):
                    out[r, lo + j, i] = X[i, j]
        for j in range(n):
            status[lo + j, 0] = work[j]
            status[lo + j, 1] = code[j]
'''
