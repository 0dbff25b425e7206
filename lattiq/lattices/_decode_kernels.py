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

from ._reduction_kernels import DEPENDENT, lll_kernel

#: ``cvp_prepare_kernel`` status: the basis has a NaN or infinite entry.
NONFINITE = -4
#: From this dimension on, ``cvp_kernel`` runs a pruned pass first for its radius.
PREPASS_MIN_DIM = 24

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


@numba.njit(inline="always")
def _an_round(v, m, f, e):  # pragma: no cover - compiled
    """First step of the A_n rule on ``v[:m]``: project onto ``Σ = 0`` with a
    Neumaier-compensated mean (right to the last bit), round each coordinate into ``f`` and
    keep its rounding error ``e = (v - mean) - f``; returns ``Δ = Σ f``, the number of
    coordinates the caller must move (see :func:`an_kernel`)."""
    s = 0.0
    comp = 0.0
    for i in range(m):
        vi = v[i]
        tt = s + vi
        if abs(s) >= abs(vi):
            comp += (s - tt) + vi
        else:
            comp += (vi - tt) + s
        s = tt
    mean = (s + comp) / m
    delta = np.int64(0)
    for i in range(m):
        w = v[i] - mean
        r = np.floor(w + 0.5)
        f[i] = np.int64(r)
        e[i] = w - r
        delta += f[i]
    return delta


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
        for i in range(n1):
            v[i] = np.float64(x[k, i]) * inv_scale
        delta = _an_round(v, n1, f, e)
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


@numba.njit(inline="always")
def _cvp_one(
    yk, mu, rd, sig, beg, c, u, dx, ddx, part, best_u, best, prune, bnd
):  # pragma: no cover - compiled
    """Schnorr–Euchner search for integer ``u`` minimising ``Σ_k rd_k (c_k(u) - u_k)²``.

    ``yk[k] = y_k / R_kk``, ``mu[k, j] = R_kj / R_kk`` (j > k), ``rd[k] = R_kk²``; the
    centre of level ``k`` is ``c_k = yk_k - Σ_{j>k} mu_kj u_j``. Only leaves strictly below
    ``best`` are kept (the best one goes to ``best_u``); returns the best squared distance.
    A node at level ``k`` is kept while its partial distance is below
    ``bnd[k] = prune[k] * best``: all ones is the complete (exact) search, a profile below
    one a pruned search that may miss the closest point (used only to find a good radius
    before the complete search).

    The centres come from partial sums ``sig[k, j] = yk_k - Σ_{i>=j} mu_ki u_i`` that are
    recomputed only from the highest level changed since row ``k`` was last used
    (``beg[k + 1]``), which makes a step O(1) on average instead of O(n). Children are
    visited in zig-zag order around the centre, so their distances never decrease: the
    first child over the bound ends the level.
    """
    n = yk.shape[0]
    for k in range(n):
        sig[k, n] = yk[k]
        beg[k] = n - 1
        bnd[k] = prune[k] * best
    beg[n] = n - 1
    part[n] = 0.0
    k = n - 1
    ck = yk[k]
    uk = np.floor(ck + 0.5)
    c[k] = ck
    u[k] = uk
    s = 2.0 * (ck >= uk) - 1.0
    dx[k] = s
    ddx[k] = s
    d = rd[k] * (ck - uk) * (ck - uk)
    climb = not d < bnd[k]
    while True:
        # here, unless climbing: the node at level k has partial distance d < bnd[k]
        if not climb:
            if k == 0:  # a leaf strictly better than the best so far
                best = d
                for i in range(n):
                    best_u[i] = u[i]
                    bnd[i] = prune[i] * d
                climb = True  # its zig-zag siblings are no closer
            else:
                part[k] = d
                km = k - 1
                bk = beg[k]
                acc = sig[km, bk + 1]
                for j in range(bk, km, -1):
                    acc -= mu[km, j] * u[j]
                    sig[km, j] = acc
                beg[km] = max(beg[km], bk)
                beg[k] = k
                k = km
                uk = np.floor(acc + 0.5)
                c[k] = acc
                u[k] = uk
                s = 2.0 * (acc >= uk) - 1.0
                dx[k] = s
                ddx[k] = s
                diff = acc - uk
                d = part[k + 1] + rd[k] * diff * diff  # the nearest child, evaluated once
                if d < bnd[k]:
                    continue
        # climb to the first level whose next zig-zag sibling is inside the bound
        while True:
            k += 1
            if k == n:
                break
            step = dx[k]
            uu = u[k] + step
            u[k] = uu
            ddx[k] = -ddx[k]
            dx[k] = ddx[k] - step
            diff = c[k] - uu
            d = part[k + 1] + rd[k] * diff * diff
            if d < bnd[k]:
                break
        if k == n:
            break
        climb = False
    return best


