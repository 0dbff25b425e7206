"""numba kernels for the closest-point decoders of Zn, Dn, An, E8 and generic lattices.

Plain arrays in, plain arrays out, no validation (``decoders.py`` validates). Every kernel
reads a float batch ``x`` of shape ``(N, d)`` in standard coordinates, multiplies by
``inv_scale`` to reach the integer frame, and writes int64 integer-frame vectors into
``out``. Rounding is ``floor(v + 1/2)`` (halves round up), which commutes with integer
translations, so the tie rules below are translation-equivariant for the frame's integers.
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True)


@numba.njit(**_JIT)
def zn_kernel(x, inv_scale, out):  # pragma: no cover - compiled
    """Nearest point of Z^n: coordinatewise ``floor(v + 1/2)``."""
    N, n = x.shape
    for k in range(N):
        for i in range(n):
            out[k, i] = np.int64(np.floor(np.float64(x[k, i]) * inv_scale + 0.5))


@numba.njit(inline="always")
def _dn_one(v, f, n, shift):  # pragma: no cover - compiled
    """Closest point of D_n to ``v - shift`` (Conway & Sloane 1982); returns squared distance.

    ``f`` receives the integer point. Ties in the worst coordinate go to the lowest index;
    a coordinate with zero rounding error is flipped upwards.
    """
    par = np.int64(0)
    worst = -1.0
    wi = 0
    dist = 0.0
    for i in range(n):
        w = v[i] - shift
        r = np.floor(w + 0.5)
        e = w - r
        ri = np.int64(r)
        f[i] = ri
        par += ri
        a = abs(e)
        dist += e * e
        if a > worst:
            worst = a
            wi = i
    if par & 1:
        e = v[wi] - shift - np.float64(f[wi])
        if e >= 0.0:
            f[wi] += 1
            dist += 1.0 - 2.0 * e
        else:
            f[wi] -= 1
            dist += 1.0 + 2.0 * e
    return dist


@numba.njit(**_JIT)
def dn_kernel(x, inv_scale, out):  # pragma: no cover - compiled
    """Nearest point of D_n = {v in Z^n : sum v even}."""
    N, n = x.shape
    v = np.empty(n)
    f = np.empty(n, np.int64)
    for k in range(N):
        for i in range(n):
            v[i] = np.float64(x[k, i]) * inv_scale
        _dn_one(v, f, n, 0.0)
        for i in range(n):
            out[k, i] = f[i]


@numba.njit(**_JIT)
def e8_kernel(x, inv_scale, out):  # pragma: no cover - compiled
    """Nearest point of E8 = D8 ∪ (D8 + 1/2), written in the frame 2·E8.

    ``x * inv_scale`` must be in SPLAG's E8 coordinates (so ``inv_scale = 1`` for standard
    input): the D8 coset and the D8 + 1/2 coset are both decoded, the closer one wins, and
    an exact tie goes to the D8 coset. Output ``2·point``, the integer frame.
    """
    N = x.shape[0]
    v = np.empty(8)
    f0 = np.empty(8, np.int64)
    f1 = np.empty(8, np.int64)
    for k in range(N):
        for i in range(8):
            v[i] = np.float64(x[k, i]) * inv_scale
        d0 = _dn_one(v, f0, 8, 0.0)
        d1 = _dn_one(v, f1, 8, 0.5)
        if d1 < d0:
            for i in range(8):
                out[k, i] = 2 * f1[i] + 1
        else:
            for i in range(8):
                out[k, i] = 2 * f0[i]


@numba.njit(**_JIT)
def an_kernel(x, inv_scale, out):  # pragma: no cover - compiled
    """Nearest point of A_n = {v in Z^(n+1) : sum v = 0} (Conway & Sloane 1982, sort-based).

    The input is first projected onto the hyperplane ``sum = 0`` (compensated mean). With
    ``f`` the rounded vector and ``Δ = sum f``: if ``Δ > 0`` the ``Δ`` coordinates with the
    smallest rounding error ``v - f`` go down by one, if ``Δ < 0`` the ``|Δ|`` coordinates
    with the largest go up. The error order is a stable sort, so equal errors go by index.
    """
    N, n1 = x.shape
    v = np.empty(n1)
    e = np.empty(n1)
    f = np.empty(n1, np.int64)
    for k in range(N):
        s = 0.0
        comp = 0.0  # Neumaier-compensated sum, so the mean is right to the last bit
        for i in range(n1):
            vi = np.float64(x[k, i]) * inv_scale
            v[i] = vi
            tt = s + vi
            if abs(s) >= abs(vi):
                comp += (s - tt) + vi
            else:
                comp += (vi - tt) + s
            s = tt
        mean = (s + comp) / n1
        delta = np.int64(0)
        for i in range(n1):
            w = v[i] - mean
            r = np.floor(w + 0.5)
            f[i] = np.int64(r)
            e[i] = w - r
            delta += f[i]
        if delta != 0:
            order = np.argsort(e, kind="mergesort")
            if delta > 0:
                for j in range(delta):
                    f[order[j]] -= 1
            else:
                for j in range(-delta):
                    f[order[n1 - 1 - j]] += 1
        for i in range(n1):
            out[k, i] = f[i]


@numba.njit(**_JIT)
def enum_kernel(y, R, out):  # pragma: no cover - compiled
    """Schnorr–Euchner closest-vector enumeration.

    ``R`` (n, n) upper triangular with positive diagonal, ``y`` (N, n) targets in the same
    orthonormal frame; finds integer ``u`` minimising ``|y - R u|²`` exactly (depth-first,
    zig-zag order around each projected centre, radius shrinking at every new leaf; the
    first descent is Babai's nearest-plane point). Strict improvement only, so among equal
    distances the first leaf reached wins.
    """
    N, n = y.shape
    c = np.empty(n)
    u = np.empty(n, np.int64)
    step = np.empty(n, np.int64)
    part = np.empty(n + 1)
    best_u = np.empty(n, np.int64)
    diag2 = np.empty(n)
    for k in range(n):
        diag2[k] = R[k, k] * R[k, k]
    for p in range(N):
        best = np.inf
        part[n] = 0.0
        k = n - 1
        c[k] = y[p, k] / R[k, k]
        u[k] = np.int64(np.floor(c[k] + 0.5))
        step[k] = 1 if c[k] >= u[k] else -1
        while True:
            diff = c[k] - u[k]
            d = part[k + 1] + diag2[k] * diff * diff
            if d < best:
                if k == 0:
                    best = d
                    for i in range(n):
                        best_u[i] = u[i]
                    u[0] += step[0]
                    step[0] = -step[0] - (1 if step[0] > 0 else -1)
                else:
                    part[k] = d
                    k -= 1
                    acc = y[p, k]
                    for j in range(k + 1, n):
                        acc -= R[k, j] * u[j]
                    c[k] = acc / R[k, k]
                    u[k] = np.int64(np.floor(c[k] + 0.5))
                    step[k] = 1 if c[k] >= u[k] else -1
            else:
                if k == n - 1:
                    break
                k += 1
                u[k] += step[k]
                step[k] = -step[k] - (1 if step[k] > 0 else -1)
        for i in range(n):
            out[p, i] = best_u[i]
