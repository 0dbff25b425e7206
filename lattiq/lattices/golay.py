"""The extended binary Golay code C24, constructed from the quadratic residues mod 23.

Construction (SPLAG ch. 3 §2.8 and ch. 11): the binary quadratic-residue code of length 23
is spanned by the cyclic shifts of the indicator vector of the quadratic residues
``Q = {1, 2, 3, 4, 6, 8, 9, 12, 13, 16, 18}``; it is the perfect [23, 12, 7] Golay code.
Appending an overall parity bit gives the extended code [24, 12, 8]. Nothing here is a
pasted table: the generator matrix, the 4096 codewords and the 759 octads are all computed,
and the known weight distribution ``1, 759, 2576, 759, 1`` is checked by the tests.

Orderings (other modules rely on them):

* ``generator`` is in systematic form ``[I_12 | A]`` (rows reduced over GF(2)).
* ``codewords[k]`` is the encoding of the message whose bit ``j`` is bit ``j`` of ``k``,
  i.e. ``codewords[k] = (bits(k) @ generator) mod 2``.
* ``octads`` are the supports of the weight-8 codewords, each sorted, listed in codeword
  order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = ["GolayCode", "golay_code", "WEIGHT_DISTRIBUTION"]

#: Known weight distribution of the extended Golay code: {weight: count}.
WEIGHT_DISTRIBUTION = {0: 1, 8: 759, 12: 2576, 16: 759, 24: 1}


def _row_reduce_gf2(M: np.ndarray) -> np.ndarray:
    """Reduced row echelon form over GF(2); returns the nonzero rows."""
    M = (M % 2).astype(np.uint8)
    rows, cols = M.shape
    r = 0
    for c in range(cols):
        piv = np.nonzero(M[r:, c])[0]
        if piv.size == 0:
            continue
        p = r + piv[0]
        if p != r:
            M[[r, p]] = M[[p, r]]
        hit = np.nonzero(M[:, c])[0]
        for i in hit:
            if i != r:
                M[i] ^= M[r]
        r += 1
        if r == rows:
            break
    return M[:r]


def _construct_generator() -> np.ndarray:
    p = 23
    residues = sorted({(i * i) % p for i in range(1, p)})
    v = np.zeros(p, dtype=np.uint8)
    v[residues] = 1
    shifts = np.stack([np.roll(v, s) for s in range(p)])
    basis = _row_reduce_gf2(shifts)  # (12, 23), the [23, 12, 7] QR code
    if basis.shape[0] != 12:  # pragma: no cover - a property of the construction
        raise RuntimeError("quadratic-residue construction did not give dimension 12")
    parity = basis.sum(axis=1, keepdims=True) % 2
    ext = np.concatenate([basis, parity.astype(np.uint8)], axis=1)  # (12, 24)
    return _row_reduce_gf2(ext)


@dataclass(frozen=True)
class GolayCode:
    """The extended binary Golay code [24, 12, 8].

    Attributes
    ----------
    generator : (12, 24) uint8
        Systematic generator matrix ``[I_12 | A]``.
    parity_check : (12, 24) uint8
        ``[A^T | I_12]``; ``parity_check @ c = 0 (mod 2)`` exactly for codewords ``c``.
    codewords : (4096, 24) uint8
        All codewords, ``codewords[k] = bits(k) @ generator``.
    octads : (759, 8) int64
        Supports of the weight-8 codewords, sorted positions, in codeword order.
    """

    generator: np.ndarray
    parity_check: np.ndarray
    codewords: np.ndarray
    octads: np.ndarray
    octad_codeword_index: np.ndarray
    _syndrome_table: dict = field(repr=False, compare=False)

    n: int = 24
    k: int = 12
    d: int = 8

    def weight_distribution(self) -> dict[int, int]:
        """Count codewords by Hamming weight, ``{w: A_w}`` (computed, not recalled)."""
        w = self.codewords.sum(axis=1).astype(np.int64)
        vals, counts = np.unique(w, return_counts=True)
        return {int(a): int(b) for a, b in zip(vals, counts, strict=True)}

    def encode(self, message) -> np.ndarray:
        """Encode message bits ``(..., 12)`` into codewords ``(..., 24)`` over GF(2).

        .. math:: c = m G \\pmod 2
        """
        m = np.asarray(message)
        if m.shape[-1:] != (12,):
            raise ValueError(f"message must have last dimension 12, got shape {m.shape}")
        if not np.all((m == 0) | (m == 1)):
            raise ValueError("message entries must be 0 or 1")
        return ((m.astype(np.int64) @ self.generator.astype(np.int64)) % 2).astype(np.uint8)

    def syndrome(self, word) -> np.ndarray:
        """Syndrome ``H w (mod 2)`` of words ``(..., 24)``, packed as 12-bit integers."""
        w = self._check_words(word)
        s = (w.astype(np.int64) @ self.parity_check.T.astype(np.int64)) % 2
        return s @ (1 << np.arange(12, dtype=np.int64))

    def decode(self, word) -> np.ndarray:
        """Correct up to 3 errors in words ``(..., 24)`` and return the codewords.

        Syndrome decoding: the code is 3-error-correcting (d = 8), and the
        ``1 + 24 + 276 + 2024 = 2325`` coset leaders of weight ≤ 3 have distinct syndromes,
        so a table from syndrome to error pattern decodes every such pattern. Words at
        distance 4 from the code (which lie at distance 4 from six codewords) raise
        ``ValueError``.
        """
        w = self._check_words(word)
        s = np.atleast_1d(self.syndrome(w))
        flat = w.reshape(-1, 24)
        out = flat.copy()
        table = self._syndrome_table
        for i, si in enumerate(s.reshape(-1)):
            e = table.get(int(si))
            if e is None:
                raise ValueError(
                    f"word {i} has at least 4 errors (syndrome {int(si)}); "
                    "the Golay code corrects at most 3"
                )
            out[i] ^= e
        return out.reshape(w.shape)

    def message(self, codeword) -> np.ndarray:
        """Message bits of codewords (systematic: the first 12 coordinates)."""
        c = self._check_words(codeword)
        return c[..., :12].copy()

    def index(self, codeword) -> np.ndarray:
        """Rank of codewords in ``codewords`` (inverse of ``codewords[k]``)."""
        m = self.message(codeword).astype(np.int64)
        return m @ (1 << np.arange(12, dtype=np.int64))

    @staticmethod
    def _check_words(word) -> np.ndarray:
        w = np.asarray(word)
        if w.shape[-1:] != (24,):
            raise ValueError(f"words must have last dimension 24, got shape {w.shape}")
        if not np.all((w == 0) | (w == 1)):
            raise ValueError("word entries must be 0 or 1")
        return w.astype(np.uint8)


@lru_cache(maxsize=1)
def golay_code() -> GolayCode:
    """Return the extended binary Golay code (cached; arrays are read-only).

    References
    ----------
    Conway & Sloane, *Sphere Packings, Lattices and Groups* (SPLAG), ch. 3 §2.8, ch. 11.
    """
    G = _construct_generator()
    A = G[:, 12:]
    H = np.concatenate([A.T, np.eye(12, dtype=np.uint8)], axis=1)
    k = np.arange(4096, dtype=np.int64)
    bits = ((k[:, None] >> np.arange(12)) & 1).astype(np.int64)
    codewords = ((bits @ G.astype(np.int64)) % 2).astype(np.uint8)
    weights = codewords.sum(axis=1)
    oct_idx = np.nonzero(weights == 8)[0]
    octads = np.stack([np.nonzero(codewords[i])[0] for i in oct_idx]).astype(np.int64)

    # Syndrome table for all error patterns of weight <= 3.
    pw = 1 << np.arange(12, dtype=np.int64)
    Ht = H.T.astype(np.int64)  # (24, 12)
    table: dict[int, np.ndarray] = {0: np.zeros(24, np.uint8)}
    from itertools import combinations

    for r in (1, 2, 3):
        for pos in combinations(range(24), r):
            s = int((Ht[list(pos)].sum(axis=0) % 2) @ pw)
            e = np.zeros(24, np.uint8)
            e[list(pos)] = 1
            if s in table:  # pragma: no cover - impossible for a perfect-like code
                raise RuntimeError("coset leaders of weight <= 3 collide")
            table[s] = e
    for a in (G, H, codewords, octads, oct_idx):
        a.setflags(write=False)
    return GolayCode(
        generator=G,
        parity_check=H,
        codewords=codewords,
        octads=octads,
        octad_codeword_index=oct_idx,
        _syndrome_table=table,
    )
