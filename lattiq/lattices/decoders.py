"""Exact nearest-point (closest-point) decoders for Zn, Dn, An, E8, the Leech lattice and
any lattice given by a basis (E6, E7 and K12: :mod:`lattiq.lattices.glued`).

Every decoder takes points in standard coordinates and returns the nearest lattice point
as int64 coordinates in the lattice's integer frame (see ``lattice.py``): ``Zn``, ``Dn``
and ``An`` are their own frame, E8's frame is ``2·E8`` and Leech's is ``√8·Λ24``. A lattice
given only by a float basis gets integer coefficient vectors. The decoders are exact: the
returned point minimises the Euclidean distance to the float64 input, up to the last-bit
rounding of the squared distances that are compared.

Algorithms and costs (``n`` = dimension)
----------------------------------------
* Zn: round each coordinate, ``O(n)``.
* Dn: round; if the sum is odd, re-round the coordinate farthest from an integer the other
  way, ``O(n)`` (Conway & Sloane 1982).
* An: project to ``sum = 0``, round, then move the ``|Δ|`` coordinates with the most
  extreme rounding errors by one, ``O(n log n)`` (Conway & Sloane 1982).
* E8 = D8 ∪ (D8 + ½): decode both cosets with the D8 rule, keep the closer (≈ 100 ops).
* Leech: maximum-likelihood decoding through the Golay code's sextet / hexacode structure
  (after Vardy & Be'ery 1993), about 10,000 real operations in the worst case and far
  fewer on average thanks to exact pruning: see :func:`decode_leech`.
* E7, E6, K12 (unions of translates of A_n products): one A_n decode per block and glue
  pattern, then the glue of least total distance (2, 4 and 24 A_n decodes); see
  :mod:`lattiq.lattices.glued`.
* Generic: LLL reduction (with deep insertions from dimension 28) once, then
  Schnorr–Euchner enumeration per point (exponential in ``n`` in the worst case, exact):
  see :class:`GenericDecoder`.

Ties (points equidistant from two or more lattice points, a set of measure zero) are broken
deterministically; each function states its rule.

Range: the integer-frame coordinates ``|x / scale|`` must stay below ``2^50`` (about
``1.1e15``). Up to there every rounding, subtraction and integer conversion in the kernels
is exact in float64; beyond it the input is refused with ``ValueError``.

References
----------
Conway & Sloane, "Fast quantizing and decoding algorithms for lattice quantizers and
codes", IEEE Trans. Inf. Theory 28 (1982); SPLAG ch. 20. Vardy & Be'ery, "Maximum
likelihood decoding of the Leech lattice", IEEE Trans. Inf. Theory 39 (1993). Schnorr &
Euchner, Math. Programming 66 (1994); Agrell, Eriksson, Vardy & Zeger, "Closest point
search in lattices", IEEE Trans. Inf. Theory 48 (2002).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np

from ._arrays import kernel_array
from ._decode_kernels import (
    NONFINITE,
    an_kernel,
    cvp_kernel,
    cvp_prepare_kernel,
    dn_kernel,
    e8_kernel,
    zn_kernel,
)
from ._leech_kernels import leech_kernel
from ._reduction_kernels import DEPENDENT
from .leech_layout import leech_sextet_tables

__all__ = [
    "MAX_ABS_INT_FRAME",
    "GenericDecoder",
    "decode_an",
    "decode_dn",
    "decode_e8",
    "decode_generic",
    "decode_leech",
    "decode_points",
    "decode_zn",
    "generic_decoder",
    "leech_sextet_tables",
]

#: Largest |coordinate| in the integer frame that the structured decoders accept (2^50).
MAX_ABS_INT_FRAME = float(2**50)
#: Largest |coordinate| / (shortest Gram–Schmidt length) the generic decoder accepts (2^30).
MAX_GENERIC_RATIO = float(2**30)
_SQRT8 = math.sqrt(8.0)
_MIN_CHUNK = 4096


# ----------------------------------------------------------------------------- input
def _as_batch(x, d: int, name: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """Validate ``x`` of shape ``(..., d)``; return a C-contiguous (N, d) float64 array.

    float16 and float32 are cast (exactly), as are exactly representable longdouble and
    integers below ``2^53``. The result is always C-contiguous, writeable, native-endian
    float64 (:func:`~lattiq.lattices._arrays.kernel_array`; a copy only when the input is
    not already so), so a read-only, strided, big-endian or float32 batch reuses the one
    compiled signature of each kernel instead of compiling another.
    """
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind == "b" or kind not in "iuf":
        raise TypeError(
            f"{name}: expected a real float (or integer) array, got dtype {a.dtype}; "
            "convert booleans, complex numbers or objects explicitly"
        )
    if a.ndim == 0 or a.shape[-1] != d:
        raise ValueError(f"{name}: expected shape (..., {d}), got {a.shape}")
    lead = a.shape[:-1]
    if kind in "iu":
        if a.size and np.abs(a.astype(np.float64)).max() >= 2.0**53:
            raise ValueError(
                f"{name}: integer input must be below 2**53 in absolute value to convert "
                "to float64 exactly"
            )
        a = a.astype(np.float64)
    elif a.dtype.itemsize > 8:
        b = a.astype(np.float64)
        if not np.array_equal(b.astype(a.dtype), a, equal_nan=True):
            raise TypeError(
                f"{name}: {a.dtype} input is not exactly representable in float64; "
                "round it to float64 first"
            )
        a = b
    return kernel_array(a.reshape(-1, d), np.float64), lead


def _check_range(a: np.ndarray, inv_scale: float, name: str, bound: float) -> None:
    if a.size == 0:
        return
    mx = max(float(a.max()), -float(a.min())) * inv_scale  # two passes, no temporary
    if not mx <= bound:  # catches NaN too
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: input contains NaN or infinite values")
        raise ValueError(
            f"{name}: |x| reaches {mx:.3g} in the integer frame, beyond {bound:.3g}, where "
            "float64 decoding stops being exact; translate or rescale the input"
        )


# -------------------------------------------------------------------------- threads
_POOLS: dict[int, ThreadPoolExecutor] = {}


def _n_threads(parallel) -> int:
    if parallel is False or parallel is None:
        return 1
    if parallel is True:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not on Linux
            return max(1, os.cpu_count() or 1)
    if isinstance(parallel, (int, np.integer)) and not isinstance(parallel, bool):
        if parallel < 1:
            raise ValueError(f"parallel must be a bool or a thread count >= 1, got {parallel}")
        return int(parallel)
    raise TypeError(f"parallel must be a bool or an int, got {type(parallel).__name__}")


def _run(fn, x: np.ndarray, out: np.ndarray, parallel) -> np.ndarray:
    """Call ``fn(x_chunk, out_chunk)`` over the batch, in threads when asked.

    The kernels release the GIL, so chunks run truly in parallel.
    """
    nt = _n_threads(parallel)
    N = x.shape[0]
    if nt <= 1 or N < 2 * _MIN_CHUNK:
        fn(x, out)
        return out
    nt = min(nt, N // _MIN_CHUNK)
    pool = _POOLS.get(nt)
    if pool is None:
        pool = _POOLS[nt] = ThreadPoolExecutor(max_workers=nt, thread_name_prefix="lattiq")
    bounds = np.linspace(0, N, nt + 1).astype(np.int64)
    futs = [
        pool.submit(fn, x[bounds[i] : bounds[i + 1]], out[bounds[i] : bounds[i + 1]])
        for i in range(nt)
    ]
    for f in futs:
        f.result()
    return out


def _decode_simple(kernel, x, d, inv_scale, parallel, name, out_dim=None):
    a, lead = _as_batch(x, d, name)
    _check_range(a, inv_scale, name, MAX_ABS_INT_FRAME)
    out = np.empty((a.shape[0], out_dim or d), dtype=np.int64)
    if a.shape[0]:
        _run(lambda xs, os_: kernel(xs, inv_scale, os_), a, out, parallel)
    return out.reshape(*lead, out.shape[1])


# ------------------------------------------------------------------ simple families
def decode_zn(x, *, parallel=False) -> np.ndarray:
    """Nearest point of the integer lattice ``Z^n``.

    .. math:: Q_{\\mathbb Z^n}(x)_i = \\lfloor x_i + \\tfrac12 \\rfloor

    Halves round up, so ties commute with integer translations.

    Parameters
    ----------
    x : (..., n) array_like
        Float (or integer) points.
    parallel : bool or int
        Split the batch over threads (``True``: one per CPU).

    Returns
    -------
    (..., n) int64

    References
    ----------
    Conway & Sloane, SPLAG ch. 20 §2.
    """
    a = np.asarray(x)
    if a.ndim == 0:
        raise ValueError(f"decode_zn: expected shape (..., n), got {a.shape}")
    return _decode_simple(zn_kernel, a, a.shape[-1], 1.0, parallel, "decode_zn")


def decode_dn(x, *, parallel=False) -> np.ndarray:
    """Nearest point of ``D_n = {v ∈ Z^n : Σ v_i even}`` (Conway & Sloane's ``g(x)``).

    .. math::
        Q_{D_n}(x) = \\begin{cases} f(x) & \\sum_i f(x)_i \\text{ even} \\\\
        g(x) & \\text{otherwise} \\end{cases}

    where ``f`` rounds every coordinate and ``g`` rounds the coordinate farthest from an
    integer the wrong way. Ties: the lowest such coordinate; an integral coordinate is
    moved up.

    Parameters
    ----------
    x : (..., n) array_like, n >= 2
    parallel : bool or int

    Returns
    -------
    (..., n) int64

    References
    ----------
    Conway & Sloane, IEEE Trans. Inf. Theory 28 (1982) 227–232; SPLAG ch. 20 §2.
    """
    a = np.asarray(x)
    if a.ndim == 0 or a.shape[-1] < 2:
        raise ValueError(f"decode_dn: expected shape (..., n) with n >= 2, got {a.shape}")
    return _decode_simple(dn_kernel, a, a.shape[-1], 1.0, parallel, "decode_dn")


def decode_an(x, *, parallel=False) -> np.ndarray:
    """Nearest point of ``A_n = {v ∈ Z^{n+1} : Σ v_i = 0}`` (sort-based algorithm).

    The input is projected onto ``Σ v_i = 0`` (the lattice lies there, so this changes no
    comparison); with ``f`` the rounded vector and ``Δ = Σ f_i``,

    .. math::
        Q_{A_n}(x) = f - \\sum_{k \\le \\Delta} e_{\\sigma(k)} \\quad (\\Delta > 0),

    where ``σ`` orders coordinates by rounding error ``x_i - f_i`` ascending (and ``Δ < 0``
    symmetric, adding one at the largest errors). Ties: the sort is stable, so the lower
    coordinate index goes first.

    Parameters
    ----------
    x : (..., n+1) array_like, n >= 1
        Points of ``R^{n+1}``.
    parallel : bool or int

    Returns
    -------
    (..., n+1) int64, each row summing to 0.

    References
    ----------
    Conway & Sloane, IEEE Trans. Inf. Theory 28 (1982); SPLAG ch. 20 §3.
    """
    a = np.asarray(x)
    if a.ndim == 0 or a.shape[-1] < 2:
        raise ValueError(f"decode_an: expected shape (..., n+1) with n >= 1, got {a.shape}")
    return _decode_simple(an_kernel, a, a.shape[-1], 1.0, parallel, "decode_an")


def decode_e8(x, *, parallel=False) -> np.ndarray:
    """Nearest point of E8 (SPLAG coordinates), returned in the integer frame ``2·E8``.

    .. math::
        Q_{E_8}(x) = \\operatorname*{arg\\,min}_{y \\in \\{Q_{D_8}(x),\\;
        Q_{D_8}(x - \\frac12 \\mathbf 1) + \\frac12 \\mathbf 1\\}} |x - y|

    Ties between the two cosets go to ``D8``; inside a coset, :func:`decode_dn`'s rule.

    Parameters
    ----------
    x : (..., 8) array_like
        Standard coordinates (min norm 2, det 1).
    parallel : bool or int

    Returns
    -------
    (..., 8) int64
        ``2 × nearest point``: all coordinates of one parity, sum ≡ 0 (mod 4).

    References
    ----------
    Conway & Sloane, IEEE Trans. Inf. Theory 28 (1982); SPLAG ch. 20 §2.
    """
    a, lead = _as_batch(x, 8, "decode_e8")
    _check_range(a, 2.0, "decode_e8", MAX_ABS_INT_FRAME)
    out = np.empty((a.shape[0], 8), dtype=np.int64)
    if a.shape[0]:
        _run(lambda xs, os_: e8_kernel(xs, 1.0, os_), a, out, parallel)
    return out.reshape(*lead, 8)


# ---------------------------------------------------------------------------- Leech
def decode_leech(x, *, parallel=False) -> np.ndarray:
    """Exact (maximum-likelihood) nearest point of the Leech lattice, in the frame ``√8 Λ24``.

    In the integer frame ``t = √8 x`` the lattice is the union of two half-lattices,

    .. math::
        \\sqrt8\\,\\Lambda_{24} = \\bigcup_{m \\in \\{0,1\\}}
        \\{\\, m\\mathbf 1 + 2c + 4z : c \\in \\mathcal C_{24},\\ z \\in \\mathbb Z^{24},\\
        \\textstyle\\sum_i z_i \\equiv m \\pmod 2 \\,\\},

    and for each half the decoder solves exactly

    .. math::
        \\min_{c \\in \\mathcal C_{24}} \\Big[ \\sum_i d_i(c_i)
        + [\\text{parity of } z \\text{ wrong}]\\ \\min_i e_i(c_i) \\Big]

    with ``d_i(b)`` the squared distance from ``t_i`` to the nearest integer ``≡ m + 2b
    (mod 4)`` and ``e_i(b)`` the extra cost of the runner-up (``±4`` away, the other parity
    of ``z_i``). The Golay code is searched through a sextet (the six MOG columns of
    :func:`leech_sextet_tables`): per column, the 16 bit patterns with their best cost,
    ``z``-parity and cheapest parity flip; per complement pair, the best of its four
    (complement, parity) states and the three penalties for changing them; then, for each
    of the 128 cosets (64 hexacode words × even/odd interpretation) the sum of six column
    optima and a fix of the two remaining parities (complement count, ``Σ z``) by at most
    two column changes, which is exact because three or more changes never pay. Only
    cosets whose unconstrained sum does not exceed the best fix-free coset are finished
    (exact pruning; about three per point on Gaussian input). Points go through in blocks
    of 64 held in SIMD lanes (structure of arrays, points innermost), so every stage but
    the few surviving cosets runs vectorized.

    Ties (equidistant lattice points): the scan keeps the first strictly best candidate in
    the order half ``m = 0`` before ``m = 1``, cosets in the table's sorted order; within a
    column the uncomplemented pattern and the lower coordinate win; a coordinate exactly
    on a point of ``2Z + m`` takes the runner-up class upwards.

    Parameters
    ----------
    x : (..., 24) array_like
        Standard coordinates (min norm 4, det 1).
    parallel : bool or int
        Split the batch over threads (``True``: one per CPU).

    Returns
    -------
    (..., 24) int64
        Nearest point times ``√8``.

    References
    ----------
    Vardy & Be'ery, "Maximum likelihood decoding of the Leech lattice", IEEE Trans. Inf.
    Theory 39 (1993) 1435–1444; Conway & Sloane, SPLAG ch. 4 §11 and ch. 11 (MOG,
    hexacode); Forney, "Coset codes II", IEEE Trans. Inf. Theory 34 (1988).
    """
    a, lead = _as_batch(x, 24, "decode_leech")
    _check_range(a, _SQRT8, "decode_leech", MAX_ABS_INT_FRAME)
    out = np.empty((a.shape[0], 24), dtype=np.int64)
    if a.shape[0]:
        cols, cls_pair, cls_g = leech_sextet_tables()
        _run(
            lambda xs, os_: leech_kernel(xs, _SQRT8, cols, cls_pair, cls_g, os_),
            a,
            out,
            parallel,
        )
    return out.reshape(*lead, 24)


# -------------------------------------------------------------------------- generic
def _auto_depth(n: int) -> int:
    """Deep-insertion depth used by :class:`GenericDecoder` when none is given.

    Deeper insertion costs more reduction time and buys a smaller enumeration tree. Below
    dimension 28 the tree is small and plain LLL wins even for one point; from 28 to 39,
    depth 4 (insertions near the front and just behind) takes most of the gain at a
    quarter of the cost; from 40 on the tree dominates and unrestricted insertion pays
    (on random integer bases, a tree 1.3-1.6x smaller on average than after plain LLL at
    dimensions 40-48, by node counts; the end-to-end effect is in
    ``benchmarks/bench_user_lattices.py``).
    """
    if n < 28:
        return 0
    if n < 40:
        return 4
    return n


class GenericDecoder:
    """Exact closest-vector decoder for the lattice spanned by the rows of ``basis``.

    Preparation (once): LLL reduction with deep insertions ``B' = U B``
    (:func:`~lattiq.lattices.reduction.lll_reduce`) and the QR factorisation
    ``B'^T = Q R``. Decoding (per point): ``y = Q^T x`` and Schnorr–Euchner enumeration of
    integer ``u`` minimising

    .. math:: |x - u B'|^2 = |x - Q Q^T x|^2 + |y - R u|^2,

    zig-zagging around each projected centre and shrinking the radius at every better leaf
    (the first leaf is Babai's nearest-plane point). Nothing is pruned beyond the current
    best distance, so the answer is exact. Coefficients w.r.t. ``basis`` are ``u U``. Exact
    ties: the first leaf found wins. Cost grows exponentially with the dimension; with
    deep insertions the search tree of a random integer lattice has 1–3x fewer nodes than
    after plain LLL at dimensions 40–48, and a step costs O(1) on average (the centres are
    kept as partial sums). Measured against fpylll in ``docs/benchmarks.md``.

    Parameters
    ----------
    basis : (n, m) array_like
        Linearly independent rows (standard coordinates), ``n <= m``. Points off the span
        decode to the nearest point of the lattice in ``R^m``.
    depth : int or None
        Deep-insertion depth of the reduction (``0``: plain LLL, ``n``: unrestricted;
        ``None``: by dimension, see :func:`_auto_depth`).

    References
    ----------
    Schnorr & Euchner, Math. Programming 66 (1994); Agrell, Eriksson, Vardy & Zeger,
    "Closest point search in lattices", IEEE Trans. Inf. Theory 48 (2002).
    """

    def __init__(self, basis, *, depth: int | None = None):
        B = np.asarray(basis)
        if B.dtype.kind not in "iuf" or B.dtype.kind == "b":
            raise TypeError(f"basis must be a real array, got dtype {B.dtype}")
        if B.ndim != 2 or B.shape[0] == 0 or B.shape[0] > B.shape[1]:
            raise ValueError(
                f"basis must be a 2-D array of n <= m rows (n, m) with n >= 1, got shape {B.shape}"
            )
        B = np.ascontiguousarray(B, dtype=np.float64)
        n, m = B.shape
        if depth is None:
            depth = _auto_depth(n)
        elif isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0:
            raise ValueError(f"depth must be an integer >= 0 or None, got {depth!r}")
        W = B.copy()
        U = np.eye(n, dtype=np.int64)
        Q = np.empty((m, n))
        R = np.empty((n, n))
        st = cvp_prepare_kernel(B, W, U, Q, R, 0.99, int(min(depth, n)))
        if st == NONFINITE:
            raise ValueError("basis has NaN or infinite entries")
        if st == DEPENDENT:
            raise ValueError("basis rows are linearly dependent (or numerically so in float64)")
        if st < 0:  # pragma: no cover - would need a pathological basis
            raise RuntimeError("LLL did not converge; the basis may be numerically degenerate")
        self.basis = B
        self.reduced = W
        self.U = U
        self.Q = Q
        self.R = R
        self.dim, self.ambient_dim = n, m
        self.min_gs = float(R.diagonal().min())  # > 0: the kernel checked it
        self._max_abs = MAX_GENERIC_RATIO * self.min_gs

    def decode(self, x, *, parallel=False) -> np.ndarray:
        """Integer coefficients ``(..., n)`` of the nearest lattice point, w.r.t. ``basis``."""
        name = "GenericDecoder.decode"
        a, lead = _as_batch(x, self.ambient_dim, name)
        out = np.empty((a.shape[0], self.dim), dtype=np.int64)
        if a.shape[0]:
            Q, R, U, bound = self.Q, self.R, self.U, self._max_abs
            bad = []

            def chunk(xs, os_):
                if cvp_kernel(xs, Q, R, U, bound, os_):  # refused before decoding
                    bad.append(True)

            _run(chunk, a, out, parallel)
            if bad:  # the standard message; the kernel's test is the same inequality
                _check_range(a, 1.0 / self.min_gs, name, MAX_GENERIC_RATIO)
                raise ValueError(f"{name}: input out of range")  # pragma: no cover
        return out.reshape(*lead, self.dim)

    def nearest(self, x, *, parallel=False) -> np.ndarray:
        """Nearest lattice points ``(..., m)`` as float64 (``coefficients @ basis``)."""
        return self.decode(x, parallel=parallel).astype(np.float64) @ self.basis


@lru_cache(maxsize=32)
def _generic_cached(key: bytes, shape: tuple[int, int]) -> GenericDecoder:
    return GenericDecoder(np.frombuffer(key, dtype=np.float64).reshape(shape))


def _std_basis(L) -> np.ndarray:
    bi = getattr(L, "basis_int", None)
    if bi is not None:
        return np.asarray(bi, dtype=np.float64) * float(L.scale_float)
    return np.asarray(L.basis, dtype=np.float64)


def generic_decoder(L) -> GenericDecoder:
    """The (cached) :class:`GenericDecoder` of a lattice object, on its standard basis."""
    B = np.ascontiguousarray(_std_basis(L))
    return _generic_cached(B.tobytes(), B.shape)


def decode_generic(L, x, *, parallel=False) -> np.ndarray:
    """Decode with the generic enumeration decoder, in ``L``'s integer frame.

    Same output convention as :func:`decode_points` (integer-frame vectors, or coefficient
    vectors when ``L.basis_int is None``), whatever the family: this is the independent
    second algorithm the structured decoders are tested against.
    """
    coef = generic_decoder(L).decode(x, parallel=parallel)
    bi = getattr(L, "basis_int", None)
    if bi is None:
        return coef
    return coef @ np.asarray(bi, dtype=np.int64)


# --------------------------------------------------------------------------- dispatch
def decode_points(L, x, parallel=False) -> np.ndarray:
    """Nearest points of lattice ``L`` to points ``x`` (standard coordinates), exactly.

    Parameters
    ----------
    L : Lattice
        Its family strategy decodes (``L.strategy.decode``: the structured decoders of
        Zn, Dn, An, E8, Leech, the glue decoders of E6, E7 and K12, else the generic
        decoder on ``L.basis`` / ``L.basis_int`` / ``L.scale_float``).
    x : (..., ambient_dim) array_like
        float64 (other real dtypes are cast when exact).
    parallel : bool or int
        Split the batch over threads.

    Returns
    -------
    (..., ambient_dim) int64
        Integer-frame vectors; ``(..., dim)`` integer coefficients w.r.t. ``L.basis`` when
        ``L.basis_int is None``. ``L.nearest(x) = L.scale * decode_points(L, x)``.
    """
    d = int(L.ambient_dim)
    a, lead = _as_batch(x, d, f"{L.name}.decode")
    out = L.strategy.decode(L, a, parallel=parallel)
    return out.reshape(*lead, out.shape[-1])
