"""Vectorized screening of the Leech shell search: per block of :data:`LANES` inputs, the
column tables of the rounded input ``x̃`` and an int16 upper bound of ``Q`` over each of the
:data:`NROWS` rows (sextet cosets, octad cosets, shape A), then the two best rows and the
rows that can still reach a threshold. See :mod:`lattiq.spherecodes._kernels_leech` for
the algorithm and the exactness argument; plain arrays, no validation.
"""

from __future__ import annotations

import numba
import numpy as np

from lattiq.lattices.leech_layout import N_COSETS, N_OCTAD_COSETS

#: Inputs per block (the vectorized dimension of the screening).
LANES = 64
#: Bound rows: 128 shape-C cosets, 109 shape-B cosets, the subcode's 15 octads, shape A.
NB = N_OCTAD_COSETS
ROW_SUB = N_COSETS + NB
ROW_A = ROW_SUB + 1
NROWS = ROW_A + 1
#: Coarse unit of the int16 row bounds (in units of ``x̃``); every bound stays below 2¹⁵.
STEP = 512
#: All float32 arithmetic is on integers below 2²⁴, hence exact: these flags only let LLVM
#: turn compare-and-select into vector min/max.
FM = {"nnan", "ninf", "nsz"}
_INV_STEP = np.float32(1.0 / STEP)
_F0 = np.float32(0.0)
_F2 = np.float32(2.0)
_F4 = np.float32(4.0)
_NEG = np.float32(-3e38)


# ------------------------------------------------------------------- vectorized screening
#
# Block scratch is flat (rows of LANES values, entry (row, l) at row * LANES + l): numba's
# multi-dimensional indexing keeps LLVM from proving the lane loops contiguous, while flat
# offsets (masked to their known range where they come from a table) compile to AVX-512.
#
#   xq, ax      float32 rows i = 0 .. 23: x̃_i and |x̃_i|
#   Sx, Mn, Ab  float32 rows 16 j + P: column j, pattern P
#   U, H, W, D  int16 rows 8 j + q: column j, pair id q (in units of STEP, rounded up)
#   UB          int16 rows 0 .. NROWS - 1: the row bounds (in units of STEP)


@numba.njit(cache=True, fastmath=FM)
def column_tables(xq, ax, cols, Sx, Mn, Ab):
    """Per column ``j`` and 4-bit pattern ``P`` (bit ``r``: row ``r`` has sign −1):
    ``Sx = Σ s_r x̃``, ``Mn = min s_r x̃`` and ``Ab = Σ_{r ∈ P} |x̃|``, by doubling over rows."""
    L = LANES
    for j in range(6):
        o = 16 * j * L
        i0 = (cols[j, 0] & 31) * L
        for l in range(L):
            v = xq[i0 + l]
            Sx[o + l] = v
            Sx[o + L + l] = -v
            Mn[o + l] = v
            Mn[o + L + l] = -v
            Ab[o + l] = _F0
            Ab[o + L + l] = ax[i0 + l]
        for r in range(1, 4):
            i = (cols[j, r] & 31) * L
            h = (1 << r) * L
            for o0 in range(o, o + h, L):
                o1 = o0 + h
                for l in range(L):
                    v = xq[i + l]
                    s = Sx[o0 + l]
                    m = Mn[o0 + l]
                    Sx[o1 + l] = s - v
                    Mn[o1 + l] = min(m, -v)
                    Ab[o1 + l] = Ab[o0 + l] + ax[i + l]
                    Sx[o0 + l] = s + v
                    Mn[o0 + l] = min(m, v)


@numba.njit(cache=True, fastmath=FM, inline="always")
def _up(v):
    """``ceil(v / STEP)`` as int16 (exact: ``v`` is an integer-valued float32)."""
    return np.int16(np.ceil(v * _INV_STEP))


@numba.njit(cache=True, fastmath=FM)
def pair_tables(Sx, Mn, Ab, U, H, W, D):
    """Per column and pair id ``q`` (patterns ``2q`` and ``2q ^ 15``), rounded up to
    multiples of :data:`STEP` (int16): ``U = |σ|``, ``H = max(σ − 4 min, −σ − 4 min') − |σ|``,
    and the octad terms ``W``, ``D`` (rows that are always zero, ``q = 0`` and ``D`` of the
    weight-2 pairs, are set by :func:`zero_pairs`).
    """
    L = LANES
    for j in range(6):
        for q in range(8):
            oP = (16 * j + 2 * q) * L
            oC = (16 * j + (2 * q ^ 15)) * L
            oq = (8 * j + q) * L
            for l in range(L):
                s = Sx[oP + l]
                u = abs(s)
                U[oq + l] = _up(u)
                H[oq + l] = _up(max(s - _F4 * Mn[oP + l], -s - _F4 * Mn[oC + l]) - u)
        oT = (16 * j + 15) * L
        for q in (1, 2, 4, 7):  # weight-1 pattern 2q (row 0 for q = 7), weight-3 complement
            oa = (16 * j + (2 * q if q != 7 else 1)) * L
            oq = (8 * j + q) * L
            for l in range(L):
                w = Ab[oa + l]
                W[oq + l] = _up(w)
                D[oq + l] = _up(Ab[oT + l] - w - w)
        for q in (3, 5, 6):  # weight 2 both ways
            oa = (16 * j + 2 * q) * L
            oq = (8 * j + q) * L
            for l in range(L):
                a = Ab[oa + l]
                W[oq + l] = _up(max(a, Ab[oT + l] - a))


@numba.njit(cache=True)
def zero_pairs(W, D):
    """The rows of ``W`` and ``D`` that :func:`pair_tables` leaves at zero."""
    L = LANES
    for j in range(6):
        for q in (0, 3, 5, 6):
            for l in range(L):
                D[(8 * j + q) * L + l] = 0
        for l in range(L):
            W[8 * j * L + l] = 0


