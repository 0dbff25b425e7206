"""numba kernels for Gegenbauer moments of point sets (no validation; see ``design.py``).

Shapes: ``G`` (R, C) float64 tile of inner products; ``rec_a``, ``rec_b`` (kmax,) float64
recurrence coefficients; ``out`` (R, kmax + 1) float64 per-row accumulators.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True)
def tile_gegenbauer_sums(G, kmax, rec_a, rec_b, out):
    """``out[i, k] += sum_j P_k(G[i, j])`` for ``k = 0..kmax`` (three-term recurrence).

    ``P_{k+1} = rec_a[k] * t * P_k - rec_b[k] * P_{k-1}``; entries ``k = 0`` of ``rec_a`` and
    ``rec_b`` are unused.
    """
    n_rows, n_cols = G.shape
    for i in numba.prange(n_rows):
        p_prev = np.ones(n_cols, dtype=np.float64)
        p = np.empty(n_cols, dtype=np.float64)
        s1 = 0.0
        for j in range(n_cols):
            p[j] = G[i, j]
            s1 += p[j]
        out[i, 0] += n_cols
        if kmax >= 1:
            out[i, 1] += s1
        for k in range(1, kmax):
            a = rec_a[k]
            b = rec_b[k]
            acc = 0.0
            for j in range(n_cols):
                q = a * G[i, j] * p[j] - b * p_prev[j]
                p_prev[j] = p[j]
                p[j] = q
                acc += q
            out[i, k + 1] += acc
