"""Exact iteration of a lane map (GD steps), lanes in parallel."""

SOURCE = '''
@numba.njit(parallel=True, cache=True)
def iterate_map(x0, q, n_steps, record, out, status):
    """Iterate lane_update n_steps times per lane; out[r, lane] = state after record[r] steps.
    status[lane] = (step, component) of the first non-finite value, or (-1, -1)."""
    L, k = x0.shape
    R = record.shape[0]
    for lane in numba.prange(L):
        x = x0[lane].copy()
        y = np.empty(k)
        r = 0
        while r < R and record[r] == 0:
            out[r, lane, :] = x
            r += 1
        for step in range(1, n_steps + 1):
            lane_update(x, q[lane], y)
            bad = -1
            for i in range(k):
                if not math.isfinite(y[i]):
                    bad = i
            if bad >= 0:
                status[lane, 0] = step
                status[lane, 1] = bad
                break
            x[:] = y
            while r < R and record[r] == step:
                out[r, lane, :] = x
                r += 1
'''
