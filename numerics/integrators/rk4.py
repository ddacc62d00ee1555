"""Classical fixed-step Runge-Kutta 4 for lane flows; steps are shortened to hit record times."""

SOURCE = '''
@numba.njit(cache=True)
def _rk4_step(x, q, h, k1, k2, k3, k4, tmp, y):
    n = x.shape[0]
    lane_rhs(x, q, k1)
    for i in range(n):
        tmp[i] = x[i] + 0.5 * h * k1[i]
    lane_rhs(tmp, q, k2)
    for i in range(n):
        tmp[i] = x[i] + 0.5 * h * k2[i]
    lane_rhs(tmp, q, k3)
    for i in range(n):
        tmp[i] = x[i] + h * k3[i]
    lane_rhs(tmp, q, k4)
    for i in range(n):
        y[i] = x[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])


@numba.njit(parallel=True, cache=True)
def integrate_rk4(x0, q, times, h, out, status):
    """out[r, lane] = state at times[r] (times sorted, >= 0); status as in iterate_map."""
    L, k = x0.shape
    R = times.shape[0]
    for lane in numba.prange(L):
        x = x0[lane].copy()
        y = np.empty(k); k1 = np.empty(k); k2 = np.empty(k); k3 = np.empty(k); k4 = np.empty(k); tmp = np.empty(k)
        t = 0.0
        step = 0
        for r in range(R):
            while t < times[r] and status[lane, 0] < 0:
                dt = min(h, times[r] - t)
                _rk4_step(x, q[lane], dt, k1, k2, k3, k4, tmp, y)
                step += 1
                for i in range(k):
                    if not math.isfinite(y[i]):
                        status[lane, 0] = step
                        status[lane, 1] = i
                x[:] = y
                t = times[r] if dt < h else t + h
            out[r, lane, :] = x
'''
