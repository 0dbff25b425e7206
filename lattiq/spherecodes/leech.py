"""The Leech spherical code and the kissing configurations derived from it.

* ``"leech"``: the 196,560 minimal vectors of the Leech lattice, normalized — the
  :math:`\\Lambda_{24}`-SQ codebook. Index order is the closed-form order of
  :func:`lattiq.lattices.leech.leech_shell1` (shapes A, B, C); the exact form is the int8
  shell in :math:`\\sqrt8` coordinates with scale :math:`1/\\sqrt{32}`.
* ``"leech-4600"``: the kissing configuration of :math:`\\Lambda_{23}` on :math:`S^{22}`.
  Fix the shell vector :math:`v = (4, 4, 0^{22})`; the 4600 shell vectors ``u`` with
  :math:`u \\cdot v = 16` (unit inner product ½) project to :math:`y = u - v/2`, integer
  vectors of norm 24 in the hyperplane :math:`y_0 = -y_1`. The linear map
  :math:`y \\mapsto (y_0 - y_1,\\ y_2 \\pm y_3,\\ \\ldots,\\ y_{22} \\pm y_{23})`
  multiplies norms by exactly 2 on that hyperplane, so the code has the exact integer form
  ``(4600, 23)`` of norm 48, scale :math:`1/\\sqrt{48}`. Inner products
  :math:`\\{1, \\tfrac13, 0, -\\tfrac13, -1\\}`: minimum angle
  :math:`\\arccos\\tfrac13 \\approx 70.53°`.
* ``"leech-891"``: the kissing configuration of :math:`\\Lambda_{22}` on :math:`S^{21}`,
  derived in the same way from the 4600: fix :math:`w = u_w - v/2` with
  :math:`u_w = (4, 0, 4, 0^{21})`; the 891 points ``y`` with :math:`y\\cdot w = 8`
  (unit ⅓) project to :math:`3y - w = 3u - v - u_w`, integer vectors of norm 192 in the
  subspace :math:`x_1 = x_2 = -x_0`. Inner products :math:`\\{1, \\tfrac14, -\\tfrac18,
  -\\tfrac12\\}`: minimum angle :math:`\\arccos\\tfrac14 \\approx 75.52°`. No integer form
  in 22 coordinates with one scale exists (the quadratic space has determinant class 3, not
  a square), so the exact form keeps the 24 integer coordinates and an orthonormal basis of
  the subspace.

Both derived codes are searched by their structure: a lift to :math:`\\mathbb R^{24}` turns
the nearest codeword into the best Leech vector among a few structured families (88 + 2464
+ 2048 and 43 + 336 + 512 vectors).

References
----------
J. H. Conway and N. J. A. Sloane, SPLAG, ch. 4 §11, ch. 6 (laminated lattices Λ22, Λ23),
ch. 14 (the Leech lattice and the kissing configurations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from lattiq.lattices.leech import leech_contains_int, leech_shell1, leech_shell1_index
from lattiq.lattices.leech_layout import (
    CODEWORD_SIGNS,
    OCTAD_SIGNS,
    OFFSET_B,
    OFFSET_C,
    PAIR_SIGNS,
    SHELL_SIZE,
    leech_layout,
)

from .code import ExactForm, SphericalCode
from .structure import LeechShellStructure, LeechSubsetStructure

__all__ = ["LeechCode", "LeechKissingCode", "LeechSubset", "leech_vectors_int"]


def leech_vectors_int(indices) -> np.ndarray:
    """Closed-form inverse of the Leech shell rank: indices ``(n,)`` -> int8 ``(n, 24)``.

    Shape A: ``4·pair + 2[s_i<0] + [s_j<0]``; shape B: ``1104 + 128·octad + r``; shape C:
    ``98256 + 24·k + t`` (the order of :mod:`lattiq.lattices.leech_layout`).
    """
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    out = np.zeros((idx.size, 24), dtype=np.int8)
    lay = leech_layout()
    a = idx < OFFSET_B
    if a.any():
        ia = idx[a]
        pr = lay.pairs[ia // PAIR_SIGNS]
        rows = np.nonzero(a)[0]
        out[rows, pr[:, 0]] = np.where((ia >> 1) & 1, -4, 4)
        out[rows, pr[:, 1]] = np.where(ia & 1, -4, 4)
    b = (idx >= OFFSET_B) & (idx < OFFSET_C)
    if b.any():
        o, r = np.divmod(idx[b] - OFFSET_B, OCTAD_SIGNS)
        rows = np.nonzero(b)[0]
        out[rows[:, None], lay.octads[o]] = 2 * lay.sign_patterns[r]
    c = idx >= OFFSET_C
    if c.any():
        k, t = np.divmod(idx[c] - OFFSET_C, CODEWORD_SIGNS)
        s = lay.codeword_signs[k].copy()
        s[np.arange(s.shape[0]), t] *= -3
        out[np.nonzero(c)[0]] = s
    return out


_SCALE = 1.0 / math.sqrt(32.0)


class LeechCode(SphericalCode):
    """The 196,560 normalized minimal vectors of the Leech lattice (:math:`\\Lambda_{24}`-SQ).

    Minimum angle 60° (δ_min = 1), a tight spherical 11-design; seen from any codeword the
    inner products 1, ½, ¼, 0, −¼, −½, −1 occur 1, 4600, 47104, 93150, 47104, 4600, 1
    times (SPLAG ch. 14). Nearest codeword: :func:`lattiq.spherecodes.search.leech_nearest`.
    """

    distance_invariant = True

    def __init__(self):
        shell = leech_shell1()
        super().__init__("leech", 24, SHELL_SIZE, exact_form=ExactForm(shell, _SCALE, 32, None))
        self._structure = LeechShellStructure(shell, _SCALE)

    @property
    def structure(self) -> LeechShellStructure:
        """``"leech-shell"``: the shell in the order of :mod:`lattiq.lattices.leech_layout`."""
        return self._structure

    def _nearest(self, X):
        from .search import leech_nearest

        return leech_nearest(X)

    def _vectors(self, idx):
        return leech_vectors_int(idx).astype(np.float64) * _SCALE

    def _index_of(self, X, tol):
        V = X * math.sqrt(32.0)
        R = np.rint(V)
        ok = np.linalg.norm(V - R, axis=1) * _SCALE <= tol
        Ri = R.astype(np.int64)
        ok &= (Ri * Ri).sum(axis=1) == 32
        ok &= leech_contains_int(Ri)
        if not ok.all():
            i = int(np.nonzero(~ok)[0][0])
            raise ValueError(f"vector {i} is not a codeword of 'leech' (tolerance {tol:g})")
        return leech_shell1_index(Ri)

    def _known_max_inner_product(self):
        return Fraction(1, 2)

    def _known_distribution(self):
        from .analysis import exact_inner_product_counts

        return exact_inner_product_counts(self._exact.vectors, 32, 0)

    def _known_design_strength(self):
        return 11


# ------------------------------------------------------------------ derived codes


@dataclass(frozen=True)
class LeechSubset:
    """A subset of the Leech shell in the form the structured search uses.

    Attributes
    ----------
    leech_index : (M,) int64, sorted
        Leech indices of the members; a member's code index is its position here.
    a_pairs : (nA, 5) int64
        Shape-A members ``4(s_i e_i + s_j e_j)`` as ``i, s_i, j, s_j, leech index``.
    b_octads, b_fixed : (nB,) int64, (nB, 8) bool
        Octads whose members hold ``+2`` on the fixed positions and every sign pattern with
        an even number of minus signs on the others.
    c_words, c_special : (nC,) int64
        Golay codewords with their one special position.
    """

    leech_index: np.ndarray
    a_pairs: np.ndarray
    b_octads: np.ndarray
    b_fixed: np.ndarray
    c_words: np.ndarray
    c_special: np.ndarray

    @staticmethod
    def from_indices(leech_index) -> LeechSubset:
        """Describe a subset given by sorted Leech indices; checks it has the structure."""
        li = np.sort(np.asarray(leech_index, dtype=np.int64))
        shell = leech_shell1()
        lay = leech_layout()
        A = li[li < OFFSET_B]
        a_pairs = np.zeros((A.size, 5), dtype=np.int64)
        for e, x in enumerate(A):
            v = shell[x]
            i, j = np.nonzero(v)[0]
            a_pairs[e] = (i, np.sign(v[i]), j, np.sign(v[j]), x)
        B = li[(li >= OFFSET_B) & (li < OFFSET_C)]
        octad_of = (B - OFFSET_B) // OCTAD_SIGNS
        octs = np.unique(octad_of)
        fixed = np.zeros((octs.size, 8), dtype=np.bool_)
        for e, o in enumerate(octs):
            members = shell[B[octad_of == o]][:, lay.octads[o]]
            fixed[e] = (members > 0).all(axis=0)
            free = 8 - int(fixed[e].sum())
            if members.shape[0] != 2 ** (free - 1):
                raise ValueError("subset is not a union of full octad sign classes")
        C = li[li >= OFFSET_C]
        k, t = np.divmod(C - OFFSET_C, CODEWORD_SIGNS)
        if np.unique(k).size != k.size:
            raise ValueError("subset has a codeword with two special positions")
        return LeechSubset(li, a_pairs, octs.astype(np.int64), fixed, k.astype(np.int64),
                           t.astype(np.int64))


@lru_cache(maxsize=1)
def _kissing_4600():
    shell = leech_shell1().astype(np.int64)
    v = shell[0]  # (4, 4, 0^22)
    idx = np.nonzero(shell @ v == 16)[0]
    Y = shell[idx] - v // 2
    Z = np.empty((idx.size, 23), dtype=np.int64)
    Z[:, 0] = Y[:, 0] - Y[:, 1]
    Z[:, 1::2] = Y[:, 2::2] + Y[:, 3::2]
    Z[:, 2::2] = Y[:, 2::2] - Y[:, 3::2]
    return idx, Z


@lru_cache(maxsize=1)
def _kissing_891():
    shell = leech_shell1().astype(np.int64)
    v, uw = shell[0], shell[4]  # (4, 4, 0^22), (4, 0, 4, 0^21)
    idx = np.nonzero((shell @ v == 16) & (shell @ uw == 16))[0]
    Z = 3 * shell[idx] - v - uw
    F = np.zeros((24, 22))
    F[:3, 0] = np.array([1.0, -1.0, -1.0]) / math.sqrt(3.0)
    F[3:, 1:] = np.eye(21)
    return idx, Z, F


class LeechKissingCode(SphericalCode):
    """``"leech-4600"`` (S²², the Λ23 kissing configuration, a tight 7-design, min angle
    arccos ⅓) or ``"leech-891"`` (S²¹, Λ22, a 5-design, min angle arccos ¼), derived from
    the Leech shell (module docstring for the construction and exact forms)."""

    distance_invariant = True

    def __init__(self, size: int):
        if size == 4600:
            idx, Z = _kissing_4600()
            form = ExactForm(_ro(Z), 1.0 / math.sqrt(48.0), 48, None)
            super().__init__("leech-4600", 23, idx.size, exact_form=form)
        elif size == 891:
            idx, Z, F = _kissing_891()
            form = ExactForm(_ro(Z), 1.0 / math.sqrt(192.0), 192, _ro(F))
            super().__init__("leech-891", 22, idx.size, exact_form=form)
        else:  # pragma: no cover - the registry only asks for these two
            raise ValueError(f"no derived Leech kissing code of size {size}")
        lift = np.ascontiguousarray(self._lift(np.eye(self.dim)))  # (d, 24)
        lift.setflags(write=False)
        self._structure = LeechSubsetStructure(LeechSubset.from_indices(idx), lift)

    @property
    def structure(self) -> LeechSubsetStructure:
        """``"leech-subset"``: the members' Leech indices by shape, and the lift to ``R^24``."""
        return self._structure

    def _lift(self, X: np.ndarray) -> np.ndarray:
        """(n, d) -> (n, 24) with <u, lift(x)> proportional to <code point, x>."""
        if self.size == 4600:
            L = np.empty((X.shape[0], 24))
            L[:, 0] = X[:, 0]
            L[:, 1] = -X[:, 0]
            L[:, 2::2] = X[:, 1::2] + X[:, 2::2]
            L[:, 3::2] = X[:, 1::2] - X[:, 2::2]
            return L
        return X @ self._exact.basis.T

    def _nearest(self, X):
        from .search import leech_subset_nearest

        return leech_subset_nearest(self._lift(X), self._structure.subset)

    def _known_max_inner_product(self):
        return Fraction(1, 3) if self.size == 4600 else Fraction(1, 4)

    def _known_distribution(self):
        from .analysis import exact_inner_product_counts

        e = self._exact
        return exact_inner_product_counts(e.vectors, e.norm, 0)

    def _known_design_strength(self):
        return 7 if self.size == 4600 else 5


def _ro(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a
