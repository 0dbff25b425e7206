"""numba kernel for the rank of an integer matrix modulo a prime (no validation here).

``exact.integer_rank_certified`` is the public side: full rank modulo a prime proves full
rank over the rationals, and anything else is decided by exact elimination.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def rank_mod_p_kernel(M, p):  # pragma: no cover - compiled
    """Rank of ``M`` (int64, entries in ``[0, p)``, overwritten) over the field Z/pZ.

    Gauss–Jordan elimination with every product below ``p² < 2^62`` (``p < 2^31``), so
    int64 never overflows. The inverse of a pivot is ``a^(p-2) mod p`` (Fermat).
    """
    k, m = M.shape
    r = 0
    for c in range(m):
        if r == k:
            break
        piv = -1
        for i in range(r, k):
            if M[i, c] != 0:
                piv = i
                break
        if piv < 0:
            continue
        if piv != r:
            for j in range(c, m):
                t = M[r, j]
                M[r, j] = M[piv, j]
                M[piv, j] = t
        # inverse of the pivot by square-and-multiply
        inv = np.int64(1)
        base = M[r, c]
        e = p - 2
        while e > 0:
            if e & 1:
                inv = inv * base % p
            base = base * base % p
            e >>= 1
        for j in range(c, m):
            M[r, j] = M[r, j] * inv % p
        for i in range(r + 1, k):
            f = M[i, c]
            if f != 0:
                for j in range(c, m):
                    M[i, j] = (M[i, j] - f * M[r, j]) % p
        r += 1
    return r
