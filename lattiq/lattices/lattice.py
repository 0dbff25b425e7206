"""The :class:`Lattice` type: exact basis, Gram matrix, invariants, shells and theta series.

Coordinates follow Conway & Sloane, *Sphere Packings, Lattices and Groups* (SPLAG). Every
lattice has an **integer frame**: standard coordinates are ``scale ×`` integer vectors
(Leech ``1/√8``, K12 ``1/√2``, E8, E7 and E6 ``1/2``, Dn, An and Zn ``1``). ``shell`` and
``decode`` return exact integer-frame vectors; ``nearest``, ``contains`` and the invariants
use standard coordinates. Everything that depends on the lattice's family goes through its
strategy object (``L.strategy``, :mod:`lattiq.lattices.family`). A user lattice given by a
Gram matrix (or by a float basis that is not given exactly) uses the *coefficient frame*:
integer coefficient vectors with respect to its basis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy

from . import theta as _theta
from .decoders import decode_points
from .exact import exact_det, integer_det, integer_gram, integer_rank_certified
from .family import GenericFamily, LatticeFamily

__all__ = ["Lattice", "CONTAINS_TOL"]

#: Tolerance (in integer-frame units) for ``contains`` on float input: a float vector is a
#: member when it is within this distance, coordinate-wise, of an exact member.
CONTAINS_TOL = 1e-9

#: :data:`CONTAINS_TOL` as the exact rational the float stores (for the exact paths).
CONTAINS_TOL_EXACT = Fraction(CONTAINS_TOL)

#: Largest number of vectors an enumeration is allowed to visit by default.
MAX_ENUMERATION = 600_000_000
#: Largest dimension in which vectors are enumerated (theta series without a closed form,
#: shells beyond the first, minimal norms of user lattices).
MAX_ENUMERATION_DIM = 64


def _as_rational_matrix(M) -> list[list[Fraction]] | None:
    """Exact rational entries, or ``None`` when some entry is not given exactly."""
    rows = []
    for row in M:
        out = []
        for v in row:
            if isinstance(v, (int, np.integer, Fraction)):
                out.append(Fraction(int(v)) if not isinstance(v, Fraction) else v)
            elif isinstance(v, sympy.Rational):
                out.append(Fraction(int(v.p), int(v.q)))
            elif isinstance(v, (float, np.floating)):
                f = float(v)
                if not math.isfinite(f):
                    raise ValueError("basis or Gram matrix contains NaN or Inf")
                if f != round(f):
                    return None
                out.append(Fraction(int(round(f))))
            elif isinstance(v, sympy.Basic):
                if not v.is_rational:
                    return None
                r = sympy.Rational(v)
                out.append(Fraction(int(r.p), int(r.q)))
            else:
                raise ValueError(f"unsupported matrix entry {v!r} of type {type(v).__name__}")
        rows.append(out)
    return rows


def _exact_value(v) -> Fraction:
    """The exact rational value of an int, float, Fraction or rational sympy number."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    if isinstance(v, (float, np.floating)):
        return Fraction(*float(v).as_integer_ratio())
    r = sympy.Rational(v)
    return Fraction(int(r.p), int(r.q))


def _int_rows(r) -> np.ndarray:
    """Integral rows (floats or ints) as int64 when they fit, else Python ints (object)."""
    a = np.asarray(r)
    if a.dtype != object and (a.size == 0 or float(np.abs(a).max()) < 2.0**62):
        return a.astype(np.int64)
    return np.array([[int(v) for v in row] for row in a.tolist()], dtype=object)


