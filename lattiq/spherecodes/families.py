"""The registered code families other than the Leech ones.

* :class:`RootCode`: the roots of E8 (240 on :math:`S^7`) and D4 (24 on :math:`S^3`).
* :class:`BinaryCode`: ``bsq-<d>``, :math:`\\{\\pm 1/\\sqrt d\\}^d` (Binary Spherical
  Quantization), ``2^d`` implicit codewords.
* :class:`FibonacciCode`: ``fibonacci-<N>``, spherical Fibonacci points on :math:`S^2`.
* :class:`FibonacciSphereCode`: ``fibonacci-<d>-<N>``, a Kronecker (rank-1 lattice) point
  set on :math:`S^{d-1}`.
* :class:`RandomCode`: ``random-<d>-<N>[-s<seed>]``, normalized Gaussian codebooks.
* :class:`LatticeShellCode`: ``<lattice>-shell<k>``, a normalized shell of a built-in
  lattice.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from functools import cached_property, lru_cache

import numpy as np

from .code import MAX_MATERIALIZE_BYTES, ExactForm, SphericalCode
from .structure import FibonacciStructure, RootStructure, SignStructure

__all__ = [
    "BinaryCode",
    "FibonacciCode",
    "FibonacciSphereCode",
    "LatticeShellCode",
    "RandomCode",
    "RootCode",
    "kronecker_generators",
    "kronecker_sphere_points",
]


def _ro(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# ------------------------------------------------------------------ roots


def _dn_roots_int(n: int) -> np.ndarray:
    out = []
    for i in range(n):
        for j in range(i + 1, n):
            for si in (1, -1):
                for sj in (1, -1):
                    v = np.zeros(n, dtype=np.int64)
                    v[i], v[j] = si, sj
                    out.append(v)
    return np.array(out, dtype=np.int64)


def _half_signs(n: int) -> np.ndarray:
    """(2^(n-1), n) ±1 with an even number of minus signs; row r has bit q of r as the sign
    of coordinate q < n - 1."""
    r = np.arange(2 ** (n - 1), dtype=np.int64)
    bits = (r[:, None] >> np.arange(n - 1)) & 1
    last = bits.sum(axis=1) % 2
    return 1 - 2 * np.concatenate([bits, last[:, None]], axis=1)


class RootCode(SphericalCode):
    """The root system of E8 (``"e8"``) or D4 (``"d4"``), normalized.

    Order: the ``±e_i ± e_j`` first, index ``4·pair(i, j) + 2[s_i<0] + [s_j<0]`` with pairs
    ``i < j`` ranked lexicographically; for E8 then the 128 vectors ``(±½)^8`` with an even
    number of minus signs, index ``112 + r`` (bit ``q`` of ``r``: sign of coordinate
    ``q < 7``). Exact forms in the lattices' integer frames: E8 ``2·E8`` (norm 8), D4
    (norm 2). Both have minimum angle 60° and are distance-invariant; E8 is a tight
    7-design, D4 a 5-design (SPLAG ch. 4 §7-8, ch. 14).
    """

    distance_invariant = True

    def __init__(self, kind: str):
        if kind == "e8":
            V = np.concatenate([2 * _dn_roots_int(8), _half_signs(8)])
            form = ExactForm(_ro(V), 1.0 / math.sqrt(8.0), 8, None)
            super().__init__("e8", 8, 240, exact_form=form)
        elif kind == "d4":
            V = _dn_roots_int(4)
            super().__init__("d4", 4, 24, exact_form=ExactForm(_ro(V), 1.0 / math.sqrt(2.0),
                                                               2, None))
        else:  # pragma: no cover
            raise ValueError(f"unknown root code {kind!r}")
        self._half = kind == "e8"
        e = self._exact
        self._structure = RootStructure(kind, e.vectors, e.scale)

    @property
    def structure(self) -> RootStructure:
        """``"roots"``: the lattice (``"e8"`` or ``"d4"``) and the integer form."""
        return self._structure

    def _nearest(self, X):
        from .search import roots_nearest

        return roots_nearest(X, self._half)

    def _known_max_inner_product(self):
        return Fraction(1, 2)

    def _known_distribution(self):
        from .analysis import exact_inner_product_counts

        e = self._exact
        return exact_inner_product_counts(e.vectors, e.norm, 0)

    def _known_design_strength(self):
        return 7 if self._half else 5


# ------------------------------------------------------------------ binary


class BinaryCode(SphericalCode):
    """``bsq-<d>``: the ``2^d`` vectors :math:`\\{\\pm 1/\\sqrt d\\}^d` (BSQ codebook).

    Index ``k`` has coordinate ``i`` negative exactly when bit ``i`` of ``k`` is set;
    :meth:`nearest` is the sign (``x_i = 0`` counts as positive, the lower index). Chord
    δ_min = :math:`2/\\sqrt d` (one sign flip); seen from any codeword the inner product
    :math:`(d - 2k)/d` occurs :math:`\\binom dk` times; a 3-design. Points are built only on
    request and only when they fit in :data:`~lattiq.spherecodes.code.MAX_MATERIALIZE_BYTES`.

    References
    ----------
    Y. Zhao, Y. Xiong and P. Krähenbühl, "Image and video tokenization with binary
    spherical quantization", arXiv 2406.07548 (2024).
    """

    distance_invariant = True
    MAX_DIM = 62

    def __init__(self, d: int):
        if not 2 <= d <= self.MAX_DIM:
            raise ValueError(f"bsq-<d> needs 2 <= d <= {self.MAX_DIM} (int64 indices), got {d}")
        super().__init__(f"bsq-{d}", d, 2**d)
        self._scale = 1.0 / math.sqrt(d)
        self._structure = SignStructure(d, negative_bit=1, little_endian=True)

    @property
    def structure(self) -> SignStructure:
        """``"sign"``: bit ``i`` of the index set means coordinate ``i`` negative."""
        return self._structure

    def _signs(self, idx: np.ndarray) -> np.ndarray:
        return 1 - 2 * ((idx[:, None] >> np.arange(self.dim, dtype=np.int64)) & 1)

    def _build_points(self):
        return self._signs(np.arange(self.size, dtype=np.int64)) * self._scale

    @property
    def exact_form(self):
        if self._exact is None and self.size * self.dim * 8 <= MAX_MATERIALIZE_BYTES:
            V = self._signs(np.arange(self.size, dtype=np.int64)).astype(np.int8)
            self._exact = ExactForm(_ro(V), self._scale, self.dim, None)
        return self._exact

    @property
    def int_points(self):
        """±1 int8 codewords (``None`` when the code is too large to materialize)."""
        e = self.exact_form
        return None if e is None else e.vectors

    @property
    def int_scale(self):
        return None if self.exact_form is None else self._scale

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of the points, or of the name when the points are too large to build."""
        if self.size * self.dim * 8 <= MAX_MATERIALIZE_BYTES:
            return super().sha256
        return hashlib.sha256(f"lattiq:{self.name}".encode()).hexdigest()

    def _nearest(self, X):
        from .search import sign_nearest

        return sign_nearest(X)

    def _vectors(self, idx):
        return self._signs(idx) * self._scale

    def _index_of(self, X, tol):
        idx = (X < 0).astype(np.int64) @ (np.int64(1) << np.arange(self.dim, dtype=np.int64))
        self._check_is_codeword(X, idx, tol)
        return idx

    def _known_max_inner_product(self):
        return Fraction(self.dim - 2, self.dim)

    def _known_distribution(self):
        d = self.dim
        return {Fraction(d - 2 * k, d): math.comb(d, k) for k in range(d + 1)}

    def _known_design_strength(self):
        return 3