@numba.njit(cache=True, fastmath=FM)
def row_bounds(cls_pair, bco, U, H, W, D, Ab, UB):
    """``UB`` (int16, in units of :data:`STEP`): rows 0..127 shape-C cosets, 128..236 the
    shape-B cosets ``bco``, 237 the subcode's unions of two tetrads, 238 shape A (``4``
    times the two largest ``|x̃_i|``, read from the one-bit patterns of ``Ab``).

    A sum or maximum of terms rounded up is at least the exact one, so ``STEP · UB`` bounds
    the ``Q`` of every unit of the row. Largest values: ``28·2¹⁰ + 7`` (shape C, six column
    sums of at most ``4·2¹⁰`` and ``H ≤ 4·2¹⁰``), ``2 (6·2¹⁰ + 3·2¹⁰ + 7)`` (shape B), below
    ``2¹⁵``.
    """
    L = LANES
    for c in range(N_COSETS):
        o0 = (cls_pair[c, 0] & 7) * L
        o1 = (8 + (cls_pair[c, 1] & 7)) * L
        o2 = (16 + (cls_pair[c, 2] & 7)) * L
        o3 = (24 + (cls_pair[c, 3] & 7)) * L
        o4 = (32 + (cls_pair[c, 4] & 7)) * L
        o5 = (40 + (cls_pair[c, 5] & 7)) * L
        orow = c * L
        for l in range(L):
            UB[orow + l] = (
                U[o0 + l] + U[o1 + l] + U[o2 + l] + U[o3 + l] + U[o4 + l] + U[o5 + l]
                + max(H[o0 + l], H[o1 + l], H[o2 + l], H[o3 + l], H[o4 + l], H[o5 + l]))
    for r in range(NB):  # constant trip counts keep every store offset provably in range
        c = bco[r]
        o0 = (cls_pair[c, 0] & 7) * L
        o1 = (8 + (cls_pair[c, 1] & 7)) * L
        o2 = (16 + (cls_pair[c, 2] & 7)) * L
        o3 = (24 + (cls_pair[c, 3] & 7)) * L
        o4 = (32 + (cls_pair[c, 4] & 7)) * L
        o5 = (40 + (cls_pair[c, 5] & 7)) * L
        orow = (N_COSETS + r) * L
        for l in range(L):
            v = (W[o0 + l] + W[o1 + l] + W[o2 + l] + W[o3 + l] + W[o4 + l] + W[o5 + l]
                 + max(D[o0 + l], D[o1 + l], D[o2 + l], D[o3 + l], D[o4 + l], D[o5 + l]))
            UB[orow + l] = v + v
    orow = ROW_SUB * L
    for l in range(L):
        t0 = Ab[15 * L + l]
        t1 = Ab[31 * L + l]
        t2 = Ab[47 * L + l]
        t3 = Ab[63 * L + l]
        t4 = Ab[79 * L + l]
        t5 = Ab[95 * L + l]
        a = max(t0, t1)  # the two largest of six
        b = min(t0, t1)
        b = max(b, min(a, t2))
        a = max(a, t2)
        b = max(b, min(a, t3))
        a = max(a, t3)
        b = max(b, min(a, t4))
        a = max(a, t4)
        b = max(b, min(a, t5))
        a = max(a, t5)
        UB[orow + l] = _up(_F2 * (a + b))
    orow = ROW_A * L
    for l in range(L):
        a = _NEG
        b = _NEG
        for j in range(6):
            for r in range(4):
                t = Ab[(16 * j + (1 << r)) * L + l]
                b = max(b, min(a, t))
                a = max(a, t)
        UB[orow + l] = _up(_F4 * (a + b))


@numba.njit(cache=True)
def best_rows(UB, t1, t2):
    """The two largest keys ``256 UB + 255 − row`` per lane (bound, then first row)."""
    L = LANES
    for l in range(L):
        t1[l] = -(1 << 30)
        t2[l] = -(1 << 30)
    for r in range(0, NROWS - 3, 4):  # four rows per pass over the lanes
        o = r * L
        for l in range(L):
            k0 = (np.int32(UB[o + l]) << 8) | (255 - r)
            k1 = (np.int32(UB[o + L + l]) << 8) | (254 - r)
            k2 = (np.int32(UB[o + 2 * L + l]) << 8) | (253 - r)
            k3 = (np.int32(UB[o + 3 * L + l]) << 8) | (252 - r)
            a = t1[l]
            b = t2[l]
            b = max(b, min(a, k0))
            a = max(a, k0)
            b = max(b, min(a, k1))
            a = max(a, k1)
            b = max(b, min(a, k2))
            a = max(a, k2)
            b = max(b, min(a, k3))
            a = max(a, k3)
            t1[l] = a
            t2[l] = b
    for r in range(NROWS - NROWS % 4, NROWS):
        o = r * L
        for l in range(L):
            k0 = (np.int32(UB[o + l]) << 8) | (255 - r)
            a = t1[l]
            t2[l] = max(t2[l], min(a, k0))
            t1[l] = max(a, k0)


@numba.njit(cache=True)
def mark_rows(UB, thr, mk):
    """Bit ``r % 64`` of ``mk[(r // 64) L + l]`` set when ``UB[r, l] ≥ thr[l]``."""
    L = LANES
    for w in range((NROWS + 63) // 64):
        ow = w * L
        for l in range(L):
            mk[ow + l] = 0
        for b in range(min(64, NROWS - 64 * w)):
            o = (64 * w + b) * L
            bit = np.uint64(1) << np.uint64(b)
            for l in range(L):
                mk[ow + l] |= bit if UB[o + l] >= thr[l] else np.uint64(0)
