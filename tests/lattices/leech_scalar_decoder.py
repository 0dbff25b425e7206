"""The one-point-at-a-time Leech decoder kernel that ``lattiq.lattices._leech_kernels``
replaced, kept as a reference: the batched kernel must return exactly its answers (same
tables, same tie rule), and ``benchmarks/bench_decoders.py`` times both in one process.

See ``lattiq/lattices/_leech_kernels.py`` for the working frame and the tables.
"""

from __future__ import annotations

import numba
import numpy as np

_INF = np.inf


@numba.njit(inline="always")
def _fix_cost(dl, m, cols_p, syn):  # pragma: no cover - compiled
    """Cheapest way to change the syndrome ``syn`` (2 bits) by altering ≤ 2 column states.

    ``dl[m, j, cols_p[j], s]`` is the extra cost of XOR-ing ``s`` into column ``j``'s best
    state. One column with ``s = syn``, or two distinct columns with the two other nonzero
    values (three or more changes are never needed: a repeated value cancels, and the three
    distinct nonzero values sum to zero). Returns ``(cost, j1, s1, j2, s2)`` with ``j2 = -1``
    for a single change; ties keep the single change and the lowest column.
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
        a = dl[m, j, p, syn]
        if a < b1:
            b1 = a
            bj = j
        a = dl[m, j, p, u]
        if a < u1:
            u2 = u1
            uj2 = uj1
            u1 = a
            uj1 = j
        elif a < u2:
            u2 = a
            uj2 = j
        a = dl[m, j, p, v]
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
def leech_kernel_scalar(x, inv_scale, cols, cls_pair, cls_g, out):  # pragma: no cover - compiled
    """Exact nearest point of ``√8 Λ24`` to each row of ``x * inv_scale``; int64 into ``out``.

    Scan order (this is the documented tie rule): half ``m = 0`` before ``m = 1``, cosets
    in table order, and a candidate replaces the incumbent only if strictly closer.
    """
    N = x.shape[0]
    t = np.empty(24)
    rr = np.empty((2, 24))
    sg = np.empty((2, 24))
    D = np.empty((2, 24, 2))
    E = np.empty((2, 24, 2))
    Q = np.empty((2, 24, 2), np.int64)
    const = np.empty(2)
    base = np.empty((2, 6, 8))
    state = np.empty((2, 6, 8), np.int64)
    dl = np.zeros((2, 6, 8, 4))
    pS = np.empty(16)
    pK = np.empty(16, np.int64)
    pM = np.empty(16)
    pp = np.empty(6, np.int64)
    st = np.empty(6, np.int64)
    for n in range(N):
        for i in range(24):
            t[i] = np.float64(x[n, i]) * inv_scale
        # ---- per coordinate: nearest and runner-up of each class, both halves
        for m in range(2):
            cst = 0.0
            for i in range(24):
                w = t[i] - m
                r = 2.0 * np.floor(w * 0.5 + 0.5)
                d = w - r
                s = 1 if d >= 0.0 else -1
                a = abs(d)
                cst += a * a
                ri = np.int64(r)
                b0 = (ri >> 1) & 1
                rr[m, i] = r
                sg[m, i] = s
                D[m, i, b0] = 0.0
                E[m, i, b0] = 4.0 - 2.0 * a
                Q[m, i, b0] = (ri >> 2) & 1
                D[m, i, 1 - b0] = 1.0 - a
                E[m, i, 1 - b0] = 2.0 * a
                Q[m, i, 1 - b0] = ((ri + 2 * s) >> 2) & 1
            const[m] = 0.25 * cst
            # ---- per column: 16 patterns, then the 8 complement pairs
            for j in range(6):
                i0 = cols[j, 0]
                i1 = cols[j, 1]
                i2 = cols[j, 2]
                i3 = cols[j, 3]
                for pat in range(16):
                    c0 = pat & 1
                    c1 = (pat >> 1) & 1
                    c2 = (pat >> 2) & 1
                    c3 = pat >> 3
                    pS[pat] = D[m, i0, c0] + D[m, i1, c1] + D[m, i2, c2] + D[m, i3, c3]
                    pK[pat] = Q[m, i0, c0] ^ Q[m, i1, c1] ^ Q[m, i2, c2] ^ Q[m, i3, c3]
                    pM[pat] = min(
                        min(E[m, i0, c0], E[m, i1, c1]), min(E[m, i2, c2], E[m, i3, c3])
                    )
                for p in range(8):
                    P0 = p << 1
                    P1 = P0 ^ 15
                    if pS[P0] <= pS[P1]:
                        tb = 0
                        Pb = P0
                        Po = P1
                    else:
                        tb = 1
                        Pb = P1
                        Po = P0
                    B = pS[Pb]
                    kb = pK[Pb]
                    base[m, j, p] = B
                    state[m, j, p] = (tb << 1) | kb
                    dl[m, j, p, 1] = pM[Pb]
                    So = pS[Po] - B
                    if pK[Po] == kb:
                        dl[m, j, p, 2] = So
                        dl[m, j, p, 3] = So + pM[Po]
                    else:
                        dl[m, j, p, 2] = So + pM[Po]
                        dl[m, j, p, 3] = So
        # ---- per coset of the sextet subcode: best states, then the two parities
        best = _INF
        bm = 0
        bc = 0
        fj1 = -1
        fs1 = 0
        fj2 = -1
        fs2 = 0
        for m in range(2):
            cm = const[m]
            for c in range(128):
                tot = cm
                syn = (cls_g[c] << 1) | m
                for j in range(6):
                    p = cls_pair[c, j]
                    pp[j] = p
                    tot += base[m, j, p]
                    syn ^= state[m, j, p]
                if tot >= best:
                    continue
                if syn == 0:
                    best = tot
                    bm = m
                    bc = c
                    fj1 = -1
                    fj2 = -1
                    continue
                fix, j1, s1, j2, s2 = _fix_cost(dl, m, pp, syn)
                tot += fix
                if tot < best:
                    best = tot
                    bm = m
                    bc = c
                    fj1 = j1
                    fs1 = s1
                    fj2 = j2
                    fs2 = s2
        # ---- rebuild the winning point
        m = bm
        for j in range(6):
            pp[j] = cls_pair[bc, j]
            st[j] = state[m, j, pp[j]]
        if fj1 >= 0:
            st[fj1] ^= fs1
        if fj2 >= 0:
            st[fj2] ^= fs2
        for j in range(6):
            tj = st[j] >> 1
            kj = st[j] & 1
            pat = (pp[j] << 1) ^ (15 if tj else 0)
            K = 0
            emin = _INF
            imin = -1
            for row in range(4):
                i = cols[j, row]
                b = (pat >> row) & 1
                K ^= Q[m, i, b]
                if E[m, i, b] < emin:
                    emin = E[m, i, b]
                    imin = i
            for row in range(4):
                i = cols[j, row]
                b = (pat >> row) & 1
                r = rr[m, i]
                s = sg[m, i]
                if b == ((np.int64(r) >> 1) & 1):
                    y = r
                    alt = r + 4.0 * s
                else:
                    y = r + 2.0 * s
                    alt = r - 2.0 * s
                if kj != K and i == imin:
                    y = alt
                out[n, i] = np.int64(y) + m
