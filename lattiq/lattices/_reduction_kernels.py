"""numba kernel for floating-point LLL reduction with deep insertions (plain arrays, no
validation).

``reduction.lll_reduce`` is the public function. Gram–Schmidt data are recomputed row by
row from the current basis (Schnorr & Euchner 1994), so rounding errors do not pile up
over many swaps; every basis change is an integer row operation mirrored in ``U``.
"""

from __future__ import annotations

import numba
import numpy as np

#: ``lll_kernel`` status: the rows are (numerically) linearly dependent.
DEPENDENT = -2
#: ``lll_kernel`` status: more main-loop rounds than allowed.
NO_CONVERGENCE = -1
#: A row whose Gram–Schmidt norm is below this fraction of its own norm (squared) is taken
#: as dependent on the rows before it (|b*_k| <= 1e-12 |b_k|).
_DEP_RATIO = 1e-24


@numba.njit(inline="always", fastmath={"reassoc", "contract"})
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


@numba.njit(inline="always", fastmath={"reassoc", "contract"})
def _sq_norm(B, k):  # pragma: no cover - compiled
    s = 0.0
    for c in range(B.shape[1]):
        s += B[k, c] * B[k, c]
    return s


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def lll_kernel(B, U, delta, depth, max_rounds):  # pragma: no cover - compiled
    """LLL-reduce the rows of ``B`` in place; ``U`` (identity on entry) tracks ``B = U B₀``.

    ``depth = 0`` is plain LLL (Lovász's condition between neighbours). ``depth > 0`` adds
    Schnorr & Euchner's deep insertions: row ``k`` moves to the first position ``i`` with
    ``i < depth`` or ``k - i <= depth`` where its projection orthogonal to
    ``b_0, …, b_{i-1}`` is shorter than ``sqrt(delta) |b*_i|`` (``depth >= n``: anywhere).

    Returns the number of main-loop iterations, ``NO_CONVERGENCE`` (-1) if ``max_rounds``
    was exceeded, or ``DEPENDENT`` (-2) if a row is (numerically) dependent on the rows
    before it.
    """
    n, m = B.shape
    Bs = np.zeros((n, m))
    bn = np.zeros(n)
    mu = np.zeros((n, n))
    row = np.empty(m)
    rowu = np.empty(n, np.int64)
    proj = np.empty(n)
    near = max(depth, 1)
    _gso_row(B, Bs, bn, mu, 0)
    if not bn[0] > 0.0:
        return DEPENDENT
    k = 1
    it = 0
    while k < n:
        it += 1
        if it > max_rounds:
            return NO_CONVERGENCE
        _gso_row(B, Bs, bn, mu, k)
        before = _sq_norm(B, k)
        # size reduction; Gram–Schmidt row k is recomputed when a large multiplier or a
        # large cancellation may have cost precision
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
            after = _sq_norm(B, k)
            if after < before * 2.0**-40:
                big = True
            before = after
            if not big:
                break
            _gso_row(B, Bs, bn, mu, k)
        if not bn[k] > _DEP_RATIO * _sq_norm(B, k):
            return DEPENDENT
        # first admissible insertion position (depth 0: only k - 1, Lovász's condition);
        # proj[i] = |b_k projected orthogonally to b_0..b_{i-1}|², a sum of positive terms
        proj[k] = bn[k]
        for i in range(k - 1, -1, -1):
            proj[i] = proj[i + 1] + mu[k, i] * mu[k, i] * bn[i]
        ins = -1
        for i in range(k):
            if (i < depth or k - i <= near) and proj[i] < delta * bn[i]:
                ins = i
                break
        if ins < 0:
            k += 1
            continue
        for c in range(m):
            row[c] = B[k, c]
        for c in range(n):
            rowu[c] = U[k, c]
        for r in range(k, ins, -1):
            for c in range(m):
                B[r, c] = B[r - 1, c]
            for c in range(n):
                U[r, c] = U[r - 1, c]
        for c in range(m):
            B[ins, c] = row[c]
        for c in range(n):
            U[ins, c] = rowu[c]
        if ins == 0:
            _gso_row(B, Bs, bn, mu, 0)
            k = 1
        else:
            k = ins
    return it

