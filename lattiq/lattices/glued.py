"""Lattices glued from scaled A_n blocks: one strategy for membership, decoding and span.

In its integer frame such a lattice is a union of translates of a product of root lattices
on disjoint coordinate blocks,

.. math::
    \\Lambda_{\\mathbb Z} = \\bigcup_{g \\in G} \\Big( g + \\bigoplus_b s\\, A_{n_b} \\Big),
    \\qquad A_{n_b} = \\{ z \\in \\mathbb Z^{I_b} : \\textstyle\\sum z = 0 \\},

with ``G`` a set of glue vectors closed under addition modulo the product (SPLAG ch. 4 §3,
gluing theory). E7 = A7 ∪ (A7 + g), E6 = (A1 ⊕ A5) ∪ (A1 ⊕ A5 + g) and the Coxeter–Todd
lattice K12 (64 translates of 2·A2⁶ by lifts of the hexacode) are of this form
(:mod:`lattiq.lattices.exceptional`).

Decoding is the glue decoder of Conway & Sloane ("Soft decoding techniques for codes and
lattices", IEEE Trans. Inf. Theory 32, 1986; SPLAG ch. 20 §4): the nearest point of a
translate ``g + ⊕ sA`` is found block by block with the A_n decoder, so each block needs one
decode per *distinct* glue pattern on it, and the glue with the smallest sum of block
distances wins. K12 costs 6 blocks × 4 patterns = 24 A2 decodes and a 64-way comparison.
"""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import numpy as np
import sympy

from ._glue_kernels import glue_kernel
from .decoders import MAX_ABS_INT_FRAME, _check_range, _run
from .family import LatticeFamily, helmert_basis
from .lattice import Lattice

__all__ = ["GluedFamily"]

