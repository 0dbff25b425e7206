"""The float32 byte-table Leech shell search that ``lattiq.spherecodes._kernels_leech``
replaced, kept as a reference: the current kernel must return exactly its answers (same
float64 scores, same tie rule), and ``benchmarks/bench_leech_kernels.py`` times both in one
process. :func:`leech_nearest_reference` builds its tables and calls it like
``lattiq.spherecodes.search.leech_nearest`` did.

Its own description follows.

Plain arrays in, plain arrays out, no validation (the public function checks
the input). Scores are integer-frame inner products ``<v, x>``
with the shell-1 vectors ``v`` of ``√8 Λ24`` (all of norm 32), so the three shapes compare
directly:

* A ``(±4², 0²²)``: ``4|x_i| + 4|x_j|`` for the two largest ``|x_i|``;
* B ``(±2⁸)`` on octad ``o``: ``2 Σ_o |x_i|``, less ``4 min_o |x_i|`` when ``o`` holds an odd
  number of negative ``x_i``;
* C ``(∓3, ±1²³)`` over codeword ``c`` with signs ``s = 1 − 2c``: ``Σ s_i x_i − 4 min_t s_t x_t``.

Two stages per block of ``lanes`` input vectors:

1. *Filter* (float32, vectorized across the block): byte tables of partial sums/minima for
   each of the three bytes of a 24-bit pattern turn every shape-C score into three table
   lookups per term (a codeword and its complement share the sum; the 16 codewords with
   one first byte share its entries), and every shape-B score likewise (the parity of the
   negative coordinates rides in the sign of the smallest magnitude). Only the maximum per
   chunk of 8 codeword pairs (256 chunks) or 8 octads (95 chunks) is kept, with the best
   chunk and the runner-up value per vector.
2. *Verify* (float64, per vector): every chunk whose float32 maximum lies within twice a
   rigorous rounding bound ``eps`` of the best one is rescanned (usually one), and each
   surviving codeword is scored exactly in float64; the best score wins, ties to the
   lowest index. ``eps`` bounds the float32 error of every score (inputs are scaled by a
   power of two to ``max |x_i| ∈ [1, 2)``, so ``|score error| ≤ 32 u (L1 + 8)`` with
   ``u = 2⁻²⁴``, far below ``eps = 2⁻¹⁷ (2 L1 + 8)``), so no codeword within a tie of the
   best can be filtered out.

Table layout: ``(3 bytes, 256 patterns, lanes)``; byte ``j`` covers coordinates
``8j .. 8j + 7`` (bit ``i`` of the byte is coordinate ``8j + i``; a set bit means sign −1).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numba
import numpy as np

#: Vectors per block (the vectorized dimension of the filter).
LANES = 64
_FM = {"nnan", "ninf", "nsz", "contract"}
#: Without "nsz": the shape-B tables keep a parity in the sign of a (possibly zero) minimum.
_FM_SIGNED = {"nnan", "ninf", "contract"}
#: Stands for "no coordinate" in the signed-minimum table (inputs are scaled below 2).
_EMPTY = np.float32(4.0)
_BIG = np.float32(3e38)
_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_F2 = np.float32(2.0)
_F4 = np.float32(4.0)


@numba.njit(cache=True, fastmath=_FM_SIGNED)
def _build_tables(xt, sg, P, MN, A, AM):
    """Byte tables for one block; ``xt``, ``sg``: (24, lanes) float32 values and signs.

    After the call, for byte ``j`` and pattern ``b`` (signs ``s_i = −1`` on set bits):
    ``P = Σ s_i x_i``, ``MN = min s_i x_i``, ``A = Σ_set |x_i|`` and
    ``AM = Π_set sign(x_i) · min_set |x_i|`` (the parity of the negative coordinates in the
    sign of the smallest magnitude; ``_EMPTY`` when no bit is set). Built by doubling over
    the bits.
    """
    L = xt.shape[1]
    for j in range(3):
        c0 = 8 * j
        for l in range(L):
            P[j, 0, l] = xt[c0, l]
            P[j, 1, l] = -xt[c0, l]
            MN[j, 0, l] = xt[c0, l]
            MN[j, 1, l] = -xt[c0, l]
            A[j, 0, l] = _F0
            A[j, 1, l] = abs(xt[c0, l])
            AM[j, 0, l] = _EMPTY
            AM[j, 1, l] = sg[c0, l] * abs(xt[c0, l])
        for p in range(1, 8):
            c = c0 + p
            h = 1 << p
            for b in range(h):
                for l in range(L):
                    v = xt[c, l]
                    a = abs(v)
                    pb = P[j, b, l]
                    mb = MN[j, b, l]
                    P[j, b + h, l] = pb - v
                    MN[j, b + h, l] = min(mb, -v)
                    P[j, b, l] = pb + v
                    MN[j, b, l] = min(mb, v)
                    A[j, b + h, l] = A[j, b, l] + a
                    am = AM[j, b, l]
                    AM[j, b + h, l] = math.copysign(min(abs(am), a), am * sg[c, l])


@numba.njit(cache=True, fastmath=_FM)
def _track_row(cmax, g, top1, id1, top2):
    """Fold row g of the chunk maxima into the best chunk and the runner-up per lane."""
    for l in range(cmax.shape[1]):
        a = cmax[g, l]
        t1 = top1[l]
        up = a > t1
        top2[l] = max(top2[l], t1 if up else a)
        top1[l] = a if up else t1
        id1[l] = g if up else id1[l]


@numba.njit(cache=True, fastmath=_FM)
def _filter_c(grp, P, MN, cmax, top1, id1, top2):
    """cmax[g, l] = max float32 score over 8 codewords with first byte ``b0 = g // 2 < 128``
    (entries ``8 (g % 2) ..`` of ``grp[b0]``) and their complements; then the best chunk and
    the runner-up value per lane.

    ``grp``: (128, 16, 2) bytes 1 and 2 of the 16 codewords with first byte ``b0``. The
    byte-0 entries are read once per chunk and the 8 pairs are written out, so the lane
    loop keeps its running maximum in a register and stores into one array only (which
    lets it vectorize); score of a pair: ``max(p - 4m, -p - 4m̄)``.
    """
    L = P.shape[2]
    for g in range(256):
        b0 = g // 2
        q0 = (g % 2) * 8
        c0 = 255 - b0
        u0 = np.int64(grp[b0, q0 + 0, 0])
        v0 = np.int64(grp[b0, q0 + 0, 1])
        cu0 = 255 - u0
        cv0 = 255 - v0
        u1 = np.int64(grp[b0, q0 + 1, 0])
        v1 = np.int64(grp[b0, q0 + 1, 1])
        cu1 = 255 - u1
        cv1 = 255 - v1
        u2 = np.int64(grp[b0, q0 + 2, 0])
        v2 = np.int64(grp[b0, q0 + 2, 1])
        cu2 = 255 - u2
        cv2 = 255 - v2
        u3 = np.int64(grp[b0, q0 + 3, 0])
        v3 = np.int64(grp[b0, q0 + 3, 1])
        cu3 = 255 - u3
        cv3 = 255 - v3
        u4 = np.int64(grp[b0, q0 + 4, 0])
        v4 = np.int64(grp[b0, q0 + 4, 1])
        cu4 = 255 - u4
        cv4 = 255 - v4
        u5 = np.int64(grp[b0, q0 + 5, 0])
        v5 = np.int64(grp[b0, q0 + 5, 1])
        cu5 = 255 - u5
        cv5 = 255 - v5
        u6 = np.int64(grp[b0, q0 + 6, 0])
        v6 = np.int64(grp[b0, q0 + 6, 1])
        cu6 = 255 - u6
        cv6 = 255 - v6
        u7 = np.int64(grp[b0, q0 + 7, 0])
        v7 = np.int64(grp[b0, q0 + 7, 1])
        cu7 = 255 - u7
        cv7 = 255 - v7
        for l in range(L):
            p0 = P[0, b0, l]
            m0 = MN[0, b0, l]
            n0 = MN[0, c0, l]
            p = p0 + P[1, u0, l] + P[2, v0, l]
            m = min(m0, MN[1, u0, l], MN[2, v0, l])
            mc = min(n0, MN[1, cu0, l], MN[2, cv0, l])
            s = max(p - _F4 * m, -p - _F4 * mc)
            p = p0 + P[1, u1, l] + P[2, v1, l]
            m = min(m0, MN[1, u1, l], MN[2, v1, l])
            mc = min(n0, MN[1, cu1, l], MN[2, cv1, l])
            s = max(s, p - _F4 * m, -p - _F4 * mc)
            p = p0 + P[1, u2, l] + P[2, v2, l]
            m = min(m0, MN[1, u2, l], MN[2, v2, l])
            mc = min(n0, MN[1, cu2, l], MN[2, cv2, l])
            s = max(s, p - _F4 * m, -p - _F4 * mc)
            p = p0 + P[1, u3, l] + P[2, v3, l]
            m = min(m0, MN[1, u3, l], MN[2, v3, l])
            mc = min(n0, MN[1, cu3, l], MN[2, cv3, l])
            s = max(s, p - _F4 * m, -p - _F4 * mc)
            p = p0 + P[1, u4, l] + P[2, v4, l]
            m = min(m0, MN[1, u4, l], MN[2, v4, l])
            mc = min(n0, MN[1, cu4, l], MN[2, cv4, l])
            s = max(s, p - _F4 * m, -p - _F4 * mc)
            p = p0 + P[1, u5, l] + P[2, v5, l]
            m = min(m0, MN[1, u5, l], MN[2, v5, l])
            mc = min(n0, MN[1, cu5, l], MN[2, cv5, l])
            s = max(s, p - _F4 * m, -p - _F4 * mc)
            p = p0 + P[1, u6, l] + P[2, v6, l]
            m = min(m0, MN[1, u6, l], MN[2, v6, l])
            mc = min(n0, MN[1, cu6, l], MN[2, cv6, l])
            s = max(s, p - _F4 * m, -p - _F4 * mc)
            p = p0 + P[1, u7, l] + P[2, v7, l]
            m = min(m0, MN[1, u7, l], MN[2, v7, l])
            mc = min(n0, MN[1, cu7, l], MN[2, cv7, l])
            s = max(s, p - _F4 * m, -p - _F4 * mc)
            cmax[g, l] = s
    for l in range(L):
        top1[l] = -_BIG
        top2[l] = -_BIG
        id1[l] = 0
    # kept apart so that the loop above stores into one array only
    for g in range(256):
        _track_row(cmax, g, top1, id1, top2)


@numba.njit(cache=True, fastmath=_FM_SIGNED, inline="always")
def _score_b32(A, AM, b0, b1, b2, l):
    """float32 shape-B score from the tables: 2 (Σ|x| - (1 - parity) min|x|)."""
    tot = A[0, b0, l] + A[1, b1, l] + A[2, b2, l]
    m0 = AM[0, b0, l]
    m1 = AM[1, b1, l]
    m2 = AM[2, b2, l]
    mn = min(abs(m0), abs(m1), abs(m2))
    return _F2 * (tot - mn + math.copysign(mn, m0 * m1 * m2))


@numba.njit(cache=True, fastmath=_FM_SIGNED)
def _filter_b(ob, A, AM, bmax, top1, id1, top2):
    """bmax[g, l] = max float32 shape-B score over octads ``8g .. 8g + 7`` (``ob`` is padded
    to a multiple of 8 by repeating the last octad); then the best chunk and the runner-up
    value per lane. Score: ``2 (Σ|x| - |m| + copysign(|m|, m₀m₁m₂))`` with ``m`` the signed
    minimum, i.e. ``2 Σ|x|`` less ``4 min|x|`` for an odd number of negative coordinates.
    """
    L = A.shape[2]
    for g in range(bmax.shape[0]):
        a0 = np.int64(ob[8 * g + 0, 0])
        b0 = np.int64(ob[8 * g + 0, 1])
        c0 = np.int64(ob[8 * g + 0, 2])
        a1 = np.int64(ob[8 * g + 1, 0])
        b1 = np.int64(ob[8 * g + 1, 1])
        c1 = np.int64(ob[8 * g + 1, 2])
        a2 = np.int64(ob[8 * g + 2, 0])
        b2 = np.int64(ob[8 * g + 2, 1])
        c2 = np.int64(ob[8 * g + 2, 2])
        a3 = np.int64(ob[8 * g + 3, 0])
        b3 = np.int64(ob[8 * g + 3, 1])
        c3 = np.int64(ob[8 * g + 3, 2])
        a4 = np.int64(ob[8 * g + 4, 0])
        b4 = np.int64(ob[8 * g + 4, 1])
        c4 = np.int64(ob[8 * g + 4, 2])
        a5 = np.int64(ob[8 * g + 5, 0])
        b5 = np.int64(ob[8 * g + 5, 1])
        c5 = np.int64(ob[8 * g + 5, 2])
        a6 = np.int64(ob[8 * g + 6, 0])
        b6 = np.int64(ob[8 * g + 6, 1])
        c6 = np.int64(ob[8 * g + 6, 2])
        a7 = np.int64(ob[8 * g + 7, 0])
        b7 = np.int64(ob[8 * g + 7, 1])
        c7 = np.int64(ob[8 * g + 7, 2])
        for l in range(L):
            tot = A[0, a0, l] + A[1, b0, l] + A[2, c0, l]
            m0 = AM[0, a0, l]
            m1 = AM[1, b0, l]
            m2 = AM[2, c0, l]
            mn = min(abs(m0), abs(m1), abs(m2))
            s = _F2 * (tot - mn + math.copysign(mn, m0 * m1 * m2))
            tot = A[0, a1, l] + A[1, b1, l] + A[2, c1, l]
            m0 = AM[0, a1, l]
            m1 = AM[1, b1, l]
            m2 = AM[2, c1, l]
            mn = min(abs(m0), abs(m1), abs(m2))
            s = max(s, _F2 * (tot - mn + math.copysign(mn, m0 * m1 * m2)))
            tot = A[0, a2, l] + A[1, b2, l] + A[2, c2, l]
            m0 = AM[0, a2, l]
            m1 = AM[1, b2, l]
            m2 = AM[2, c2, l]
            mn = min(abs(m0), abs(m1), abs(m2))
            s = max(s, _F2 * (tot - mn + math.copysign(mn, m0 * m1 * m2)))
            tot = A[0, a3, l] + A[1, b3, l] + A[2, c3, l]
            m0 = AM[0, a3, l]
            m1 = AM[1, b3, l]
            m2 = AM[2, c3, l]
            mn = min(abs(m0), abs(m1), abs(m2))
            s = max(s, _F2 * (tot - mn + math.copysign(mn, m0 * m1 * m2)))
            tot = A[0, a4, l] + A[1, b4, l] + A[2, c4, l]
            m0 = AM[0, a4, l]
            m1 = AM[1, b4, l]
            m2 = AM[2, c4, l]
            mn = min(abs(m0), abs(m1), abs(m2))
            s = max(s, _F2 * (tot - mn + math.copysign(mn, m0 * m1 * m2)))
            tot = A[0, a5, l] + A[1, b5, l] + A[2, c5, l]
            m0 = AM[0, a5, l]
            m1 = AM[1, b5, l]
            m2 = AM[2, c5, l]
            mn = min(abs(m0), abs(m1), abs(m2))
            s = max(s, _F2 * (tot - mn + math.copysign(mn, m0 * m1 * m2)))
            tot = A[0, a6, l] + A[1, b6, l] + A[2, c6, l]
            m0 = AM[0, a6, l]
            m1 = AM[1, b6, l]
            m2 = AM[2, c6, l]
            mn = min(abs(m0), abs(m1), abs(m2))
            s = max(s, _F2 * (tot - mn + math.copysign(mn, m0 * m1 * m2)))
            tot = A[0, a7, l] + A[1, b7, l] + A[2, c7, l]
            m0 = AM[0, a7, l]
            m1 = AM[1, b7, l]
            m2 = AM[2, c7, l]
            mn = min(abs(m0), abs(m1), abs(m2))
            s = max(s, _F2 * (tot - mn + math.copysign(mn, m0 * m1 * m2)))
            bmax[g, l] = s
    for l in range(L):
        top1[l] = -_BIG
        top2[l] = -_BIG
        id1[l] = 0
    for g in range(bmax.shape[0]):
        _track_row(bmax, g, top1, id1, top2)


# ---------------------------------------------------------------- exact float64 scoring


@numba.njit(cache=True)
def _score_c(x, cwb, k):
    """Exact score of codeword k: sum s_i x_i - 4 min s_i x_i, and the lowest best t.

    Signs from the codeword's three bytes (a small table that stays in cache).
    """
    s = 0.0
    m = np.inf
    t = 0
    for j in range(3):
        b = np.int64(cwb[k, j])
        for i in range(8):
            c = 8 * j + i
            v = -x[c] if (b >> i) & 1 else x[c]
            s += v
            lt = v < m
            t = c if lt else t
            m = v if lt else m
    return s - 4.0 * m, t


@numba.njit(cache=True)
def _score_b(x, octads, o):
    """Exact shape-B score of octad o and the rank r of its sign pattern (ties lowest)."""
    tot = 0.0
    mn = np.inf
    r = 0
    neg = 0
    for q in range(8):
        v = x[octads[o, q]]
        a = abs(v)
        tot += a
        mn = min(mn, a)
        if v < 0.0:
            neg += 1
            if q < 7:
                r |= 1 << q
    if neg % 2 == 0:
        return 2.0 * tot, r
    # flip one coordinate of smallest |x|: the one giving the smallest rank
    best_r = -1
    for q in range(8):
        if abs(x[octads[o, q]]) == mn:
            cand = r if q == 7 else r ^ (1 << q)
            if best_r < 0 or cand < best_r:
                best_r = cand
    return 2.0 * (tot - 2.0 * mn), best_r


@numba.njit(cache=True, inline="always")
def _best_a(x, pair_rank):
    """Exact shape-A score and index: the two largest |x_i| (lowest positions on ties)."""
    m1 = -1.0
    i1 = 0
    m2 = -1.0
    i2 = 0
    for i in range(24):  # one pass, branch-free: first positions win ties
        a = abs(x[i])
        g1 = a > m1
        g2 = a > m2
        m2 = m1 if g1 else (a if g2 else m2)
        i2 = i1 if g1 else (i if g2 else i2)
        m1 = a if g1 else m1
        i1 = i if g1 else i1
    i = min(i1, i2)
    j = max(i1, i2)
    idx = 4 * pair_rank[i, j] + 2 * (1 if x[i] < 0.0 else 0) + (1 if x[j] < 0.0 else 0)
    return 4.0 * (m1 + m2), idx


@numba.njit(cache=True, inline="always")
def _rescan_b(x, l, g, tau, ob, A, AM, octads, best, best_idx):
    for o in range(8 * g, min(octads.shape[0], 8 * g + 8)):
        if _score_b32(A, AM, ob[o, 0], ob[o, 1], ob[o, 2], l) < tau:
            continue
        s, r = _score_b(x, octads, o)
        idx = 1104 + 128 * o + r
        if s > best or (s == best and idx < best_idx):
            best = s
            best_idx = idx
    return best, best_idx


@numba.njit(cache=True, inline="always")
def _rescan_c(x, l, g, tau, grp, grp_k, P, MN, cwb, best, best_idx):
    b0 = g // 2
    p0 = P[0, b0, l]
    m0 = MN[0, b0, l]
    n0 = MN[0, 255 - b0, l]
    for q in range(8 * (g % 2), 8 * (g % 2) + 8):
        b1 = grp[b0, q, 0]
        b2 = grp[b0, q, 1]
        p = p0 + P[1, b1, l] + P[2, b2, l]
        m = min(m0, MN[1, b1, l], MN[2, b2, l])
        mc = min(n0, MN[1, 255 - b1, l], MN[2, 255 - b2, l])
        k = grp_k[b0, q]
        if p - _F4 * m >= tau:
            best, best_idx = _try_c(x, cwb, k, best, best_idx)
        if -p - _F4 * mc >= tau:
            best, best_idx = _try_c(x, cwb, 4095 - k, best, best_idx)
    return best, best_idx


@numba.njit(cache=True)
def _try_c(x, cwb, k, best, best_idx):
    s, t = _score_c(x, cwb, k)
    idx = 98256 + 24 * k + t
    if s > best or (s == best and idx < best_idx):
        return s, idx
    return best, best_idx


@numba.njit(cache=True, inline="always")
def _verify(x, l, eps, cmax, bmax, ctop, btop, grp, grp_k, ob, P, MN, A, AM, cwb, octads,
            pair_rank):
    """Exact winner for lane l given the float32 chunk maxima.

    ``ctop``/``btop`` hold per lane (best chunk max, its chunk, runner-up chunk max).
    """
    best, best_idx = _best_a(x, pair_rank)
    top = max(best, max(ctop[0, l], btop[0, l]))
    tau = top - 2.0 * eps
    # shape B
    if btop[0, l] >= tau:
        if btop[2, l] < tau:
            best, best_idx = _rescan_b(x, l, int(btop[1, l]), tau, ob, A, AM, octads,
                                       best, best_idx)
        else:
            for g in range(bmax.shape[0]):
                if bmax[g, l] >= tau:
                    best, best_idx = _rescan_b(x, l, g, tau, ob, A, AM, octads, best,
                                               best_idx)
    # shape C
    if ctop[0, l] >= tau:
        if ctop[2, l] < tau:
            best, best_idx = _rescan_c(x, l, int(ctop[1, l]), tau, grp, grp_k, P, MN, cwb,
                                       best, best_idx)
        else:
            for g in range(cmax.shape[0]):
                if cmax[g, l] >= tau:
                    best, best_idx = _rescan_c(x, l, g, tau, grp, grp_k, P, MN, cwb,
                                               best, best_idx)
    return best_idx


@numba.njit(cache=True, parallel=True)
def leech_nearest_kernel(X, out, grp, grp_k, ob, cwb, octads, pair_rank, tables, small):
    """Nearest Leech codeword index for every row of X (n, 24) float64, into out (n,).

    ``tables``: (threads, 4, 3, 256, LANES) float32 scratch, 64-byte aligned;
    ``small``: (threads, 55 + 256 + 95, LANES) float32 scratch.
    """
    n = X.shape[0]
    L = LANES
    nthreads = tables.shape[0]
    nblocks = (n + L - 1) // L
    per = (nblocks + nthreads - 1) // nthreads
    ncg = 256
    nbg = ob.shape[0] // 8
    for th in numba.prange(nthreads):
        T = tables[th]
        P = T[0]
        MN = T[1]
        A = T[2]
        AM = T[3]
        S = small[th]
        xt = S[0:24]
        sg = S[24:48]
        ctop = S[49:52]
        btop = S[52:55]
        cmax = S[55:55 + ncg]
        bmax = S[55 + ncg:55 + ncg + nbg]
        cid = np.zeros(L, np.int64)
        bid = np.zeros(L, np.int64)
        xs = np.zeros((L, 24))
        eps = np.zeros(L)
        for blk in range(th * per, min(nblocks, (th + 1) * per)):
            s0 = blk * L
            m = min(L, n - s0)
            for l in range(L):
                if l < m:
                    # scale by a power of two (exact) so that max |x_i| lies in [1, 2)
                    mx = 0.0
                    for i in range(24):
                        mx = max(mx, abs(X[s0 + l, i]))
                    e = math.frexp(mx)[1] - 1 if mx > 0.0 else 0
                    if -1000 < e < 1000:
                        f = math.ldexp(1.0, -e)
                        for i in range(24):
                            xs[l, i] = X[s0 + l, i] * f
                    else:
                        for i in range(24):
                            xs[l, i] = math.ldexp(X[s0 + l, i], -e)
                    l1 = 0.0
                    for i in range(24):
                        l1 += abs(xs[l, i])
                    # rigorous bound on |float32 score - exact score| (|x|_inf < 2)
                    eps[l] = (2.0 * l1 + 8.0) * 2.0**-17 + 2.0**-100
                else:
                    for i in range(24):
                        xs[l, i] = 0.0
                for i in range(24):
                    v = np.float32(xs[l, i])
                    xt[i, l] = v
                    sg[i, l] = np.float32(-1.0) if v < 0 else np.float32(1.0)
            _build_tables(xt, sg, P, MN, A, AM)
            _filter_c(grp, P, MN, cmax, ctop[0], cid, ctop[2])
            _filter_b(ob, A, AM, bmax, btop[0], bid, btop[2])
            for l in range(L):
                ctop[1, l] = cid[l]
                btop[1, l] = bid[l]
            for l in range(m):
                out[s0 + l] = _verify(xs[l], l, eps[l], cmax, bmax, ctop, btop, grp, grp_k, ob, P,
                                      MN, A, AM, cwb, octads, pair_rank)


def scratch_shapes(nthreads: int):
    """Shapes of the two scratch arrays of :func:`leech_nearest_kernel`."""
    nbg = 95
    return (nthreads, 4, 3, 256, LANES), (nthreads, 55 + 256 + nbg, LANES)


@lru_cache(maxsize=1)
def reference_tables():
    """``grp, grp_k, ob, cwb, octads, pair_rank`` for :func:`leech_nearest_kernel`, from the
    tables of :mod:`lattiq.lattices.leech_layout`."""
    from lattiq.lattices.leech_layout import leech_layout

    lay = leech_layout()
    cwb = np.array(lay.codeword_bytes)
    # codewords grouped by their first byte g < 128 (their complements have 255 - g)
    grp_k = np.stack([np.nonzero(cwb[:, 0] == g)[0] for g in range(128)]).astype(np.int64)
    grp = np.ascontiguousarray(cwb[grp_k][:, :, 1:])
    ob = np.concatenate([lay.octad_bytes, lay.octad_bytes[-1:]])  # 760 = 95 chunks of 8 octads
    return grp, grp_k, ob, cwb, np.array(lay.octads), np.array(lay.pair_rank)


def _aligned_empty(shape, dtype=np.float32, align: int = 64) -> np.ndarray:
    n = int(np.prod(shape))
    it = np.dtype(dtype).itemsize
    buf = np.empty(n * it + align, dtype=np.uint8)
    start = (-buf.ctypes.data) % align
    return buf[start:start + n * it].view(dtype).reshape(shape)


def leech_nearest_reference(X: np.ndarray, threads: int = 1) -> np.ndarray:
    """Nearest Leech codeword index per row of ``X`` (n, 24) with the reference kernel."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = X.shape[0]
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    nt = max(1, min(int(threads), -(-n // LANES)))
    s1, s2 = scratch_shapes(nt)
    leech_nearest_kernel(X, out, *reference_tables(), _aligned_empty(s1), _aligned_empty(s2))
    return out
