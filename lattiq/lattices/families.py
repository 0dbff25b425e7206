"""The classical families as strategies: Zn, Dn, An, E8 and the Leech lattice.

Coordinates and recorded values are SPLAG's (Conway & Sloane, *Sphere Packings, Lattices
and Groups*, ch. 4): Zn; Dn = {x ∈ Zⁿ : Σx even}; An = {x ∈ Zⁿ⁺¹ : Σx = 0};
E8 = D8 ∪ (D8 + ½) in the integer frame 2·E8; Λ24 from the Golay code in the frame √8·Λ24.
Each class is one family: its basis, the invariants the literature records, and the
structured algorithms (membership by residues, the Conway–Sloane and Vardy–Be'ery
decoders, closed-form theta series, closed-form duals).
"""

from __future__ import annotations

import numpy as np
import sympy

from . import decoders as _dec
from . import theta as _theta
from .family import GenericFamily, LatticeFamily, helmert_basis
from .lattice import MAX_ENUMERATION_DIM, Lattice

__all__ = ["AnFamily", "DnFamily", "E8Family", "LeechFamily", "ZnFamily", "pair_roots"]


def pair_roots(m: int, signs) -> np.ndarray:
    """The vectors ``a e_i + b e_j`` (``i < j``, ``(a, b)`` in ``signs``) of R^m, int64, sign
    pattern by sign pattern: ``±e_i ± e_j`` are the roots of Dn, ``e_i − e_j`` of An."""
    i, j = np.triu_indices(m, 1)
    out = np.zeros((len(signs) * i.size, m), dtype=np.int64)
    for t, (a, b) in enumerate(signs):
        rows = np.arange(t * i.size, (t + 1) * i.size)
        out[rows, i] = a
        out[rows, j] = b
    return out


def residues(y: np.ndarray, M: int) -> np.ndarray:
    """``y mod M`` as int64 for int64 rows or Python-int (object) rows of any magnitude."""
    if y.dtype == object:
        return np.array([[int(v) % M for v in row] for row in y], dtype=np.int64)
    return np.mod(y, M)


class _RootFamily(LatticeFamily):
    """Shared by Zn, Dn and An: the first shell of a huge member is its root system, built
    directly (beyond enumeration's reach; below it the enumeration order is kept, since
    codes built from shells are identified by the hash of their points)."""

    integral = True

    def roots(self, m: int) -> np.ndarray:
        """The minimal vectors in R^m, int64, in a fixed order."""
        raise NotImplementedError

    def special_shell(self, L, k):
        if k == 1 and L.dim > MAX_ENUMERATION_DIM:
            return self.roots(L.ambient_dim)
        return None


class ZnFamily(_RootFamily):
    """``z<n>``: the integer lattice :math:`\\mathbb Z^n` (SPLAG ch. 4 §5)."""

    family = "z"
    pattern = "z<n>"
    n_min = 1
    examples = ("z1", "z8", "z24")

    def roots(self, m):
        return np.concatenate([np.eye(m, dtype=np.int64), -np.eye(m, dtype=np.int64)])

    def build(self) -> Lattice:
        return Lattice(name=self.name(), strategy=self,
                       basis_int=np.eye(self.n, dtype=np.int64))

    @property
    def known(self) -> dict:
        return {"det": sympy.Integer(1), "min_norm": sympy.Integer(1), "kissing": 2 * self.n}

    def known_normalized_second_moment(self):
        return sympy.Rational(1, 12)

    def known_covering_radius(self):
        return sympy.sqrt(self.n) / 2

    def contains_int(self, L, y):
        return np.ones(y.shape[0], dtype=bool)

    def decode(self, L, x, parallel=False):
        return _dec.decode_zn(x, parallel=parallel)

    def theta_closed_form_work(self, n_terms):
        return _theta.zn_work(self.n, n_terms)

    def theta_closed_form(self, n_terms):
        return _theta.theta_zn(self.n, n_terms)

    def dual(self, L):
        from .registry import get_lattice

        return get_lattice(L.name)

    def cube_side(self):
        return 1