# ------------------------------------------------------------------ Fibonacci


class FibonacciCode(SphericalCode):
    """``fibonacci-<N>``: spherical Fibonacci points on :math:`S^2`.

    .. math::
        z_i = 1 - \\frac{2i + 1}{N}, \\quad \\varphi_i = 2\\pi \\{ i \\Phi^{-1} \\}, \\quad
        c_i = (\\sqrt{1 - z_i^2}\\cos\\varphi_i,\\ \\sqrt{1 - z_i^2}\\sin\\varphi_i,\\ z_i)

    for ``i = 0 .. N-1`` (Φ the golden ratio). Points "evenly distributed, each representing
    almost the same area"; :meth:`nearest` uses the inverse mapping with a certified
    neighbourhood (:func:`lattiq.spherecodes.search.fibonacci_nearest`), O(1) per query and
    exact.

    References
    ----------
    B. Keinert, M. Innmann, M. Sänger and M. Stamminger, "Spherical Fibonacci mapping",
    ACM Trans. Graph. 34 (2015) 193.
    """

    MAX_N = 1 << 40

    def __init__(self, n: int):
        if not 2 <= n <= self.MAX_N:
            raise ValueError(f"fibonacci-<N> needs 2 <= N <= {self.MAX_N}, got {n}")
        super().__init__(f"fibonacci-{n}", 3, n)
        self._structure = FibonacciStructure(n)

    @property
    def structure(self) -> FibonacciStructure:
        """``"fibonacci"``: searched by the inverse mapping."""
        return self._structure

    def _build_points(self):
        from ._kernels import fibonacci_points_kernel

        out = np.empty((self.size, 3))
        fibonacci_points_kernel(self.size, out)
        return out

    def _vectors(self, idx):
        from ._kernels import fibonacci_select_kernel

        out = np.empty((idx.size, 3))
        fibonacci_select_kernel(idx, self.size, out)
        return out

    def _nearest(self, X):
        from .search import fibonacci_nearest

        return fibonacci_nearest(X, self.size)


