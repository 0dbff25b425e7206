"""numba kernels for the CPU quantizer paths (plain arrays, explicit dtypes, no validation).

The public entry point is :func:`lattiq.quantizers.search.leech_nearest_numba`, which
checks its input and documents the mathematics.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _byte_tables(a, b, tab_sum, tab_min, tab_max, low_bit):
    # subset sum / min / max of a[8b : 8b + 8] for each of the 256 subsets
    tab_sum[b, 0] = 0.0
    tab_min[b, 0] = np.inf
    tab_max[b, 0] = -np.inf
    for p in range(1, 256):
        i = low_bit[p]
        q = p & (p - 1)
        v = a[8 * b + i]
        tab_sum[b, p] = tab_sum[b, q] + v
        tab_min[b, p] = min(tab_min[b, q], v)
        tab_max[b, p] = max(tab_max[b, q], v)


@numba.njit(cache=True, parallel=True)
def leech_nearest_kernel(x, cw_mask, oct_mask, oct_pos, pair_rank, parity8, low_bit, e0_order, out):
    """x (n, 24) float; writes (n,) int64 indices of the nearest Leech shell-1 vector."""
    n = x.shape[0]
    for r in numba.prange(n):
        a = np.empty(24, np.float64)
        tab_sum = np.empty((3, 256), np.float64)
        tab_min = np.empty((3, 256), np.float64)
        tab_max = np.empty((3, 256), np.float64)
        neg = 0
        total = 0.0
        finite = True
        for i in range(24):
            v = np.float64(x[r, i])
            if not np.isfinite(v):
                finite = False
            if v < 0:
                neg |= 1 << i
            a[i] = abs(v)
            total += a[i]
        if not finite:
            out[r] = -1
            continue
        if total == 0.0:
            out[r] = 0
            continue
        # shape A: two largest magnitudes
        i1 = 0
        i2 = 1
        if a[1] > a[0]:
            i1 = 1
            i2 = 0
        amax = a[i1]
        amin = min(a[0], a[1])
        for i in range(2, 24):
            if a[i] > a[i1]:
                i2 = i1
                i1 = i
            elif a[i] > a[i2]:
                i2 = i
            amax = max(amax, a[i])
            amin = min(amin, a[i])
        best = 4.0 * (a[i1] + a[i2])
        lo_i = min(i1, i2)
        hi_i = max(i1, i2)
        best_idx = 4 * pair_rank[lo_i, hi_i] + 2 * ((neg >> lo_i) & 1) + ((neg >> hi_i) & 1)
        for b in range(3):
            _byte_tables(a, b, tab_sum, tab_min, tab_max, low_bit)
        # shape B: octads with an even number of minus signs
        best_o = -1
        best_odd = 0
        for o in range(oct_mask.shape[0]):
            m = oct_mask[o]
            m0 = m & 255
            m1 = (m >> 8) & 255
            m2 = m >> 16
            s = tab_sum[0, m0] + tab_sum[1, m1] + tab_sum[2, m2]
            if 2.0 * s <= best:
                continue
            nm = neg & m
            odd = parity8[nm & 255] ^ parity8[(nm >> 8) & 255] ^ parity8[nm >> 16]
            if odd:
                s -= 2.0 * min(tab_min[0, m0], min(tab_min[1, m1], tab_min[2, m2]))
            if 2.0 * s > best:
                best = 2.0 * s
                best_o = o
                best_odd = odd
        if best_o >= 0:
            rr = 0
            jm = 0
            if best_odd:
                for j in range(1, 8):
                    if a[oct_pos[best_o, j]] < a[oct_pos[best_o, jm]]:
                        jm = j
            for j in range(7):
                bit = (neg >> oct_pos[best_o, j]) & 1
                if best_odd and j == jm:
                    bit ^= 1
                rr |= bit << j
            best_idx = 1104 + 128 * best_o + rr
        # shape C: score = total - 2 (sum_e a - 2 max_e a), e = codeword XOR sign pattern.
        # Codeword k has low byte (k & 255) (systematic generator), so the 16 codewords that
        # share a low byte are skipped together when even their bound cannot win.
        # Bounds: with W = sum_e a - 2 max_e a, W >= -max_e a (so W >= s - 2 amax), and for
        # e = e0 + rest, W >= s0 - max(2 max_{e0} a, max_rest a).
        best_k = -1
        neg0 = neg & 255
        slack = total + 4.0 * amax
        amax_rest = 0.0
        for i in range(8, 24):
            amax_rest = max(amax_rest, a[i])
        for q in range(256):
            e0 = e0_order[q]
            s0 = tab_sum[0, e0]
            if total - 2.0 * s0 + 2.0 * max(2.0 * tab_max[0, e0], amax_rest) <= best:
                continue
            lo = e0 ^ neg0
            mx0 = tab_max[0, e0]
            for hi in range(16):
                k = lo + 256 * hi
                e = cw_mask[k] ^ neg
                e1 = (e >> 8) & 255
                e2 = e >> 16
                s = s0 + tab_sum[1, e1] + tab_sum[2, e2]
                if slack - 2.0 * s <= best:
                    continue
                if e == 0:
                    sc = total - 4.0 * amin
                else:
                    mx = max(mx0, max(tab_max[1, e1], tab_max[2, e2]))
                    sc = total - 2.0 * s + 4.0 * mx
                if sc > best:
                    best = sc
                    best_k = k
        if best_k >= 0:
            e = cw_mask[best_k] ^ neg
            t = 0
            if e == 0:
                for i in range(1, 24):
                    if a[i] < a[t]:
                        t = i
            else:
                bv = -1.0
                for i in range(24):
                    if (e >> i) & 1 and a[i] > bv:
                        bv = a[i]
                        t = i
            best_idx = 98256 + 24 * best_k + t
        out[r] = best_idx
