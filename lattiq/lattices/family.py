"""Lattice families as strategies: one object says what a family knows and how it computes.

Every :class:`~lattiq.lattices.lattice.Lattice` holds a strategy (``L.strategy``), an
instance of a :class:`LatticeFamily` subclass. ``Lattice`` validates input and keeps the
frames; for everything that depends on the family it asks the strategy:

=================================  ======================================================
hook                               what it answers (the default, for any lattice)
=================================  ======================================================
``build()``                        the registry's lattice: exact integer basis and scale
``known``                          recorded invariants (``det``, ``min_norm``,
                                   ``kissing``) from the literature
``contains_int(L, y)``             membership of integer-frame vectors (exact linear
                                   solve)
``decode(L, x, parallel)``         nearest points (the generic LLL + Schnorr–Euchner
                                   decoder)
``theta_closed_form[_work]``       a closed-form theta series and its cost (none:
                                   enumeration)
``special_shell(L, k)``            a shell built directly instead of enumerated (none)
``dual(L)``                        the dual lattice (:math:`(BB^T)^{-1}B`)
``cube_side()``                    ``M`` with ``M·Z^n`` inside the integer frame (unknown)
``span_basis(L)``                  orthonormal basis of the lattice's span (QR)
``known_normalized_second_moment``  closed forms from the literature (none)
``known_covering_radius``
=================================  ======================================================

The registry (:mod:`lattiq.lattices.registry`) is one table of these classes. Adding a
lattice is one subclass (its name pattern, basis and what is known about it) and one line
in that table; see ``docs/lattices.md``, "Adding a lattice".
"""

from __future__ import annotations

import math
import re
import warnings
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import sympy

from . import decoders as _dec

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

__all__ = ["LatticeFamily", "GenericFamily", "MAX_FAMILY_N", "helmert_basis"]

#: Largest ``n`` of the parametric families (``d<n>``, ``a<n>``, ``z<n>``).
MAX_FAMILY_N = 4096


def helmert_basis(m: int) -> np.ndarray:
    """``(m, m-1)`` orthonormal basis of the zero-sum hyperplane of ``R^m`` (Helmert
    columns: column ``k`` is ``(1, …, 1, −k, 0, …) / √(k(k+1))``)."""
    B = np.zeros((m, m - 1))
    for k in range(1, m):
        B[:k, k - 1] = 1.0
        B[k, k - 1] = -k
        B[:, k - 1] /= math.sqrt(k * (k + 1))
    return B


