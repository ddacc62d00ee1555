"""Adaptive Dormand-Prince 5(4) for lane flows, in t or in log-time tau = log t.

In log-time the system integrated is dx/dtau = e^tau f(x): trajectories that grow like log t
become nearly linear in tau, so a few hundred steps reach t = 1e12.  The first stretch
[0, t_switch] is integrated in t (tau = log t is singular at 0).
"""

SOURCE = '''
# Dormand-Prince coefficients (Hairer, Norsett, Wanner, Table 5.2)
_A21 = 1.0 / 5.0
_A31 = 3.0 / 40.0; _A32 = 9.0 / 40.0
_A41 = 44.0 / 45.0; _A42 = -56.0 / 15.0; _A43 = 32.0 / 9.0
_A51 = 19372.0 / 6561.0; _A52 = -25360.0 / 2187.0; _A53 = 64448.0 / 6561.0; _A54 = -212.0 / 729.0
_A61 = 9017.0 / 3168.0; _A62 = -355.0 / 33.0; _A63 = 46732.0 / 5247.0; _A64 = 49.0 / 176.0; _A65 = -5103.0 / 18656.0
_B1 = 35.0 / 384.0; _B3 = 500.0 / 1113.0; _B4 = 125.0 / 192.0; _B5 = -2187.0 / 6784.0; _B6 = 11.0 / 84.0
_E1 = 71.0 / 57600.0; _E3 = -71.0 / 16695.0; _E4 = 71.0 / 1920.0; _E5 = -17253.0 / 339200.0; _E6 = 22.0 / 525.0; _E7 = -1.0 / 40.0


@numba.njit(cache=True)
def _timed_rhs(log_time, s, x, q, out):
    lane_rhs(x, q, out)
    if log_time:
        scale = math.exp(s)
        for i in range(x.shape[0]):
            out[i] *= scale


@numba.njit(cache=True)
def _dopri5_segment(log_time, x, q, s0, s1, h, rtol, atol, max_steps, K, tmp, y):
    """Advance x from s0 to s1 in place; returns (next step size, steps taken, bad component)."""
    n = x.shape[0]
    s = s0
    steps = 0
    _timed_rhs(log_time, s, x, q, K[0])
    while s < s1:
        if steps >= max_steps:
            return h, steps, -2
        hh = min(h, s1 - s)
        for i in range(n):
            tmp[i] = x[i] + hh * _A21 * K[0, i]
        _timed_rhs(log_time, s + hh / 5.0, tmp, q, K[1])
        for i in range(n):
            tmp[i] = x[i] + hh * (_A31 * K[0, i] + _A32 * K[1, i])
        _timed_rhs(log_time, s + 3.0 * hh / 10.0, tmp, q, K[2])
        for i in range(n):
            tmp[i] = x[i] + hh * (_A41 * K[0, i] + _A42 * K[1, i] + _A43 * K[2, i])
        _timed_rhs(log_time, s + 4.0 * hh / 5.0, tmp, q, K[3])
        for i in range(n):
            tmp[i] = x[i] + hh * (_A51 * K[0, i] + _A52 * K[1, i] + _A53 * K[2, i] + _A54 * K[3, i])
        _timed_rhs(log_time, s + 8.0 * hh / 9.0, tmp, q, K[4])
        for i in range(n):
            tmp[i] = x[i] + hh * (_A61 * K[0, i] + _A62 * K[1, i] + _A63 * K[2, i] + _A64 * K[3, i] + _A65 * K[4, i])
        _timed_rhs(log_time, s + hh, tmp, q, K[5])
        for i in range(n):
            y[i] = x[i] + hh * (_B1 * K[0, i] + _B3 * K[2, i] + _B4 * K[3, i] + _B5 * K[4, i] + _B6 * K[5, i])
        _timed_rhs(log_time, s + hh, y, q, K[6])
        err = 0.0
        finite = True
        for i in range(n):
            e = hh * (_E1 * K[0, i] + _E3 * K[2, i] + _E4 * K[3, i] + _E5 * K[4, i] + _E6 * K[5, i] + _E7 * K[6, i])
            ratio = abs(e) / (atol + rtol * max(abs(x[i]), abs(y[i])))
            if not math.isfinite(ratio):  # max() would silently drop a NaN
                finite = False
            elif ratio > err:
                err = ratio
        steps += 1
        if not finite:
            # a stage overflowed: reject the step and shrink it; a true blow-up ends below
            h = 0.2 * hh
            if h < 1e-14 * max(1.0, abs(s)):
                for i in range(n):
                    if not math.isfinite(y[i]):
                        return h, steps, i
                return h, steps, -3
            continue
        if err <= 1.0:
            s = s1 if hh >= s1 - s else s + hh
            x[:] = y
            K[0, :] = K[6, :]  # first-same-as-last
            factor = 5.0 if err == 0.0 else min(5.0, 0.9 * err ** -0.2)
        else:
            factor = max(0.2, 0.9 * err ** -0.2)
        if hh == h or err > 1.0:
            h = hh * factor
        if h < 1e-14 * max(1.0, abs(s)):
            return h, steps, -3
    return h, steps, -1


@numba.njit(parallel=True, cache=True)
def integrate_dopri5(x0, q, times, log_time, t_switch, rtol, atol, max_steps, out, status):
    """out[r, lane] = state at times[r].  With log_time, times > t_switch are reached in tau.
    status[lane] = (steps, code): code -1 ok, >= 0 non-finite component, -2 too many steps,
    -3 step size underflow."""
    L, n = x0.shape
    R = times.shape[0]
    for lane in numba.prange(L):
        x = x0[lane].copy()
        K = np.empty((7, n)); tmp = np.empty(n); y = np.empty(n)
        t = 0.0
        h = 1e-3
        total = 0
        code = -1
        for r in range(R):
            target = times[r]
            if code == -1 and target > t:
                if log_time and target > t_switch:
                    if t < t_switch:
                        h, steps, code = _dopri5_segment(False, x, q[lane], t, t_switch, h, rtol, atol, max_steps - total, K, tmp, y)
                        total += steps
                        t = t_switch
                        h = 0.1
                    if code == -1:
                        h, steps, code = _dopri5_segment(True, x, q[lane], math.log(t), math.log(target), h, rtol, atol, max_steps - total, K, tmp, y)
                        total += steps
                else:
                    h, steps, code = _dopri5_segment(False, x, q[lane], t, target, h, rtol, atol, max_steps - total, K, tmp, y)
                    total += steps
                t = target
            out[r, lane, :] = x
        status[lane, 0] = total
        status[lane, 1] = code
'''
