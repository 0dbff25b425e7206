"""Numba kernels for Fincke–Pohst short-vector enumeration (no validation here).

The quadratic form is given twice: in floating point as the Fincke–Pohst decomposition
``Q(u) = Σ_i q_ii (u_i + Σ_{j>i} q_ij u_j)²`` to prune the search tree, and exactly as an
integer Gram matrix ``Gi`` whose form ``uᵀ Gi u`` is tracked incrementally in int64 and decides
every count. The float bound is padded so that rounding can only add candidates, never drop
them: each candidate is then judged by its exact integer norm.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def enumerate_norms(qd, qm, gi, bound, max_norm, target, out, counts,  # pragma: no cover
                    max_nodes):
    """Walk all integer ``u`` with ``Q(u) <= bound``.

    qd (n,) float64 diagonal, qm (n, n) float64 upper coefficients ``q_ij`` (j > i), gi (n, n)
    int64 exact Gram, ``max_norm`` int64: histogram exact norms ``<= max_norm`` into
    ``counts``; vectors with exact norm == ``target`` are written to ``out`` (rows, int64)
    while there is room. Returns the number of vectors with norm == target, or ``-1`` when
    the walk visited more than ``max_nodes`` tree nodes (it stops there: a guard against a
    size estimate that was too low).
    """
    n = qd.shape[0]
    u = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    T = np.zeros(n + 1, dtype=np.float64)
    cent = np.zeros(n, dtype=np.float64)
    # exact bookkeeping: P[k] = form restricted to coordinates >= k;
    # S[k, l] = sum_{j >= k} u_j gi[l, j]
    P = np.zeros(n + 1, dtype=np.int64)
    S = np.zeros((n + 1, n), dtype=np.int64)
    n_target = 0
    cap = out.shape[0]
    k = n - 1
    T[n] = bound
    cent[k] = 0.0
    r = np.sqrt(max(T[n], 0.0) / qd[k])
    u[k] = np.int64(np.ceil(cent[k] - r - 1e-9)) - 1
    hi[k] = np.int64(np.floor(cent[k] + r + 1e-9))
    nodes = 0
    while True:
        u[k] += 1
        nodes += 1
        if nodes > max_nodes:
            return -1
        if u[k] > hi[k]:
            k += 1
            if k == n:
                break
            continue
        # exact partial form for coordinates >= k
        uk = u[k]
        P[k] = P[k + 1] + 2 * uk * S[k + 1, k] + uk * uk * gi[k, k]
        if k == 0:
            nm = P[0]
            if nm <= max_norm:
                counts[nm] += 1
            if nm == target:
                if n_target < cap:
                    for j in range(n):
                        out[n_target, j] = u[j]
                n_target += 1
            continue
        for l in range(k):
            S[k, l] = S[k + 1, l] + uk * gi[l, k]
        t = uk - cent[k]
        T[k] = T[k + 1] - qd[k] * t * t
        k -= 1
        c = 0.0
        for j in range(k + 1, n):
            c -= qm[k, j] * u[j]
        cent[k] = c
        rem = T[k + 1]
        if rem < 0.0:
            rem = 0.0
        r = np.sqrt(rem / qd[k])
        slack = 1e-9 * (1.0 + abs(c))
        u[k] = np.int64(np.ceil(c - r - slack)) - 1
        hi[k] = np.int64(np.floor(c + r + slack))
    return n_target
