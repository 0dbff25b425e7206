"""The layout of the first Leech shell: its index order and every table read from it, in one place.

The 196,560 minimal vectors of ``√8 Λ24`` (norm 32) come in three shapes (SPLAG ch. 4 §11),
and the index order below is a contract that the lattice, the spherical codes, the numba
and torch searches, the quantizers' labels, the generator's heads and the token codec share:

.. math::
    \\operatorname{index}(v) = \\begin{cases}
    4\\,\\mathrm{rank}(i, j) + 2[s_i < 0] + [s_j < 0] & v = (\\pm 4^2, 0^{22})
        \\text{ on } i < j \\\\
    1104 + 128\\, o + r & v = (\\pm 2^8, 0^{16}) \\text{ on octad } o \\\\
    98256 + 24\\, k + t & v = (\\mp 3, \\pm 1^{23}) \\text{ over codeword } k
    \\end{cases}

* shape A: pairs ``i < j`` ranked lexicographically (:attr:`LeechShellLayout.pair_rank`);
* shape B: octads in Golay codeword order; the octad's positions ``p_0 < … < p_7`` take a
  minus sign at ``p_q`` when bit ``q`` of ``r`` is set (``q < 7``), and ``p_7`` is negative
  iff ``popcount(r)`` is odd (:attr:`LeechShellLayout.sign_patterns`);
* shape C: Golay codeword ``k`` (order of :func:`~lattiq.lattices.golay.golay_code`) and
  special position ``t``: ``x_i = 1 − 2c_i`` for ``i ≠ t`` and ``x_t = −3(1 − 2c_t)``.

The counts, offsets and strides are module constants (numba kernels read them as
compile-time constants); the tables are the fields of one frozen :class:`LeechShellLayout`
with read-only arrays, built once from the Golay code by :func:`leech_layout`. It also holds
the sextet tables the Leech decoder and the shell search walk: the six MOG columns, the 128
cosets of the sextet subcode with their 32 words each, and the 759 octads sorted into 110
rows by coset. Every structural fact those kernels rely on is checked when the tables are
built (``RuntimeError`` otherwise).

References
----------
J. H. Conway and N. J. A. Sloane, SPLAG, ch. 4 §11 (the Leech lattice and its minimal
vectors), ch. 11 (the MOG and the hexacode).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .golay import WEIGHT_DISTRIBUTION, golay_code

__all__ = [
    "CODEWORD_SIGNS",
    "COSET_WORDS",
    "N_CODEWORDS",
    "N_COLUMNS",
    "N_COSETS",
    "N_OCTADS",
    "N_OCTAD_COSETS",
    "N_OCTAD_ROWS",
    "N_PAIRS",
    "OCTADS_PER_ROW",
    "OCTAD_SIGNS",
    "OFFSET_A",
    "OFFSET_B",
    "OFFSET_C",
    "PAIR_SIGNS",
    "SHAPE_OFFSETS",
    "SHELL_SIZE",
    "LeechShellLayout",
    "index_a",
    "index_b",
    "index_c",
    "leech_layout",
    "leech_sextet_tables",
]

#: Coordinates.
DIM = 24
#: Pairs ``i < j`` of positions (shape A).
N_PAIRS = DIM * (DIM - 1) // 2
#: Octads: the weight-8 Golay codewords (shape B).
N_OCTADS = WEIGHT_DISTRIBUTION[8]
#: Golay codewords (shape C).
N_CODEWORDS = 1 << 12
#: Vectors per pair (signs ``±4, ±4``), per octad (even sign patterns of ``±2⁸``) and per
#: codeword (special positions): the index strides of the three shapes.
PAIR_SIGNS = 4
OCTAD_SIGNS = 1 << 7
CODEWORD_SIGNS = DIM
#: First index of shapes A, B, C, and the shell's size.
OFFSET_A = 0
OFFSET_B = OFFSET_A + PAIR_SIGNS * N_PAIRS
OFFSET_C = OFFSET_B + OCTAD_SIGNS * N_OCTADS
SHELL_SIZE = OFFSET_C + CODEWORD_SIGNS * N_CODEWORDS
SHAPE_OFFSETS = (OFFSET_A, OFFSET_B, OFFSET_C, SHELL_SIZE)

#: The sextet: six columns (tetrads) of four positions; 128 cosets of the sextet's 32-word
#: subcode; the octads lie in 109 of the cosets besides the subcode itself, 110 rows of at
#: most 16 octads (six, eight or fifteen).
N_COLUMNS = 6
N_COSETS = 128
COSET_WORDS = 32
N_OCTAD_COSETS = 109
N_OCTAD_ROWS = N_OCTAD_COSETS + 1
OCTADS_PER_ROW = 16


def index_a(pair, neg_i, neg_j):
    """Index of the shape-A vector on pair rank ``pair`` with signs ``neg_i``, ``neg_j``
    (1 for −4); ints, numpy arrays or torch tensors."""
    return OFFSET_A + PAIR_SIGNS * pair + 2 * neg_i + neg_j


def index_b(octad, rank):
    """Index of the shape-B vector on octad ``octad`` with sign pattern ``rank``."""
    return OFFSET_B + OCTAD_SIGNS * octad + rank


def index_c(codeword, special):
    """Index of the shape-C vector over Golay codeword ``codeword`` with special position
    ``special``."""
    return OFFSET_C + CODEWORD_SIGNS * codeword + special


@dataclass(frozen=True)
class LeechShellLayout:
    """Every table of the shell order (module docstring), read-only.

    Attributes
    ----------
    offsets : tuple of 4 int
        :data:`SHAPE_OFFSETS`, ``(0, 1104, 98256, 196560)``.
    pair_rank : (24, 24) int64
        Lexicographic rank of the pair ``{i, j}``; ``-1`` on the diagonal.
    pairs : (276, 2) int64
        The pair of each rank, ``i < j``.
    octads : (759, 8) int64
        Sorted positions of each octad, in Golay codeword order.
    octad_mask : (759, 24) uint8
        Indicator of each octad.
    octad_bytes : (759, 3) uint8
        The octad's mask as three bytes: bit ``i`` of byte ``j`` is position ``8j + i``.
    octad_of_codeword : (4096,) int64
        Octad rank of each Golay codeword, ``-1`` for codewords of weight other than 8.
    sign_patterns : (128, 8) int8
        ``±1`` signs of the octad's positions for pattern ``r`` (even number of ``−1``).
    sign_rank_weights : (8,) int64
        ``r = Σ_q [s_q < 0] w_q``: ``2^q`` for ``q < 7`` and 0 for the last position.
    codewords : (4096, 24) uint8
        The Golay codewords (:func:`~lattiq.lattices.golay.golay_code` order).
    codeword_bytes : (4096, 3) uint8
        Each codeword as three bytes, like :attr:`octad_bytes`.
    codeword_signs : (4096, 24) int8
        ``1 − 2c``: the signs of the shape-C vectors over codeword ``c``.
    codeword_index_weights : (24,) int64
        ``k = Σ_i c_i w_i`` recovers a codeword's index from its bits (the generator is
        systematic: ``2^i`` on the first 12 positions, 0 on the rest).
    sextet_cols : (6, 4) int64
        The sextet containing the tetrad ``{0, 1, 2, 3}``: six tetrads whose pairwise unions
        are octads (the columns of a MOG). Row ``r`` of column ``j`` is position
        ``sextet_cols[j, r]``.
    coset_pair : (128, 6) int64
        The cosets of the 32-word subcode the sextet's octads span, as the pair id of each
        column: a codeword restricted to column ``j`` is a 4-bit pattern (bit ``r``: row
        ``r``) known up to complement by ``(the pattern or its complement with row 0
        clear) >> 1``. Sorted, so that cosets ``4k .. 4k + 3`` share their first two
        columns.
    coset_parity : (128,) int64
        Parity of the number of complemented columns of the coset's words.
    coset_flip : (2, 6, 32) uint8
        For parity ``g``: word ``k`` of a coset complements column ``j``'s reference pattern
        ``2 · coset_pair[c, j]`` when ``coset_flip[g, j, k] = 1`` (the 32 six-bit masks of
        parity ``g``, increasing).
    coset_words : (128, 32) int64
        The Golay index of word ``k`` of coset ``c``; together they are all 4096, once.
    octad_cosets : (109,) int64
        The cosets that hold octads, other than the subcode: 64 with six octads of type
        ``3·1⁵`` (one column shows its weight-3 pattern), 45 with eight of type ``2⁴0²``.
        Row ``e < 109`` of the octad tables is coset ``octad_cosets[e]``; row 109 holds
        the subcode's fifteen unions of two tetrads.
    octad_row_ref : (110, 6) int64
        Per row, each column's reference pattern as ``16 j + P`` (the weight-1 pattern, else
        the one with row 0 clear): every octad of the row shows it or its complement.
    octad_row_flip : (110, 6, 16) uint8
        ``1`` where octad ``e`` of the row shows the complement in column ``j``.
    octad_row_ids : (110, 16) int64
        The octads of each row, ``-1`` for padding.
    """

    pair_rank: np.ndarray
    pairs: np.ndarray
    octads: np.ndarray
    octad_mask: np.ndarray
    octad_bytes: np.ndarray
    octad_of_codeword: np.ndarray
    sign_patterns: np.ndarray
    sign_rank_weights: np.ndarray
    codewords: np.ndarray
    codeword_bytes: np.ndarray
    codeword_signs: np.ndarray
    codeword_index_weights: np.ndarray
    sextet_cols: np.ndarray
    coset_pair: np.ndarray
    coset_parity: np.ndarray
    coset_flip: np.ndarray
    coset_words: np.ndarray
    octad_cosets: np.ndarray
    octad_row_ref: np.ndarray
    octad_row_flip: np.ndarray
    octad_row_ids: np.ndarray
    offsets: tuple[int, int, int, int] = SHAPE_OFFSETS
    size: int = SHELL_SIZE


def _bytes_of(bits: np.ndarray) -> np.ndarray:
    """(n, 24) bits -> (n, 3) uint8: bit ``i`` of byte ``j`` is coordinate ``8j + i``."""
    w = bits.astype(np.int64) @ (1 << np.arange(DIM, dtype=np.int64))
    return np.stack([(w >> (8 * j)) & 255 for j in range(3)], axis=1).astype(np.uint8)


def _pair_tables() -> tuple[np.ndarray, np.ndarray]:
    rank = -np.ones((DIM, DIM), dtype=np.int64)
    iu = np.triu_indices(DIM, 1)  # lexicographic
    rank[iu] = np.arange(N_PAIRS)
    rank.T[iu] = np.arange(N_PAIRS)
    return rank, np.stack(iu, axis=1).astype(np.int64)


def _sign_patterns() -> np.ndarray:
    r = np.arange(OCTAD_SIGNS, dtype=np.int64)
    bits = (r[:, None] >> np.arange(7)) & 1
    last = bits.sum(axis=1) % 2
    return (1 - 2 * np.concatenate([bits, last[:, None]], axis=1)).astype(np.int8)


def _sextet(cw: np.ndarray, octads: np.ndarray):
    """The sextet on ``{0, 1, 2, 3}`` and the 128 cosets of its subcode (sorted)."""
    tetrad = {0, 1, 2, 3}
    cols = [sorted(tetrad)]
    seen = set(tetrad)
    octad_sets = [set(o.tolist()) for o in octads]
    for p in range(DIM):
        if p in seen:
            continue
        o = next(o for o in octad_sets if tetrad | {p} <= o)
        t = sorted(o - tetrad)
        cols.append(t)
        seen.update(t)
    cols_a = np.array(cols, dtype=np.int64)
    if cols_a.shape != (N_COLUMNS, 4) or len(np.unique(cols_a)) != DIM:
        raise RuntimeError("Golay code octads do not form a sextet on {0,1,2,3}")
    pats = (cw[:, cols_a] << np.arange(4)).sum(axis=2)  # (4096, 6) 4-bit patterns
    tbit = pats & 1
    pair = np.where(tbit == 1, pats ^ 15, pats) >> 1
    g = tbit.sum(axis=1) & 1
    keys, inv, counts = np.unique(pair, axis=0, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    if keys.shape[0] != N_COSETS or not np.all(counts == COSET_WORDS):
        raise RuntimeError("Golay code does not split into 128 sextet cosets of 32 words")
    cls_g = np.zeros(N_COSETS, dtype=np.int64)
    cls_g[inv] = g
    if not np.all(cls_g[inv] == g):
        raise RuntimeError("complement parity is not constant on a sextet coset")
    if not np.all(keys[:, :2].reshape(32, 4, 2) == keys[::4, None, :2]):
        raise RuntimeError("sorted sextet cosets do not share column prefixes in fours")
    return cols_a, keys.astype(np.int64), cls_g, pats


def _cosets(cw, octads, cols, cls_pair, cls_g, pats):
    """The words of each coset, and the octads sorted into rows by coset (docstring of
    :class:`LeechShellLayout`), checking the structure the shell search relies on."""
    word_of = {tuple(p): k for k, p in enumerate(pats.tolist())}
    choices = [[b for b in range(64) if bin(b).count("1") % 2 == g] for g in (0, 1)]
    flip = np.array([[[(b >> j) & 1 for b in choices[g]] for j in range(N_COLUMNS)]
                     for g in (0, 1)], dtype=np.uint8)  # (2, 6, 32)
    cword = np.empty((N_COSETS, COSET_WORDS), dtype=np.int64)
    cpat = np.empty((N_COSETS, COSET_WORDS, N_COLUMNS), dtype=np.int64)
    for c in range(N_COSETS):
        for k, b in enumerate(choices[cls_g[c]]):
            p = tuple(int(2 * cls_pair[c, j]) ^ (15 if (b >> j) & 1 else 0)
                      for j in range(N_COLUMNS))
            if p not in word_of:
                raise RuntimeError("sextet coset word is not a Golay codeword")
            cword[c, k] = word_of[p]
            cpat[c, k] = p
    if sorted(cword.ravel().tolist()) != list(range(N_CODEWORDS)):
        raise RuntimeError("sextet cosets do not partition the Golay code")
    octad_of = {tuple(o): i for i, o in enumerate(octads.tolist())}
    weight = np.array([bin(2 * q).count("1") for q in range(8)])
    bco, lists = [], []
    zero = None
    for c in range(N_COSETS):
        octs = [(octad_of[tuple(np.nonzero(cw[k])[0].tolist())], cpat[c, i])
                for i, k in enumerate(cword[c]) if cw[k].sum() == 8]
        if not octs:
            continue
        w = weight[cls_pair[c]]
        if np.all(cls_pair[c] == 0):
            zero = octs
            continue
        if np.all(w % 2 == 1):  # 3·1⁵: one column takes its weight-3 pattern
            ok = len(octs) == 6 and all(
                sorted(bin(int(t)).count("1") for t in p) == [1, 1, 1, 1, 1, 3] for _, p in octs)
        else:  # 2⁴0²: the weight-2 columns, the empty pair's columns left empty
            ok = (sorted(w.tolist()) == [0, 0, 2, 2, 2, 2] and len(octs) == 8
                  and all(p[j] == 0 for _, p in octs for j in range(N_COLUMNS) if w[j] == 0))
        if not ok:
            raise RuntimeError("octads do not have the sextet structure the kernel expects")
        bco.append(c)
        lists.append(octs)
    if zero is None or len(zero) != 15 or len(bco) != N_OCTAD_COSETS:
        raise RuntimeError("octads do not have the sextet structure the kernel expects")
    lists.append(zero)
    oref = np.zeros((N_OCTAD_ROWS, N_COLUMNS), dtype=np.int64)
    oflip = np.zeros((N_OCTAD_ROWS, N_COLUMNS, OCTADS_PER_ROW), dtype=np.uint8)
    oct_id = -np.ones((N_OCTAD_ROWS, OCTADS_PER_ROW), dtype=np.int64)
    for r, octs in enumerate(lists):
        q = cls_pair[bco[r]] if r < N_OCTAD_COSETS else np.zeros(N_COLUMNS, dtype=np.int64)
        ref = [1 if qj == 7 else 2 * int(qj) for qj in q]
        oref[r] = 16 * np.arange(N_COLUMNS) + np.asarray(ref)
        for e, (o, p) in enumerate(octs):
            if any(int(p[j]) not in (ref[j], ref[j] ^ 15) for j in range(N_COLUMNS)):
                raise RuntimeError("octad patterns are not the row's reference or complement")
            oct_id[r, e] = o
            oflip[r, :, e] = [int(int(p[j]) != ref[j]) for j in range(N_COLUMNS)]
    if sorted(oct_id[oct_id >= 0].tolist()) != list(range(N_OCTADS)):
        raise RuntimeError("octads are not split among the sextet cosets")
    return flip, cword, np.array(bco, dtype=np.int64), oref, oflip, oct_id


@lru_cache(maxsize=1)
def leech_layout() -> LeechShellLayout:
    """The layout of the first Leech shell (built once from the Golay code; read-only)."""
    G = golay_code()
    cw = G.codewords.astype(np.int64)
    octads = np.ascontiguousarray(G.octads, dtype=np.int64)
    if octads.shape != (N_OCTADS, 8) or G.codewords.shape != (N_CODEWORDS, DIM):
        raise RuntimeError("the Golay code does not have 759 octads among 4096 codewords")
    pair_rank, pairs = _pair_tables()
    octad_mask = np.zeros((N_OCTADS, DIM), dtype=np.uint8)
    octad_mask[np.arange(N_OCTADS)[:, None], octads] = 1
    octad_of_codeword = -np.ones(N_CODEWORDS, dtype=np.int64)
    octad_of_codeword[G.octad_codeword_index] = np.arange(N_OCTADS)
    cols, cls_pair, cls_g, pats = _sextet(cw, octads)
    flip, cword, bco, oref, oflip, oct_id = _cosets(cw, octads, cols, cls_pair, cls_g, pats)
    index_weights = np.zeros(DIM, dtype=np.int64)
    index_weights[:12] = 1 << np.arange(12, dtype=np.int64)
    layout = LeechShellLayout(
        pair_rank=pair_rank,
        pairs=pairs,
        octads=octads,
        octad_mask=octad_mask,
        octad_bytes=_bytes_of(octad_mask),
        octad_of_codeword=octad_of_codeword,
        sign_patterns=_sign_patterns(),
        sign_rank_weights=np.append(1 << np.arange(7, dtype=np.int64), 0),
        codewords=np.ascontiguousarray(G.codewords),
        codeword_bytes=_bytes_of(G.codewords),
        codeword_signs=(1 - 2 * cw).astype(np.int8),
        codeword_index_weights=index_weights,
        sextet_cols=cols,
        coset_pair=np.ascontiguousarray(cls_pair),
        coset_parity=cls_g,
        coset_flip=flip,
        coset_words=cword,
        octad_cosets=bco,
        octad_row_ref=oref,
        octad_row_flip=oflip,
        octad_row_ids=oct_id,
    )
    for value in vars(layout).values():
        if isinstance(value, np.ndarray):
            if not value.flags.c_contiguous:  # pragma: no cover - built contiguous
                raise RuntimeError("layout tables must be C-contiguous")
            value.setflags(write=False)
    return layout


def leech_sextet_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sextet tables that drive the Leech decoder
    (:func:`lattiq.lattices.decoders.decode_leech`): :attr:`LeechShellLayout.sextet_cols`
    ``(6, 4)``, :attr:`~LeechShellLayout.coset_pair` ``(128, 6)`` and
    :attr:`~LeechShellLayout.coset_parity` ``(128,)`` (the 64 hexacode words times the even
    and odd interpretations of the MOG construction).
    """
    lay = leech_layout()
    return lay.sextet_cols, lay.coset_pair, lay.coset_parity
