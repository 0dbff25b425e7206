"""Spherical designs: Gegenbauer moments and the design strength of a point set.

A finite set :math:`X \\subset S^{d-1}` of :math:`N` points is a spherical ``t``-design when
the average of every polynomial of degree :math:`\\le t` over :math:`X` equals its average
over the sphere. By the addition theorem this holds exactly when the normalized Gegenbauer
moments

.. math::
    M_k(X) = \\frac{1}{N^2}\\sum_{i,j} P_k(\\langle x_i, x_j\\rangle)
           = \\frac{1}{\\dim \\mathrm{Harm}_k}
             \\sum_{\\ell}\\Big|\\frac1N\\sum_i Y_{k\\ell}(x_i)\\Big|^2 \\ \\ge 0

vanish for :math:`k = 1, \\ldots, t` (``P_k`` normalized by ``P_k(1) = 1``; the sum over
``i, j`` includes ``i = j``). The *design strength* is the largest such ``t``.

Three ways to compute :math:`M_k`:

* ``"pairs"`` (any dimension): all :math:`N^2` inner products in BLAS tiles, each run
  through the three-term recurrence by a numba kernel; memory :math:`O(N d + \\text{tile})`,
  time :math:`O(N^2 (d + t))`. An exactly antipodal set (``X = -X``) is reduced to one
  point of each pair: its odd moments vanish and its even ones come from a quarter of the
  pairs.
* ``"harmonic"`` (``d = 2, 3``): the addition theorem
  :math:`\\sum_{i,j} P_k = \\frac{4\\pi}{2k+1}\\sum_m |\\sum_i Y_{km}(x_i)|^2` with the
  stable normalized associated-Legendre recurrence, time :math:`O(N t^2)` and a sum of
  squares (no cancellation): a million points on :math:`S^2` in seconds.
* From an inner-product distribution ``{t: count}`` (:func:`design_strength_from_distribution`):
  for a distance-invariant code (Leech, E8, the kissing configurations) the distribution seen
  from one point gives :math:`M_k = \\frac1N\\sum_t c_t P_k(t)` in :math:`O(\\#\\{t\\}\\cdot k)`,
  exactly when the inner products are rational.

Degrees 1 and 2 are always computed first in :math:`O(N d^2)` as sums of squares,
:math:`M_1 = \\lVert \\sum x_i\\rVert^2 / N^2` and
:math:`M_2 = \\frac{d}{d-1}\\lVert X^\\top X / N - I/d\\rVert_F^2`, so a code that is not a
2-design (random codes) costs almost nothing.

"Zero" is decided against the float64 round-off floor of each moment (see
:func:`design_strength`), unless a tolerance is given.

References
----------
P. Delsarte, J.-M. Goethals and J. J. Seidel, "Spherical codes and designs", Geom. Dedicata
6 (1977) 363-388 (Theorem 5.3, Definition 5.1).
J. H. Conway and N. J. A. Sloane, SPLAG, ch. 3 §2 (designs) and ch. 9.
E. Bannai and E. Bannai, "A survey on spherical designs and algebraic combinatorics on
spheres", European J. Combin. 30 (2009) 1392-1425.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from .bounds import gegenbauer_all

__all__ = [
    "design_strength",
    "design_strength_from_distribution",
    "distribution_moments",
    "gegenbauer_moments",
    "moment_floors",
]

_EPS = float(np.finfo(np.float64).eps)
#: Safety factor between a moment's estimated round-off and the threshold for "zero".
_FLOOR_SAFETY = 100.0
_TILE_ROWS = 1024
_TILE_COLS = 4096
_CHUNK = 1 << 16


# ----------------------------------------------------------------------------- checks


def _as_points(points) -> np.ndarray:
    """Validated (N, d) float64 unit vectors, renormalized to float64 precision."""
    if hasattr(points, "points") and not isinstance(points, np.ndarray):
        points = points.points
    X = np.asarray(points)
    if X.dtype == object or not (
        np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)
    ):
        raise TypeError(f"points must be a real array of shape (N, d), got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"points must have shape (N, d), got shape {X.shape}")
    n, d = X.shape
    if n < 1:
        raise ValueError("points is empty: a design needs at least one point")
    if d < 2:
        raise ValueError(f"points must live on S^(d-1) with d >= 2, got d = {d}")
    X = X.astype(np.float64, copy=False)
    if not np.all(np.isfinite(X)):
        raise ValueError("points contain NaN or Inf")
    norms = np.linalg.norm(X, axis=1)
    err = float(np.max(np.abs(norms - 1.0)))
    if err > 1e-9:
        raise ValueError(
            f"points must be unit vectors (largest | |x| - 1 | is {err:.3g}); "
            "normalize them first, e.g. X / np.linalg.norm(X, axis=1, keepdims=True)"
        )
    return X / norms[:, None] if err > 0 else X


def _check_degree(max_k, name: str = "max_t") -> int:
    if isinstance(max_k, bool) or not isinstance(max_k, (int, np.integer)) or max_k < 1:
        raise ValueError(f"{name} must be an int >= 1, got {max_k!r}")
    return int(max_k)


def _check_tol(tol):
    if tol is None:
        return None
    tol = float(tol)
    if not (tol >= 0.0 and math.isfinite(tol)):
        raise ValueError(f"tol must be None or a finite number >= 0, got {tol}")
    return tol


def _check_method(method: str, d: int) -> str:
    if method not in ("auto", "pairs", "harmonic"):
        raise ValueError(f"method must be 'auto', 'pairs' or 'harmonic', got {method!r}")
    if method == "harmonic" and d > 3:
        raise ValueError(f"method 'harmonic' is for S^1 and S^2 (d <= 3), got d = {d}")
    if method == "auto":
        return "harmonic" if d <= 3 else "pairs"
    return method


# ----------------------------------------------------------------------------- moments


def _low_moments(X: np.ndarray) -> tuple[float, float]:
    """``M_1`` and ``M_2`` as sums of squares, in O(N d^2)."""
    n, d = X.shape
    m1 = float(np.sum(X.sum(axis=0) ** 2)) / float(n) ** 2
    A = (X.T @ X) / n
    A[np.diag_indices(d)] -= 1.0 / d
    m2 = d / (d - 1.0) * float(np.sum(A * A))
    return m1, m2


def _recurrence(d: int, kmax: int) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(max(kmax, 1), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (2 * k + d - 2) / (k + d - 2)
        b = k / (k + d - 2)
    a[0] = b[0] = 0.0
    return a, b


def _antipodal_half(X: np.ndarray) -> np.ndarray | None:
    """One point of each pair ``{x, -x}`` if the multiset ``X`` equals ``-X`` exactly."""
    n = X.shape[0]
    if n % 2:
        return None
    nz = X != 0
    first = np.argmax(nz, axis=1)
    pos = X[np.arange(n), first] > 0
    H, Hn = X[pos], -X[~pos]
    if H.shape[0] != Hn.shape[0]:
        return None
    H = H[np.lexsort(H.T[::-1])]
    Hn = Hn[np.lexsort(Hn.T[::-1])]
    return H if np.array_equal(H, Hn) else None


def _pair_sums(X: np.ndarray, kmax: int) -> np.ndarray:
    """``sum_{i,j} P_k(<x_i, x_j>)`` over ordered pairs: blocks on and right of the diagonal."""
    from ._kernels_design import tile_gegenbauer_sums

    n, d = X.shape
    rec_a, rec_b = _recurrence(d, kmax)
    total = np.zeros(kmax + 1, dtype=np.float64)
    for i0 in range(0, n, _TILE_ROWS):
        A = X[i0 : i0 + _TILE_ROWS]
        r = A.shape[0]
        diag = np.zeros((r, kmax + 1), dtype=np.float64)
        tile_gegenbauer_sums(np.clip(A @ A.T, -1.0, 1.0), kmax, rec_a, rec_b, diag)
        off = np.zeros((r, kmax + 1), dtype=np.float64)
        for j0 in range(i0 + r, n, _TILE_COLS):
            G = np.clip(A @ X[j0 : j0 + _TILE_COLS].T, -1.0, 1.0)
            tile_gegenbauer_sums(G, kmax, rec_a, rec_b, off)
        total += diag.sum(axis=0) + 2.0 * off.sum(axis=0)
    return total


def _moments_pairs(X: np.ndarray, kmax: int) -> np.ndarray:
    n = X.shape[0]
    H = _antipodal_half(X)
    if H is None:
        return _pair_sums(X, kmax) / float(n) ** 2
    # X = H u (-H): even k sum to 4 x (sum over H), odd k cancel exactly
    S = 4.0 * _pair_sums(H, kmax) / float(n) ** 2
    S[1::2] = 0.0
    return S


def _moments_harmonic(X: np.ndarray, kmax: int) -> np.ndarray:
    """Addition theorem on S^1 (Fourier) and S^2 (normalized associated Legendre)."""
    n, d = X.shape
    out = np.zeros(kmax + 1, dtype=np.float64)
    if d == 2:
        sums = np.zeros(kmax + 1, dtype=np.complex128)
        for c0 in range(0, n, _CHUNK):
            w = X[c0 : c0 + _CHUNK, 0] + 1j * X[c0 : c0 + _CHUNK, 1]
            p = np.ones_like(w)
            for k in range(kmax + 1):
                sums[k] += p.sum()
                p = p * w
        return np.abs(sums) ** 2 / float(n) ** 2
    # d == 3: Y_km ∝ Q_k^m(z) (x + iy)^m with ∫ (r^m Q_k^m)^2 dz = 1
    S = np.zeros((kmax + 1, kmax + 1), dtype=np.complex128)  # S[k, m]
    for c0 in range(0, n, _CHUNK):
        x, y, z = (np.ascontiguousarray(X[c0 : c0 + _CHUNK, j]) for j in range(3))
        W = np.empty((x.size, 2))  # real and imaginary parts of (x + iy)^m
        W[:, 0], W[:, 1] = 1.0, 0.0
        Q = np.empty((kmax + 1, x.size))
        qmm = math.sqrt(0.5)
        for m in range(kmax + 1):
            if m > 0:
                qmm *= math.sqrt((2 * m + 1) / (2.0 * m))
                W[:, 0], W[:, 1] = W[:, 0] * x - W[:, 1] * y, W[:, 0] * y + W[:, 1] * x
            Q[m] = qmm
            if m + 1 <= kmax:
                np.multiply(z, math.sqrt(2 * m + 3) * qmm, out=Q[m + 1])
            for k in range(m + 2, kmax + 1):
                den = k * k - m * m
                a = math.sqrt((4 * k * k - 1) / den)
                b = math.sqrt(((k - 1) ** 2 - m * m) * (2 * k + 1) / ((2 * k - 3) * den))
                np.multiply(z, Q[k - 1], out=Q[k])
                Q[k] *= a
                Q[k] -= b * Q[k - 2]
            R = Q[m:] @ W
            S[m:, m] += R[:, 0] + 1j * R[:, 1]
    P = np.abs(S) ** 2
    for k in range(kmax + 1):
        out[k] = 2.0 / (2 * k + 1) * (P[k, 0] + 2.0 * P[k, 1 : k + 1].sum())
    return out / float(n) ** 2


def moment_floors(n: int, d: int, max_k: int, method: str = "auto") -> np.ndarray:
    """Estimated float64 round-off of each computed moment :math:`M_k` (``k = 0..max_k``).

    Below ``100 x`` this floor a moment counts as zero when ``tol`` is ``None``.

    * ``M_1``, ``M_2`` and the ``"harmonic"`` moments are sums of squares of averages, each
      average off by at most about :math:`\\varepsilon(\\log_2 N + k + d)`:
      floors of order :math:`10^{-28}`.
    * ``"pairs"`` moments are averages of :math:`P_k` at inner products off by
      :math:`d\\varepsilon`, so about :math:`\\varepsilon (d P_k'(1) + k + 64)` with
      :math:`P_k'(1) = k(k+d-2)/(d-1)`: floors of order :math:`10^{-14}`.
    """
    method = _check_method(method, d)
    k = np.arange(max_k + 1, dtype=np.float64)
    lg = math.log2(max(n, 2)) + 2.0
    if method == "harmonic":
        fl = (2 * k + 1) * (_EPS * (lg + k + d)) ** 2
    else:
        fl = _EPS * (d * k * (k + d - 2) / (d - 1) + k + 64.0)
    fl[0] = 0.0
    if max_k >= 1:
        fl[1] = d * (_EPS * lg) ** 2
    if max_k >= 2:
        fl[2] = d / (d - 1.0) * d * d * (_EPS * (4 * math.sqrt(n) + lg + d)) ** 2
    return fl


def gegenbauer_moments(points, max_k: int, method: str = "auto") -> np.ndarray:
    """Normalized Gegenbauer moments :math:`M_0 = 1, M_1, \\ldots, M_{\\max k}` of a point set.

    .. math:: M_k = \\frac{1}{N^2}\\sum_{i,j=1}^{N} P_k(\\langle x_i, x_j\\rangle) \\in [0, 1]

    Parameters
    ----------
    points : (N, d) array_like
        Unit vectors (checked to ``1e-9``, then renormalized), or any object with a
        ``points`` attribute.
    max_k : int
        Largest degree.
    method : {"auto", "pairs", "harmonic"}
        See the module docstring; ``"auto"`` is ``"harmonic"`` for ``d <= 3`` and
        ``"pairs"`` otherwise. ``M_1`` and ``M_2`` always come from the :math:`O(N d^2)`
        sums of squares.

    Returns
    -------
    (max_k + 1,) float64 array

    References
    ----------
    Delsarte, Goethals & Seidel (1977), Theorem 5.3.
    """
    X = _as_points(points)
    kmax = _check_degree(max_k, "max_k")
    method = _check_method(method, X.shape[1])
    return _moments(X, kmax, method)


def _moments(X: np.ndarray, kmax: int, method: str) -> np.ndarray:
    if kmax >= 3:
        out = _moments_harmonic(X, kmax) if method == "harmonic" else _moments_pairs(X, kmax)
    else:
        out = np.zeros(kmax + 1)
    out[0] = 1.0
    m1, m2 = _low_moments(X)
    out[1] = m1
    if kmax >= 2:
        out[2] = m2
    return out


def design_strength(points, max_t: int = 20, tol: float | None = None, method: str = "auto") -> int:
    """Largest ``t <= max_t`` such that the points form a spherical ``t``-design.

    .. math::
        t(X) = \\max\\{t : M_k(X) = 0 \\text{ for } k = 1, \\ldots, t\\}, \\qquad
        M_k = \\frac{1}{N^2}\\sum_{i,j} P_k(\\langle x_i, x_j\\rangle)

    A set that is not balanced (:math:`\\sum x_i \\ne 0`, e.g. random points) has
    strength 0; an antipodal set has every odd moment zero, so random antipodal points have
    strength 1. Known values: icosahedron 5, cube 3, cross-polytope 3, D4 roots 5, E8 roots
    7, the (22, 891) code 5, the (23, 4600) code 7, the 196,560 minimal vectors of the Leech
    lattice 11.

    Parameters
    ----------
    points : (N, d) array_like
        Unit vectors, or an object with a ``points`` attribute (a ``SphericalCode``).
    max_t : int
        Largest degree checked; the result is ``max_t`` when every moment up to it vanishes
        (the true strength may be larger).
    tol : float or None
        ``None`` (default): a moment is zero when it is below 100 times its float64
        round-off floor (:func:`moment_floors`), so the answer is that of the float64 points
        as given: points computed in lower precision should pass a ``tol`` such as
        ``1e-10``. A float: one threshold on every normalized moment (random points have
        :math:`M_k \\approx 1/N`).
    method : {"auto", "pairs", "harmonic"}
        How moments of degree >= 3 are computed (see :func:`gegenbauer_moments`). The
        ``"pairs"`` path costs :math:`O(N^2 t)`: minutes for the 196,560 Leech vectors. For
        a distance-invariant code prefer :func:`design_strength_from_distribution`, which
        needs only the inner products seen from one point.

    Returns
    -------
    int

    References
    ----------
    Delsarte, Goethals & Seidel (1977); SPLAG ch. 3 §2.
    """
    X = _as_points(points)
    max_t = _check_degree(max_t)
    tol = _check_tol(tol)
    n, d = X.shape
    method = _check_method(method, d)
    thr = (
        _FLOOR_SAFETY * moment_floors(n, d, max_t, method)
        if tol is None
        else np.full(max_t + 1, tol)
    )
    m1, m2 = _low_moments(X)
    if m1 > thr[1]:
        return 0
    if max_t == 1:
        return 1
    if m2 > thr[2]:
        return 1
    if max_t == 2:
        return 2
    M = _moments(X, max_t, method)
    return _strength_from_moments(M, thr)


def _strength_from_moments(M, thr) -> int:
    t = 0
    for k in range(1, len(M)):
        ok = (M[k] == 0) if thr is None else (abs(float(M[k])) <= thr[k])
        if not ok:
            break
        t = k
    return t


def _read_distribution(distribution, exact: bool | None):
    if not isinstance(distribution, Mapping):
        raise TypeError(
            f"distribution must be a mapping {{inner product: count}}, got "
            f"{type(distribution).__name__}"
        )
    if not distribution:
        raise ValueError("distribution is empty")
    items = list(distribution.items())

    def is_rational(v):
        if isinstance(v, bool):
            return False
        if isinstance(v, (int, np.integer, Fraction)):
            return True
        return type(v).__module__.startswith("sympy") and bool(getattr(v, "is_Rational", False))

    all_rational = all(is_rational(t) for t, _ in items)
    if exact is None:
        exact = all_rational
    if exact and not all_rational:
        raise TypeError(
            "exact=True needs rational inner products (int, Fraction or sympy Rational keys)"
        )
    ts, cs = [], []
    for t, c in items:
        if exact:
            if hasattr(t, "q"):  # sympy Rational
                tv = Fraction(int(t.p), int(t.q))
            else:
                tv = Fraction(int(t) if isinstance(t, np.integer) else t)
        else:
            try:
                tv = float(t)
            except (TypeError, ValueError):
                raise TypeError(f"inner product {t!r} is not a real number") from None
            if not math.isfinite(tv):
                raise ValueError(f"inner product {t!r} is not finite")
        if tv < -1 or tv > 1:
            if exact or abs(tv) > 1 + 1e-9:
                raise ValueError(f"inner product {t!r} lies outside [-1, 1]")
            tv = max(-1.0, min(1.0, tv))
        try:
            cv = float(c)
        except (TypeError, ValueError):
            raise TypeError(f"count {c!r} for inner product {t!r} is not a number") from None
        if not (cv >= 0 and math.isfinite(cv)):
            raise ValueError(f"count {c!r} for inner product {t!r} must be a finite number >= 0")
        if exact:
            if cv != int(cv):
                raise ValueError(f"count {c!r} must be an integer when exact")
            cv = int(c)
        ts.append(tv)
        cs.append(cv)
    if not any(c > 0 and abs(float(t) - 1.0) <= 1e-12 for t, c in zip(ts, cs, strict=True)):
        raise ValueError(
            "the distribution must include the pair of a point with itself (inner product 1, "
            "count 1 seen from one point): M_k sums over all i, j including i = j"
        )
    return ts, cs, exact


def distribution_moments(distribution, dim: int, max_k: int, exact: bool | None = None):
    """Normalized Gegenbauer moments from an inner-product distribution.

    .. math:: M_k = \\frac{\\sum_t c_t P_k(t)}{\\sum_t c_t}

    ``distribution`` is ``{inner product: count}`` either as seen from one point of a
    distance-invariant code (counts add up to ``N``, the point itself counted once at
    ``t = 1``) or over all ordered pairs (counts add up to ``N^2``). With rational inner
    products (``int``, :class:`fractions.Fraction` or sympy ``Rational`` keys; ``exact=None``
    detects them) the moments are exact :class:`~fractions.Fraction` values.

    Returns
    -------
    list
        ``[M_0, ..., M_max_k]`` (Fractions when exact, floats otherwise).
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 2:
        raise ValueError(f"dim must be an int >= 2, got {dim!r}")
    kmax = _check_degree(max_k, "max_k")
    ts, cs, exact = _read_distribution(distribution, exact)
    total = sum(cs)
    M = [Fraction(0) if exact else 0.0 for _ in range(kmax + 1)]
    for t, c in zip(ts, cs, strict=True):
        P = gegenbauer_all(kmax, int(dim), t)
        for k in range(kmax + 1):
            M[k] += c * P[k]
    return [m / total for m in M]


