"""numba kernel for exact (maximum-likelihood) nearest-point decoding of the Leech lattice.

Plain arrays, no validation; ``decoders.decode_leech`` is the public function and explains
the algorithm. Working frame: the integer frame ``√8 Λ24``, where for ``m ∈ {0, 1}`` the
half-lattice ``H_m`` is ``{m + 2c + 4z : c ∈ C24, z ∈ Z^24, sum z ≡ m (mod 2)}``.

Tables (the sextet fields of :func:`lattiq.lattices.leech_layout.leech_layout`):

* ``cols`` (6, 4) int64: a sextet of the Golay code, the 24 positions split into six
  tetrads (the MOG columns); row ``r`` of column ``j`` is position ``cols[j, r]``.
* ``cls_pair`` (128, 6) int64 and ``cls_g`` (128,) int64: the 128 cosets of the sextet's
  32-word subcode. A codeword restricted to column ``j`` is a 4-bit pattern (bit ``r`` =
  row ``r``), known up to complement by its pair id ``p = (pattern or its complement with
  row-0 bit clear) >> 1``; the coset's codewords are exactly the words with pair ids
  ``cls_pair[c]`` whose number of complemented columns has parity ``cls_g[c]``.

Per coordinate ``i`` and class bit ``b`` the nearest point ``≡ m + 2b (mod 4)`` and the
runner-up in that class (``±4`` away, the other value of ``z_i`` mod 2) are known in closed
form from one rounding. Costs are kept as ``(|t - y|² - a_i²) / 4`` with ``a_i`` the
distance to the nearest point of ``2Z + m``, so they are ``0``, ``1 - a``, ``4 - 2a``,
``2a``.
"""

from __future__ import annotations

import numba
import numpy as np

_INF = np.inf


#: Points per block of :func:`leech_kernel` (the vectorized dimension).
LANES = 64
#: de Bruijn multiplier and table: position of the lowest set bit of a 64-bit word
_DB_MUL = np.uint64(0x03F79D71B4CB0A89)
_DEBRUIJN = np.zeros(64, np.int64)
for _i in range(64):
    _DEBRUIJN[((1 << _i) * 0x03F79D71B4CB0A89 % 2**64) >> 58] = _i


@numba.njit(inline="always")
def _fix_cost_lane(dl, m, cols_p, syn, l):  # pragma: no cover - compiled
    """Cheapest way to change the syndrome ``syn`` (2 bits) of lane ``l`` by altering ≤ 2
    column states.

    ``dl[m, j, cols_p[j], s, l]`` is the extra cost of XOR-ing ``s`` into column ``j``'s
    best state. One column with ``s = syn``, or two distinct columns with the two other
    nonzero values (three or more changes are never needed: a repeated value cancels, and
    the three distinct nonzero values sum to zero). Returns ``(cost, j1, s1, j2, s2)`` with
    ``j2 = -1`` for a single change; ties keep the single change and the lowest column.
    """
    u = 1 if syn != 1 else 2
    v = syn ^ u
    b1 = _INF
    bj = 0
    u1 = _INF
    u2 = _INF
    uj1 = 0
    uj2 = 0
    v1 = _INF
    v2 = _INF
    vj1 = 0
    vj2 = 0
    for j in range(6):
        p = cols_p[j]
        a = dl[m, j, p, syn, l]
        if a < b1:
            b1 = a
            bj = j
        a = dl[m, j, p, u, l]
        if a < u1:
            u2 = u1
            uj2 = uj1
            u1 = a
            uj1 = j
        elif a < u2:
            u2 = a
            uj2 = j
        a = dl[m, j, p, v, l]
        if a < v1:
            v2 = v1
            vj2 = vj1
            v1 = a
            vj1 = j
        elif a < v2:
            v2 = a
            vj2 = j
    if uj1 != vj1:
        two = u1 + v1
        tj1 = uj1
        tj2 = vj1
    else:
        ta = u1 + v2
        tb = u2 + v1
        if ta <= tb:
            two = ta
            tj1 = uj1
            tj2 = vj2
        else:
            two = tb
            tj1 = uj2
            tj2 = vj1
    if b1 <= two:
        return b1, bj, syn, -1, 0
    return two, tj1, u, tj2, v