class GluedFamily(LatticeFamily):
    """Strategy of a lattice glued from scaled A_n blocks (subclasses give the data).

    Class attributes
    ----------------
    blocks : tuple of tuple of int
        Disjoint coordinate blocks ``I_b`` of the integer frame (each of size ``n_b + 1``).
    block_scale : int
        The scale ``s`` of every block lattice ``s·A_{n_b}`` (a power of two, so that the
        decoder's divisions are exact).
    ambient : int
        Number of coordinates.
    frame_scale : sympy expression
        Standard coordinates = ``frame_scale ×`` integer frame.

    Subclasses define :meth:`glue_vectors` (the first row zero) and the recorded
    invariants.
    """

    blocks: ClassVar[tuple[tuple[int, ...], ...]] = ()
    block_scale: ClassVar[int] = 2
    ambient: ClassVar[int] = 0
    frame_scale: ClassVar[sympy.Expr] = sympy.Integer(1)
    integral = True

    @classmethod
    def fixed_n(cls) -> int:
        return sum(len(b) - 1 for b in cls.blocks)

    def glue_vectors(self) -> np.ndarray:
        """``(|G|, ambient)`` int64 glue vectors in the integer frame, row 0 zero."""
        raise NotImplementedError

    # ------------------------------------------------------------------ tables
    @cached_property
    def _tables(self):
        """Glue vectors, and per block the distinct glue patterns with each glue's
        pattern index: ``(G, [(cols, patterns (R_b, |I_b|), index (|G|,))])``."""
        G = np.ascontiguousarray(self.glue_vectors(), dtype=np.int64)
        s = self.block_scale
        if s < 1 or s & (s - 1) or G.ndim != 2 or G.shape[1] != self.ambient or G[0].any():
            raise RuntimeError(f"{type(self).__name__}: malformed glue table")
        per_block = []
        for b in self.blocks:
            cols = np.array(b, dtype=np.int64)
            pats, idx = np.unique(G[:, cols], axis=0, return_inverse=True)
            if np.any(pats.sum(axis=1) != 0):
                raise RuntimeError(f"{type(self).__name__}: glue leaves a block's hyperplane")
            per_block.append((cols, np.ascontiguousarray(pats), idx.reshape(-1)))
        return G, per_block

    @cached_property
    def _glue_keys(self) -> np.ndarray:
        """Sorted keys of the glue vectors' residues modulo ``s`` (base-``s`` digits)."""
        G, _ = self._tables
        return np.unique(self._keys(np.mod(G, self.block_scale)))

    def _keys(self, r: np.ndarray) -> np.ndarray:
        w = self.block_scale ** np.arange(self.ambient, dtype=np.int64)
        return r.astype(np.int64) @ w

    # ------------------------------------------------------------------ construction
    def build(self) -> Lattice:
        """The basis: Hermite normal form of the glue vectors and the block roots
        ``s(e_i − e_{i+1})``; its rank must be ``Σ n_b``."""
        from .exact import hermite_normal_form

        G, _ = self._tables
        gens = [g for g in G[1:]]
        s = self.block_scale
        for b in self.blocks:
            for i, j in zip(b[:-1], b[1:], strict=True):
                v = np.zeros(self.ambient, dtype=np.int64)
                v[i], v[j] = s, -s
                gens.append(v)
        B = hermite_normal_form(np.stack(gens))
        if B.shape[0] != self.fixed_n():  # pragma: no cover - guards the class data
            raise RuntimeError(f"{type(self).__name__}: basis of rank {B.shape[0]}")
        return Lattice(name=self.name(), strategy=self, basis_int=B, scale=self.frame_scale)

    # ------------------------------------------------------------------ membership
    def contains_int(self, L, y):
        """``y`` is a member iff every block sums to zero, coordinates outside the blocks
        vanish, and ``y mod s`` is the residue of some glue vector."""
        n = y.shape[0]
        inside = np.zeros(self.ambient, dtype=bool)
        for b in self.blocks:
            inside[list(b)] = True
        big = y.dtype == object or (n and int(np.abs(y).max()) >= 2**62 // self.ambient)
        ok = np.ones(n, dtype=bool)
        for b in self.blocks:
            if big:
                ok &= np.array([sum(int(row[i]) for i in b) == 0 for row in y], dtype=bool)
            else:
                ok &= y[:, list(b)].sum(axis=1) == 0
        if not inside.all():
            ok &= ~np.any(y[:, ~inside] != 0, axis=1)
        from .families import residues

        keys = self._keys(residues(y, self.block_scale))
        return ok & np.isin(keys, self._glue_keys)

    # ------------------------------------------------------------------ decoding
    @cached_property
    def _kernel_tables(self):
        """The decoder's flat tables (see :func:`~lattiq.lattices._glue_kernels.glue_kernel`):
        ``(bstart, cols, pstart, pats, gidx)``."""
        G, per_block = self._tables
        width = max(len(b) for b in self.blocks)
        bstart = np.cumsum([0] + [len(b) for b in self.blocks]).astype(np.int64)
        cols = np.concatenate([c for c, _, _ in per_block]).astype(np.int64)
        pstart = np.cumsum([0] + [p.shape[0] for _, p, _ in per_block]).astype(np.int64)
        pats = np.zeros((int(pstart[-1]), width), dtype=np.int64)
        gidx = np.empty((G.shape[0], len(self.blocks)), dtype=np.int64)
        for b, (_, p, idx) in enumerate(per_block):
            pats[pstart[b]:pstart[b + 1], :p.shape[1]] = p
            gidx[:, b] = pstart[b] + idx
        return bstart, cols, pstart, pats, gidx

    def decode(self, L, x, parallel=False):
        """Glue decoder (module docstring): for each block and each distinct glue pattern
        ``r`` on it, the nearest point ``r + s·Q_{A_n}((y_b − r)/s)`` and its squared
        distance; the glue vector with the least total wins. Ties: the first glue vector
        in :meth:`glue_vectors` order; inside a block, the A_n decoder's rule (the
        lowest-index coordinates move first)."""
        inv = 1.0 / float(self.frame_scale)
        _check_range(x, inv, f"{L.name}.decode", MAX_ABS_INT_FRAME)
        out = np.empty((x.shape[0], self.ambient), dtype=np.int64)
        if x.shape[0]:
            bstart, cols, pstart, pats, gidx = self._kernel_tables
            s = float(self.block_scale)
            _run(lambda xs, os_: glue_kernel(xs, inv, s, bstart, cols, pstart, pats, gidx,
                                             os_), x, out, parallel)
        return out

    # ------------------------------------------------------------------ geometry
    def span_basis(self, L):
        """Block-diagonal Helmert basis: the span is the product of the blocks' zero-sum
        hyperplanes."""
        Q = np.zeros((self.ambient, self.fixed_n()))
        c = 0
        for b in self.blocks:
            Q[list(b), c:c + len(b) - 1] = helmert_basis(len(b))
            c += len(b) - 1
        return Q