class LatticeFamily:
    """Strategy of one lattice family (base class; the defaults serve any lattice).

    Parameters
    ----------
    n : int
        The family parameter (the ``n`` of ``d<n>``; the dimension for fixed lattices,
        the rank for user lattices).

    Class attributes
    ----------------
    family : str
        Read-only name users see as ``Lattice.family`` (``"d"``, ``"e8"``, …). Nothing in
        the library branches on it: callers use the hooks.
    pattern : str
        Registry name: a fixed name (``"e8"``) or a prefix and ``<n>`` (``"d<n>"``).
        Empty for families that are not in the registry.
    n_min : int
        Smallest ``n`` of a parametric pattern.
    examples : tuple of str
        Names :func:`~lattiq.lattices.list_lattices` shows.
    integral : bool
        Every lattice of the family is integral in standard coordinates (its norms are
        integers), so theta series by norm need no Gram matrix denominators.
    """

    family: ClassVar[str] = "generic"
    pattern: ClassVar[str] = ""
    n_min: ClassVar[int] = 1
    examples: ClassVar[tuple[str, ...]] = ()
    integral: ClassVar[bool] = False

    def __init__(self, n: int):
        self.n = int(n)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n})"

    # ------------------------------------------------------------------ registry
    @classmethod
    def match(cls, key: str) -> int | None:
        """The family parameter if ``key`` (a lower-case name) is spelled by this family's
        pattern (any ``n`` for a parametric one), else ``None``."""
        if not cls.pattern:
            return None
        if not cls.pattern.endswith("<n>"):
            return cls.fixed_n() if key == cls.pattern else None
        m = re.fullmatch(re.escape(cls.pattern[:-3]) + r"(\d+)", key)
        return None if m is None else int(m.group(1))

    @classmethod
    def parse(cls, key: str, name: str) -> int | None:
        """:meth:`match`, and ``ValueError`` for a parameter out of range (``name`` is the
        name as given, for the message)."""
        n = cls.match(key)
        if n is not None and cls.pattern.endswith("<n>") and not cls.n_min <= n <= MAX_FAMILY_N:
            raise ValueError(f"{cls.pattern} needs {cls.n_min} <= n <= {MAX_FAMILY_N}, "
                             f"got {name!r}")
        return n

    @classmethod
    def fixed_n(cls) -> int:
        """The parameter of a fixed (non-parametric) name: its dimension."""
        raise NotImplementedError

    def name(self) -> str:
        """Registry name of this family member."""
        p = self.pattern
        return p[:-3] + str(self.n) if p.endswith("<n>") else p

    def build(self) -> Lattice:
        """The registered lattice (exact integer-frame basis and scale)."""
        raise NotImplementedError(f"{type(self).__name__} has no registered lattice")

    # ------------------------------------------------------------------ known values
    @property
    def known(self) -> dict:
        """Recorded invariants from the literature: any of ``"det"``, ``"min_norm"``
        (sympy numbers) and ``"kissing"`` (int). Empty: computed."""
        return {}

    def known_normalized_second_moment(self) -> sympy.Expr | None:
        """Exact normalized second moment where the literature has it, else ``None``."""
        return None

    def known_covering_radius(self) -> sympy.Expr | None:
        """Exact covering radius (standard coordinates) where known, else ``None``."""
        return None

    # ------------------------------------------------------------------ membership
    def contains_int(self, L: Lattice, y: np.ndarray) -> np.ndarray:
        """Exact membership of integer-frame vectors ``y`` (rows: int64, or Python ints in
        an object array for any magnitude): solve ``u B = y`` exactly."""
        B = sympy.Matrix(L.basis_int.tolist())
        P = (B * B.T).inv() * B  # u = y Bᵀ (B Bᵀ)^{-1}
        out = np.zeros(y.shape[0], dtype=bool)
        for i, row in enumerate(y):
            v = sympy.Matrix([[int(t) for t in row]])
            u = v * P.T
            if all(t.is_integer for t in u):
                out[i] = (u * B) == v
        return out

    # ------------------------------------------------------------------ decoding
    def decode(self, L: Lattice, x: np.ndarray, parallel=False) -> np.ndarray:
        """Nearest points of ``x`` (validated ``(N, ambient_dim)`` float64, standard
        coordinates): ``(N, ambient_dim)`` integer-frame vectors, or ``(N, dim)``
        coefficient vectors in the coefficient frame. Default: the generic decoder."""
        return _dec.decode_generic(L, x, parallel=parallel)

    # ------------------------------------------------------------------ theta series
    def theta_closed_form_work(self, n_terms: int) -> float | None:
        """Estimated work of :meth:`theta_closed_form` (array-element operations), or
        ``None`` when the family has no closed form (then the series is enumerated)."""
        return None

    def theta_closed_form(self, n_terms: int) -> list[int]:
        """``[N(0), …, N(n_terms − 1)]`` from the closed form (sizes checked by the caller)."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form theta series")

    # ------------------------------------------------------------------ shells
    def special_shell(self, L: Lattice, k: int) -> np.ndarray | None:
        """Shell ``k`` built directly (integer frame), or ``None`` to enumerate it."""
        return None

    # ------------------------------------------------------------------ dual
    def dual(self, L: Lattice) -> Lattice:
        """:math:`\\Lambda^*` with basis :math:`B^* = (B B^T)^{-1} B` (exact for an exact
        lattice; an integer-frame lattice with an irrational scale ``s`` gets the
        integer frame of :math:`(B_\\mathbb{Z} B_\\mathbb{Z}^T)^{-1} B_\\mathbb{Z}` and scale
        ``1 / (s D)``)."""
        cls = type(L)
        if not L.is_exact or L.basis_int is None:
            if L._gram_exact is not None:
                return cls.from_gram(L._gram_exact.inv(), name=f"{L.name}*")
            warnings.warn("dual of an inexact lattice is computed in floating point",
                          stacklevel=3)
            B = L.basis
            return cls.from_basis(np.linalg.solve(B @ B.T, B), name=f"{L.name}*")
        if L.scale.is_rational:
            B = sympy.Matrix(L.basis_int.tolist()) * L.scale
            Bd = (B * B.T).inv() * B
            return cls.from_basis([[Fraction(str(v)) for v in Bd.row(i)]
                                   for i in range(Bd.rows)], name=f"{L.name}*")
        Bi = sympy.Matrix(L.basis_int.tolist())
        Bd = (Bi * Bi.T).inv() * Bi  # rational; times 1/scale in standard coordinates
        D = math.lcm(*[int(sympy.Rational(v).q) for v in Bd])
        rows = np.array([[int(v) for v in r] for r in (Bd * D).tolist()], dtype=np.int64)
        return cls(name=f"{L.name}*", strategy=GenericFamily(L.dim), basis_int=rows,
                   scale=sympy.nsimplify(1 / (L.scale * D)))

    # ------------------------------------------------------------------ geometry
    def cube_side(self) -> int | None:
        """The smallest ``M`` with ``M·Z^n`` inside the integer frame, where known (a
        full-rank lattice's sampling cube); ``None``: computed from the basis."""
        return None

    def span_basis(self, L: Lattice) -> np.ndarray | None:
        """Orthonormal ``(ambient_dim, dim)`` basis of the lattice's span, or ``None`` when
        the lattice spans ``R^ambient_dim``."""
        if L.dim == L.ambient_dim:
            return None
        q, _ = np.linalg.qr(np.asarray(L.basis, dtype=np.float64).T)
        return q


class GenericFamily(LatticeFamily):
    """A lattice given by the user (:meth:`Lattice.from_basis`, :meth:`Lattice.from_gram`):
    every hook is the generic computation. ``n`` is the rank."""

    family = "generic"