def design_strength_from_distribution(
    distribution,
    dim: int,
    max_t: int = 20,
    tol: float | None = None,
    exact: bool | None = None,
) -> int:
    """Design strength from an inner-product distribution (fast path for symmetric codes).

    .. math::
        t = \\max\\{t : \\textstyle\\sum_\\tau c_\\tau P_k(\\tau) = 0,\\ k = 1..t\\}

    For a distance-invariant code (every point sees the same inner products: lattice
    shells, E8, Leech and its kissing configurations) the distribution from one point
    decides the design property: the double sum over pairs is ``N`` times the single sum.
    This costs :math:`O(\\#\\{\\tau\\} \\cdot t)` however large the code. Rational inner
    products give an exact answer; with float ones a moment is zero below ``tol``
    (default: 100 times :math:`\\varepsilon (P_k'(1) + k + 16)`, the effect of rounding the
    inner products to float64).

    Parameters
    ----------
    distribution : Mapping
        ``{inner product: count}`` including the point itself (``1: 1``), from one point of
        a distance-invariant code, or over all ordered pairs of any code.
    dim : int
        Ambient dimension ``d`` of :math:`S^{d-1}`.
    max_t : int
        Largest degree checked.
    tol : float or None
        Threshold for float inner products (ignored in exact mode).
    exact : bool or None
        Force (True) or forbid (False) rational arithmetic; ``None`` detects it.

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> leech = {1: 1, F(1, 2): 4600, F(1, 4): 47104, 0: 93150, F(-1, 4): 47104,
    ...          F(-1, 2): 4600, -1: 1}
    >>> design_strength_from_distribution(leech, 24)
    11
    """
    max_t = _check_degree(max_t)
    tol = _check_tol(tol)
    M = distribution_moments(distribution, dim, max_t, exact)
    if isinstance(M[0], Fraction):
        return _strength_from_moments(M, None)
    if tol is None:
        k = np.arange(max_t + 1, dtype=np.float64)
        thr = _FLOOR_SAFETY * _EPS * (k * (k + dim - 2) / (dim - 1) + k + 16.0)
    else:
        thr = np.full(max_t + 1, tol)
    return _strength_from_moments(M, thr)
