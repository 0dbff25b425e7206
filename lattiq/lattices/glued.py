"""Lattices glued from scaled A_n or D_n blocks: one strategy for membership, decoding and
span.

In its integer frame such a lattice is a union of translates of a product of root lattices
on disjoint coordinate blocks,

.. math::
    \\Lambda_{\\mathbb Z} = \\bigcup_{g \\in G} \\Big( g + \\bigoplus_b s\\, R_b \\Big),
    \\qquad R_b = A_{n_b} = \\{ z \\in \\mathbb Z^{I_b} : \\textstyle\\sum z = 0 \\}
    \\ \\text{or}\\ R_b = D_{n_b} = \\{ z \\in \\mathbb Z^{I_b} : \\textstyle\\sum z
    \\text{ even} \\},

with ``G`` a set of glue vectors closed under addition modulo the product (SPLAG ch. 4 §3,
gluing theory). E7 = A7 ∪ (A7 + g), E6 = (A1 ⊕ A5) ∪ (A1 ⊕ A5 + g), the Coxeter–Todd
lattice K12 (64 translates of 2·A2⁶ by lifts of the hexacode) and the Barnes–Wall lattice
Λ16 (32 translates of 2·D16 by the Reed–Muller code RM(1, 4)) are of this form
(:mod:`lattiq.lattices.exceptional`).

Decoding is the glue decoder of Conway & Sloane ("Soft decoding techniques for codes and
lattices", IEEE Trans. Inf. Theory 32, 1986; SPLAG ch. 20): the nearest point of a
translate ``g + ⊕ sR`` is found block by block with the A_n or D_n decoder, so each block
needs one decode per *distinct* glue pattern on it, and the glue with the smallest sum of
block distances wins. K12 costs 6 blocks × 4 patterns = 24 A2 decodes and a 64-way
comparison, Λ16 32 D16 decodes.
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

#: Kernel codes of the block root lattices.
_KINDS = {"a": 0, "d": 1}


class GluedFamily(LatticeFamily):
    """Strategy of a lattice glued from scaled A_n or D_n blocks (subclasses give the data).

    Class attributes
    ----------------
    blocks : tuple of tuple of int
        Disjoint coordinate blocks ``I_b`` of the integer frame.
    block_kind : str
        ``"a"`` (every block is ``A_{|I_b|-1}``, in its zero-sum hyperplane) or ``"d"``
        (every block is ``D_{|I_b|}``).
    block_scale : int
        The scale ``s`` of every block lattice ``s·R_b`` (a power of two, so that the
        decoder's divisions are exact).
    ambient : int
        Number of coordinates.
    frame_scale : sympy expression
        Standard coordinates = ``frame_scale ×`` integer frame.

    Subclasses define :meth:`glue_vectors` (the first row zero) and the recorded
    invariants.
    """

    blocks: ClassVar[tuple[tuple[int, ...], ...]] = ()
    block_kind: ClassVar[str] = "a"
    block_scale: ClassVar[int] = 2
    ambient: ClassVar[int] = 0
    frame_scale: ClassVar[sympy.Expr] = sympy.Integer(1)
    integral = True

    @classmethod
    def fixed_n(cls) -> int:
        drop = 1 if cls.block_kind == "a" else 0  # A_n lives in a hyperplane
        return sum(len(b) - drop for b in cls.blocks)

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
        if (s < 1 or s & (s - 1) or self.block_kind not in _KINDS or G.ndim != 2
                or G.shape[1] != self.ambient or G[0].any()):
            raise RuntimeError(f"{type(self).__name__}: malformed glue table")
        per_block = []
        for b in self.blocks:
            cols = np.array(b, dtype=np.int64)
            pats, idx = np.unique(G[:, cols], axis=0, return_inverse=True)
            if self.block_kind == "a" and np.any(pats.sum(axis=1) != 0):
                raise RuntimeError(f"{type(self).__name__}: glue leaves a block's hyperplane")
            per_block.append((cols, np.ascontiguousarray(pats), idx.reshape(-1)))
        return G, per_block

    @cached_property
    def _glue_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted keys of the glue vectors' residues modulo ``s`` (base-``s`` digits) and
        the glue row of each; distinct residues are required (each translate of the block
        product is then named by its residue)."""
        G, _ = self._tables
        keys = self._keys(np.mod(G, self.block_scale))
        order = np.argsort(keys, kind="stable")
        if np.unique(keys).size != keys.size:
            raise RuntimeError(f"{type(self).__name__}: glue vectors share a residue mod s")
        return keys[order], order

    def _keys(self, r: np.ndarray) -> np.ndarray:
        w = self.block_scale ** np.arange(self.ambient, dtype=np.int64)
        return r.astype(np.int64) @ w

    # ------------------------------------------------------------------ construction
    def build(self) -> Lattice:
        """The basis: Hermite normal form of the glue vectors and the scaled block roots
        (``s(e_i − e_{i+1})``, and ``s(e_i + e_{i+1})`` for D blocks); its rank must be
        the dimension."""
        from .exact import hermite_normal_form

        G, _ = self._tables
        gens = [g for g in G[1:]]
        s = self.block_scale
        signs = (-1,) if self.block_kind == "a" else (-1, 1)
        for b in self.blocks:
            for i, j in zip(b[:-1], b[1:], strict=True):
                for sg in signs:
                    v = np.zeros(self.ambient, dtype=np.int64)
                    v[i], v[j] = s, sg * s
                    gens.append(v)
        B = hermite_normal_form(np.stack(gens))
        if B.shape[0] != self.fixed_n():  # pragma: no cover - guards the class data
            raise RuntimeError(f"{type(self).__name__}: basis of rank {B.shape[0]}")
        return Lattice(name=self.name(), strategy=self, basis_int=B, scale=self.frame_scale)

    # ------------------------------------------------------------------ membership
    def contains_int(self, L, y):
        """``y`` is a member iff ``y mod s`` is the residue of a glue vector ``g``, the
        coordinates outside the blocks vanish, and each block of ``(y − g)/s`` lies in its
        root lattice (sum zero for A, even for D)."""
        from .families import residues

        n = y.shape[0]
        keys, order = self._glue_index
        k = self._keys(residues(y, self.block_scale))
        pos = np.minimum(np.searchsorted(keys, k), keys.size - 1)
        ok = keys[pos] == k
        g = self._tables[0][order[pos]]  # the glue vector of each row's residue
        big = y.dtype == object or (n and int(np.abs(y).max()) >= 2**61 // self.ambient)
        inside = np.zeros(self.ambient, dtype=bool)
        mod = 0 if self.block_kind == "a" else 2 * self.block_scale
        for b in self.blocks:
            inside[list(b)] = True
            if big:  # Python ints
                sums = [sum(int(row[i]) for i in b) - int(gr[list(b)].sum())
                        for row, gr in zip(y, g, strict=True)]
                ok &= np.array([(t == 0) if mod == 0 else (t % mod == 0) for t in sums],
                               dtype=bool)
            else:
                t = y[:, list(b)].sum(axis=1) - g[:, list(b)].sum(axis=1)
                ok &= (t == 0) if mod == 0 else (t % mod == 0)
        if not inside.all():
            ok &= ~np.any(y[:, ~inside] != 0, axis=1)
        return ok

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
        ``r`` on it, the nearest point ``r + s·Q_R((y_b − r)/s)`` and its squared
        distance; the glue vector with the least total wins. Ties: the first glue vector
        in :meth:`glue_vectors` order; inside a block, the A_n or D_n decoder's rule (the
        lowest-index coordinates move first)."""
        inv = 1.0 / float(self.frame_scale)
        _check_range(x, inv, f"{L.name}.decode", MAX_ABS_INT_FRAME)
        out = np.empty((x.shape[0], self.ambient), dtype=np.int64)
        if x.shape[0]:
            bstart, cols, pstart, pats, gidx = self._kernel_tables
            s = float(self.block_scale)
            kind = _KINDS[self.block_kind]
            _run(lambda xs, os_: glue_kernel(xs, inv, s, kind, bstart, cols, pstart, pats,
                                             gidx, os_), x, out, parallel)
        return out

    # ------------------------------------------------------------------ geometry
    def span_basis(self, L):
        """Block-diagonal Helmert basis: the span is the product of the blocks' zero-sum
        hyperplanes (A blocks); ``None`` when the blocks span everything (D blocks)."""
        if self.fixed_n() == self.ambient:
            return None
        if self.block_kind != "a":  # pragma: no cover - no such lattice yet
            return super().span_basis(L)
        Q = np.zeros((self.ambient, self.fixed_n()))
        c = 0
        for b in self.blocks:
            Q[list(b), c:c + len(b) - 1] = helmert_basis(len(b))
            c += len(b) - 1
        return Q
