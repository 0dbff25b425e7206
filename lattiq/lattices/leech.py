"""The Leech lattice Λ24 from the Golay code, and its first shell with closed-form ranks.

Coordinates are SPLAG's (ch. 4 §11): the integer frame is ``√8 Λ24``, the set of
``x ∈ Z^24`` with, for ``m ∈ {0, 1}``,

.. math::
    x_i \\equiv m \\pmod 2, \\qquad \\sum_i x_i \\equiv 4m \\pmod 8, \\qquad
    \\{ i : x_i \\equiv \\nu \\pmod 4 \\} \\in \\mathcal{C}_{24}\\ \\text{for each}\\ \\nu,

so standard coordinates are the integer frame divided by ``√8`` (min norm 4, det 1).

Shell 1 (the 196,560 minimal vectors, norm 32 in the integer frame) is enumerated shape by
shape, and the order is a contract that spherical codes and quantizers share:

* shape A, ``(±4², 0²²)``: indices ``0 .. 1103``; ``index = 4·pair_rank(i, j) + 2·[s_i<0] +
  [s_j<0]`` with ``i < j`` and pairs ranked lexicographically;
* shape B, ``(±2⁸, 0¹⁶)`` on an octad with an even number of minus signs: indices
  ``1104 + 128·octad + r``; the octad's positions ``p_0 < … < p_7`` take a minus sign at
  ``p_j`` when bit ``j`` of ``r`` is set (``j < 7``); ``p_7`` is negative iff ``popcount(r)``
  is odd;
* shape C, ``(∓3, ±1²³)``: indices ``98256 + 24·k + t`` for codeword ``k`` (Golay order) and
  special position ``t``: ``x_i = 1 − 2c_i`` for ``i ≠ t`` and ``x_t = −3(1 − 2c_t)``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .golay import golay_code

__all__ = [
    "LEECH_SHELL1_SIZE",
    "SHAPE_OFFSETS",
    "leech_basis_int",
    "leech_contains_int",
    "leech_shell1",
    "leech_shell1_index",
    "pair_rank_table",
]

LEECH_SHELL1_SIZE = 196560
#: First index of shapes A, B, C and the end.
SHAPE_OFFSETS = (0, 1104, 1104 + 97152, LEECH_SHELL1_SIZE)


@lru_cache(maxsize=1)
def pair_rank_table() -> np.ndarray:
    """(24, 24) int64: lexicographic rank of the pair ``{i, j}``; -1 on the diagonal."""
    t = -np.ones((24, 24), dtype=np.int64)
    r = 0
    for i in range(24):
        for j in range(i + 1, 24):
            t[i, j] = t[j, i] = r
            r += 1
    t.setflags(write=False)
    return t


@lru_cache(maxsize=1)
def _octad_rank_of_codeword() -> np.ndarray:
    G = golay_code()
    inv = -np.ones(4096, dtype=np.int64)
    inv[G.octad_codeword_index] = np.arange(759)
    inv.setflags(write=False)
    return inv


@lru_cache(maxsize=1)
def leech_shell1() -> np.ndarray:
    """All 196,560 minimal vectors of ``√8 Λ24`` as int8, in the documented order.

    Every row has norm 32 (norm 4 after dividing by ``√8``). Read-only, cached.
    """
    G = golay_code()
    out = np.zeros((LEECH_SHELL1_SIZE, 24), dtype=np.int8)
    # shape A
    r = 0
    for i in range(24):
        for j in range(i + 1, 24):
            for si in (4, -4):
                for sj in (4, -4):
                    out[r, i] = si
                    out[r, j] = sj
                    r += 1
    # shape B
    rr = np.arange(128, dtype=np.int64)
    bits = ((rr[:, None] >> np.arange(7)) & 1).astype(np.int64)  # (128, 7)
    last = bits.sum(axis=1) % 2
    sgn = 1 - 2 * np.concatenate([bits, last[:, None]], axis=1)  # (128, 8)
    blk = np.zeros((759, 128, 24), dtype=np.int8)
    for o, pos in enumerate(G.octads):
        blk[o][:, pos] = 2 * sgn
    out[SHAPE_OFFSETS[1] : SHAPE_OFFSETS[2]] = blk.reshape(-1, 24)
    # shape C
    base = (1 - 2 * G.codewords.astype(np.int8))  # (4096, 24)
    blkc = np.repeat(base[:, None, :], 24, axis=1)  # (4096, 24, 24)
    t = np.arange(24)
    blkc[:, t, t] *= -3
    out[SHAPE_OFFSETS[2] :] = blkc.reshape(-1, 24)
    out.setflags(write=False)
    return out


def leech_shell1_index(v) -> np.ndarray:
    """Closed-form rank of shell-1 vectors ``(..., 24)`` (integer frame) in :func:`leech_shell1`.

    Raises ``ValueError`` for a vector that is not a minimal vector of ``√8 Λ24``.
    """
    x = np.asarray(v)
    if x.shape[-1:] != (24,):
        raise ValueError(f"expected last dimension 24, got shape {x.shape}")
    x = x.reshape(-1, 24).astype(np.int64)
    n = x.shape[0]
    idx = np.full(n, -1, dtype=np.int64)
    ax = np.abs(x)
    norm = (x * x).sum(axis=1)
    nz = (x != 0).sum(axis=1)
    G = golay_code()
    pw = 1 << np.arange(12, dtype=np.int64)
    # shape A
    a = (norm == 32) & (nz == 2) & (ax.max(axis=1) == 4)
    if a.any():
        xa = x[a]
        pos = np.sort(np.argsort(ax[a], axis=1)[:, -2:], axis=1)
        i, j = pos[:, 0], pos[:, 1]
        rows = np.arange(xa.shape[0])
        idx[a] = 4 * pair_rank_table()[i, j] + 2 * (xa[rows, i] < 0) + (xa[rows, j] < 0)
    # shape B
    b = (norm == 32) & (nz == 8) & (ax.max(axis=1) == 2)
    if b.any():
        xb = x[b]
        supp = (xb != 0).astype(np.int64)
        k = supp[:, :12] @ pw
        code_ok = np.all(G.codewords[k] == supp, axis=1)
        neg = xb < 0
        even = (neg.sum(axis=1) % 2) == 0
        o = _octad_rank_of_codeword()[k]
        pos = G.octads[np.maximum(o, 0)]  # (m, 8)
        negp = np.take_along_axis(neg, pos, axis=1)[:, :7].astype(np.int64)
        r = negp @ (1 << np.arange(7, dtype=np.int64))
        good = code_ok & even & (o >= 0)
        val = SHAPE_OFFSETS[1] + 128 * o + r
        tmp = np.where(good, val, -1)
        idx[b] = tmp
    # shape C
    c = (norm == 32) & (nz == 24) & (ax.max(axis=1) == 3) & ((ax == 3).sum(axis=1) == 1)
    if c.any():
        xc = x[c]
        t = np.argmax(np.abs(xc), axis=1)
        rows = np.arange(xc.shape[0])
        cw = (xc < 0).astype(np.int64)
        cw[rows, t] = (xc[rows, t] > 0).astype(np.int64)
        k = cw[:, :12] @ pw
        good = np.all(G.codewords[k] == cw, axis=1)
        idx[c] = np.where(good, SHAPE_OFFSETS[2] + 24 * k + t, -1)
    if np.any(idx < 0):
        bad = int(np.nonzero(idx < 0)[0][0])
        raise ValueError(f"row {bad} is not a minimal vector of sqrt(8)*Leech: {x[bad].tolist()}")
    return idx.reshape(np.asarray(v).shape[:-1])


def leech_contains_int(x) -> np.ndarray:
    """Exact membership of integer vectors ``(..., 24)`` in ``√8 Λ24`` (SPLAG ch. 4 eq. (126))."""
    v = np.asarray(x)
    if v.shape[-1:] != (24,):
        raise ValueError(f"expected last dimension 24, got shape {v.shape}")
    v = v.reshape(-1, 24).astype(np.int64)
    G = golay_code()
    pw = 1 << np.arange(12, dtype=np.int64)
    m = v[:, 0] & 1
    ok = np.all((v & 1) == m[:, None], axis=1)
    ok &= (v.sum(axis=1) - 4 * m) % 8 == 0
    # the set {i : x_i ≡ m + 2 (mod 4)}... equivalently (x - m)/2 mod 2 pattern for m=0,
    # and {i: x_i ≡ 3 (mod 4)} for m = 1 — both must be codewords.
    pat = np.where(m[:, None] == 0, (v // 2) & 1, ((v - 1) // 2) & 1)
    k = pat[:, :12] @ pw
    ok &= np.all(G.codewords[k] == pat, axis=1)
    return ok.reshape(np.asarray(x).shape[:-1])


@lru_cache(maxsize=1)
def leech_basis_int() -> np.ndarray:
    """A basis of ``√8 Λ24`` (rows, int64), the Hermite normal form of its generators.

    Generators: ``2c`` for the Golay generator rows ``c``, ``4e_i ± 4e_j``, and
    ``(−3, 1²³)``. The result has determinant ``8^12`` so that the Gram matrix divided by 8
    is unimodular.
    """
    G = golay_code()
    gens = [2 * G.generator.astype(np.int64)[r] for r in range(12)]
    for i in range(1, 24):
        e = np.zeros(24, np.int64)
        e[0] = 4
        e[i] = 4
        gens.append(e)
        f = e.copy()
        f[i] = -4
        gens.append(f)
    odd = np.ones(24, np.int64)
    odd[0] = -3
    gens.append(odd)
    from .exact import hermite_normal_form

    B = hermite_normal_form(np.stack(gens))
    B.setflags(write=False)
    return B
