"""numba kernel of the glue decoder (:mod:`lattiq.lattices.glued`).

Plain arrays in, plain arrays out, no validation (``glued.py`` builds the tables and
validates the input). The lattice in its integer frame is ``∪_g (g + ⊕_b s·R_b)``, the
``R_b`` all A_n or all D_n;
the tables list, per block, its coordinates and the distinct glue patterns on it, and per
glue vector the pattern it uses on each block.
"""

from __future__ import annotations

import numba
import numpy as np

from ._decode_kernels import _an_round, _dn_one

_JIT = dict(cache=True, nogil=True)


@numba.njit(inline="always")
def _an_one(v, m, f, e, order):  # pragma: no cover - compiled
    """Nearest point ``f`` of A_{m-1} = {z ∈ Z^m : Σz = 0} to ``v[:m]`` by the rule of
    ``an_kernel`` (:func:`_an_round`, then the |Δ| coordinates with the most extreme
    rounding errors move); the stable order by error is an insertion sort, cheap for the
    small blocks here, with ties broken by index as in ``an_kernel``'s merge sort."""
    delta = _an_round(v, m, f, e)
    if delta == 0:
        return
    for i in range(m):
        j = i
        while j > 0 and e[order[j - 1]] > e[i]:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i
    if delta > 0:
        for j in range(delta):
            f[order[j]] -= 1
    else:
        for j in range(-delta):
            f[order[m - 1 - j]] += 1


@numba.njit(**_JIT)
def glue_kernel(x, inv_scale, s, kind, bstart, cols, pstart, pats, gidx, out):  # pragma: no cover
    """Nearest points of ``∪_g (g + ⊕_b s·R_b)`` (integer frame) to ``x · inv_scale``,
    every ``R_b`` an A_n (``kind`` 0, the rule of ``an_kernel``) or a D_n (``kind`` 1, the
    rule of ``dn_kernel``).

    ``cols[bstart[b]:bstart[b+1]]`` are block ``b``'s coordinates; its distinct glue
    patterns are the rows ``pstart[b] .. pstart[b+1] - 1`` of ``pats`` (first ``|I_b|``
    entries used); ``gidx[g, b]`` is the pattern row glue ``g`` uses on block ``b``. For
    every pattern row the nearest point of its translate and the squared distance are
    computed once; the glue with the least total wins (first on ties). Output rows are
    integer-frame vectors; coordinates outside every block are 0.
    """
    N = x.shape[0]
    nb = bstart.shape[0] - 1
    npat = pats.shape[0]
    G = gidx.shape[0]
    width = pats.shape[1]
    y = np.empty(x.shape[1])
    v = np.empty(width)
    e = np.empty(width)
    f = np.empty(width, np.int64)
    order = np.empty(width, np.int64)
    cand = np.empty((npat, width), np.int64)
    dist = np.empty(npat)
    for k in range(N):
        for i in range(x.shape[1]):
            y[i] = np.float64(x[k, i]) * inv_scale
            out[k, i] = 0
        for b in range(nb):
            c0 = bstart[b]
            m = bstart[b + 1] - c0
            for r in range(pstart[b], pstart[b + 1]):
                for i in range(m):
                    v[i] = (y[cols[c0 + i]] - pats[r, i]) / s
                if kind == 0:
                    _an_one(v, m, f, e, order)
                else:
                    _dn_one(v, f, m, 0.0)
                d = 0.0
                for i in range(m):
                    c = np.int64(s) * f[i] + pats[r, i]
                    cand[r, i] = c
                    t = y[cols[c0 + i]] - c
                    d += t * t
                dist[r] = d
        best = 0
        best_d = np.inf
        for g in range(G):
            tot = 0.0
            for b in range(nb):
                tot += dist[gidx[g, b]]
            if tot < best_d:
                best_d = tot
                best = g
        for b in range(nb):
            c0 = bstart[b]
            r = gidx[best, b]
            for i in range(bstart[b + 1] - c0):
                out[k, cols[c0 + i]] = cand[r, i]