@lru_cache(maxsize=32)
def kronecker_generators(m: int) -> np.ndarray:
    """Generators ``g_j = φ_m^{-j}`` (``j = 1..m``) of the R_m Kronecker sequence, where
    ``φ_m`` is the positive root of :math:`x^{m+1} = x + 1` (for ``m = 1`` the golden ratio).
    """
    x = 2.0
    for _ in range(200):
        x = (1.0 + x) ** (1.0 / (m + 1))
    g = x ** -np.arange(1, m + 1, dtype=np.float64)
    g.setflags(write=False)
    return g


class FibonacciSphereCode(SphericalCode):
    """``fibonacci-<d>-<N>`` (``d >= 4``): a Kronecker point set mapped to :math:`S^{d-1}`.

    Point ``i`` takes :math:`u = ((i + \\tfrac12)/N,\\ \\{i g_1\\}, \\ldots, \\{i g_{d-2}\\})`
    (the R-sequence generators of :func:`kronecker_generators`) to the hyperspherical angles
    by the inverse CDFs of their densities, :math:`\\theta_j \\propto \\sin^{d-1-j}\\theta_j`
    (``j = 1..d-2``, via the regularized incomplete beta function) and
    :math:`\\varphi = 2\\pi u_{d-1}`, then

    .. math::
        x_d = \\cos\\theta_1,\\ x_{d-1} = \\sin\\theta_1\\cos\\theta_2,\\ \\ldots,\\
        (x_1, x_2) = \\textstyle\\prod_j \\sin\\theta_j\\,(\\cos\\varphi, \\sin\\varphi).

    For ``d = 3`` this is exactly ``fibonacci-<N>``, which is the name for that case.
    Search: tiled matmul-argmax.
    """

    def __init__(self, d: int, n: int):
        if d < 4:
            raise ValueError(
                f"fibonacci-<d>-<N> needs d >= 4 (use fibonacci-<N> on S^2), got d={d}")
        if n < 2:
            raise ValueError(f"fibonacci-<d>-<N> needs N >= 2, got {n}")
        super().__init__(f"fibonacci-{d}-{n}", d, n)

    def _build_points(self):
        self._check_materialize()
        return kronecker_sphere_points(self.dim, self.size)


