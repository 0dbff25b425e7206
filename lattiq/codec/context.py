"""The ``context`` model: adaptive counts conditioned on already-decoded neighbours.

Tokens are coded scale by scale, each scale's mosaic (:mod:`lattiq.codec.layout`) in
raster order. For the token at ``(y, x)`` with left neighbour ``L = (y, x-1)`` and upper
neighbour ``U = (y-1, x)`` (where they exist):

1. **copy mode.** The distinct values among ``L, U`` are candidates; a symbol says "equal
   to candidate ``i``" or "new". Its context: how many candidates there are, whether
   ``L = U``, and whether ``L`` continues a run (``L`` equals its own left neighbour). Flat
   regions, where tokens repeat, cost a fraction of a bit per token.
2. **new token.** Its index is split by a :class:`~lattiq.codec.factor.Factorisation` into
   ``(branch, a, b)``, coded one after the other: the branch in the context of the
   neighbours' branches, ``a`` in the context of the branch, ``b`` in the context of the
   branch. Each digit has at most a few thousand values, so the counts learn within one
   image.

Every context keeps integer counts, starting at 1 for every symbol; a coded symbol's count
grows by ``increment``, and a table whose total exceeds ``limit`` is halved (rounding up,
so no count reaches 0), which keeps it adaptive (the classic frequency-count model of
Witten, Neal & Cleary 1987, "Arithmetic coding for data compression", CACM 30(6)). Tables
go to the coder through :func:`~lattiq.codec.entropy.quantize_counts`: integers only.
"""

from __future__ import annotations

import numpy as np

from .entropy import quantize_count_row
from .factor import Factorisation, from_params
from .layout import TokenLayout
from .priors import Prior

__all__ = ["ContextPrior"]


class _Counts:
    """Adaptive count tables, one per context key (with their totals)."""

    def __init__(self, increment: int, limit: int):
        self.increment, self.limit = increment, limit
        self.tables: dict[tuple, list] = {}

    def code(self, coder, key: tuple, n: int, symbol: int | None) -> int:
        entry = self.tables.get(key)
        if entry is None:
            entry = self.tables[key] = [np.ones(n, dtype=np.int64), n]
        c, total = entry
        s = coder.code_one(quantize_count_row(c, total), symbol)
        c[s] += self.increment
        total += self.increment
        if total > self.limit:
            c += 1
            c //= 2
            total = int(c.sum())
        entry[1] = total
        return s


class ContextPrior(Prior):
    """Adaptive context model (see the module docstring).

    Parameters
    ----------
    factorisation : Factorisation
        How an index splits into digits (:func:`~lattiq.codec.factor.factorisation_for`).
    increment : int
        Count added to a coded symbol (the initial count is 1).
    limit : int
        A table whose total exceeds this is halved.
    """

    name = "context"

    def __init__(self, factorisation: Factorisation, increment: int = 24, limit: int = 1 << 16):
        if not isinstance(increment, int) or not 1 <= increment <= 1 << 12:
            raise ValueError(f"increment must be an integer in [1, 4096], got {increment!r}")
        if not isinstance(limit, int) or not 1 << 8 <= limit <= 1 << 24:
            raise ValueError(f"limit must be an integer in [256, 2**24], got {limit!r}")
        self.factorisation, self.increment, self.limit = factorisation, increment, limit

    @classmethod
    def from_params(cls, params: dict) -> ContextPrior:
        if not isinstance(params, dict) or set(params) != {"factor", "increment", "limit"}:
            raise ValueError("context model parameters must be factor, increment, limit")
        return cls(from_params(params["factor"]), params["increment"], params["limit"])

    def params(self) -> dict:
        return {"factor": self.factorisation.params(), "increment": self.increment,
                "limit": self.limit}  # fmt: skip

    def check_layout(self, layout: TokenLayout) -> None:
        if layout.codebook_size != self.factorisation.size:
            raise ValueError(f"context model factorises {self.factorisation.size} codes, the "
                             f"tokenizer has {layout.codebook_size}")

    def code(self, coder, layout, tokens):
        f = self.factorisation
        counts = _Counts(self.increment, self.limit)
        nb = len(f.branches)
        out = []
        for k, s in enumerate(layout.scales):
            H, W = layout.rows * s, layout.cols * s
            src = None if tokens is None else layout.to_mosaic(tokens[k])
            mos = np.full((H, W), -1, dtype=np.int64)
            branch = np.full((H, W), nb, dtype=np.int64)  # nb = no neighbour
            for y in range(H):
                for x in range(W):
                    v = None if src is None else int(src[y, x])
                    left = int(mos[y, x - 1]) if x > 0 else -1
                    up = int(mos[y - 1, x]) if y > 0 else -1
                    cands = [c for c in (left, up) if c >= 0]
                    if len(cands) == 2 and cands[0] == cands[1]:
                        cands = cands[:1]
                    if cands:
                        run = int(x > 1 and left == int(mos[y, x - 2]))
                        key = ("mode", len(cands), int(left == up), run, int(left >= 0))
                        sym = None if v is None else (cands.index(v) if v in cands
                                                      else len(cands))  # fmt: skip
                        sym = counts.code(coder, key, len(cands) + 1, sym)
                        if sym < len(cands):
                            mos[y, x] = cands[sym]
                            branch[y, x] = f.split(cands[sym])[0]
                            continue
                    j, a, b = (None, None, None) if v is None else f.split(v)
                    bl = branch[y, x - 1] if x > 0 else nb
                    bu = branch[y - 1, x] if y > 0 else nb
                    if nb > 1:
                        j = counts.code(coder, ("branch", int(bl), int(bu)), nb, j)
                    else:
                        j = 0
                    _, n_j, m_j = f.branches[j]
                    a = counts.code(coder, ("a", j), n_j, a) if n_j > 1 else 0
                    b = counts.code(coder, ("b", j), m_j, b) if m_j > 1 else 0
                    mos[y, x] = f.join(j, a, b)
                    branch[y, x] = j
            out.append(layout.from_mosaic(mos, s))
        return out