@numba.njit(**_JIT)
def cvp_kernel(x, Q, R, U, max_abs, out):  # pragma: no cover - compiled
    """Exact closest-vector search by Schnorr–Euchner enumeration, one target at a time.

    ``x`` (N, m) targets; ``Q`` (m, n) and ``R`` (n, n) from :func:`cvp_prepare_kernel`
    (``R`` upper triangular with a positive diagonal); ``U`` (n, n) int64 the change of
    basis. Each target is projected, ``y = Qᵀ x``, the integer ``u`` minimising
    ``|y - R u|²`` is found, and ``u U`` (coefficients w.r.t. the original basis) is
    written to ``out`` (N, n). The first leaf reached is Babai's nearest-plane point and
    the radius shrinks at every better leaf; strict improvement only, so among equal
    distances the first leaf reached wins. From dimension ``PREPASS_MIN_DIM`` on, a pruned
    pass (profile ``sqrt((n - k) / n)``) runs first: it usually finds the closest point
    at a small fraction of the cost, and the complete search that follows starts from
    its distance, so it only has to prove there is nothing strictly closer. The answer
    is exact either way.

    Returns 0, or 1 without decoding anything when some ``|x_ij|`` is not ``<= max_abs``
    (too large, or NaN): the caller reports it.
    """
    N, m = x.shape
    n = R.shape[0]
    for p in range(N):
        for i in range(m):
            if not abs(np.float64(x[p, i])) <= max_abs:
                return 1
    mu = np.zeros((n, n))
    rd = np.empty(n)
    for k in range(n):
        rd[k] = R[k, k] * R[k, k]
        for j in range(k + 1, n):
            mu[k, j] = R[k, j] / R[k, k]
    sig = np.zeros((n, n + 1))
    beg = np.empty(n + 1, np.int64)
    c = np.empty(n)
    u = np.empty(n)
    dx = np.empty(n)
    ddx = np.empty(n)
    part = np.empty(n + 1)
    best_u = np.empty(n)
    bu = np.empty(n, np.int64)
    yk = np.zeros(n)
    bnd = np.empty(n)
    full = np.ones(n)
    # pruning profile of the first pass: level k (n - k coordinates fixed) keeps nodes
    # below sqrt((n - k) / n) times the best distance
    pre = np.empty(n)
    for k in range(n):
        pre[k] = np.sqrt((n - k) / n)
    two_pass = n >= PREPASS_MIN_DIM
    for p in range(N):
        for k in range(n):
            yk[k] = 0.0
        for i in range(m):
            xi = np.float64(x[p, i])
            for k in range(n):
                yk[k] += xi * Q[i, k]
        for k in range(n):
            yk[k] /= R[k, k]
        best = np.inf
        if two_pass:  # a cheap pruned pass for a good radius, then the complete search
            best = _cvp_one(yk, mu, rd, sig, beg, c, u, dx, ddx, part, best_u, best, pre, bnd)
        _cvp_one(yk, mu, rd, sig, beg, c, u, dx, ddx, part, best_u, best, full, bnd)
        for k in range(n):
            bu[k] = np.int64(best_u[k])
        for j in range(n):
            acc = np.int64(0)
            for k in range(n):
                acc += bu[k] * U[k, j]
            out[p, j] = acc
    return 0


@numba.njit(**_JIT)
def cvp_prepare_kernel(B, W, U, Q, R, delta, depth):  # pragma: no cover - compiled
    """Reduce the rows of ``B`` and factor the result for :func:`cvp_kernel`, in one call.

    The rows are first put in order of increasing norm (LLL then needs about a third fewer
    swaps on random bases), then reduced by :func:`lll_kernel` on ``W``. On return ``U`` is
    the unimodular change of basis, ``W = U B`` (recomputed from the integers ``U``) and
    ``Wᵀ = Q R`` with ``Q`` (m, n) orthonormal columns and ``R`` (n, n) upper triangular
    with a positive diagonal. Returns :func:`lll_kernel`'s status, or ``NONFINITE`` (-4)
    for a basis with NaN or infinite entries.
    """
    n, m = B.shape
    norms = np.empty(n)
    for i in range(n):
        s = 0.0
        for j in range(m):
            s += B[i, j] * B[i, j]
        if not np.isfinite(s):
            return NONFINITE
        norms[i] = s
    order = np.argsort(norms, kind="mergesort")
    for i in range(n):
        for j in range(n):
            U[i, j] = 0
        U[i, order[i]] = 1
        for j in range(m):
            W[i, j] = B[order[i], j]
    st = lll_kernel(W, U, delta, depth, 100_000 * n * n)
    if st < 0:
        return st
    for i in range(n):  # W = U B again, from the exact integers
        for j in range(m):
            W[i, j] = 0.0
        for k in range(n):
            uik = np.float64(U[i, k])
            if uik != 0.0:
                for j in range(m):
                    W[i, j] += uik * B[k, j]
    # Wᵀ = Q R by Gram–Schmidt with one reorthogonalisation ("twice is enough":
    # Giraud, Langou & Rozložník 2005), orthogonal to working precision
    v = np.empty(m)
    for k in range(n):
        for j in range(m):
            v[j] = W[k, j]
        for i in range(k):
            R[i, k] = 0.0
        for _ in range(2):
            for i in range(k):
                d = 0.0
                for j in range(m):
                    d += Q[j, i] * v[j]
                R[i, k] += d
                for j in range(m):
                    v[j] -= d * Q[j, i]
        nv = 0.0
        for j in range(m):
            nv += v[j] * v[j]
        nv = np.sqrt(nv)
        R[k, k] = nv
        for i in range(k + 1, n):
            R[i, k] = 0.0
        if not nv > 0.0:
            return DEPENDENT
        for j in range(m):
            Q[j, k] = v[j] / nv
    return st
