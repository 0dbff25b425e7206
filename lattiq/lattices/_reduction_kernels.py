"""numba kernel for floating-point LLL reduction (plain arrays, no validation).

``reduction.lll_reduce`` is the public function. Gram–Schmidt data are recomputed row by
row from the current basis (Schnorr & Euchner 1994), so rounding errors do not pile up
over many swaps; every basis change is an integer row operation mirrored in ``U``.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(inline="always")
def _gso_row(B, Bs, bn, mu, k):  # pragma: no cover - compiled
    """Recompute Gram–Schmidt row ``k`` (``Bs[k]``, ``bn[k] = |Bs[k]|²``, ``mu[k, :k]``)."""
    m = B.shape[1]
    for c in range(m):
        Bs[k, c] = B[k, c]
    for j in range(k):
        dot = 0.0
        for c in range(m):
            dot += B[k, c] * Bs[j, c]
        mu[k, j] = dot / bn[j]
        for c in range(m):
            Bs[k, c] -= mu[k, j] * Bs[j, c]
    s = 0.0
    for c in range(m):
        s += Bs[k, c] * Bs[k, c]
    bn[k] = s


@numba.njit(cache=True, nogil=True)
def lll_kernel(B, U, delta, max_rounds):  # pragma: no cover - compiled
    """LLL-reduce the rows of ``B`` in place; ``U`` (identity on entry) tracks ``B = U B₀``.

    Returns the number of main-loop iterations, or -1 if ``max_rounds`` was exceeded.
    """
    n, m = B.shape
    Bs = np.zeros((n, m))
    bn = np.zeros(n)
    mu = np.zeros((n, n))
    _gso_row(B, Bs, bn, mu, 0)
    k = 1
    it = 0
    while k < n:
        it += 1
        if it > max_rounds:
            return -1
        _gso_row(B, Bs, bn, mu, k)
        # size reduction, repeated while large multipliers may have cost precision
        for _ in range(64):
            big = False
            for j in range(k - 1, -1, -1):
                q = np.floor(mu[k, j] + 0.5)
                if q != 0.0:
                    if abs(q) > 2.0**26:
                        big = True
                    qi = np.int64(q)
                    for c in range(m):
                        B[k, c] -= q * B[j, c]
                    for c in range(n):
                        U[k, c] -= qi * U[j, c]
                    for l in range(j):
                        mu[k, l] -= q * mu[j, l]
                    mu[k, j] -= q
            if not big:
                break
            _gso_row(B, Bs, bn, mu, k)
        if bn[k] >= (delta - mu[k, k - 1] ** 2) * bn[k - 1]:
            k += 1
        else:
            for c in range(m):
                tmp = B[k, c]
                B[k, c] = B[k - 1, c]
                B[k - 1, c] = tmp
            for c in range(n):
                ti = U[k, c]
                U[k, c] = U[k - 1, c]
                U[k - 1, c] = ti
            k = max(k - 1, 1)
            if k == 1:
                _gso_row(B, Bs, bn, mu, 0)
    return it
