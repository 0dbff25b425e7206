"""numba kernels for the structured searches other than the full Leech code, and for the
spherical Fibonacci points. Plain arrays, explicit dtypes, no validation: the documented
public functions live in :mod:`lattiq.spherecodes.search` and
:mod:`lattiq.spherecodes.families`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from lattiq.lattices.leech_layout import CODEWORD_SIGNS, OCTAD_SIGNS, OFFSET_B, OFFSET_C

from ._kernels_leech import octad_score

#: 1 / golden ratio, the Kronecker step of the spherical Fibonacci points.
FIB_ALPHA = (math.sqrt(5.0) - 1.0) / 2.0


# ------------------------------------------------------------------ D_n and E8 roots


@numba.njit(cache=True)
def _top2(x):
    """Positions of the two largest |x_i| (lowest positions on ties), as (i < j)."""
    d = x.shape[0]
    m1 = -1.0
    i1 = 0
    for i in range(d):
        a = abs(x[i])
        if a > m1:
            m1 = a
            i1 = i
    m2 = -1.0
    i2 = 0
    for i in range(d):
        if i != i1:
            a = abs(x[i])
            if a > m2:
                m2 = a
                i2 = i
    return min(i1, i2), max(i1, i2)


@numba.njit(cache=True)
def _parity_sign_rank(x, start):
    """For the (±1)^n sign vectors with an even number of minus signs on x[start:start+n]:
    best score sum|x| - 2[odd] min|x| and the rank r (bit q = sign of coordinate q < n-1),
    the lowest r among ties."""
    n = x.shape[0] - start
    tot = 0.0
    mn = np.inf
    r = 0
    neg = 0
    for q in range(n):
        v = x[start + q]
        a = abs(v)
        tot += a
        mn = min(mn, a)
        if v < 0.0:
            neg += 1
            if q < n - 1:
                r |= 1 << q
    if neg % 2 == 0:
        return tot, r
    best_r = -1
    for q in range(n):
        if abs(x[start + q]) == mn:
            cand = r if q == n - 1 else r ^ (1 << q)
            if best_r < 0 or cand < best_r:
                best_r = cand
    return tot - 2.0 * mn, best_r


@numba.njit(cache=True)
def roots_nearest_kernel(X, out, pair_rank, half):
    """Nearest D_n root (and, with half=True for n = 8, E8 root) per row of X."""
    n, d = X.shape
    npairs = 4 * (d * (d - 1) // 2)
    for r in range(n):
        x = X[r]
        i, j = _top2(x)
        sd = abs(x[i]) + abs(x[j])
        idx = 4 * pair_rank[i, j] + 2 * (1 if x[i] < 0.0 else 0) + (1 if x[j] < 0.0 else 0)
        if half:
            sh, rk = _parity_sign_rank(x, 0)
            if 0.5 * sh > sd:
                idx = npairs + rk
        out[r] = idx


# ------------------------------------------------------------------ subsets of the Leech shell


@numba.njit(cache=True)
def _byte_sums(x, P):
    """P[j, b] = sum over byte j of s_i x_i with s_i = -1 on the set bits of b."""
    for j in range(3):
        s = 0.0
        for i in range(8):
            s += x[8 * j + i]
        P[j, 0] = s
        for b in range(1, 256):
            p = 0
            while (b >> p) & 1 == 0:
                p += 1
            P[j, b] = P[j, b & (b - 1)] - 2.0 * x[8 * j + p]


@numba.njit(cache=True)
def leech_subset_kernel(X, out, a_pairs, b_octads, b_fixed, octads, c_words, c_special, cwb,
                        signs, leech_index):
    """Best Leech-shell vector (integer frame) within a structured subset, per row of X.

    a_pairs (nA, 5): i, si, j, sj, leech index; b_octads (nB,): octad ranks with b_fixed
    (nB, 8) marking positions held at +2; c_words (nC,) with special positions c_special.
    Lists are in increasing Leech index. Output: position in leech_index (sorted).
    """
    n = X.shape[0]
    P = np.empty((3, 256))
    for r in range(n):
        x = X[r]
        best = -np.inf
        best_li = 0
        # shape A: 4 (si x_i + sj x_j)
        for e in range(a_pairs.shape[0]):
            s = 4.0 * (a_pairs[e, 1] * x[a_pairs[e, 0]] + a_pairs[e, 3] * x[a_pairs[e, 2]])
            if s > best:
                best = s
                best_li = a_pairs[e, 4]
        # shape B: fixed +2 positions, free positions with an even number of minus signs
        for e in range(b_octads.shape[0]):
            o = b_octads[e]
            fm = 0
            for q in range(8):
                if b_fixed[e, q]:
                    fm |= 1 << q
            s, rk = octad_score(x, 0, octads, o, fm)
            li = OFFSET_B + OCTAD_SIGNS * o + rk
            if s > best or (s == best and li < best_li):
                best = s
                best_li = li
        # shape C: <s_c, x> - 4 s_t x_t with t fixed
        if c_words.shape[0] > 0:
            _byte_sums(x, P)
            for e in range(c_words.shape[0]):
                k = c_words[e]
                t = c_special[e]
                s = P[0, cwb[k, 0]] + P[1, cwb[k, 1]] + P[2, cwb[k, 2]]
                s -= 4.0 * signs[k, t] * x[t]
                li = OFFSET_C + CODEWORD_SIGNS * k + t
                if s > best or (s == best and li < best_li):
                    best = s
                    best_li = li
        out[r] = np.searchsorted(leech_index, best_li)


# ------------------------------------------------------------------ spherical Fibonacci


@numba.njit(cache=True)
def fib_point(i, n):
    """Coordinates of spherical Fibonacci point i of n (Keinert et al. 2015)."""
    z = 1.0 - (2.0 * i + 1.0) / n
    w = (i * FIB_ALPHA) % 1.0
    phi = 2.0 * math.pi * w
    rho = math.sqrt(max(0.0, 1.0 - z * z))
    return rho * math.cos(phi), rho * math.sin(phi), z


@numba.njit(cache=True)
def fibonacci_points_kernel(n, out):
    for i in range(n):
        a, b, c = fib_point(i, n)
        out[i, 0] = a
        out[i, 1] = b
        out[i, 2] = c


@numba.njit(cache=True)
def fibonacci_select_kernel(idx, n, out):
    for r in range(idx.shape[0]):
        a, b, c = fib_point(idx[r], n)
        out[r, 0] = a
        out[r, 1] = b
        out[r, 2] = c


@numba.njit(cache=True)
def _fib_box(n, i_lo, i_hi, wc, delta, buf):
    """Indices i in [i_lo, i_hi] with (i * alpha - wc) within delta of an integer.

    Enumerates the points of the lattice {(i, i alpha - m)} inside the box after a
    Lagrange-Gauss reduction of its basis in box-scaled coordinates. Writes into buf and
    returns the count (or -1 when buf is too small).
    """
    cnt = 0
    if delta >= 0.5:
        for i in range(i_lo, i_hi + 1):
            if cnt >= buf.shape[0]:
                return -1
            buf[cnt] = i
            cnt += 1
        return cnt
    ic = 0.5 * (i_lo + i_hi)
    h = 0.5 * (i_hi - i_lo) + 0.5
    # basis in scaled coordinates (u, v) = ((i - ic) / h, (i alpha - m - wc) / delta),
    # with integer coordinates (di, dm) tracked alongside
    u1, v1, p1, q1 = 1.0 / h, FIB_ALPHA / delta, 1, 0
    u2, v2, p2, q2 = 0.0, -1.0 / delta, 0, 1
    for _ in range(200):
        n1 = u1 * u1 + v1 * v1
        n2 = u2 * u2 + v2 * v2
        if n1 > n2:
            u1, v1, p1, q1, u2, v2, p2, q2 = u2, v2, p2, q2, u1, v1, p1, q1
            n1, n2 = n2, n1
        mu = round((u1 * u2 + v1 * v2) / n1)
        if mu == 0:
            break
        u2 -= mu * u1
        v2 -= mu * v1
        p2 -= int(mu) * p1
        q2 -= int(mu) * q1
    i0 = int(round(ic))
    m0 = int(round(i0 * FIB_ALPHA - wc))
    ou = (i0 - ic) / h
    ov = (i0 * FIB_ALPHA - m0 - wc) / delta
    det = u1 * v2 - u2 * v1
    # rows of the inverse of [[u1, u2], [v1, v2]]
    a21 = -v1 / det
    a22 = u1 / det
    beta = -(a21 * ou + a22 * ov)
    spread = abs(a21) + abs(a22)
    b_lo = int(math.floor(beta - spread)) - 1
    b_hi = int(math.ceil(beta + spread)) + 1
    for b in range(b_lo, b_hi + 1):
        cu = ou + b * u2
        cv = ov + b * v2
        lo = -1e300
        hi = 1e300
        ok = True
        for c, r in ((cu, u1), (cv, v1)):
            if r == 0.0:
                if abs(c) > 1.0:
                    ok = False
            else:
                t1 = (-1.0 - c) / r
                t2 = (1.0 - c) / r
                lo = max(lo, min(t1, t2))
                hi = min(hi, max(t1, t2))
        if not ok or lo > hi:
            continue
        for a in range(int(math.ceil(lo)), int(math.floor(hi)) + 1):
            i = i0 + a * p1 + b * p2
            if i_lo <= i <= i_hi:
                if cnt >= buf.shape[0]:
                    return -1
                buf[cnt] = i
                cnt += 1
    return cnt


@numba.njit(cache=True)
def fibonacci_nearest_kernel(X, out, n):
    """Exact nearest spherical Fibonacci point (largest inner product) per row of X."""
    buf = np.empty(4096, np.int64)
    spacing = math.sqrt(4.0 * math.pi / n)
    for r in range(X.shape[0]):
        x0 = X[r, 0]
        x1 = X[r, 1]
        x2 = X[r, 2]
        nx = math.sqrt(x0 * x0 + x1 * x1 + x2 * x2)
        if nx == 0.0:
            out[r] = 0
            continue
        zp = max(-1.0, min(1.0, x2 / nx))
        theta = math.acos(zp)
        wc = (math.atan2(x1, x0) / (2.0 * math.pi)) % 1.0
        rho = 1.5 * spacing
        while True:
            # the cap of angular radius rho around x, inside a (z, phi) box
            t_lo = theta - rho
            t_hi = theta + rho
            z_hi = 1.0 if t_lo <= 0.0 else math.cos(t_lo)
            z_lo = -1.0 if t_hi >= math.pi else math.cos(t_hi)
            i_lo = max(0, int(math.floor((n * (1.0 - z_hi) - 1.0) / 2.0)) - 1)
            i_hi = min(n - 1, int(math.ceil((n * (1.0 - z_lo) - 1.0) / 2.0)) + 1)
            if t_lo <= 0.0 or t_hi >= math.pi:
                delta = 1.0
            else:
                sd = math.sin(rho) / math.sin(theta)
                delta = 1.0 if sd >= 1.0 else math.asin(sd) / (2.0 * math.pi)
                delta += 1e-9 + 4e-16 * (i_hi + 1.0)
            cnt = _fib_box(n, i_lo, i_hi, wc, delta, buf)
            if cnt < 0:
                buf = np.empty(2 * buf.shape[0], np.int64)
                continue
            best = -np.inf
            bi = -1
            for c in range(cnt):
                i = buf[c]
                a, b, z = fib_point(i, n)
                s = a * x0 + b * x1 + z * x2
                if s > best or (s == best and i < bi):
                    best = s
                    bi = i
            if bi >= 0:
                ang = math.acos(max(-1.0, min(1.0, best / nx)))
                if ang <= rho * (1.0 - 1e-9) - 1e-12:
                    out[r] = bi
                    break
            if rho >= math.pi:
                out[r] = bi
                break
            rho = min(math.pi, 2.0 * rho)