class DnFamily(_RootFamily):
    """``d<n>``: :math:`D_n = \\{x \\in \\mathbb Z^n : \\sum x_i \\text{ even}\\}` (SPLAG ch. 4
    §7.1), basis ``e1 + e2`` and ``e_{i+1} − e_i``."""

    family = "d"
    pattern = "d<n>"
    n_min = 2
    examples = ("d4", "d8")

    def roots(self, m):
        return pair_roots(m, [(1, 1), (1, -1), (-1, 1), (-1, -1)])

    def build(self) -> Lattice:
        n = self.n
        B = np.zeros((n, n), dtype=np.int64)
        B[0, 0] = B[0, 1] = 1
        for i in range(1, n):
            B[i, i - 1], B[i, i] = -1, 1
        return Lattice(name=self.name(), strategy=self, basis_int=B)

    @property
    def known(self) -> dict:
        n = self.n
        return {"det": sympy.Integer(4), "min_norm": sympy.Integer(2),
                "kissing": 2 * n * (n - 1)}

    def known_normalized_second_moment(self):
        n, R = self.n, sympy.Rational
        return sympy.nsimplify(2 ** R(-2, n) * (R(1, 12) + R(1, 2 * n * (n + 1))))

    def known_covering_radius(self):
        return sympy.Max(sympy.Integer(1), sympy.sqrt(self.n) / 2)

    def contains_int(self, L, y):
        # membership depends only on y mod 2: 2Z^n lies in Dn
        return residues(y, 2).sum(axis=1) % 2 == 0

    def decode(self, L, x, parallel=False):
        return _dec.decode_dn(x, parallel=parallel)

    def theta_closed_form_work(self, n_terms):
        return _theta.zn_work(self.n, n_terms)

    def theta_closed_form(self, n_terms):
        return _theta.theta_dn(self.n, n_terms)

    def dual(self, L):
        # Dn* = Zn ∪ (Zn + ½·1): rows 2e_i (i < n) and 1 in the frame ½ (SPLAG ch. 4 §7.1)
        n = self.n
        rows = [[2 if j == i else 0 for j in range(n)] for i in range(n - 1)]
        rows.append([1] * n)
        return Lattice(name=f"{L.name}*", strategy=GenericFamily(n),
                       basis_int=np.array(rows, dtype=np.int64), scale=sympy.Rational(1, 2))

    def cube_side(self):
        return 2


