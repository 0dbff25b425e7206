"""The :class:`Lattice` type: exact basis, Gram matrix, invariants, shells and theta series.

Coordinates follow Conway & Sloane, *Sphere Packings, Lattices and Groups* (SPLAG). Every
lattice has an **integer frame**: standard coordinates are ``scale ×`` integer vectors
(Leech ``1/√8``, E8 ``1/2``, Dn, An and Zn ``1``). ``shell`` and ``decode`` return exact
integer-frame vectors; ``nearest``, ``contains`` and the invariants use standard
coordinates. A user lattice given by a Gram matrix (or by a float basis that is not given
exactly) uses the *coefficient frame*: integer coefficient vectors with respect to its basis.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy

from . import theta as _theta
from .exact import exact_det, integer_det, integer_gram, integer_rank_certified

__all__ = ["Lattice", "CONTAINS_TOL"]

#: Tolerance (in integer-frame units) for ``contains`` on float input: a float vector is a
#: member when it is within this distance, coordinate-wise, of an exact member.
CONTAINS_TOL = 1e-9

#: Largest number of vectors an enumeration is allowed to visit by default.
MAX_ENUMERATION = 600_000_000


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


@dataclass(eq=False)
class Lattice:
    """A lattice in R^m with an exact description and its invariants.

    Parameters
    ----------
    name : str
        Registry name (``"leech"``, ``"e8"``, ``"d4"``, ``"a2"``, ``"z8"``, …) or a user label.
    family : str
        ``"z"``, ``"d"``, ``"a"``, ``"e8"``, ``"leech"`` or ``"generic"``.
    n : int
        Family parameter (the ``n`` of Dn, An, Zn; 8 and 24 for E8 and Leech).
    basis_int : (dim, ambient_dim) int64 or None
        Basis rows in the integer frame; ``None`` for a lattice known only by its Gram matrix
        or by an inexact float basis (coefficient frame).
    scale : sympy expression
        Standard coordinates = ``scale ×`` integer frame.
    """

    name: str
    family: str
    n: int
    basis_int: np.ndarray | None
    scale: sympy.Expr = sympy.Integer(1)
    _basis_float: np.ndarray | None = None
    _gram_exact: sympy.Matrix | None = None
    _known: dict = field(default_factory=dict, repr=False)

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
        return cls(name=name, family="generic", n=k, basis_int=Bi, scale=sympy.Rational(1, den))

    @classmethod
    def _from_float_rows(cls, Bf: np.ndarray, name: str) -> Lattice:
        """Lattice of an inexact float basis (coefficient frame)."""
        k = Bf.shape[0]
        if np.linalg.matrix_rank(Bf) < k:
            raise ValueError(f"basis rows are linearly dependent (rank < {k})")
        return cls(name=name, family="generic", n=k, basis_int=None, _basis_float=Bf)

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
        return cls(name=name, family="generic", n=G.shape[0], basis_int=None,
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
        if "det" in self._known:
            return self._known["det"]
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
        if "min_norm" in self._known:
            return self._known["min_norm"]
        norm, _ = self._shortest()
        return norm

    def kissing_number(self) -> int:
        """Number of minimal vectors."""
        if "kissing" in self._known:
            return self._known["kissing"]
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
        return sympy.simplify(self.center_density() * sympy.pi ** sympy.Rational(n, 2)
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
        est = _theta.estimate_vector_count(self.dim, float(self.det()), float(max_norm))
        if est > limit:
            raise ValueError(
                f"enumerating {self.name!r} through norm {max_norm} would visit about {est:.3g} "
                f"vectors (more than the limit {limit:.3g}); ask for fewer terms"
            )

    def theta_series(self, n_terms: int, method: str = "auto") -> list[int]:
        """Counts ``[N(0), N(1), …, N(n_terms − 1)]`` of vectors of each norm ``m``.

        .. math:: \\Theta_\\Lambda(q) = \\sum_{x\\in\\Lambda} q^{x\\cdot x} = \\sum_m N(m) q^m

        ``method``: ``"closed"`` (Zn, Dn, E8, Leech; SPLAG ch. 4), ``"enumerate"``
        (Fincke–Pohst, any integral lattice), or ``"auto"`` (closed form where known).
        Requests whose enumeration would visit more than ``6e8`` vectors are refused with the
        estimate. Only integral lattices have integer norms; others raise ``ValueError``
        (use :meth:`norm_counts`).
        """
        if isinstance(n_terms, bool) or not isinstance(n_terms, (int, np.integer)) or n_terms < 1:
            raise ValueError(f"n_terms must be a positive integer, got {n_terms!r}")
        n_terms = int(n_terms)
        if method not in ("auto", "closed", "enumerate"):
            raise ValueError(f"method must be 'auto', 'closed' or 'enumerate', got {method!r}")
        if method in ("auto", "closed"):
            fam = self.family if self.family != "generic" else None
            cf = _theta.theta_closed_form(fam, self.n, n_terms) if fam else None
            if cf is not None:
                return cf
            if method == "closed":
                raise ValueError(f"no closed-form theta series for {self.name!r}")
        gi, den = self._gram_int()
        if den != 1:
            raise ValueError(
                f"{self.name!r} is not integral (norms are multiples of 1/{den}); "
                "use norm_counts(max_norm) for exact rational norms"
            )
        self._check_enumeration_size(n_terms - 1)
        return [int(c) for c in _theta.enumerate_norm_counts(gi, n_terms - 1)]

    def norm_counts(self, max_norm) -> dict[Fraction, int]:
        """``{norm: count}`` for all nonzero... and zero vectors of norm ``<= max_norm``, exact."""
        gi, den = self._gram_int()
        mx = Fraction(str(max_norm)) * den
        self._check_enumeration_size(max_norm)
        counts = _theta.enumerate_norm_counts(gi, int(mx))
        return {Fraction(int(m), den): int(c) for m, c in enumerate(counts) if c}

    def shell_norm(self, k: int):
        """Norm of the ``k``-th nonzero shell (``k >= 1``), exact."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"shell index must be an integer >= 1, got {k!r}")
        return self._shell_info(int(k))[0]

    def _shell_info(self, k: int):
        gi, den = self._gram_int()
        mu = self.min_norm() * den  # integer
        top = int(mu)
        while True:
            if self.family != "generic" and den == 1:
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

    def shell(self, k: int = 1) -> np.ndarray:
        """All vectors of the ``k``-th nonzero norm, exact, int64 ``(count, ambient_dim)``.

        Integer-frame vectors (coefficient vectors in the coefficient frame). Leech shell 1 is
        built by its three shapes (:func:`lattiq.lattices.leech.leech_shell1`, int8); other
        shells by Fincke–Pohst enumeration, checked against the theta series count.
        """
        norm, count, m = self._shell_info(int(k)) if k >= 1 else (None, 0, 0)
        if k < 1:
            raise ValueError(f"shell index must be >= 1, got {k}")
        if self.family == "leech" and k == 1:
            from .leech import leech_shell1

            return leech_shell1()
        if count > 50_000_000:
            raise ValueError(f"shell {k} of {self.name!r} has {count} vectors; too many to list")
        gi, den = self._gram_int()
        coeffs = _theta.enumerate_shell(gi, m, count)
        if self.basis_int is None:
            return coeffs
        return coeffs @ self.basis_int

    # ------------------------------------------------------------------ membership

    def contains(self, x) -> np.ndarray | bool:
        """Membership of points ``(..., ambient_dim)`` in standard coordinates.

        Exact for integer, ``Fraction`` or sympy input; for float input a point counts as a
        member when it lies within ``CONTAINS_TOL`` (integer-frame units, i.e. ``1e-9 ×
        scale`` in standard coordinates) of a lattice point coordinate-wise.
        """
        a = np.asarray(x)
        if a.ndim == 0 or a.shape[-1] != self.ambient_dim:
            raise ValueError(
                f"{self.name!r} points need last dimension {self.ambient_dim}, got {a.shape}"
            )
        if a.dtype == object:
            flat_o = a.reshape(-1, a.shape[-1])
            if self.basis_int is None:
                a = flat_o.astype(np.float64).reshape(a.shape)
            else:
                res = np.zeros(flat_o.shape[0], dtype=bool)
                for i, row in enumerate(flat_o):
                    y = [sympy.nsimplify(sympy.sympify(v) / self.scale) for v in row]
                    if all(v.is_integer for v in y):
                        res[i] = bool(self._contains_int(np.array([[int(v) for v in y]]))[0])
                return res.reshape(a.shape[:-1]) if a.ndim > 1 else bool(res[0])
        if a.dtype.kind in "biu":
            if self.basis_int is not None and self.scale_float == 1.0:
                out = self._contains_int(a.reshape(-1, a.shape[-1]).astype(np.int64))
                return out.reshape(a.shape[:-1]) if a.ndim > 1 else bool(out[0])
            a = a.astype(np.float64)
        if a.dtype.kind != "f":
            raise TypeError(f"unsupported dtype {a.dtype} for contains()")
        a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError("points contain NaN or Inf")
        flat = a.reshape(-1, a.shape[-1])
        if self.basis_int is not None:
            y = flat / self.scale_float
            r = np.rint(y)
            close = np.all(np.abs(y - r) <= CONTAINS_TOL * np.maximum(1.0, np.abs(y)), axis=1)
            out = close & self._contains_int(r.astype(np.int64))
        else:
            B = self.basis
            u, *_ = np.linalg.lstsq(B.T, flat.T, rcond=None)
            u = u.T
            ur = np.rint(u)
            out = np.all(np.abs(u - ur) <= CONTAINS_TOL * np.maximum(1.0, np.abs(u)), axis=1)
            out &= np.all(np.abs(ur @ B - flat) <= 1e-7 * np.maximum(1.0, np.abs(flat)), axis=1)
        return out.reshape(a.shape[:-1]) if a.ndim > 1 else bool(out[0])

    def _contains_int(self, y: np.ndarray) -> np.ndarray:
        """Exact membership of integer-frame vectors (rows)."""
        fam = self.family
        if fam == "z":
            return np.ones(y.shape[0], dtype=bool)
        if fam == "d":
            return y.sum(axis=1) % 2 == 0
        if fam == "a":
            return y.sum(axis=1) == 0
        if fam == "e8":
            par = y & 1
            same = np.all(par == par[:, :1], axis=1)
            return same & (y.sum(axis=1) % 4 == 0)
        if fam == "leech":
            from .leech import leech_contains_int

            return leech_contains_int(y)
        # generic: solve u B = y exactly (B has full row rank)
        B = sympy.Matrix(self.basis_int.tolist())
        BBt_inv = (B * B.T).inv()
        P = BBt_inv * B  # u = y Bᵀ (B Bᵀ)^{-1}
        out = np.zeros(y.shape[0], dtype=bool)
        for i, row in enumerate(y):
            u = sympy.Matrix([list(map(int, row))]) * P.T
            if all(v.is_integer for v in u):
                out[i] = (u * B) == sympy.Matrix([list(map(int, row))])
        return out

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
        from .decoders import decode_points

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

        Zn, E8 and Leech are self-dual (SPLAG ch. 4); Dn* = Zn ∪ (Zn + ½·1) and An* have
        closed-form bases (SPLAG ch. 4 §§6.1, 7.1); any other exact lattice uses
        :math:`B^* = (B B^T)^{-1} B`.
        """
        from .registry import get_lattice

        if self.family in ("z", "e8", "leech"):
            return get_lattice(self.name)
        if self.family == "d":
            n = self.n
            rows = [[2 if j == i else 0 for j in range(n)] for i in range(n - 1)]
            rows.append([1] * n)
            return Lattice(name=f"{self.name}*", family="generic", n=n,
                           basis_int=np.array(rows, dtype=np.int64), scale=sympy.Rational(1, 2))
        if self.family == "a":
            n = self.n
            from .exact import hermite_normal_form

            gens = []
            for i in range(n):  # (n+1)(e_i - e_{i+1}) and the glue [1] = (1, …, 1, −n)
                r = [0] * (n + 1)
                r[i], r[i + 1] = n + 1, -(n + 1)
                gens.append(r)
            gens.append([1] * n + [-n])
            rows = hermite_normal_form(np.array(gens, dtype=np.int64))
            return Lattice(name=f"{self.name}*", family="generic", n=n,
                           basis_int=np.array(rows, dtype=np.int64),
                           scale=sympy.Rational(1, n + 1))
        if not self.is_exact or self.basis_int is None:
            if self._gram_exact is not None:
                return Lattice.from_gram(self._gram_exact.inv(), name=f"{self.name}*")
            warnings.warn("dual of an inexact lattice is computed in floating point", stacklevel=2)
            B = self.basis
            return Lattice.from_basis(np.linalg.solve(B @ B.T, B), name=f"{self.name}*")
        B = sympy.Matrix(self.basis_int.tolist()) * self.scale
        Bd = (B * B.T).inv() * B
        return Lattice.from_basis([[Fraction(str(v)) for v in Bd.row(i)] for i in range(Bd.rows)],
                                  name=f"{self.name}*")

    def __repr__(self) -> str:
        return f"Lattice({self.name!r}, dim={self.dim}, ambient_dim={self.ambient_dim})"
