"""The :class:`SphericalCode` type: a finite set of unit vectors with exact search and analysis.

A spherical code ``C`` of ``N`` points on :math:`S^{d-1}` is stored (or generated) as an
``(N, d)`` float64 array of unit rows. Codes built from lattices also carry an exact integer
form (:class:`ExactForm`): integer vectors ``V``, a scale ``σ`` and, when the code lives in
a subspace of the integer frame, an orthonormal basis ``B`` of that subspace, with

.. math:: C = \\sigma\\, V B \\qquad (\\text{or } C = \\sigma V \\text{ without } B),

so that inner products are exact integers times :math:`\\sigma^2`.

Conventions shared by every code:

* ``nearest(x)`` returns the index of the codeword of largest inner product with ``x``; ties
  go to the lowest index (a zero input returns 0). Inputs need not be normalized.
* δ_min is the chord :math:`\\min_{c \\ne c'} \\lVert c - c'\\rVert = \\sqrt{2 - 2 s}` with
  ``s`` the largest inner product between distinct codewords.
* Arrays handed out (``points``, ``int_points``) are read-only.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

from lattiq.lattices._arrays import kernel_array

from .structure import NO_STRUCTURE, CodeStructure

__all__ = ["ExactForm", "SphericalCode", "MAX_MATERIALIZE_BYTES", "UNIT_TOL"]

#: Largest float64 point array a code builds on request (bytes).
MAX_MATERIALIZE_BYTES = 1 << 30
#: Rows of ``from_points`` whose norm differs from 1 by more than this are reported.
UNIT_TOL = 1e-6
#: Decimals kept when ``from_points`` looks for duplicate unit vectors.
DEDUP_DECIMALS = 12
#: Range of a row's squared norm that :func:`rescale_rows` leaves alone.
_SAFE_LO, _SAFE_HI = 2.0**-128, 2.0**128


@dataclass(frozen=True)
class ExactForm:
    """Exact integer description of a code: ``points = scale * (vectors @ basis)``.

    Attributes
    ----------
    vectors : (N, m) integer ndarray
        Integer vectors, all of the same squared norm ``norm``.
    scale : float
        ``1 / sqrt(norm)``.
    norm : int
        The common squared norm of the rows of ``vectors``.
    basis : (m, d) float64 ndarray or None
        Orthonormal columns spanning the subspace of ``R^m`` that holds ``vectors`` (``None``
        when ``m == d`` and the vectors are already the coordinates).

    Inner products are exact: ``<c_i, c_j> = (v_i · v_j) / norm``.
    """

    vectors: np.ndarray
    scale: float
    norm: int
    basis: np.ndarray | None = None

    def points(self) -> np.ndarray:
        """The float64 unit vectors this form describes."""
        V = self.vectors.astype(np.float64)
        if self.basis is not None:
            V = V @ self.basis
        return V * self.scale


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def as_float_batch(x, dim: int, what: str = "x") -> tuple[np.ndarray, tuple]:
    """Validate a batch ``(..., dim)`` of real vectors; return float64 ``(n, dim)`` and the
    leading shape. Raises ``TypeError`` for non-real dtypes and ``ValueError`` for a wrong
    last dimension or non-finite entries.

    The result is C-contiguous, writeable, native-endian float64 (a copy when the input is
    not), the one layout the numba search kernels are compiled for: read-only, strided,
    big-endian, float32 or integer input reuses that compiled signature."""
    a = np.asarray(x)
    if a.dtype == object or not (
        np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)
    ):
        raise TypeError(f"{what} must hold real numbers (float or int), got dtype {a.dtype}")
    if a.ndim == 0 or a.shape[-1] != dim:
        raise ValueError(
            f"{what} must have shape (..., {dim}) for this {dim}-dimensional code, "
            f"got shape {a.shape}"
        )
    lead = a.shape[:-1]
    X = kernel_array(a.reshape(-1, dim), np.float64)
    if not np.isfinite(X).all():
        bad = int(np.nonzero(~np.isfinite(X).all(axis=1))[0][0])
        raise ValueError(f"{what} holds NaN or Inf (first in row {bad} of the flattened batch)")
    return X, lead


def rescale_rows(X: np.ndarray) -> np.ndarray:
    """Rows scaled by powers of two so that every nonzero row's squared norm lies in
    :math:`[2^{-128}, 2^{128}]`.

    .. math:: x \\mapsto 2^{-e} x, \\quad e = \\lceil \\log_2 \\max_i |x_i| \\rceil

    Rows already in that range (almost all input; one fast pass of squared norms finds
    them) are left alone, and the function returns ``X`` itself when no row needs scaling
    (otherwise a copy: the input is never modified). Scaling by a power of two is exact,
    so the direction of every row is kept bit for bit (only coordinates more than
    :math:`2^{1000}` times smaller than the row's largest one can underflow, and they
    cannot change a float64 inner product anyway). The search kernels can then square,
    sum and convert to float32 without overflow or underflow, which gives every finite
    nonzero input, from ``5e-324`` to ``1.8e308``, the answer of its direction.
    """
    if X.shape[0] == 0:
        return X
    with np.errstate(over="ignore", under="ignore"):
        sq = np.einsum("ij,ij->i", X, X)
    bad = ~((sq >= _SAFE_LO) & (sq <= _SAFE_HI))  # zero rows too: scaled by 2^0
    if not bad.any():
        return X
    X = X.copy()
    _, e = np.frexp(np.abs(X[bad]).max(axis=1))
    X[bad] = np.ldexp(X[bad], -e[:, None])
    return X


def as_index_array(indices, size: int) -> tuple[np.ndarray, tuple]:
    """Validate codeword indices; return int64 flat array and the shape."""
    a = np.asarray(indices)
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"indices must be integers, got dtype {a.dtype}")
    flat = a.reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= size):
        bad = flat[(flat < 0) | (flat >= size)][0]
        raise ValueError(f"index {int(bad)} out of range for a code of size {size}")
    return flat, a.shape


class SphericalCode:
    """A spherical code: ``N`` unit vectors in ``R^d`` with exact search and analysis.

    Build one with :func:`lattiq.spherecodes.get_code` (registered codes, which use their
    structure) or :meth:`from_points` (any point set, validated). The constructor itself
    trusts its arguments: ``points`` must already be distinct float64 unit rows (and agree
    with ``exact_form`` when both are given).

    Attributes
    ----------
    name : str
        Registry name (or the user's name).
    dim : int
        ``d``; the code lies on :math:`S^{d-1}`.
    size : int
        ``N``.
    """

    #: Whether every codeword sees the same inner-product distribution (known structure).
    distance_invariant: bool = False

    def __init__(self, name: str, dim: int, size: int, points: np.ndarray | None = None,
                 exact_form: ExactForm | None = None):
        self.name = str(name)
        self.dim = int(dim)
        self.size = int(size)
        self._points = None if points is None else _readonly(points)
        self._exact = exact_form
        self._max_ip = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_points(cls, X, name: str = "custom") -> SphericalCode:
        """A code from any point set, normalized, validated and deduplicated.

        .. math:: c_i = x_i / \\lVert x_i \\rVert

        Policy: rows must be finite and nonzero (``ValueError`` otherwise); rows whose norm
        differs from 1 by more than ``1e-6`` are normalized with a ``UserWarning``; every
        row is renormalized in float64, after an exact power-of-two scaling that keeps its
        norm representable (so rows of any magnitude, ``1e-320`` to ``1e308``, normalize
        correctly); rows equal after normalization (to 12 decimals) are dropped, keeping
        the first, with a ``UserWarning`` giving the count. An integer array whose rows
        share one squared norm (a lattice shell, say) keeps its exact form when those norms
        are exact in float64 (below :math:`2^{53}`).

        Parameters
        ----------
        X : (N, d) array_like
            Points, ``d >= 2``.
        name : str
            Name of the code.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        a = np.asarray(X)
        if a.dtype == object or not (
            np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)
        ):
            raise TypeError(f"points must be real numbers, got dtype {a.dtype}")
        if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 2:
            raise ValueError(f"points must have shape (N, d) with N >= 1, d >= 2; got {a.shape}")
        P = np.array(a, dtype=np.float64)
        finite = np.isfinite(P).all(axis=1)
        if not finite.all():
            rows = np.nonzero(~finite)[0]
            raise ValueError(f"{rows.size} point(s) hold NaN or Inf (rows {rows[:5].tolist()})")
        # scale each row by a power of two (exact) before taking its norm, so that norms of
        # rows near 1e-300 or 1e300 neither underflow to 0 nor overflow to inf
        m = np.abs(P).max(axis=1)
        if (m == 0).any():
            rows = np.nonzero(m == 0)[0]
            raise ValueError(f"{rows.size} zero vector(s) cannot be normalized "
                             f"(rows {rows[:5].tolist()})")
        _, e = np.frexp(m)
        P = np.ldexp(P, -e[:, None])
        norms = np.linalg.norm(P, axis=1)
        with np.errstate(over="ignore"):
            off = np.abs(np.ldexp(norms, e) - 1.0) > UNIT_TOL
        if off.any():
            warnings.warn(
                f"{int(off.sum())} of {len(P)} points are not unit vectors "
                f"(|norm - 1| > {UNIT_TOL:g}); normalizing them",
                UserWarning,
                stacklevel=2,
            )
        P /= norms[:, None]
        keep = _first_unique_rows(P)
        if keep.size < len(P):
            warnings.warn(
                f"dropped {len(P) - keep.size} duplicate point(s) (equal after "
                f"normalization to {DEDUP_DECIMALS} decimals); keeping the first of each",
                UserWarning,
                stacklevel=2,
            )
            P = P[keep]
        exact = None
        if np.issubdtype(a.dtype, np.integer) and _int_norms_exact(a):
            V = a.astype(np.int64)[keep]
            sq = np.einsum("ij,ij->i", V, V)
            if (sq == sq[0]).all():
                norm = int(sq[0])
                exact = ExactForm(_readonly(V), 1.0 / math.sqrt(norm), norm, None)
                P = exact.points()
        return SphericalCode(name, P.shape[1], P.shape[0], points=np.ascontiguousarray(P),
                             exact_form=exact)

    # ------------------------------------------------------------------ data

    def _build_points(self) -> np.ndarray:
        if self._exact is not None:
            return self._exact.points()
        raise NotImplementedError  # pragma: no cover - every subclass provides points

    def _check_materialize(self) -> None:
        nbytes = self.size * self.dim * 8
        if nbytes > MAX_MATERIALIZE_BYTES:
            raise ValueError(
                f"{self.name!r} has {self.size:,} codewords: its float64 points would take "
                f"{nbytes:,} bytes ({nbytes / 2**30:.1f} GiB), more than the limit of "
                f"{MAX_MATERIALIZE_BYTES:,} bytes; nearest(), vectors() and index_of() work "
                "without them"
            )

    @property
    def points(self) -> np.ndarray:
        """(N, d) float64 unit codewords, read-only (built on first use)."""
        if self._points is None:
            self._check_materialize()
            self._points = _readonly(np.ascontiguousarray(self._build_points(),
                                                          dtype=np.float64))
        return self._points

    @property
    def exact_form(self) -> ExactForm | None:
        """Exact integer form (:class:`ExactForm`) or ``None`` for float codes."""
        return self._exact

    @property
    def int_points(self) -> np.ndarray | None:
        """(N, d) integers with ``points = int_points * int_scale``, or ``None``.

        ``None`` also when the exact form needs a basis change (see :attr:`exact_form`).
        """
        e = self._exact
        return e.vectors if e is not None and e.basis is None else None

    @property
    def int_scale(self) -> float | None:
        """Scale of :attr:`int_points` (``1/sqrt(norm)``), or ``None``."""
        e = self._exact
        return e.scale if e is not None and e.basis is None else None

    @property
    def structure(self) -> CodeStructure:
        """A description of the code's structure (:mod:`lattiq.spherecodes.structure`), from
        which a caller picks a search: :data:`~lattiq.spherecodes.structure.NO_STRUCTURE`
        (kind ``"none"``) unless the code's family declares one."""
        return NO_STRUCTURE

    @property
    def bits(self) -> float:
        """Rate in bits per codeword, ``log2 N``."""
        return math.log2(self.size)

    @cached_property
    def sha256(self) -> str:
        """Hex SHA-256 of the float64 points (little-endian, C order)."""
        return points_sha256(self.points)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"SphericalCode({self.name!r}, dim={self.dim}, size={self.size})"

    # ------------------------------------------------------------------ search

    def nearest(self, x) -> np.ndarray:
        """Index of the codeword of largest inner product with each input vector.

        .. math:: \\hat k(x) = \\operatorname{arg\\,max}_k \\langle c_k, x\\rangle

        Exact (float64 inner products; among equal ones the lowest index wins, so a zero
        input gives 0). Registered codes use their structure; any other code a tiled
        matmul-argmax whose memory does not grow with the batch. The answer depends only
        on the direction of ``x``: rows whose squared norm lies outside
        :math:`[2^{-128}, 2^{128}]` are first scaled by a power of two (exactly; see
        :func:`rescale_rows`), so every finite nonzero ``x``, from the smallest subnormal
        to ``1.8e308``, gets the answer of its direction (``nearest(t * x) ==
        nearest(x)`` for powers of two ``t`` while no coordinate underflows).

        Parameters
        ----------
        x : (..., d) array_like
            Real vectors (need not be normalized).

        Returns
        -------
        (...) int64 ndarray
        """
        X, lead = as_float_batch(x, self.dim)
        if X.shape[0] == 0:
            return np.zeros(lead, dtype=np.int64)
        return self._nearest(rescale_rows(X)).reshape(lead)

    def _nearest(self, X: np.ndarray) -> np.ndarray:
        from .search import tiled_nearest

        return tiled_nearest(X, self.points)

    def vectors(self, indices) -> np.ndarray:
        """Codewords ``(..., d)`` float64 for integer indices ``(...)``."""
        idx, shape = as_index_array(indices, self.size)
        return self._vectors(idx).reshape(shape + (self.dim,))

    def _vectors(self, idx: np.ndarray) -> np.ndarray:
        return self.points[idx]

    def index_of(self, vectors, tol: float = 1e-9) -> np.ndarray:
        """Indices of codewords given as vectors ``(..., d)``; inverse of :meth:`vectors`.

        Raises ``ValueError`` for a vector farther than ``tol`` (Euclidean) from every
        codeword. The input must be a codeword itself (unit norm), not just near one.
        """
        X, lead = as_float_batch(vectors, self.dim, "vectors")
        if X.shape[0] == 0:
            return np.zeros(lead, dtype=np.int64)
        idx = self._index_of(X, float(tol))
        return idx.reshape(lead)

    def _index_of(self, X: np.ndarray, tol: float) -> np.ndarray:
        idx = self._nearest(X)
        self._check_is_codeword(X, idx, tol)
        return idx

    def _check_is_codeword(self, X, idx, tol) -> None:
        err = np.linalg.norm(X - self._vectors(idx), axis=1)
        bad = np.nonzero(~(err <= tol))[0]
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"vector {i} is not a codeword of {self.name!r}: it lies {err[i]:.3g} from the "
                f"nearest one (index {int(idx[i])}; tolerance {tol:g})"
            )

    # ------------------------------------------------------------------ analysis

    def _known_max_inner_product(self):
        return None

    def max_inner_product(self, exact: bool = False):
        """Largest inner product ``s`` between distinct codewords.

        .. math:: s = \\max_{i \\ne j} \\langle c_i, c_j \\rangle

        Known structure gives it exactly; a code with an exact form gets it by integer
        arithmetic; any other code by an exact all-pairs search
        (:func:`lattiq.spherecodes.analysis.max_inner_product`).

        Parameters
        ----------
        exact : bool
            Return a :class:`fractions.Fraction` (codes with an exact value only).
        """
        val = self._max_inner_product_value()
        if exact:
            if not isinstance(val, Fraction):
                raise ValueError(f"{self.name!r} has no exact form; use exact=False")
            return val
        return float(val)

    def _max_inner_product_value(self):
        if self._max_ip is None:
            if self.size < 2:
                raise ValueError(f"{self.name!r} has one point: no pair of distinct codewords")
            val = self._known_max_inner_product()
            if val is None and self._exact is not None:
                from .analysis import exact_max_inner_product

                val = Fraction(exact_max_inner_product(self._exact.vectors), self._exact.norm)
            if val is None:
                from .analysis import max_inner_product

                val = float(max_inner_product(self.points))
            self._max_ip = val
        return self._max_ip

    def min_distance(self) -> float:
        """δ_min: smallest chord between distinct codewords, ``sqrt(2 - 2 s)``.

        .. math:: \\delta_{\\min} = \\min_{i \\ne j} \\lVert c_i - c_j \\rVert

        (Chord distance of unit vectors; for the Leech code exactly 1. Papers that quote
        another number use the distance of the unnormalized lattice vectors, or an angle.)
        """
        s = self._max_inner_product_value()
        return math.sqrt(max(0.0, float(2 - 2 * s)))

    def min_angle(self) -> float:
        """Smallest angle between distinct codewords, in radians: ``arccos s``."""
        return math.acos(max(-1.0, min(1.0, float(self.max_inner_product()))))

    def _known_distribution(self):
        return None

    def inner_product_distribution(self, point: int | None = None,
                                   decimals: int = 12) -> dict:
        """``{inner product: count}`` seen from a codeword, or over all ordered pairs.

        .. math:: A_t = \\#\\{j : \\langle c_i, c_j\\rangle = t\\}

        For a distance-invariant code (every point sees the same distribution: Leech, E8,
        D4, the kissing configurations, binary codes) and ``point=None`` this is the
        distribution seen from codeword 0, including the point itself (``1: 1``): it sums
        to ``N``. For other codes and ``point=None`` it counts all ordered pairs ``(i, j)``
        including ``i = j`` (it sums to ``N²``); ``point=i`` gives the view from codeword
        ``i`` for any code.

        Codes with an exact form get exact values as :class:`fractions.Fraction` keys
        (equal, and hashing equal, to floats where the value is a binary fraction, so
        ``dist[0.5]`` works); others get floats rounded to ``decimals``. Codes without an
        exact form are limited to ``N <= 2000`` for all pairs (use
        :meth:`inner_product_histogram` beyond).
        """
        from . import analysis

        if point is None and self.distance_invariant:
            known = self._known_distribution()
            if known is not None:
                return dict(known)
            point = 0
        if point is not None:
            if isinstance(point, bool) or not isinstance(point, (int, np.integer)):
                raise TypeError(f"point must be an int index, got {type(point).__name__}")
            if not 0 <= int(point) < self.size:
                raise ValueError(f"point {point} out of range for a code of size {self.size}")
            if self._exact is not None:
                return analysis.exact_inner_product_counts(self._exact.vectors,
                                                           self._exact.norm, int(point))
            return analysis.inner_product_counts(self.points, int(point), decimals)
        if self._exact is not None:
            return analysis.exact_inner_product_counts(self._exact.vectors, self._exact.norm)
        return analysis.inner_product_counts(self.points, None, decimals)

    def inner_product_histogram(self, bins: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """Histogram of the inner products over unordered pairs ``i < j``.

        Returns ``(counts, edges)`` over ``[-1, 1]``; tiled, memory ``O(N d + tile)``.
        """
        from .analysis import inner_product_histogram

        return inner_product_histogram(self.points, bins)

    def _known_design_strength(self):
        return None

    def design_strength(self, max_t: int = 20) -> int:
        """Largest ``t <= max_t`` for which the code is a spherical ``t``-design.

        .. math:: \\sum_{i,j} P_k(\\langle c_i, c_j \\rangle) = 0, \\quad k = 1, \\ldots, t

        Known values for structured codes (Leech 11, E8 7, D4 5, (23, 4600) 7, (22, 891) 5,
        binary codes 3; Delsarte, Goethals & Seidel 1977; SPLAG ch. 3 §2), exact from the
        distribution of a distance-invariant code, else Gegenbauer moments of the points
        (:func:`lattiq.spherecodes.design.design_strength`).
        """
        known = self._known_design_strength()
        if known is not None:
            return int(min(known, max_t))
        if self.distance_invariant:
            from .design import design_strength_from_distribution

            return int(design_strength_from_distribution(self.inner_product_distribution(),
                                                         self.dim, max_t=max_t))
        from .design import design_strength

        return int(design_strength(self.points, max_t=max_t))

    def covering_radius(self, n_samples: int = 100_000, seed=0) -> float:
        """Estimated covering radius, in radians: the largest angle from ``n_samples``
        uniform random points of the sphere to their nearest codeword (a lower estimate).

        .. math:: \\rho(C) = \\max_{y \\in S^{d-1}} \\min_k \\angle(y, c_k)
        """
        from .analysis import covering_radius

        return covering_radius(self, n_samples, seed)

    # ------------------------------------------------------------------ export

    def save(self, path) -> None:
        """Write the code to ``.npy`` (+ ``<path>.json``) or ``.safetensors``.

        See :func:`lattiq.spherecodes.io.save_code`.
        """
        from .io import save_code

        save_code(self, path)

    @staticmethod
    def load(path) -> SphericalCode:
        """Read a code written by :meth:`save`, verifying its SHA-256.

        See :func:`lattiq.spherecodes.io.load_code`.
        """
        from .io import load_code

        return load_code(path)


def _int_norms_exact(a: np.ndarray) -> bool:
    """Whether the squared norms of integer rows fit in int64 and float64 exactly."""
    if a.size == 0:
        return True
    big = max(abs(int(a.max())), abs(int(a.min())))
    return big * big * a.shape[1] < 2**53


def points_sha256(points: np.ndarray) -> str:
    """SHA-256 hex digest of float64 points (little-endian, C order)."""
    a = np.ascontiguousarray(points, dtype="<f8")
    return hashlib.sha256(a.tobytes()).hexdigest()


def _first_unique_rows(P: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each row (rounded), in original order."""
    R = np.round(P, DEDUP_DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
    _, first = np.unique(R, axis=0, return_index=True)
    return np.sort(first)