@dataclass(eq=False)
class Lattice:
    """A lattice in R^m with an exact description and its invariants.

    Parameters
    ----------
    name : str
        Registry name (``"leech"``, ``"e8"``, ``"d4"``, ``"a2"``, ``"z8"``, …) or a user label.
    strategy : LatticeFamily
        The family's strategy (:mod:`lattiq.lattices.family`): membership, decoding,
        closed forms, dual and the invariants known from the literature. Everything that
        depends on the family goes through it.
    basis_int : (dim, ambient_dim) int64 or None
        Basis rows in the integer frame; ``None`` for a lattice known only by its Gram matrix
        or by an inexact float basis (coefficient frame).
    scale : sympy expression
        Standard coordinates = ``scale ×`` integer frame.
    """

    name: str
    strategy: LatticeFamily
    basis_int: np.ndarray | None
    scale: sympy.Expr = sympy.Integer(1)
    _basis_float: np.ndarray | None = None
    _gram_exact: sympy.Matrix | None = None

    @property
    def family(self) -> str:
        """Name of the lattice's family (``"z"``, ``"d"``, ``"a"``, ``"e6"``, ``"e7"``,
        ``"e8"``, ``"k12"``, ``"leech"`` or ``"generic"``), read-only, for display."""
        return self.strategy.family

    @property
    def n(self) -> int:
        """Family parameter (the ``n`` of Dn, An, Zn; the dimension of a fixed lattice)."""
        return self.strategy.n

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_basis(cls, basis, name: str = "user") -> Lattice:
        """Lattice spanned by the rows of ``basis`` (``(k, m)``, rank ``k``, ``k <= m``).

        Integer and rational entries (``int``, ``Fraction``, sympy rationals, integral floats)
        are kept exactly: the integer frame is the basis times the common denominator. Other
        floats give a lattice in the coefficient frame. Raises ``ValueError`` for a wrong
        shape, NaN/Inf, or linearly dependent rows.

        Independence of an exact basis is decided exactly
        (:func:`lattiq.lattices.exact.integer_rank_certified`: full rank modulo a prime
        proves it; otherwise fraction-free elimination on Python integers decides), and
        :meth:`det` is exact too. A 64 x 64 basis with entries in [-50, 50] takes well
        under a millisecond, its determinant about 0.02 s.
        """
        arr = np.asarray(basis)
        if arr.dtype.kind in "iuf" and arr.ndim == 2 and arr.size:
            # numeric arrays: vectorised checks instead of a per-entry walk
            Bf = arr.astype(np.float64)
            k, m = arr.shape
            if k > m:
                raise ValueError(f"{k} basis vectors in R^{m} cannot be linearly independent")
            if not np.all(np.isfinite(Bf)):
                raise ValueError("basis contains NaN or Inf")
            if arr.dtype.kind in "iu" or np.array_equal(Bf, np.round(Bf)):
                if np.max(np.abs(Bf)) > 2**31:
                    raise ValueError("basis entries are too large for exact int64 arithmetic")
                return cls._from_integer_rows(arr.astype(np.int64), 1, name)
            return cls._from_float_rows(Bf, name)
        B = np.asarray(basis, dtype=object)
        if B.ndim != 2 or B.shape[0] == 0 or B.shape[1] == 0:
            raise ValueError(f"basis must be a non-empty 2-D array (rows = vectors), got {B.shape}")
        k, m = B.shape
        if k > m:
            raise ValueError(f"{k} basis vectors in R^{m} cannot be linearly independent")
        Bf = np.array(B.tolist(), dtype=np.float64)
        if not np.all(np.isfinite(Bf)):
            raise ValueError("basis contains NaN or Inf")
        exact = _as_rational_matrix(B.tolist())
        if exact is not None:
            den = 1
            for row in exact:
                for v in row:
                    den = den * v.denominator // math.gcd(den, v.denominator)
            Bi = np.array([[int(v * den) for v in row] for row in exact], dtype=object)
            if max(abs(v) for v in Bi.flat) > 2**31:
                raise ValueError("basis entries are too large for exact int64 arithmetic")
            return cls._from_integer_rows(Bi.astype(np.int64), den, name)
        return cls._from_float_rows(Bf, name)

    @classmethod
    def _from_integer_rows(cls, Bi: np.ndarray, den: int, name: str) -> Lattice:
        """Exact lattice of integer rows ``Bi`` (int64, entries below 2^31) scaled by 1/den."""
        k = Bi.shape[0]
        if integer_rank_certified(Bi) < k:
            raise ValueError(f"basis rows are linearly dependent (rank < {k})")
        return cls(name=name, strategy=GenericFamily(k), basis_int=Bi,
                   scale=sympy.Rational(1, den))

    @classmethod
    def _from_float_rows(cls, Bf: np.ndarray, name: str) -> Lattice:
        """Lattice of an inexact float basis (coefficient frame)."""
        k = Bf.shape[0]
        if np.linalg.matrix_rank(Bf) < k:
            raise ValueError(f"basis rows are linearly dependent (rank < {k})")
        return cls(name=name, strategy=GenericFamily(k), basis_int=None, _basis_float=Bf)

    @classmethod
    def from_gram(cls, gram, name: str = "user") -> Lattice:
        """Lattice with Gram matrix ``gram`` (symmetric positive definite), coefficient frame.

        A basis is obtained by Cholesky factorisation (float); exact rational Gram entries are
        kept exactly for the determinant, theta series and norms.
        """
        G = np.asarray(gram, dtype=object)
        if G.ndim != 2 or G.shape[0] != G.shape[1] or G.shape[0] == 0:
            raise ValueError(f"Gram matrix must be square and non-empty, got shape {G.shape}")
        Gf = np.array(G.tolist(), dtype=np.float64)
        if not np.all(np.isfinite(Gf)):
            raise ValueError("Gram matrix contains NaN or Inf")
        if not np.allclose(Gf, Gf.T, rtol=0, atol=1e-12 * max(1.0, np.abs(Gf).max())):
            raise ValueError("Gram matrix is not symmetric")
        try:
            C = np.linalg.cholesky(Gf)
        except np.linalg.LinAlgError:
            raise ValueError("Gram matrix is not positive definite") from None
        exact = _as_rational_matrix(G.tolist())
        ge = None
        if exact is not None:
            ge = sympy.Matrix([[sympy.Rational(v.numerator, v.denominator) for v in r]
                               for r in exact])
            if exact_det(ge) <= 0:
                raise ValueError("Gram matrix is not positive definite")
        return cls(name=name, strategy=GenericFamily(G.shape[0]), basis_int=None,
                   _basis_float=C, _gram_exact=ge)

    # ------------------------------------------------------------------ frames

    @property
    def dim(self) -> int:
        """Rank of the lattice."""
        return self.basis_int.shape[0] if self.basis_int is not None else self._basis_float.shape[0]

    @property
    def ambient_dim(self) -> int:
        """Number of coordinates (``n + 1`` for An, which lives in the zero-sum hyperplane)."""
        return self.basis_int.shape[1] if self.basis_int is not None else self._basis_float.shape[1]

    @property
    def frame(self) -> str:
        """``"integer"`` (integer-frame vectors) or ``"coefficients"`` (basis coefficients)."""
        return "integer" if self.basis_int is not None else "coefficients"

    @cached_property
    def scale_float(self) -> float:
        return float(self.scale)

    @cached_property
    def basis(self) -> np.ndarray:
        """Basis rows in standard coordinates, float64 ``(dim, ambient_dim)``."""
        if self.basis_int is not None:
            b = self.basis_int.astype(np.float64) * self.scale_float
        else:
            b = self._basis_float.copy()
        b.setflags(write=False)
        return b

    def gram(self) -> sympy.Matrix:
        """Exact Gram matrix :math:`G = B B^T` (sympy), or float entries if inexact."""
        if self._gram_exact is not None:
            return self._gram_exact
        if self.basis_int is not None:
            G = integer_gram(self.basis_int)  # exact Python ints
            s2 = self.scale**2
            if s2.is_Rational:
                p, q = int(s2.p), int(s2.q)
                return sympy.Matrix(G.shape[0], G.shape[1],
                                    [sympy.Rational(int(g) * p, q) for g in G.flat])
            return sympy.Matrix(G.tolist()) * s2
        return sympy.Matrix(self.gram_float().tolist())

    def gram_float(self) -> np.ndarray:
        """Gram matrix in float64."""
        return self.basis @ self.basis.T

    @property
    def is_exact(self) -> bool:
        return self.basis_int is not None or self._gram_exact is not None

    def _gram_int(self) -> tuple[np.ndarray, int]:
        if not self.is_exact:
            raise ValueError(
                f"lattice {self.name!r} has an inexact float basis; exact enumeration needs "
                "integer or rational entries (use Lattice.from_basis with ints or Fractions)"
            )
        return _theta.rational_gram_to_int(self.gram().tolist())

    # ------------------------------------------------------------------ invariants

    def det(self):
        """Determinant of the Gram matrix (exact: sympy rational where the Gram is exact).

        Integer-frame lattices use fraction-free elimination on Python integers: of the
        basis itself when it is square (``det G = det(B)²``), of the integer Gram matrix
        otherwise, times ``scale^(2 dim)``.
        """
        known = self.strategy.known
        if "det" in known:
            return known["det"]
        if self.basis_int is not None:
            Bi = self.basis_int
            square = Bi.shape[0] == Bi.shape[1]
            d = integer_det(Bi) ** 2 if square else integer_det(integer_gram(Bi))
            return sympy.Integer(d) * self.scale ** (2 * self.dim)
        if self.is_exact:
            return exact_det(self.gram())
        return float(np.linalg.det(self.gram_float()))

    def volume(self):
        """Covolume :math:`\\sqrt{\\det G}`."""
        return sympy.sqrt(self.det()) if self.is_exact else math.sqrt(self.det())

    def min_norm(self):
        """Minimal norm :math:`\\mu = \\min_{x \\ne 0} x \\cdot x` (exact)."""
        known = self.strategy.known
        if "min_norm" in known:
            return known["min_norm"]
        norm, _ = self._shortest()
        return norm

    def kissing_number(self) -> int:
        """Number of minimal vectors."""
        known = self.strategy.known
        if "kissing" in known:
            return known["kissing"]
        _, count = self._shortest()
        return count

    def _shortest(self):
        gi, den = self._gram_int()
        bound = int(min(np.diag(gi)))  # a basis vector gives an upper bound on the minimum
        self._check_enumeration_size(sympy.Rational(bound, den))
        counts = _theta.enumerate_norm_counts(gi, bound)
        nz = np.nonzero(counts[1:])[0]
        m = int(nz[0]) + 1
        return sympy.Rational(m, den), int(counts[m])

    def packing_radius(self):
        """Packing radius :math:`\\rho = \\sqrt{\\mu} / 2`."""
        return sympy.sqrt(self.min_norm()) / 2

    def center_density(self):
        """Center density :math:`\\delta = \\rho^n / \\sqrt{\\det \\Lambda}` (SPLAG ch. 1 §1.5)."""
        return sympy.nsimplify(self.packing_radius() ** self.dim / sympy.sqrt(self.det()))

    def density(self):
        """Packing density :math:`\\Delta = \\delta V_n`, with
        :math:`V_n = \\pi^{n/2}/\\Gamma(n/2+1)`."""
        n = self.dim
        # exact without sympy.simplify (Gamma at n/2 + 1 and the powers of pi evaluate
        # themselves), which would import sympy.physics and cost a third of a second
        return (self.center_density() * sympy.pi ** sympy.Rational(n, 2)
                / sympy.gamma(sympy.Rational(n, 2) + 1))

    def hermite_constant(self):
        """Hermite parameter :math:`\\gamma = \\mu / \\det^{1/n}`."""
        return sympy.nsimplify(self.min_norm() / self.det() ** sympy.Rational(1, self.dim))

    def is_integral(self) -> bool:
        """True when every inner product of lattice vectors is an integer."""
        gi, den = self._gram_int()
        return den == 1

    def is_even(self) -> bool:
        """True for an integral lattice whose norms are all even."""
        gi, den = self._gram_int()
        return den == 1 and bool(np.all(np.diag(gi) % 2 == 0))

    def is_unimodular(self) -> bool:
        """Integral with determinant 1."""
        return self.is_integral() and self.det() == 1

    # ------------------------------------------------------------------ theta, shells

    def _check_enumeration_size(self, max_norm, limit: int = MAX_ENUMERATION) -> None:
        if self.dim > MAX_ENUMERATION_DIM:
            raise ValueError(
                f"enumerating vectors of {self.name!r} (dimension {self.dim}) is out of reach: "
                f"Fincke-Pohst enumeration is limited to dimension {MAX_ENUMERATION_DIM}"
            )
        est = _theta.estimate_vector_count(self.dim, float(self.det()), float(max_norm))
        if est > limit:
            raise ValueError(
                f"enumerating {self.name!r} through norm {max_norm} would visit about {est:.3g} "
                f"vectors (more than the limit {limit:.3g}); ask for fewer terms"
            )

    def theta_series(self, n_terms: int, method: str = "auto") -> list[int]:
        """Counts ``[N(0), N(1), …, N(n_terms − 1)]`` of vectors of each norm ``m``.

        .. math:: \\Theta_\\Lambda(q) = \\sum_{x\\in\\Lambda} q^{x\\cdot x} = \\sum_m N(m) q^m

        ``method``: ``"closed"`` (Zn, Dn, An, E8, Leech; SPLAG ch. 4), ``"enumerate"``
        (Fincke–Pohst, any integral lattice), or ``"auto"`` (closed form where known).
        Size limits, each refused with ``ValueError`` and the estimate: an enumeration
        that would visit more than ``6e8`` vectors (Gauss estimate) or run in more than
        64 dimensions; a closed form above 2,000,000 terms or about ten seconds of work
        (:func:`lattiq.lattices.theta.check_theta_size`; E8 answers 10^6 terms and Leech
        10^5 in well under a second). Only integral lattices have integer norms; others
        raise ``ValueError`` (use :meth:`norm_counts`).
        """
        if isinstance(n_terms, bool) or not isinstance(n_terms, (int, np.integer)) or n_terms < 1:
            raise ValueError(f"n_terms must be a positive integer, got {n_terms!r}")
        n_terms = int(n_terms)
        if method not in ("auto", "closed", "enumerate"):
            raise ValueError(f"method must be 'auto', 'closed' or 'enumerate', got {method!r}")
        if method in ("auto", "closed"):
            work = self.strategy.theta_closed_form_work(n_terms)
            if work is not None:
                _theta.check_theta_work(work, n_terms, self.name)
                return self.strategy.theta_closed_form(n_terms)
            if method == "closed":
                raise ValueError(f"no closed-form theta series for {self.name!r}")
        if n_terms > _theta.MAX_THETA_TERMS:
            raise ValueError(f"{self.name!r}: {n_terms:,} theta terms is more than the limit "
                             f"of {_theta.MAX_THETA_TERMS:,}; ask for fewer terms")
        self._check_enumeration_size(n_terms - 1)
        gi, den = self._gram_int()
        if den != 1:
            raise ValueError(
                f"{self.name!r} is not integral (norms are multiples of 1/{den}); "
                "use norm_counts(max_norm) for exact rational norms"
            )
        return [int(c) for c in _theta.enumerate_norm_counts(gi, n_terms - 1)]

    def norm_counts(self, max_norm) -> dict[Fraction, int]:
        """``{norm: count}`` for all nonzero... and zero vectors of norm ``<= max_norm``, exact."""
        self._check_enumeration_size(max_norm)
        gi, den = self._gram_int()
        mx = Fraction(str(max_norm)) * den
        counts = _theta.enumerate_norm_counts(gi, int(mx))
        return {Fraction(int(m), den): int(c) for m, c in enumerate(counts) if c}

    def shell_norm(self, k: int):
        """Norm of the ``k``-th nonzero shell (``k >= 1``), exact."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"shell index must be an integer >= 1, got {k!r}")
        return self._shell_info(int(k))[0]

    def shell_size(self, k: int) -> int:
        """Number of vectors in the ``k``-th nonzero shell (``k >= 1``), exact, without
        listing them."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"shell index must be an integer >= 1, got {k!r}")
        return self._shell_info(int(k))[1]

    def _shell_info(self, k: int):
        known = self.strategy.known
        if k == 1 and "min_norm" in known and "kissing" in known:
            mu = sympy.Integer(known["min_norm"])
            return mu, int(known["kissing"]), int(mu)
        # integral families need no Gram matrix (it would be a sympy product of
        # 4096 x 4096 matrices for d4096)
        integral = self.strategy.integral
        den = 1 if integral else self._gram_int()[1]
        mu = self.min_norm() * den  # integer
        # norms are multiples of 1/den: the k-th nonzero one is at least k/den
        top = max(int(mu), k)
        try:
            while True:
                if integral:
                    counts = self.theta_series(top + 1)
                else:
                    nc = self.norm_counts(sympy.Rational(top, den))
                    counts = [0] * (top + 1)
                    for nm, c in nc.items():
                        counts[int(nm * den)] = c
                nz = [m for m in range(1, top + 1) if counts[m]]
                if len(nz) >= k:
                    m = nz[k - 1]
                    return sympy.Rational(m, den), int(counts[m]), m
                top *= 2
        except ValueError as err:
            raise ValueError(f"shell {k} of {self.name!r}: {err}") from None

    def shell(self, k: int = 1) -> np.ndarray:
        """All vectors of the ``k``-th nonzero norm, exact, int64 ``(count, ambient_dim)``.

        Integer-frame vectors (coefficient vectors in the coefficient frame). Leech shell 1 is
        built by its three shapes (:func:`lattiq.lattices.leech.leech_shell1`, int8), the
        first shells of Zn, Dn and An above dimension 64 (their roots) directly; other
        shells by Fincke–Pohst enumeration, checked against the theta series count.
        Shells of more than ``5e7`` vectors, and enumerations that would visit more than
        :data:`MAX_ENUMERATION` vectors or run in more than :data:`MAX_ENUMERATION_DIM`
        dimensions, are refused with ``ValueError``.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"shell index must be an integer >= 1, got {k!r}")
        k = int(k)
        norm, count, m = self._shell_info(k)
        if count > 50_000_000:
            raise ValueError(f"shell {k} of {self.name!r} has {count} vectors; too many to list")
        special = self.strategy.special_shell(self, k)
        if special is not None:
            return special
        self._check_enumeration_size(norm)
        gi, den = self._gram_int()
        coeffs = _theta.enumerate_shell(gi, m, count)
        if self.basis_int is None:
            return coeffs
        return coeffs @ self.basis_int

    # ------------------------------------------------------------------ membership

    def contains(self, x) -> np.ndarray | bool:
        """Membership of points ``(..., ambient_dim)`` in standard coordinates.

        The rule, for a lattice with an integer frame (every built-in lattice, and
        :meth:`from_basis` with exact entries): let :math:`y = x / \\text{scale}` be the
        point in the integer frame, computed **exactly** from the input's exact value
        (a float is the rational number it stores). Then

        .. math::
            x \\in \\Lambda \\iff \\exists\\, r \\in \\Lambda_{\\mathbb Z} :\\
            \\max_i |y_i - r_i| \\le \\varepsilon

        with :math:`\\Lambda_{\\mathbb Z}` the integer-frame lattice and
        :math:`\\varepsilon` = :data:`CONTAINS_TOL` = ``1e-9`` integer-frame units for
        numeric arrays (float or integer dtype), and :math:`\\varepsilon = 0` (exact
        membership) for ``int``, ``Fraction`` and sympy numbers in an object array
        (``sympy.sqrt(2)`` is fine for Leech). The tolerance is absolute: it does not grow
        with ``|y|``, so at coordinate ``1e12`` a point ``1e-3`` off the lattice is
        rejected, and the answer is exact at every magnitude (``1e-300`` to ``1e300``):
        no int64 overflow, no float rounding. A fast float path decides almost every
        point; points within rounding error of the threshold, or beyond ``2^52``, are
        decided in exact integer arithmetic.

        Where the scale is not a power of two (Leech's ``1/√8``), a float cannot hold a
        lattice point exactly, only to half an ulp: beyond about ``|x| = 4e6`` (Leech)
        that rounding exceeds ``1e-9`` integer-frame units and the float nearest to a
        lattice point is, by this rule, not a member. Check such points exactly instead:
        as integer-frame vectors (:meth:`decode` returns them) or as exact numbers.

        Lattices given only by a float basis or a Gram matrix (coefficient frame) have no
        exact frame; there a point is a member when its least-squares coefficients are
        within ``1e-9 · max(1, |u|)`` of integers and the rebuilt point within ``1e-7``
        (relative) of ``x``: an approximate test.

        Raises ``ValueError`` for a wrong shape or NaN/Inf, ``TypeError`` for booleans,
        complex numbers, strings or other objects.
        """
        a = np.asarray(x)
        if a.ndim == 0 or a.shape[-1] != self.ambient_dim:
            raise ValueError(
                f"{self.name!r} points need last dimension {self.ambient_dim}, got {a.shape}"
            )
        lead = a.shape[:-1]
        flat = a.reshape(-1, a.shape[-1])
        if a.dtype == object:
            out = self._contains_objects(flat)
        elif a.dtype.kind in "iuf":
            if a.dtype.kind == "f" and not np.all(np.isfinite(flat)):
                raise ValueError("points contain NaN or Inf")
            if a.dtype.kind == "f" and a.dtype.itemsize > 8 and not np.array_equal(
                    flat.astype(np.float64).astype(a.dtype), flat):
                raise TypeError(f"{a.dtype} points are not exactly representable in float64; "
                                "round them to float64 or pass exact numbers (object array)")
            if self.basis_int is None:
                out = self._contains_coefficients(flat.astype(np.float64))
            else:
                out = self._contains_numeric(flat)
        else:
            raise TypeError(f"unsupported dtype {a.dtype} for contains(): use real numbers")
        return out.reshape(lead) if a.ndim > 1 else bool(out[0])

    def _contains_coefficients(self, flat: np.ndarray) -> np.ndarray:
        B = self.basis
        u, *_ = np.linalg.lstsq(B.T, flat.T, rcond=None)
        u = u.T
        ur = np.rint(u)
        out = np.all(np.abs(u - ur) <= CONTAINS_TOL * np.maximum(1.0, np.abs(u)), axis=1)
        out &= np.all(np.abs(ur @ B - flat) <= 1e-7 * np.maximum(1.0, np.abs(flat)), axis=1)
        return out

    @cached_property
    def _exact_scale(self) -> tuple[Fraction, bool]:
        """``(scale², scale is rational)`` as exact fractions, for :meth:`contains`."""
        s2 = sympy.nsimplify(self.scale**2)
        if not (s2.is_rational and s2 > 0):
            raise ValueError(f"{self.name!r}: contains() needs a scale whose square is a "
                             f"positive rational, got scale {self.scale}")
        return Fraction(int(s2.p), int(s2.q)), bool(self.scale.is_rational)

    def _contains_numeric(self, flat: np.ndarray) -> np.ndarray:
        """Tolerance rule on a numeric (int or float) batch: fast float path, exact rest."""
        n = flat.shape[0]
        out = np.zeros(n, dtype=bool)
        if n == 0:
            return out
        if flat.dtype.kind in "iu" and (
            max(abs(int(flat.max())), abs(int(flat.min()))) >= 2**53
        ):
            undecided = np.ones(n, dtype=bool)
        else:
            X = flat.astype(np.float64)
            inv = 1.0 / self.scale_float
            s2, rational = self._exact_scale
            pow2 = rational and math.frexp(inv)[0] == 0.5 and Fraction(inv) ** 2 * s2 == 1
            with np.errstate(over="ignore", invalid="ignore"):
                y = X * inv
                r = np.rint(y)
                d = np.abs(y - r)  # exact distance of the float y to an integer
            # |float y - true y| <= err: none for a power-of-two scale, else two roundings
            err = 0.0 if pow2 else np.abs(y) * 4.5e-16
            pad = CONTAINS_TOL * 1e-12  # keeps the float comparisons below conservative
            big = ~np.isfinite(y)  # overflow: decided exactly below
            if not pow2:  # beyond 2^52 the rounding error reaches the integer spacing
                big |= np.abs(y) >= 2.0**52
            close = np.all((d + err + pad <= CONTAINS_TOL) & ~big, axis=1)
            far = np.any((d - err - pad > CONTAINS_TOL) & ~big, axis=1)
            undecided = ~close & ~far
            if close.any():
                out[close] = self._contains_int(_int_rows(r[close]))
        for i in np.nonzero(undecided)[0]:
            out[i] = self._contains_row_exact([_exact_value(v) for v in flat[i].tolist()],
                                              CONTAINS_TOL_EXACT)
        return out

    def _contains_objects(self, flat: np.ndarray) -> np.ndarray:
        """Object arrays: exact numbers exactly, float entries by the tolerance rule."""
        out = np.zeros(flat.shape[0], dtype=bool)
        for i, row in enumerate(flat):
            vals, tol = [], Fraction(0)
            for v in row:
                if isinstance(v, (bool, np.bool_)) or not isinstance(
                    v, (int, np.integer, float, np.floating, Fraction, sympy.Basic)
                ):
                    raise TypeError(f"contains(): unsupported entry {v!r} of type "
                                    f"{type(v).__name__}; use ints, floats, Fractions or "
                                    "sympy numbers")
                if isinstance(v, (float, np.floating)):
                    if not math.isfinite(float(v)):
                        raise ValueError("points contain NaN or Inf")
                    tol = CONTAINS_TOL_EXACT
                if isinstance(v, sympy.Basic) and not v.is_number:
                    raise TypeError(f"contains(): {v!r} is not a number")
                vals.append(v)
            if self.basis_int is None:
                out[i] = bool(self._contains_coefficients(
                    np.array([[float(v) for v in vals]], dtype=np.float64))[0])
            elif all(isinstance(v, (int, np.integer, float, np.floating, Fraction))
                     or (isinstance(v, sympy.Basic) and v.is_rational) for v in vals):
                out[i] = self._contains_row_exact([_exact_value(v) for v in vals], tol)
            else:  # irrational sympy entries: exact symbolic division
                y = [sympy.simplify(sympy.sympify(v) / self.scale) for v in vals]
                if all(v.is_integer for v in y):
                    out[i] = bool(self._contains_int(_int_rows([[int(v) for v in y]]))[0])
        return out

    def _contains_row_exact(self, vals: list[Fraction], tol: Fraction) -> bool:
        """The tolerance rule for one row of exact rationals, in exact arithmetic."""
        s2, rational = self._exact_scale
        r = []
        for v in vals:
            if rational:  # y = v / scale, a rational
                y = v / Fraction(self.scale.p, self.scale.q)
                k = round(y)
                if abs(y - k) > tol:
                    return False
            else:  # |y| = sqrt(Q), Q = v^2 / scale^2 rational
                Q = v * v / s2
                k0 = math.isqrt(Q.numerator // Q.denominator)
                k = None
                for c in (k0, k0 + 1):
                    lo = max(Fraction(0), c - tol)
                    if lo * lo <= Q <= (c + tol) ** 2:
                        k = c
                        break
                if k is None:
                    return False
                k = -k if v < 0 else k
            r.append(int(k))
        return bool(self._contains_int(_int_rows([r]))[0])

    def _contains_int(self, y: np.ndarray) -> np.ndarray:
        """Exact membership of integer-frame vectors (rows: int64, or Python ints in an
        object array for any magnitude): the family's rule."""
        return self.strategy.contains_int(self, y)

    # ------------------------------------------------------------------ decoding

    def _prepare_points(self, x) -> tuple[np.ndarray, tuple]:
        a = np.asarray(x)
        if a.dtype.kind in "bcOSUV" or a.dtype == np.bool_:
            raise TypeError(f"points must be real numbers, got dtype {a.dtype}")
        if a.ndim == 0 or a.shape[-1] != self.ambient_dim:
            raise ValueError(
                f"{self.name!r} points need last dimension {self.ambient_dim}, got shape {a.shape}"
            )
        if a.dtype.kind in "iu":
            if a.size and np.abs(a).max() >= 2**53:
                raise ValueError("integer input beyond 2**53 cannot be decoded exactly in float64")
        a = a.astype(np.float64, copy=False)
        if not np.all(np.isfinite(a)):
            bad = int(np.count_nonzero(~np.isfinite(a)))
            raise ValueError(f"points contain {bad} NaN/Inf value(s)")
        lead = a.shape[:-1]
        return np.ascontiguousarray(a.reshape(-1, a.shape[-1])), lead

    def decode(self, x, parallel: bool = False) -> np.ndarray:
        """Exact nearest lattice point of ``x`` (standard coordinates, ``(..., ambient_dim)``),
        returned as int64 integer-frame vectors (coefficient vectors in the coefficient frame).

        The algorithm per family is documented in :mod:`lattiq.lattices.decoders`.
        """
        flat, lead = self._prepare_points(x)
        width = self.ambient_dim if self.basis_int is not None else self.dim
        if flat.shape[0] == 0:
            return np.zeros(lead + (width,), dtype=np.int64)
        out = decode_points(self, flat, parallel=parallel)
        return out.reshape(lead + (width,))

    def nearest(self, x, parallel: bool = False) -> np.ndarray:
        """Exact nearest lattice point of ``x`` in standard coordinates (float64).

        .. math:: Q_\\Lambda(x) = \\arg\\min_{v \\in \\Lambda} \\lVert x - v \\rVert
        """
        y = self.decode(x, parallel=parallel)
        if self.basis_int is None:
            return y.astype(np.float64) @ self.basis
        return y.astype(np.float64) * self.scale_float

    # ------------------------------------------------------------------ measures

    def normalized_second_moment(self, n_samples: int = 200_000, seed=0):
        """Monte Carlo normalized second moment; see
        :func:`lattiq.lattices.measure.normalized_second_moment`."""
        from .measure import normalized_second_moment

        return normalized_second_moment(self, n_samples=n_samples, seed=seed)

    def covering_radius(self, **kwargs):
        """Covering radius; see :func:`lattiq.lattices.measure.covering_radius`."""
        from .measure import covering_radius

        return covering_radius(self, **kwargs)

    # ------------------------------------------------------------------ dual

    def dual(self) -> Lattice:
        """The dual lattice :math:`\\Lambda^* = \\{y : y \\cdot x \\in \\mathbb Z\\ \\forall x\\}`.

        From the family's strategy: Zn, E8 and Leech are self-dual (SPLAG ch. 4); Dn* =
        Zn ∪ (Zn + ½·1) and An* have closed-form bases (SPLAG ch. 4 §§6.1, 7.1); any other
        exact lattice uses :math:`B^* = (B B^T)^{-1} B`.
        """
        return self.strategy.dual(self)

    def span_basis(self) -> np.ndarray | None:
        """Orthonormal ``(ambient_dim, dim)`` basis of the lattice's span (float64), or
        ``None`` when the lattice spans ``R^ambient_dim`` (An: the Helmert basis of the
        zero-sum hyperplane)."""
        return self.strategy.span_basis(self)

    def __repr__(self) -> str:
        return f"Lattice({self.name!r}, dim={self.dim}, ambient_dim={self.ambient_dim})"