@numba.njit(cache=True, nogil=True)
def leech_kernel(x, inv_scale, cols, cls_pair, cls_g, out):  # pragma: no cover
    """Exact nearest point of ``√8 Λ24`` to each row of ``x * inv_scale``; int64 into ``out``.

    Scan order (this is the documented tie rule): half ``m = 0`` before ``m = 1``, cosets
    in table order, and a candidate replaces the incumbent only if strictly closer.

    Points are decoded in blocks of :data:`LANES`. Every per-point quantity of the
    one-point-at-a-time algorithm becomes a row over the block's points
    (structure of arrays, points innermost), so the per-coordinate classes, the 16 column
    patterns, the complement pairs, the 256 coset lower bounds and the rebuilding of the
    winner compile to SIMD loops. Every floating-point sum is formed in the scalar
    kernel's order (patterns by doubling over rows 0, 1, 2, 3; coset sums from cached
    prefixes over columns 0, 1, whose 32 values the sorted coset table walks in runs of
    four), so the rounding and therefore every answer is that of the one-point-at-a-time
    kernel (kept as a reference under ``tests/lattices``). The lower bound of a
    coset is the sum of its six column optima; the smallest lower bound among cosets that
    need no parity fix bounds the optimum from above, and only the cosets at or below it
    (about three per point on Gaussian input) are finished, point by point, in scan order
    with the strict-improvement rule, so ties go the same way.

    ``cls_pair`` must be sorted by rows (as :func:`leech_layout.leech_sextet_tables` returns
    it): cosets ``4k .. 4k + 3`` share their first two columns.
    """
    N = x.shape[0]
    L = LANES
    t = np.empty((24, L))
    rr = np.empty((2, 24, L))
    sg = np.empty((2, 24, L))
    D = np.empty((2, 24, 2, L))
    E = np.empty((2, 24, 2, L))
    Q = np.empty((2, 24, 2, L), np.int64)
    const = np.empty((2, L))
    cst = np.empty(L)
    base = np.empty((2, 6, 8, L))
    state = np.empty((2, 6, 8, L), np.int64)
    dl = np.zeros((2, 6, 8, 4, L))
    pS = np.empty((16, L))
    pK = np.empty((16, L), np.int64)
    pM = np.empty((16, L))
    T = np.empty((256, L))
    SY = np.empty((256, L), np.int64)
    T2 = np.empty((32, L))
    S2 = np.empty((32, L), np.int64)
    ub = np.empty(L)
    mk = np.empty((4, L), np.uint64)
    Wm = np.empty(L, np.int64)
    Wpat = np.empty((6, L), np.int64)
    Wk = np.empty((6, L), np.int64)
    Kc = np.empty(L, np.int64)
    emin = np.empty(L)
    rmin = np.empty(L, np.int64)
    Y = np.empty((24, L), np.int64)
    pp = np.empty(6, np.int64)
    nblk = (N + L - 1) // L
    for blk in range(nblk):
        n0 = blk * L
        nb = min(L, N - n0)
        for i in range(24):
            for l in range(nb):
                t[i, l] = np.float64(x[n0 + l, i]) * inv_scale
            for l in range(nb, L):
                t[i, l] = 0.0
        # ---- per coordinate: nearest and runner-up of each class, both halves
        for m in range(2):
            for l in range(L):
                cst[l] = 0.0
            for i in range(24):
                for l in range(L):
                    w = t[i, l] - m
                    r = 2.0 * np.floor(w * 0.5 + 0.5)
                    d = w - r
                    pos = d >= 0.0
                    s = 1 if pos else -1
                    a = abs(d)
                    cst[l] += a * a
                    ri = np.int64(r)
                    b0 = (ri >> 1) & 1
                    rr[m, i, l] = r
                    sg[m, i, l] = 1.0 if pos else -1.0
                    qa = (ri >> 2) & 1
                    qb = ((ri + 2 * s) >> 2) & 1
                    ea = 4.0 - 2.0 * a
                    eb = 2.0 * a
                    da = 1.0 - a
                    z = b0 == 0
                    D[m, i, 0, l] = 0.0 if z else da
                    D[m, i, 1, l] = da if z else 0.0
                    E[m, i, 0, l] = ea if z else eb
                    E[m, i, 1, l] = eb if z else ea
                    Q[m, i, 0, l] = qa if z else qb
                    Q[m, i, 1, l] = qb if z else qa
            for l in range(L):
                const[m, l] = 0.25 * cst[l]
            # ---- per column: 16 patterns (by doubling over the rows), then 8 pairs
            for j in range(6):
                for c0 in range(2):
                    i0 = cols[j, 0]
                    for l in range(L):
                        pS[c0, l] = D[m, i0, c0, l]
                        pK[c0, l] = Q[m, i0, c0, l]
                        pM[c0, l] = E[m, i0, c0, l]
                for row in range(1, 4):
                    h = 1 << row
                    i = cols[j, row]
                    for pat in range(h):
                        for l in range(L):
                            a0 = pS[pat, l]
                            k0 = pK[pat, l]
                            e0 = pM[pat, l]
                            pS[pat + h, l] = a0 + D[m, i, 1, l]
                            pK[pat + h, l] = k0 ^ Q[m, i, 1, l]
                            pM[pat + h, l] = min(e0, E[m, i, 1, l])
                            pS[pat, l] = a0 + D[m, i, 0, l]
                            pK[pat, l] = k0 ^ Q[m, i, 0, l]
                            pM[pat, l] = min(e0, E[m, i, 0, l])
                for p in range(8):
                    P0 = p << 1
                    P1 = P0 ^ 15
                    for l in range(L):
                        s0 = pS[P0, l]
                        s1 = pS[P1, l]
                        k0 = pK[P0, l]
                        k1 = pK[P1, l]
                        m0 = pM[P0, l]
                        m1 = pM[P1, l]
                        keep = s0 <= s1
                        B = s0 if keep else s1
                        So = (s1 if keep else s0) - B
                        kb = k0 if keep else k1
                        ko = k1 if keep else k0
                        mo = m1 if keep else m0
                        base[m, j, p, l] = B
                        state[m, j, p, l] = (0 if keep else 2) | kb
                        dl[m, j, p, 1, l] = m0 if keep else m1
                        Sm = So + mo
                        same = ko == kb
                        dl[m, j, p, 2, l] = So if same else Sm
                        dl[m, j, p, 3, l] = Sm if same else So
        # ---- coset lower bounds and syndromes; the best syndrome-free bound
        for l in range(L):
            ub[l] = _INF
        for m in range(2):
            for k in range(32):
                q0 = cls_pair[4 * k, 0]
                q1 = cls_pair[4 * k, 1]
                for l in range(L):
                    T2[k, l] = const[m, l] + base[m, 0, q0, l] + base[m, 1, q1, l]
                    S2[k, l] = state[m, 0, q0, l] ^ state[m, 1, q1, l]
            for c in range(128):
                k = c >> 2
                q2 = cls_pair[c, 2]
                q3 = cls_pair[c, 3]
                q4 = cls_pair[c, 4]
                q5 = cls_pair[c, 5]
                g = (cls_g[c] << 1) | m
                row = 128 * m + c
                for l in range(L):
                    tot = (T2[k, l] + base[m, 2, q2, l] + base[m, 3, q3, l]
                           + base[m, 4, q4, l] + base[m, 5, q5, l])
                    syn = (g ^ S2[k, l] ^ state[m, 2, q2, l] ^ state[m, 3, q3, l]
                           ^ state[m, 4, q4, l] ^ state[m, 5, q5, l])
                    T[row, l] = tot
                    SY[row, l] = syn
                    ub[l] = min(ub[l], tot) if syn == 0 else ub[l]
        # ---- survivors: cosets whose lower bound does not exceed that bound, as bit masks
        for w in range(4):
            for l in range(L):
                mk[w, l] = 0
            for b in range(64):
                row = 64 * w + b
                bit = np.uint64(1) << np.uint64(b)
                for l in range(L):
                    mk[w, l] |= bit if T[row, l] <= ub[l] else np.uint64(0)
        # ---- per point: finish the surviving cosets in scan order; the winner's states
        for l in range(nb):
            best = _INF
            bm = 0
            bc = 0
            fj1 = -1
            fs1 = 0
            fj2 = -1
            fs2 = 0
            for w in range(4):
                wd = mk[w, l]
                while wd != 0:
                    low = wd & (~wd + np.uint64(1))
                    wd ^= low
                    row = 64 * w + _DEBRUIJN[(low * _DB_MUL) >> np.uint64(58)]
                    tot = T[row, l]
                    if tot >= best:
                        continue
                    m = row >> 7
                    c = row & 127
                    syn = SY[row, l]
                    if syn == 0:
                        best = tot
                        bm = m
                        bc = c
                        fj1 = -1
                        fj2 = -1
                        continue
                    for j in range(6):
                        pp[j] = cls_pair[c, j]
                    fix, j1, s1, j2, s2 = _fix_cost_lane(dl, m, pp, syn, l)
                    tot += fix
                    if tot < best:
                        best = tot
                        bm = m
                        bc = c
                        fj1 = j1
                        fs1 = s1
                        fj2 = j2
                        fs2 = s2
            Wm[l] = bm
            for j in range(6):
                p = cls_pair[bc, j]
                st = state[bm, j, p, l]
                if j == fj1:
                    st ^= fs1
                if j == fj2:
                    st ^= fs2
                Wpat[j, l] = (p << 1) ^ (15 if st >> 1 else 0)
                Wk[j, l] = st & 1
        for l in range(nb, L):
            Wm[l] = 0
            for j in range(6):
                Wpat[j, l] = 0
                Wk[j, l] = 0
        # ---- rebuild the winning points: per column, the z-parity and its cheapest flip
        for j in range(6):
            for l in range(L):
                Kc[l] = 0
                emin[l] = _INF
                rmin[l] = -1
            for row in range(4):
                i = cols[j, row]
                for l in range(L):
                    b = (Wpat[j, l] >> row) & 1
                    one = Wm[l] == 1
                    e0 = E[1, i, 0, l] if one else E[0, i, 0, l]
                    e1 = E[1, i, 1, l] if one else E[0, i, 1, l]
                    k0 = Q[1, i, 0, l] if one else Q[0, i, 0, l]
                    k1 = Q[1, i, 1, l] if one else Q[0, i, 1, l]
                    e = e1 if b == 1 else e0
                    Kc[l] ^= k1 if b == 1 else k0
                    lt = e < emin[l]
                    emin[l] = e if lt else emin[l]
                    rmin[l] = row if lt else rmin[l]
            for row in range(4):
                i = cols[j, row]
                for l in range(L):
                    b = (Wpat[j, l] >> row) & 1
                    mm = Wm[l]
                    one = mm == 1
                    r = rr[1, i, l] if one else rr[0, i, l]
                    s = sg[1, i, l] if one else sg[0, i, l]
                    near = b == ((np.int64(r) >> 1) & 1)
                    y = r if near else r + 2.0 * s
                    alt = r + 4.0 * s if near else r - 2.0 * s
                    flip = (Wk[j, l] != Kc[l]) & (rmin[l] == row)
                    Y[i, l] = np.int64(alt if flip else y) + mm
        for l in range(nb):
            for i in range(24):
                out[n0 + l, i] = Y[i, l]
