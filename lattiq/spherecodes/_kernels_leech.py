"""numba kernel for the exact nearest codeword of the Leech spherical code.

Plain arrays in, plain arrays out, no validation: :func:`lattiq.spherecodes.search.leech_nearest`
checks the input and passes the tables of :mod:`lattiq.lattices.leech_layout`, which also
owns the index order and the constants read here. Scores are integer-frame inner products
``<v, x>`` with the shell-1 vectors ``v`` of ``√8 Λ24`` (all of norm 32), so the three
shapes compare directly:

* A ``(±4², 0²²)``: ``4|x_i| + 4|x_j|`` for the two largest ``|x_i|``;
* B ``(±2⁸)`` on octad ``o``: ``2 Σ_o |x_i|``, less ``4 min_o |x_i|`` when ``o`` holds an odd
  number of negative ``x_i``;
* C ``(∓3, ±1²³)`` over codeword ``c`` with signs ``s = 1 − 2c``: ``Σ s_i x_i − 4 min_t s_t x_t``.

A *unit* is shape A, one octad (its 128 sign patterns) or one Golay codeword (its 24 special
positions); its score is the best over its vectors. The answer is the vector of largest
float64 score, as the previous kernel computed it (same functions, same order of
operations: :func:`_score_c`, :func:`octad_score`, :func:`_best_a`), ties to the lowest
index. Everything else decides only which units can hold it.

**Sextet frame.** The 24 positions split into six tetrads (``cols``, the MOG columns). Each
Golay codeword lies in one of 128 cosets of the 32-word subcode spanned by the sextet: in
coset ``c`` column ``j`` shows the 4-bit pattern ``2 q_j`` or its complement, and the number
of complemented columns has parity ``g_c`` (:mod:`lattiq.lattices.leech_layout`). The 759
octads lie in 110 of the cosets: six of type ``3·1⁵`` in each of the 64 cosets with
odd-weight columns, eight of type ``2⁴0²`` in each of 45 cosets, and the 15 unions of two
tetrads.

**Integer screening.** Inputs are scaled by a power of two to ``max |x_i| ∈ [1, 2)``
(exact) and rounded, ``x̃ = rint(2¹⁸ x)``. ``Q(u)``, a unit's score on ``x̃``, is computed
exactly: every score, bound and partial sum is an integer below ``2²⁴`` in magnitude (at
most ``28·2¹⁹``; only the padding entries of octad rows sit near ``−3·10³⁸``), so the
float32 (and float64) arithmetic on it never rounds, whatever the order. Rounding moves a
score by at most ``½ Σ|v_i| ≤ 13`` (``Σ|v_i|`` is 8, 16, 26 for the three shapes), and the
float64 scores are within ``2⁻⁴⁰`` of exact (``|x| < 2``, at most 25 operations), so the
float64 winner ``w`` satisfies ``Q(w) ≥ Q(u) − 26`` for every unit ``u``: keeping every unit
with ``Q ≥ max Q − SLACK`` (``SLACK = 32``) keeps ``w``. When one unit is left, it is ``w``
and only its position or sign pattern is computed (:func:`_special_c`, :func:`_rank_b`);
otherwise the survivors are scored in float64.

**Per block of** :data:`LANES` **inputs** (steps 1, 2 and the marking of step 3 vectorized
across the inputs, in :mod:`lattiq.spherecodes._kernels_leech_screen`):

1. per column, 16-pattern tables of ``Σ s_r x̃_r``, ``min s_r x̃_r`` and ``Σ_{r∈P} |x̃_r|``;
2. an upper bound of ``Q`` over each *row*: the 128 cosets for shape C
   (``Σ_j |σ_j| + max_j H_j``: ``σ_j`` the column sum, ``H_j`` what the special position can
   add to the column's better pattern), the 109 octad cosets for shape B
   (``2 (Σ_j W_j + max_j D_j)``: ``W_j`` the weight-1 or heavier weight-2 half of column
   ``j``, ``D_j`` the gain of its weight-3 pattern), the subcode's octads (twice the two
   largest tetrad sums) and shape A. Terms are rounded up to multiples of :data:`STEP` so the
   239 bounds are int16 (32 per AVX-512 vector), still upper bounds;
3. per input, the row of largest bound is searched (a coset's 32 words at once; an octad
   row's bounds, then the exact ``Q`` of its octads best first), and the runner-up if its
   bound still reaches ``max Q − SLACK``; a vectorized pass then marks the other rows whose
   bound reaches it, and those are searched best first until the largest bound left falls
   short. On Gaussian input about 1.8 rows are searched per input and one candidate is
   left at the end (so float64 scores are hardly ever needed).

Rows, words and octads are skipped only when their bound is below ``max Q − SLACK``, so the
result is the float64 argmax with ties to the lowest index, exactly that of the previous
kernel (kept under ``tests/spherecodes``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from lattiq.lattices.leech_layout import (
    CODEWORD_SIGNS,
    COSET_WORDS,
    N_CODEWORDS,
    N_COLUMNS,
    N_COSETS,
    N_OCTADS,
    OCTAD_SIGNS,
    OCTADS_PER_ROW,
    OFFSET_B,
    OFFSET_C,
)

from ._kernels_leech_screen import (
    FM,
    LANES,
    NROWS,
    ROW_A,
    STEP,
    best_rows,
    column_tables,
    mark_rows,
    pair_tables,
    row_bounds,
    zero_pairs,
)

__all__ = ["LANES", "NUNITS", "SLACK", "leech_nearest_kernel", "octad_score"]

#: Scale of the rounded input ``x̃ = rint(2¹⁸ x)`` (``max |x| < 2``).
_QS = 2.0**18
#: A float64 winner ``w`` has ``Q(w) ≥ Q(u) − 26`` for every unit ``u``: every unit within
#: this much of the largest ``Q`` seen stays a candidate.
SLACK = 32.0
#: Candidate codes: Golay codeword ``k`` (shape C), ``_UNIT_B + octad``, ``_UNIT_A``.
_UNIT_B = N_CODEWORDS
_UNIT_A = N_CODEWORDS + N_OCTADS
#: Most candidates an input can have (every unit: all tie at 0 for a zero input).
NUNITS = N_CODEWORDS + N_OCTADS + 1
_F2 = np.float32(2.0)
_F4 = np.float32(4.0)
_NEG = np.float32(-3e38)


# ---------------------------------------------------------------- exact float64 scoring
#
# The previous kernel's scores, operation for operation (``xs[o + i]`` is its ``x[i]``), and
# the index parts of them alone, for a candidate that needs no score.


@numba.njit(cache=True, inline="always")
def _score_c(xs, o, cwb, k):
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
            v = -xs[o + c] if (b >> i) & 1 else xs[o + c]
            s += v
            lt = v < m
            t = c if lt else t
            m = v if lt else m
    return s - 4.0 * m, t


@numba.njit(cache=True, inline="always")
def octad_score(xs, b, octads, o, fixed):
    """Exact shape-B score of octad ``o`` and the rank ``r`` of its sign pattern (ties to
    the lowest), for ``x = xs[b : b + 24]``.

    .. math:: 2\\big(\\textstyle\\sum_F x_i + \\sum_{o \\setminus F} |x_i|
              - 2[\\text{odd}] \\min_{o \\setminus F} |x_i|\\big)

    The positions ``p_q`` with bit ``q`` of ``fixed`` set (``F``) hold ``+2``; the others
    take the best sign pattern with an even number of minus signs (``fixed = 0``: the whole
    octad, this kernel's case; the subset search passes its fixed positions).
    """
    fx = 0.0
    tot = 0.0
    mn = np.inf
    r = 0
    neg = 0
    for q in range(8):
        v = xs[b + octads[o, q]]
        if (fixed >> q) & 1:
            fx += v
        else:
            a = abs(v)
            tot += a
            mn = min(mn, a)
            if v < 0.0:
                neg += 1
                if q < 7:
                    r |= 1 << q
    if neg % 2 == 0:
        return 2.0 * (fx + tot), r
    # flip one free coordinate of smallest |x|: the one giving the smallest rank
    best_r = -1
    for q in range(8):
        if (fixed >> q) & 1 == 0 and abs(xs[b + octads[o, q]]) == mn:
            cand = r if q == 7 else r ^ (1 << q)
            if best_r < 0 or cand < best_r:
                best_r = cand
    return 2.0 * (fx + (tot - 2.0 * mn)), best_r


@numba.njit(cache=True, inline="always")
def _best_a(xs, b, pair_rank):
    """Exact shape-A score and index: the two largest |x_i| (lowest positions on ties)."""
    m1 = -1.0
    i1 = 0
    m2 = -1.0
    i2 = 0
    for i in range(24):  # one pass, branch-free: first positions win ties
        a = abs(xs[b + i])
        g1 = a > m1
        g2 = a > m2
        m2 = m1 if g1 else (a if g2 else m2)
        i2 = i1 if g1 else (i if g2 else i2)
        m1 = a if g1 else m1
        i1 = i if g1 else i1
    i = min(i1, i2)
    j = max(i1, i2)
    idx = 4 * pair_rank[i, j] + 2 * (1 if xs[b + i] < 0.0 else 0) + (1 if xs[b + j] < 0.0 else 0)
    return 4.0 * (m1 + m2), idx


@numba.njit(cache=True, inline="always")
def _special_c(xs, o, cwb, k):
    """The special position ``t`` that :func:`_score_c` picks (first minimum of ``s_t x_t``)."""
    m = np.inf
    t = 0
    for j in range(3):
        b = np.int64(cwb[k, j])
        for i in range(8):
            c = 8 * j + i
            v = -xs[o + c] if (b >> i) & 1 else xs[o + c]
            lt = v < m
            t = c if lt else t
            m = v if lt else m
    return t


@numba.njit(cache=True, inline="always")
def _rank_b(xs, b, octads, o):
    """The sign-pattern rank that :func:`octad_score` picks for octad ``o``."""
    mn = np.inf
    r = 0
    neg = 0
    for q in range(8):
        v = xs[b + octads[o, q]]
        mn = min(mn, abs(v))
        if v < 0.0:
            neg += 1
            if q < 7:
                r |= 1 << q
    if neg % 2 == 0:
        return r
    best_r = -1
    for q in range(8):
        if abs(xs[b + octads[o, q]]) == mn:
            cand = r if q == 7 else r ^ (1 << q)
            if best_r < 0 or cand < best_r:
                best_r = cand
    return best_r


# ---------------------------------------------------------------- per-input search

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@numba.njit(cache=True, inline="always")
def _bit_index(low):
    """Position of the single set bit of ``low``: the population count of ``low - 1``."""
    v = low - np.uint64(1)
    v = v - ((v >> np.uint64(1)) & _M1)
    v = (v & _M2) + ((v >> np.uint64(2)) & _M2)
    v = (v + (v >> np.uint64(4))) & _M4
    return np.int64((v * _H01) >> np.uint64(56))




@numba.njit(cache=True, fastmath=FM, inline="always")
def _coset_q(c, l, cls_pair, cls_g, sgn, bsel, Sx, Mn, qb):
    """``Q`` of the 32 words of coset ``c`` for lane ``l`` into ``qb``; returns the largest.

    Word ``k`` takes the complemented pattern in column ``j`` when
    ``bsel[(6 g + j) 32 + k] = 1`` (``sgn`` is then −1), ``g`` the coset's parity; the loop
    over the words is vectorized.
    """
    L = LANES
    o0 = (0 + 2 * cls_pair[c, 0]) * L + l
    o1 = (16 + 2 * cls_pair[c, 1]) * L + l
    o2 = (32 + 2 * cls_pair[c, 2]) * L + l
    o3 = (48 + 2 * cls_pair[c, 3]) * L + l
    o4 = (64 + 2 * cls_pair[c, 4]) * L + l
    o5 = (80 + 2 * cls_pair[c, 5]) * L + l
    s0 = Sx[o0]
    s1 = Sx[o1]
    s2 = Sx[o2]
    s3 = Sx[o3]
    s4 = Sx[o4]
    s5 = Sx[o5]
    m0 = Mn[o0]
    m1 = Mn[o1]
    m2 = Mn[o2]
    m3 = Mn[o3]
    m4 = Mn[o4]
    m5 = Mn[o5]
    # the complement of pattern 2q sits 15 - 4q rows further on
    d0 = Mn[o0 + (15 - 4 * cls_pair[c, 0]) * L] - m0
    d1 = Mn[o1 + (15 - 4 * cls_pair[c, 1]) * L] - m1
    d2 = Mn[o2 + (15 - 4 * cls_pair[c, 2]) * L] - m2
    d3 = Mn[o3 + (15 - 4 * cls_pair[c, 3]) * L] - m3
    d4 = Mn[o4 + (15 - 4 * cls_pair[c, 4]) * L] - m4
    d5 = Mn[o5 + (15 - 4 * cls_pair[c, 5]) * L] - m5
    W = COSET_WORDS
    g = N_COLUMNS * W * (cls_g[c] & 1)
    for k in range(W):
        ps = (sgn[g + k] * s0 + sgn[g + W + k] * s1 + sgn[g + 2 * W + k] * s2
              + sgn[g + 3 * W + k] * s3 + sgn[g + 4 * W + k] * s4 + sgn[g + 5 * W + k] * s5)
        mn = min(m0 + bsel[g + k] * d0, m1 + bsel[g + W + k] * d1,
                 m2 + bsel[g + 2 * W + k] * d2, m3 + bsel[g + 3 * W + k] * d3,
                 m4 + bsel[g + 4 * W + k] * d4, m5 + bsel[g + 5 * W + k] * d5)
        qb[k] = ps - _F4 * mn
    qm = qb[0]
    for k in range(1, W):
        qm = max(qm, qb[k])
    return qm


@numba.njit(cache=True, inline="always")
def _q_octad(xq, l, octads, o):
    """Exact ``Q`` of octad ``o``: ``2 Σ|x̃| − 4 min|x̃|`` if an odd number of ``x̃ < 0``."""
    L = LANES
    tot = 0.0
    mn = np.inf
    neg = 0
    for q in range(8):
        v = np.float64(xq[octads[o, q] * L + l])
        a = abs(v)
        tot += a
        mn = min(mn, a)
        neg += 1 if v < 0.0 else 0
    return 2.0 * tot - (4.0 * mn if neg % 2 == 1 else 0.0)


@numba.njit(cache=True, inline="always")
def _q_a(ax, l):
    """Exact ``Q`` of shape A: ``4`` times the two largest ``|x̃_i|``."""
    L = LANES
    a = -1.0
    b = -1.0
    for i in range(24):
        t = np.float64(ax[i * L + l])
        b = max(b, min(a, t))
        a = max(a, t)
    return 4.0 * (a + b)


@numba.njit(cache=True, inline="always")
def _collect_row(row, l, qmax, cn, cq, cu, cb, cls_pair, cls_g, sgn, bsel, cword, oref, oflip,
                 opad, oct_id, xq, ax, Sx, Mn, Ab, octads, qb, ob):
    """Append to the candidates ``(cq, cu)[cb + cn:]`` every unit of row ``row`` whose ``Q``
    reaches ``qmax − SLACK`` (``qmax``: the largest ``Q`` seen); returns ``qmax, cn``.

    A coset: the ``Q`` of its 32 words at once. An octad row: the bound ``2 Σ|x̃|`` of each
    octad (the row's reference patterns ``oref``, complemented where ``oflip`` says), then
    the exact ``Q`` of the octads in decreasing order of bound while the bound can reach.
    """
    L = LANES
    if row == ROW_A:
        qa = _q_a(ax, l)
        qmax = max(qmax, qa)
        if qa >= qmax - SLACK:
            cq[cb + cn] = qa
            cu[cb + cn] = _UNIT_A
            cn += 1
        return qmax, cn
    if row < N_COSETS:
        qm = np.float64(_coset_q(row, l, cls_pair, cls_g, sgn, bsel, Sx, Mn, qb))
        qmax = max(qmax, qm)
        thr = qmax - SLACK
        if qm >= thr:
            for k in range(COSET_WORDS):
                if qb[k] >= thr:
                    cq[cb + cn] = qb[k]
                    cu[cb + cn] = cword[row, k]
                    cn += 1
        return qmax, cn
    r = row - N_COSETS
    a0 = Ab[oref[r, 0] * L + l]
    a1 = Ab[oref[r, 1] * L + l]
    a2 = Ab[oref[r, 2] * L + l]
    a3 = Ab[oref[r, 3] * L + l]
    a4 = Ab[oref[r, 4] * L + l]
    a5 = Ab[oref[r, 5] * L + l]
    d0 = Ab[15 * L + l] - a0 - a0  # what complementing column j adds to Σ|x̃|
    d1 = Ab[31 * L + l] - a1 - a1
    d2 = Ab[47 * L + l] - a2 - a2
    d3 = Ab[63 * L + l] - a3 - a3
    d4 = Ab[79 * L + l] - a4 - a4
    d5 = Ab[95 * L + l] - a5 - a5
    a = a0 + a1 + a2 + a3 + a4 + a5
    E = OCTADS_PER_ROW
    for e in range(E):  # 2 Σ|x̃| over each octad of the row bounds its Q
        ob[e] = _F2 * (a + oflip[r, e] * d0 + oflip[r, E + e] * d1 + oflip[r, 2 * E + e] * d2
                       + oflip[r, 3 * E + e] * d3 + oflip[r, 4 * E + e] * d4
                       + oflip[r, 5 * E + e] * d5) + opad[r, e]
    for _ in range(OCTADS_PER_ROW):  # largest bound first: the threshold rises as early as it can
        em = 0
        for e in range(1, OCTADS_PER_ROW):
            em = e if ob[e] > ob[em] else em
        if ob[em] < qmax - SLACK:
            break
        ob[em] = _NEG
        o = oct_id[r, em]
        qo = _q_octad(xq, l, octads, o)
        qmax = max(qmax, qo)
        if qo >= qmax - SLACK:
            cq[cb + cn] = qo
            cu[cb + cn] = _UNIT_B + o
            cn += 1
    return qmax, cn


@numba.njit(cache=True, inline="always")
def _winner(xs, b, qmax, cn, cq, cu, cwb, octads, pair_rank):
    """Index of the float64 winner among the candidates whose ``Q`` reaches ``qmax − SLACK``:
    the only one needs just its position or sign pattern; several are scored in float64
    (largest score, then lowest index). Returns the index and the number of candidates."""
    thr = qmax - SLACK
    n1 = 0
    u1 = 0
    for i in range(cn):
        if cq[i] >= thr:
            n1 += 1
            u1 = cu[i]
    if n1 == 1:
        if u1 < _UNIT_B:
            return OFFSET_C + CODEWORD_SIGNS * u1 + _special_c(xs, b, cwb, u1), 1
        if u1 < _UNIT_A:
            o = u1 - _UNIT_B
            return OFFSET_B + OCTAD_SIGNS * o + _rank_b(xs, b, octads, o), 1
        return _best_a(xs, b, pair_rank)[1], 1
    best = -np.inf
    bidx = 0
    for i in range(cn):
        if cq[i] < thr:
            continue
        u = cu[i]
        if u < _UNIT_B:
            s, t = _score_c(xs, b, cwb, u)
            idx = OFFSET_C + CODEWORD_SIGNS * u + t
        elif u < _UNIT_A:
            o = u - _UNIT_B
            s, rk = octad_score(xs, b, octads, o, 0)
            idx = OFFSET_B + OCTAD_SIGNS * o + rk
        else:
            s, idx = _best_a(xs, b, pair_rank)
        if s > best or (s == best and idx < bidx):
            best = s
            bidx = idx
    return bidx, n1


@numba.njit(cache=True, parallel=True)
def leech_nearest_kernel(X, out, nthreads, cols, cls_pair, cls_g, sgn, bsel, cword, bco, oref,
                         oflip, opad, oct_id, cwb, octads, pair_rank, stats):
    """Nearest Leech codeword index for every row of X (n, 24) float64, into out (n,), in
    ``nthreads`` contiguous chunks of blocks.

    Tables (``lattiq.spherecodes.search._leech_kernel_tables``, from the Leech layout):
    ``cols`` (6, 4),
    ``cls_pair`` (128, 6), ``cls_g`` (128,) the sextet cosets; ``sgn``, ``bsel`` (2·6·32,)
    float32 the signs ``±1`` and complement flags ``0/1`` of the 32 words of a coset of
    parity ``g`` in column ``j`` (entry ``(6 g + j) 32 + k``); ``cword`` (128, 32) their
    Golay indices; ``bco`` (109,) the cosets holding octads of types ``3·1⁵`` and ``2⁴0²``;
    for those and then the subcode (110 octad rows), ``oref`` (110, 6) the reference pattern
    of each column as a table row ``16 j + P``, ``oflip`` (110, 6·16) float32 ``1`` where
    octad ``e`` complements column ``j`` (entry ``16 j + e``), ``opad`` (110, 16) float32 ``0``
    for the row's octads and ``−3·10³⁸`` for padding, ``oct_id`` (110, 16) the octads. Then
    ``cwb`` (4096, 3) uint8 codeword bytes, ``octads`` (759, 8), ``pair_rank`` (24, 24).
    ``stats`` (nthreads, 2) int64 gets, per chunk, the rows searched and the candidate units
    left at the end (scored in float64 when more than one), for the benchmarks.
    """
    n = X.shape[0]
    L = LANES
    nblocks = (n + L - 1) // L
    nth = max(1, min(nthreads, nblocks))
    per = (nblocks + nth - 1) // nth
    for th in numba.prange(nth):
        xs = np.zeros(L * 24)  # the scaled inputs, 24 per lane
        xq = np.empty(24 * L, np.float32)
        ax = np.empty(24 * L, np.float32)
        Sx = np.empty(96 * L, np.float32)
        Mn = np.empty(96 * L, np.float32)
        Ab = np.empty(96 * L, np.float32)
        U = np.empty(48 * L, np.int16)
        H = np.empty(48 * L, np.int16)
        W = np.empty(48 * L, np.int16)
        D = np.empty(48 * L, np.int16)
        zero_pairs(W, D)
        UB = np.empty(NROWS * L, np.int16)
        key1 = np.empty(L, np.int32)
        key2 = np.empty(L, np.int32)
        thr16 = np.empty(L, np.int16)
        mk = np.empty(((NROWS + 63) // 64) * L, np.uint64)
        qmaxv = np.empty(L)
        cq1 = np.empty(L * 64)  # the two top rows' candidates, 64 per lane
        cu1 = np.empty(L * 64, np.int64)
        cn1 = np.empty(L, np.int64)
        cq = np.empty(NUNITS)
        cu = np.empty(NUNITS, np.int64)
        qb = np.empty(COSET_WORDS, np.float32)
        ob = np.empty(OCTADS_PER_ROW, np.float32)
        rows = np.empty(NROWS, np.int64)
        rub = np.empty(NROWS)
        fbits = np.empty(1)
        ibits = fbits.view(np.int64)
        for blk in range(th * per, min(nblocks, (th + 1) * per)):
            s0 = blk * L
            m = min(L, n - s0)
            for l in range(L):
                if l < m:
                    # scale by a power of two (exact) so that max |x_i| lies in [1, 2)
                    mx = 0.0
                    for i in range(24):
                        mx = max(mx, abs(X[s0 + l, i]))
                    # the exponent from the bits (as frexp(mx)[1] - 1 for normal mx)
                    fbits[0] = mx
                    be = (ibits[0] >> 52) & 2047
                    e = be - 1023 if be > 0 else (math.frexp(mx)[1] - 1 if mx > 0.0 else 0)
                    if -1000 < e < 1000:
                        ibits[0] = (1023 - e) << 52  # f = 2^-e exactly
                        f = fbits[0]
                        for i in range(24):
                            xs[24 * l + i] = X[s0 + l, i] * f
                    else:
                        for i in range(24):
                            xs[24 * l + i] = math.ldexp(X[s0 + l, i], -e)
                else:
                    for i in range(24):
                        xs[24 * l + i] = 0.0
            for i in range(24):  # transposed: rows of lanes
                for l in range(L):
                    v = np.rint(xs[24 * l + i] * _QS)  # |v| ≤ 2¹⁹, exact in float32
                    xq[i * L + l] = np.float32(v)
                    ax[i * L + l] = np.float32(abs(v))
            column_tables(xq, ax, cols, Sx, Mn, Ab)
            pair_tables(Sx, Mn, Ab, U, H, W, D)
            row_bounds(cls_pair, bco, U, H, W, D, Ab, UB)
            best_rows(UB, key1, key2)
            for l in range(m):
                qmax, c1 = _collect_row(
                    255 - (key1[l] & 255), l, -np.inf, 0, cq1, cu1, 64 * l, cls_pair, cls_g,
                    sgn, bsel, cword, oref, oflip, opad, oct_id, xq, ax, Sx, Mn, Ab, octads,
                    qb, ob)
                if STEP * np.float64(key2[l] >> 8) >= qmax - SLACK:  # the runner-up row too
                    qmax, c1 = _collect_row(
                        255 - (key2[l] & 255), l, qmax, c1, cq1, cu1, 64 * l, cls_pair, cls_g,
                        sgn, bsel, cword, oref, oflip, opad, oct_id, xq, ax, Sx, Mn, Ab, octads,
                        qb, ob)
                    stats[th, 0] += 1
                stats[th, 0] += 1
                qmaxv[l] = qmax
                cn1[l] = c1
                # STEP · UB ≥ qmax − SLACK exactly when UB ≥ ceil((qmax − SLACK) / STEP)
                thr16[l] = np.int16(min(32767.0, max(-32768.0, np.ceil((qmax - SLACK) / STEP))))
            for l in range(m, L):
                thr16[l] = 32767
            mark_rows(UB, thr16, mk)
            for l in range(m):
                r1 = 255 - (key1[l] & 255)
                r2 = 255 - (key2[l] & 255)
                qmax = qmaxv[l]
                cn = cn1[l]
                for i in range(cn):
                    cq[i] = cq1[64 * l + i]
                    cu[i] = cu1[64 * l + i]
                nr = 0
                for w in range((NROWS + 63) // 64):
                    wd = mk[w * L + l]
                    while wd != 0:
                        low = wd & (~wd + np.uint64(1))
                        wd ^= low
                        row = 64 * w + _bit_index(low)
                        if row != r1 and row != r2:
                            rows[nr] = row
                            rub[nr] = STEP * np.float64(UB[row * L + l])
                            nr += 1
                while nr > 0:  # largest bound first
                    im = 0
                    for i in range(1, nr):
                        im = i if rub[i] > rub[im] else im
                    if rub[im] < qmax - SLACK:
                        break
                    row = rows[im]
                    nr -= 1
                    rows[im] = rows[nr]
                    rub[im] = rub[nr]
                    stats[th, 0] += 1
                    qmax, cn = _collect_row(
                        row, l, qmax, cn, cq, cu, 0, cls_pair, cls_g, sgn, bsel, cword, oref,
                        oflip, opad, oct_id, xq, ax, Sx, Mn, Ab, octads, qb, ob)
                out[s0 + l], nc = _winner(xs, 24 * l, qmax, cn, cq, cu, cwb, octads, pair_rank)
                stats[th, 1] += nc
