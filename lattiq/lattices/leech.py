"""The Leech lattice Λ24 from the Golay code, and its first shell with closed-form ranks.

Coordinates are SPLAG's (ch. 4 §11): the integer frame is ``√8 Λ24``, the set of
``x ∈ Z^24`` with, for ``m ∈ {0, 1}``,

.. math::
    x_i \\equiv m \\pmod 2, \\qquad \\sum_i x_i \\equiv 4m \\pmod 8, \\qquad
    \\{ i : x_i \\equiv \\nu \\pmod 4 \\} \\in \\mathcal{C}_{24}\\ \\text{for each}\\ \\nu,

so standard coordinates are the integer frame divided by ``√8`` (min norm 4, det 1).

Shell 1 (the 196,560 minimal vectors, norm 32 in the integer frame) is enumerated shape by
shape in the order of :mod:`lattiq.lattices.leech_layout`, which owns the order (offsets
``0, 1104, 98256``; ``4·pair_rank(i, j) + 2[s_i<0] + [s_j<0]``, ``1104 + 128·octad + r``,
``98256 + 24·k + t``) and every table read from it; spherical codes and quantizers share it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .golay import golay_code
from .leech_layout import (
    OCTAD_SIGNS,
    SHAPE_OFFSETS,
    SHELL_SIZE,
    index_a,
    index_b,
    index_c,
    leech_layout,
)

__all__ = [
    "LEECH_SHELL1_SIZE",
    "SHAPE_OFFSETS",
    "leech_basis_int",
    "leech_contains_int",
    "leech_shell1",
    "leech_shell1_index",
    "pair_rank_table",
]

#: The shell's size (:data:`lattiq.lattices.leech_layout.SHELL_SIZE`).
LEECH_SHELL1_SIZE = SHELL_SIZE


def pair_rank_table() -> np.ndarray:
    """(24, 24) int64: lexicographic rank of the pair ``{i, j}``; -1 on the diagonal."""
    return leech_layout().pair_rank


@lru_cache(maxsize=1)
def leech_shell1() -> np.ndarray:
    """All 196,560 minimal vectors of ``√8 Λ24`` as int8, in the documented order.

    Every row has norm 32 (norm 4 after dividing by ``√8``). Read-only, cached.
    """
    lay = leech_layout()
    out = np.zeros((LEECH_SHELL1_SIZE, 24), dtype=np.int8)
    # shape A: the four sign choices of each pair, in pair-rank order
    signs = np.array([(4, 4), (4, -4), (-4, 4), (-4, -4)], dtype=np.int8)  # 2 [s_i<0] + [s_j<0]
    blka = np.zeros((len(lay.pairs), 4, 24), dtype=np.int8)
    p = np.arange(len(lay.pairs))
    blka[p[:, None], np.arange(4)[None, :], lay.pairs[:, 0, None]] = signs[None, :, 0]
    blka[p[:, None], np.arange(4)[None, :], lay.pairs[:, 1, None]] = signs[None, :, 1]
    out[SHAPE_OFFSETS[0] : SHAPE_OFFSETS[1]] = blka.reshape(-1, 24)
    # shape B
    blk = np.zeros((len(lay.octads), OCTAD_SIGNS, 24), dtype=np.int8)
    for o, pos in enumerate(lay.octads):
        blk[o][:, pos] = 2 * lay.sign_patterns
    out[SHAPE_OFFSETS[1] : SHAPE_OFFSETS[2]] = blk.reshape(-1, 24)
    # shape C
    blkc = np.repeat(lay.codeword_signs[:, None, :], 24, axis=1)  # (4096, 24, 24)
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
    lay = leech_layout()
    # shape A
    a = (norm == 32) & (nz == 2) & (ax.max(axis=1) == 4)
    if a.any():
        xa = x[a]
        pos = np.sort(np.argsort(ax[a], axis=1)[:, -2:], axis=1)
        i, j = pos[:, 0], pos[:, 1]
        rows = np.arange(xa.shape[0])
        idx[a] = index_a(lay.pair_rank[i, j], xa[rows, i] < 0, xa[rows, j] < 0)
    # shape B
    b = (norm == 32) & (nz == 8) & (ax.max(axis=1) == 2)
    if b.any():
        xb = x[b]
        supp = (xb != 0).astype(np.int64)
        k = supp @ lay.codeword_index_weights
        code_ok = np.all(lay.codewords[k] == supp, axis=1)
        neg = xb < 0
        even = (neg.sum(axis=1) % 2) == 0
        o = lay.octad_of_codeword[k]
        pos = lay.octads[np.maximum(o, 0)]  # (m, 8)
        r = np.take_along_axis(neg, pos, axis=1).astype(np.int64) @ lay.sign_rank_weights
        good = code_ok & even & (o >= 0)
        idx[b] = np.where(good, index_b(o, r), -1)
    # shape C
    c = (norm == 32) & (nz == 24) & (ax.max(axis=1) == 3) & ((ax == 3).sum(axis=1) == 1)
    if c.any():
        xc = x[c]
        t = np.argmax(np.abs(xc), axis=1)
        rows = np.arange(xc.shape[0])
        cw = (xc < 0).astype(np.int64)
        cw[rows, t] = (xc[rows, t] > 0).astype(np.int64)
        k = cw @ lay.codeword_index_weights
        good = np.all(lay.codewords[k] == cw, axis=1)
        idx[c] = np.where(good, index_c(k, t), -1)
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
    lay = leech_layout()
    m = v[:, 0] & 1
    ok = np.all((v & 1) == m[:, None], axis=1)
    ok &= (v.sum(axis=1) - 4 * m) % 8 == 0
    # the set {i : x_i ≡ m + 2 (mod 4)}... equivalently (x - m)/2 mod 2 pattern for m=0,
    # and {i: x_i ≡ 3 (mod 4)} for m = 1 — both must be codewords.
    pat = np.where(m[:, None] == 0, (v // 2) & 1, ((v - 1) // 2) & 1)
    k = pat @ lay.codeword_index_weights
    ok &= np.all(lay.codewords[k] == pat, axis=1)
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