def kronecker_sphere_points(d: int, n: int) -> np.ndarray:
    """The points of :class:`FibonacciSphereCode` for any ``d >= 3`` (``d = 3`` gives the
    spherical Fibonacci points of :class:`FibonacciCode`)."""
    from scipy.special import betaincinv

    i = np.arange(n, dtype=np.float64)
    g = kronecker_generators(d - 2)
    U = np.empty((n, d - 1))
    U[:, 0] = (i + 0.5) / n
    U[:, 1:] = np.mod(i[:, None] * g[None, :], 1.0)
    X = np.empty((n, d))
    s = np.ones(n)
    for j in range(1, d - 1):  # theta_j, density sin^(d-1-j)
        a = 0.5 * (d - j)
        t = betaincinv(a, a, U[:, j - 1])
        X[:, d - j] = s * (1.0 - 2.0 * t)
        s = s * 2.0 * np.sqrt(t * (1.0 - t))
    phi = 2.0 * np.pi * U[:, d - 2]
    X[:, 0] = s * np.cos(phi)
    X[:, 1] = s * np.sin(phi)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


# ------------------------------------------------------------------ random


class RandomCode(SphericalCode):
    """``random-<d>-<N>[-s<seed>]``: ``N`` normalized standard Gaussian vectors in ``R^d``
    from ``numpy.random.default_rng(seed)`` (seed 0 when omitted; the name always carries
    it). The random-projection baseline of the Λ24-SQ paper."""

    def __init__(self, d: int, n: int, seed: int = 0):
        if d < 2 or n < 1:
            raise ValueError(f"random-<d>-<N> needs d >= 2 and N >= 1, got d={d}, N={n}")
        super().__init__(f"random-{d}-{n}-s{seed}", d, n)
        self.seed = int(seed)

    def _build_points(self):
        self._check_materialize()
        X = np.random.default_rng(self.seed).standard_normal((self.size, self.dim))
        return X / np.linalg.norm(X, axis=1, keepdims=True)


# ------------------------------------------------------------------ lattice shells


class LatticeShellCode(SphericalCode):
    """``<lattice>-shell<k>``: the ``k``-th nonzero shell of a built-in lattice, normalized.

    Vectors from :meth:`lattiq.lattices.Lattice.shell` (integer frame, the lattice module's
    order); the exact form is those integers with scale ``1/sqrt(norm)``. A lattice that
    does not span its ambient space (``a<n>`` in the zero-sum hyperplane of
    :math:`\\mathbb R^{n+1}`, ``e6`` and ``e7`` in :math:`\\mathbb R^8`, ``k12`` in
    :math:`\\mathbb R^{18}`) gives a code of its dimension, in the orthonormal basis
    :meth:`~lattiq.lattices.Lattice.span_basis` (Helmert columns for ``a<n>``), and keeps
    the integer coordinates in its exact form. Search: tiled matmul-argmax.
    """

    def __init__(self, lattice: str, k: int):
        from lattiq.lattices import get_lattice

        L = get_lattice(lattice)
        norm = L.shell_norm(k)
        if not getattr(norm, "is_integer", False):
            raise ValueError(f"{lattice}-shell{k}: norm {norm} is not an integer")
        count = L.shell_size(k)
        nbytes = count * max(L.dim, L.ambient_dim) * 8
        if nbytes > MAX_MATERIALIZE_BYTES:
            raise ValueError(
                f"{lattice}-shell{k} has {count:,} vectors: its points would take {nbytes:,} "
                f"bytes ({nbytes / 2**30:.1f} GiB), more than the limit of "
                f"{MAX_MATERIALIZE_BYTES:,} bytes"
            )
        V = np.ascontiguousarray(L.shell(k), dtype=np.int64)
        sq = np.einsum("ij,ij->i", V, V)
        if not (sq == sq[0]).all():  # pragma: no cover - shells share one norm
            raise ValueError(f"{lattice}-shell{k}: vectors of different norms")
        basis = L.span_basis()
        form = ExactForm(_ro(V), 1.0 / math.sqrt(int(sq[0])), int(sq[0]),
                         None if basis is None else _ro(basis))
        super().__init__(f"{lattice}-shell{k}", L.dim, V.shape[0], exact_form=form)