class AnFamily(_RootFamily):
    """``a<n>``: :math:`A_n = \\{x \\in \\mathbb Z^{n+1} : \\sum x_i = 0\\}` (SPLAG ch. 4 §6.1),
    in the zero-sum hyperplane of :math:`\\mathbb R^{n+1}`."""

    family = "a"
    pattern = "a<n>"
    n_min = 1
    examples = ("a2", "a8")

    def roots(self, m):
        return pair_roots(m, [(1, -1), (-1, 1)])

    def build(self) -> Lattice:
        n = self.n
        B = np.zeros((n, n + 1), dtype=np.int64)
        for i in range(n):
            B[i, i], B[i, i + 1] = 1, -1
        return Lattice(name=self.name(), strategy=self, basis_int=B)

    @property
    def known(self) -> dict:
        n = self.n
        return {"det": sympy.Integer(n + 1), "min_norm": sympy.Integer(2),
                "kissing": n * (n + 1)}

    def known_normalized_second_moment(self):
        n, R = self.n, sympy.Rational
        return sympy.nsimplify((n + 1) ** R(-1, n) * (R(1, 12) + R(1, 6 * (n + 1))))

    def known_covering_radius(self):
        n = self.n
        a = (n + 1) // 2
        return sympy.sqrt(sympy.Rational(a * (n + 1 - a), n + 1))

    def contains_int(self, L, y):
        n = y.shape[0]  # exact sum (Python ints where int64 could overflow)
        if y.dtype == object or (n and int(np.abs(y).max()) >= 2**62 // y.shape[1]):
            return np.array([sum(int(v) for v in row) == 0 for row in y], dtype=bool)
        return y.sum(axis=1) == 0

    def decode(self, L, x, parallel=False):
        return _dec.decode_an(x, parallel=parallel)

    def theta_closed_form_work(self, n_terms):
        # beyond the closed form's budget, enumeration (with its own limits) may still answer
        work = _theta.an_work(self.n, n_terms)
        return work if work <= _theta.MAX_THETA_WORK else None

    def theta_closed_form(self, n_terms):
        return _theta.theta_an(self.n, n_terms)

    def dual(self, L):
        # An*: (n+1)(e_i − e_{i+1}) and the glue [1] = (1, …, 1, −n) in the frame
        # 1/(n+1), reduced to a basis (SPLAG ch. 4 §6.1)
        from .exact import hermite_normal_form

        n = self.n
        gens = []
        for i in range(n):
            r = [0] * (n + 1)
            r[i], r[i + 1] = n + 1, -(n + 1)
            gens.append(r)
        gens.append([1] * n + [-n])
        rows = hermite_normal_form(np.array(gens, dtype=np.int64))
        return Lattice(name=f"{L.name}*", strategy=GenericFamily(n),
                       basis_int=np.array(rows, dtype=np.int64),
                       scale=sympy.Rational(1, n + 1))

    def span_basis(self, L):
        return helmert_basis(L.ambient_dim)


class E8Family(LatticeFamily):
    """``e8``: :math:`E_8 = D_8 \\cup (D_8 + \\tfrac12\\mathbf 1)` (SPLAG ch. 4 §8.1), integer
    frame ``2·E8`` = {x ∈ Z⁸ : one parity throughout, Σx ≡ 0 (mod 4)}, basis the Hermite
    normal form of ``2(±e_i ± e_j)`` and ``(1⁸)``."""

    family = "e8"
    pattern = "e8"
    examples = ("e8",)
    integral = True

    @classmethod
    def fixed_n(cls) -> int:
        return 8

    def build(self) -> Lattice:
        from .exact import hermite_normal_form

        gens = []
        for i in range(8):
            for j in range(i + 1, 8):
                for s in (1, -1):
                    v = np.zeros(8, dtype=np.int64)
                    v[i], v[j] = 2, 2 * s
                    gens.append(v)
        gens.append(np.ones(8, dtype=np.int64))
        B = hermite_normal_form(np.stack(gens))
        return Lattice(name="e8", strategy=self, basis_int=B, scale=sympy.Rational(1, 2))

    @property
    def known(self) -> dict:
        return {"det": sympy.Integer(1), "min_norm": sympy.Integer(2), "kissing": 240}

    def known_normalized_second_moment(self):
        return sympy.Rational(929, 12960)

    def known_covering_radius(self):
        return sympy.Integer(1)

    def contains_int(self, L, y):
        y = residues(y, 4)  # 4Z^8 lies in 2·E8
        par = y & 1
        same = np.all(par == par[:, :1], axis=1)
        return same & (y.sum(axis=1) % 4 == 0)

    def decode(self, L, x, parallel=False):
        return _dec.decode_e8(x, parallel=parallel)

    def theta_closed_form_work(self, n_terms):
        return _theta.e8_work(n_terms)

    def theta_closed_form(self, n_terms):
        return _theta.theta_e8(n_terms)

    def dual(self, L):
        from .registry import get_lattice

        return get_lattice(L.name)

    def cube_side(self):
        return 4


class LeechFamily(LatticeFamily):
    """``leech``: the Leech lattice Λ24 from the extended Golay code (SPLAG ch. 4 §11),
    integer frame ``√8·Λ24``; decoding after Vardy & Be'ery (1993), shell 1 by its three
    shapes."""

    family = "leech"
    pattern = "leech"
    examples = ("leech",)
    integral = True

    @classmethod
    def fixed_n(cls) -> int:
        return 24

    def build(self) -> Lattice:
        from .leech import leech_basis_int

        return Lattice(name="leech", strategy=self, basis_int=leech_basis_int().copy(),
                       scale=1 / sympy.sqrt(8))

    @property
    def known(self) -> dict:
        return {"det": sympy.Integer(1), "min_norm": sympy.Integer(4), "kissing": 196560}

    def known_covering_radius(self):
        return sympy.sqrt(2)

    def contains_int(self, L, y):
        from .leech import leech_contains_int

        return leech_contains_int(residues(y, 8))  # 8Z^24 lies in √8·Λ24

    def decode(self, L, x, parallel=False):
        return _dec.decode_leech(x, parallel=parallel)

    def theta_closed_form_work(self, n_terms):
        return _theta.leech_work(n_terms)

    def theta_closed_form(self, n_terms):
        return _theta.theta_leech(n_terms)

    def special_shell(self, L, k):
        if k == 1:
            from .leech import leech_shell1

            return leech_shell1()
        return None

    def dual(self, L):
        from .registry import get_lattice

        return get_lattice(L.name)

    def cube_side(self):
        return 8
