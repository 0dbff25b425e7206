"""Upper bounds on the size of spherical codes and on their minimum distance.

A spherical code on :math:`S^{d-1}` with maximal inner product :math:`s` between distinct
points (minimum angle :math:`\\theta = \\arccos s`, chord :math:`\\delta = \\sqrt{2 - 2s}`)
has at most :math:`A(d, s)` points. This module bounds :math:`A(d, s)` from above:

* :func:`rankin_bound` (Rankin 1955): the simplex, cross-polytope and cap bounds;
* :func:`levenshtein_bound` (Levenshtein 1979, 1983, 1998): the universal bound
  :math:`L_m(d, s)` built from adjacent Jacobi polynomials, which the Leech, E8, (23, 4600)
  and (22, 891) codes meet with equality;
* :func:`kabatiansky_levenshtein_bound` (Kabatiansky & Levenshtein 1978): an explicit
  binomial form and the asymptotic exponent;
* :func:`delsarte_lp_bound` (Delsarte, Goethals & Seidel 1977): the linear-programming
  bound over Gegenbauer polynomials, solved with :func:`scipy.optimize.linprog` and made
  rigorous afterwards;

and turns them around into an upper bound on the chord :math:`\\delta_{\\min}` of ``N``
points (:func:`delta_min_upper_bound`), with the Fejes Tóth (1943) bound on :math:`S^2`.

Polynomials. ``P_k`` is the Gegenbauer polynomial of :math:`S^{d-1}` normalized by
:math:`P_k(1) = 1` (the Jacobi polynomial :math:`P_k^{(\\alpha,\\alpha)}`,
:math:`\\alpha = (d-3)/2`, divided by its value at 1), and ``P_k^{a,b}`` is
:math:`P_k^{(\\alpha+a, \\alpha+b)}` normalized the same way (Levenshtein's notation).

References
----------
R. A. Rankin, "The closest packing of spherical caps in n dimensions", Proc. Glasgow Math.
Assoc. 2 (1955) 139-144.
V. I. Levenshtein, "On bounds for packings in n-dimensional Euclidean space", Soviet Math.
Dokl. 20 (1979) 417-421; "Bounds for packings of metric spaces and some of their
applications", Probl. Kibern. 40 (1983) 43-110; "Universal bounds for codes and designs",
ch. 6 of the Handbook of Coding Theory (Pless & Huffman, eds.), Elsevier 1998.
G. A. Kabatiansky and V. I. Levenshtein, "Bounds for packings on a sphere and in space",
Probl. Inf. Transm. 14 (1978) 1-17.
P. Delsarte, J.-M. Goethals and J. J. Seidel, "Spherical codes and designs", Geom. Dedicata
6 (1977) 363-388.
J. H. Conway and N. J. A. Sloane, *Sphere Packings, Lattices and Groups* (SPLAG), 3rd ed.,
ch. 1 §2 and ch. 9.
L. Fejes Tóth, "Über die Abschätzung des kürzesten Abstandes zweier Punkte eines auf einer
Kugelfläche liegenden Punktsystems", Jber. Deutsch. Math. Verein. 53 (1943) 66-68.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
import scipy.integrate
import scipy.optimize
import scipy.special

__all__ = [
    "LPBound",
    "chord_from_inner_product",
    "delsarte_lp_bound",
    "delta_min_upper_bound",
    "dgs_design_bound",
    "fejes_toth_bound",
    "gegenbauer",
    "gegenbauer_all",
    "inner_product_from_chord",
    "kabatiansky_levenshtein_bound",
    "kabatiansky_levenshtein_rate",
    "levenshtein_bound",
    "levenshtein_degree",
    "max_inner_product_lower_bound",
    "rankin_bound",
]


# --------------------------------------------------------------------------- helpers


def _check_dim(d, lo: int = 2) -> int:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise TypeError(f"dimension d must be an int, got {type(d).__name__}")
    d = int(d)
    if d < lo:
        raise ValueError(f"dimension d must be >= {lo} (codes on S^(d-1)), got {d}")
    return d


def _check_s(s, allow_one: bool = False) -> float:
    try:
        v = float(s)
    except (TypeError, ValueError):
        raise TypeError(f"inner product s must be a real number, got {s!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"inner product s must be finite, got {v}")
    hi_ok = v <= 1.0 if allow_one else v < 1.0
    if v < -1.0 or not hi_ok:
        raise ValueError(
            f"maximal inner product s must lie in [-1, 1), got {v}; "
            "for a minimum angle theta use s = cos(theta), for a chord delta s = 1 - delta**2/2"
        )
    return v


def chord_from_inner_product(s):
    """Chord distance of unit vectors with inner product ``s``.

    .. math:: \\delta = \\lVert x - y \\rVert = \\sqrt{2 - 2 s}
    """
    return np.sqrt(np.maximum(2.0 - 2.0 * np.asarray(s, dtype=np.float64), 0.0))


def inner_product_from_chord(delta):
    """Inner product of unit vectors at chord distance ``delta``: :math:`s = 1 - \\delta^2/2`."""
    return 1.0 - 0.5 * np.asarray(delta, dtype=np.float64) ** 2


def gegenbauer(k: int, d: int, t):
    """The zonal (normalized Gegenbauer) polynomial :math:`P_k` of :math:`S^{d-1}` at ``t``.

    Works on Python floats, numpy arrays, :class:`fractions.Fraction` (exact) and sympy
    numbers, through the three-term recurrence

    .. math::
        P_0 = 1,\\quad P_1 = t,\\quad
        P_{k+1}(t) = \\frac{(2k + d - 2)\\, t\\, P_k(t) - k\\, P_{k-1}(t)}{k + d - 2},

    which keeps :math:`P_k(1) = 1`. For ``d = 2`` these are the Chebyshev polynomials.

    Parameters
    ----------
    k : int
        Degree, ``k >= 0``.
    d : int
        Ambient dimension, ``d >= 2``.
    t : float, array_like, Fraction or sympy number
        Argument(s) in ``[-1, 1]`` (any real value is accepted).

    References
    ----------
    Delsarte, Goethals & Seidel (1977), §2; SPLAG ch. 9 §3.
    """
    d = _check_dim(d)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"degree k must be an int >= 0, got {k!r}")
    return gegenbauer_all(int(k), d, t)[int(k)]


def gegenbauer_all(kmax: int, d: int, t) -> list:
    """``[P_0(t), ..., P_kmax(t)]`` for :math:`S^{d-1}` (see :func:`gegenbauer`)."""
    d = _check_dim(d)
    if isinstance(t, (list, tuple)):
        t = np.asarray(t, dtype=np.float64)
    exact = isinstance(t, (Fraction, int)) and not isinstance(t, bool)
    one = Fraction(1) if exact else (t * 0 + 1)
    out = [one]
    if kmax >= 1:
        out.append(t * one)
    for k in range(1, kmax):
        if exact:
            nxt = (Fraction(2 * k + d - 2) * t * out[k] - k * out[k - 1]) / (k + d - 2)
        else:
            nxt = ((2 * k + d - 2) * t * out[k] - k * out[k - 1]) / (k + d - 2)
        out.append(nxt)
    return out


def _bessel_first_zero(a: float) -> float:
    """First positive zero :math:`j_{a,1}` of the Bessel function :math:`J_a` (``a >= 0``)."""
    lo = max(a, 1e-6)
    hi = a + 2.0 * max(a, 1.0) ** (1.0 / 3.0) + 3.0
    while scipy.special.jv(a, hi) > 0:
        hi *= 1.5
    return float(scipy.optimize.brentq(lambda x: scipy.special.jv(a, x), lo, hi, xtol=1e-14))


@lru_cache(maxsize=4096)
def _largest_jacobi_zero(k: int, d: int, a: int, b: int) -> float:
    """Largest zero of :math:`P_k^{(\\alpha+a, \\alpha+b)}` (``α = (d-3)/2``); -1 for k = 0.

    Up to degree 300 from all the roots (Golub-Welsch); beyond, by bracketing in
    :math:`\\theta = \\arccos t` from the Bessel asymptotics
    :math:`\\theta \\approx j_{A,1} / (k + (A + B + 1)/2)` (Szegő, *Orthogonal
    Polynomials*, Theorem 8.1.2) and Brent's method, at O(k) per evaluation.
    """
    if k == 0:
        return -1.0
    A, B = (d - 3) / 2.0 + a, (d - 3) / 2.0 + b
    if k <= 300:
        x, _ = scipy.special.roots_jacobi(k, A, B)
        z = float(np.max(x))
        # one Newton polish on the unnormalized polynomial (roots_jacobi is already ~1e-14)
        p = scipy.special.eval_jacobi(k, A, B, z)
        dp = 0.5 * (k + A + B + 1) * scipy.special.eval_jacobi(k - 1, A + 1, B + 1, z)
        if dp != 0 and math.isfinite(p / dp) and abs(p / dp) < 1e-8:
            z -= p / dp
        return z
    keff = k + 0.5 * (A + B + 1)
    f = lambda th: scipy.special.eval_jacobi(k, A, B, math.cos(th))
    lo = 0.5 * _bessel_first_zero(A) / keff
    while f(lo) <= 0:  # P_k(1) > 0: move towards theta = 0 until above the largest zero
        lo *= 0.5
    step = 0.25 * math.pi / keff  # well below the spacing of consecutive zeros
    hi = lo + step
    while f(hi) > 0:
        lo, hi = hi, hi + step
    th = scipy.optimize.brentq(f, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps)
    return math.cos(th)


def _breakpoint(d: int, m: int) -> float:
    """Right end of Levenshtein's interval :math:`I_m` (left end of :math:`I_{m+1}`).

    ``e_0 = -1``, ``e_{2k-1} = t_k^{1,0}``, ``e_{2k} = t_k^{1,1}``.
    """
    if m == 0:
        return -1.0
    k = (m + 1) // 2
    return _largest_jacobi_zero(k, d, 1, 0 if m % 2 else 1)


def levenshtein_degree(d: int, s) -> int:
    """The index ``m`` with ``s`` in Levenshtein's interval :math:`I_m = [e_{m-1}, e_m]`.

    .. math::
        I_{2k-1} = [t_{k-1}^{1,1}, t_k^{1,0}], \\qquad I_{2k} = [t_k^{1,0}, t_k^{1,1}],

    where :math:`t_k^{a,b}` is the largest zero of :math:`P_k^{a,b}` and
    :math:`t_0^{1,1} = -1`. ``m`` is the degree of Levenshtein's extremal polynomial, and a
    code meeting :math:`L_m` with equality is a spherical ``m``-design.
    """
    d = _check_dim(d)
    s = _check_s(s)
    hi = 1
    while _breakpoint(d, hi) < s:
        hi *= 2
        if hi > 1 << 22:
            raise ValueError(f"s = {s} is too close to 1 for the Levenshtein bound in d = {d}")
    lo = 0  # e_lo < s <= e_hi
    if s <= -1.0:
        return 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _breakpoint(d, mid) < s:
            lo = mid
        else:
            hi = mid
    return hi


def dgs_design_bound(d: int, m: int) -> int:
    """Delsarte-Goethals-Seidel number :math:`D(d, m)`: the fewest points of an ``m``-design.

    .. math::
        D(d, 2k) = \\binom{d+k-1}{d-1} + \\binom{d+k-2}{d-1}, \\qquad
        D(d, 2k-1) = 2\\binom{d+k-2}{d-1}.

    It is also the value of the Levenshtein bound at the left end of :math:`I_m`.
    Reference: Delsarte, Goethals & Seidel (1977), Theorems 5.11-5.12.
    """
    d = _check_dim(d)
    if m < 1:
        raise ValueError(f"design strength m must be >= 1, got {m}")
    k = (m + 1) // 2
    if m % 2:
        return 2 * math.comb(d + k - 2, d - 1)
    return math.comb(d + k - 1, d - 1) + math.comb(d + k - 2, d - 1)


def _levenshtein_m(d: int, m: int, s):
    """:math:`L_m(d, s)`; exact when ``s`` is a Fraction."""
    exact = isinstance(s, Fraction)
    k = (m + 1) // 2
    one = Fraction(1) if exact else 1.0
    if m % 2:  # m = 2k - 1
        P = gegenbauer_all(k, d, s)
        c = math.comb(k + d - 3, k - 1)
        return c * (one * (2 * k + d - 3) / (d - 1) - (P[k - 1] - P[k]) / ((one - s) * P[k]))
    P = gegenbauer_all(k + 1, d, s)
    c = math.comb(k + d - 2, k)
    return c * (
        one * (2 * k + d - 1) / (d - 1)
        - (one + s) * (P[k] - P[k + 1]) / ((one - s) * (P[k] + P[k + 1]))
    )


def levenshtein_bound(d: int, s, exact: bool = False):
    """Levenshtein's universal upper bound on the size of a code with inner products ≤ ``s``.

    For ``s`` in :math:`I_m` (see :func:`levenshtein_degree`), with ``P_i`` the normalized
    Gegenbauer polynomials of :math:`S^{d-1}`:

    .. math::
        L_{2k-1}(d, s) = \\binom{k+d-3}{k-1}\\left[\\frac{2k+d-3}{d-1}
            - \\frac{P_{k-1}(s) - P_k(s)}{(1-s) P_k(s)}\\right],

        L_{2k}(d, s) = \\binom{k+d-2}{k}\\left[\\frac{2k+d-1}{d-1}
            - \\frac{(1+s)\\,(P_k(s) - P_{k+1}(s))}{(1-s)\\,(P_k(s) + P_{k+1}(s))}\\right],

    and :math:`A(d, s) \\le L(d, s)`. ``L`` is continuous and increasing in ``s``:
    ``L_1 = 1 - 1/s`` (Rankin's simplex bound) on ``[-1, -1/d]``, ``L_2 = 2d(1-s)/(1-ds)``
    on ``[-1/d, 0]`` (``2d`` at ``s = 0``, Rankin's cross-polytope bound). It is met with
    equality by the tight codes: Leech (24, 1/2) 196,560; E8 (8, 1/2) 240;
    (23, 1/3) 4,600; (22, 1/4) 891; the regular polygons, the icosahedron.

    Parameters
    ----------
    d : int
        Ambient dimension, ``d >= 2`` (codes on :math:`S^{d-1}`).
    s : float, Fraction, str or sympy Rational
        Maximal inner product between distinct codewords, ``-1 <= s < 1``.
    exact : bool
        If true, evaluate in rational arithmetic and return a :class:`fractions.Fraction`
        (``s`` must then be rational: a Fraction, an int, a string such as ``"1/2"`` or a
        sympy Rational). The interval :math:`I_m` is still located in floating point; at a
        breakpoint both adjacent formulas agree.

    Returns
    -------
    float or Fraction
        :math:`L(d, s)`; every code has at most ``floor(L)`` points.

    References
    ----------
    Levenshtein (1979); (1983); Handbook of Coding Theory (1998) ch. 6, Theorem 5.39 and
    eq. (6.27); SPLAG ch. 9 §2.
    """
    d = _check_dim(d)
    if exact:
        if isinstance(s, float):
            raise TypeError(
                "exact=True needs a rational s (Fraction, int, '1/2' or sympy Rational), "
                f"got the float {s!r}"
            )
        try:
            sf = Fraction(str(s)) if not isinstance(s, (Fraction, int)) else Fraction(s)
        except (ValueError, ZeroDivisionError):
            raise TypeError(f"cannot read {s!r} as a rational number") from None
        _check_s(sf)
        m = levenshtein_degree(d, float(sf))
        return _levenshtein_m(d, m, sf)
    s = _check_s(s)
    m = levenshtein_degree(d, s)
    return float(_levenshtein_m(d, m, s))


# --------------------------------------------------------------------------- Rankin


def _cap_weight_integral(d: int, beta: float) -> float:
    """:math:`\\int_0^\\beta \\sin^{d-2}\\varphi(\\cos\\varphi - \\cos\\beta)\\,d\\varphi`."""
    cb = math.cos(beta)
    val, _ = scipy.integrate.quad(
        lambda p: math.sin(p) ** (d - 2) * (math.cos(p) - cb),
        0.0,
        beta,
        epsabs=0.0,
        epsrel=1e-12,
        limit=200,
    )
    return val


def rankin_bound(d: int, s) -> float:
    """Rankin's bounds on the size of a code on :math:`S^{d-1}` with inner products ≤ ``s``.

    .. math::
        A(d, s) \\le \\begin{cases}
            \\min(d + 1,\\ 1 - 1/s) & s < 0,\\\\
            2d & s = 0,\\\\
            \\dfrac{\\sqrt{\\pi}\\,\\Gamma(\\frac{d-1}{2})\\,\\sin\\beta\\tan\\beta}
                 {2\\,\\Gamma(\\frac{d}{2})\\int_0^{\\beta}\\sin^{d-2}\\varphi\\,
                 (\\cos\\varphi - \\cos\\beta)\\,d\\varphi} & 0 < s < 1,
        \\end{cases}

    with :math:`\\cos\\beta = \\sqrt{s}` (equivalently
    :math:`\\sin\\beta = \\sqrt2\\sin(\\theta/2)`, :math:`\\theta = \\arccos s`).
    The cap bound weights each point by :math:`\\cos\\varphi - \\cos\\beta` on the cap
    of radius :math:`\\beta` around it; the weights at any point of the sphere add up to at
    most :math:`\\sin\\beta\\tan\\beta/2`.
    It is weak near ``s = 0`` and good for small angles.

    References
    ----------
    Rankin (1955); SPLAG ch. 1 §2.6.
    """
    d = _check_dim(d)
    s = _check_s(s)
    if s < 0:
        return float(min(d + 1, 1.0 - 1.0 / s))
    if s == 0:
        return float(2 * d)
    beta = math.acos(math.sqrt(s))
    num = (
        math.sqrt(math.pi)
        * math.exp(math.lgamma((d - 1) / 2.0) - math.lgamma(d / 2.0))
        * math.sin(beta)
        * math.tan(beta)
    )
    den = 2.0 * _cap_weight_integral(d, beta)
    return float(num / den) if den > 0 else math.inf


# ------------------------------------------------------------ Kabatiansky-Levenshtein


def kabatiansky_levenshtein_rate(theta) -> float:
    """Kabatiansky-Levenshtein asymptotic exponent, in bits per dimension.

    For a minimum angle :math:`0 < \\theta < \\pi/2`,

    .. math::
        \\frac{1}{d}\\log_2 A(d, \\cos\\theta) \\le
        \\frac{1 + \\sin\\theta}{2\\sin\\theta}\\log_2\\frac{1 + \\sin\\theta}{2\\sin\\theta}
        - \\frac{1 - \\sin\\theta}{2\\sin\\theta}\\log_2\\frac{1 - \\sin\\theta}{2\\sin\\theta}
        + o(1), \\qquad d \\to \\infty.

    This is an asymptotic statement: ``2 ** (d * rate)`` is not a bound at finite ``d``
    (use :func:`kabatiansky_levenshtein_bound` for an explicit one).

    References
    ----------
    Kabatiansky & Levenshtein (1978), Theorem 4; SPLAG ch. 9 eq. (36).
    """
    theta = float(theta)
    if not 0.0 < theta < math.pi / 2:
        raise ValueError(f"the Kabatiansky-Levenshtein rate needs 0 < theta < pi/2, got {theta}")
    x = math.sin(theta)
    a, b = (1 + x) / (2 * x), (1 - x) / (2 * x)
    return a * math.log2(a) - (b * math.log2(b) if b > 0 else 0.0)


def kabatiansky_levenshtein_bound(d: int, s, form: str = "explicit") -> float:
    """Kabatiansky-Levenshtein bound on :math:`A(d, s)`.

    ``form="explicit"`` (a valid bound for every ``d``): with ``k`` the least integer such
    that the largest zero :math:`t_k^{1,1}` of :math:`P_k^{(\\alpha+1,\\alpha+1)}` is at
    least ``s``,

    .. math:: A(d, s) \\le 2\\binom{d + k - 1}{k},

    the Jacobi-polynomial bound of Kabatiansky & Levenshtein (it is Levenshtein's bound at
    the right end :math:`t_k^{1,1}` of :math:`I_{2k}`, so it is never below
    :func:`levenshtein_bound`). Its growth, through the asymptotics of :math:`t_k^{1,1}`,
    gives the asymptotic exponent.

    ``form="asymptotic"``: :math:`2^{d\\,R(\\theta)}` with
    :math:`R` = :func:`kabatiansky_levenshtein_rate`, ``θ = arccos s`` — an estimate of the
    order of growth, not a bound at finite ``d``.

    References
    ----------
    Kabatiansky & Levenshtein (1978); Levenshtein, Handbook of Coding Theory (1998) ch. 6.
    """
    d = _check_dim(d)
    s = _check_s(s)
    if form == "asymptotic":
        theta = math.acos(s)
        if not 0.0 < theta < math.pi / 2:
            raise ValueError(
                f"the asymptotic form needs 0 < s < 1 (angle below 90 degrees), got s = {s}"
            )
        return float(2.0 ** (d * kabatiansky_levenshtein_rate(theta)))
    if form != "explicit":
        raise ValueError(f"form must be 'explicit' or 'asymptotic', got {form!r}")
    m = levenshtein_degree(d, s)
    k = m // 2 if m % 2 == 0 else (m + 1) // 2
    # s <= e_{2k} = t_k^{1,1}; take the smallest such k
    while k > 0 and _breakpoint(d, 2 * (k - 1)) >= s:
        k -= 1
    return float(dgs_design_bound(d, 2 * k + 1))


# ------------------------------------------------------------------ Delsarte LP bound


@dataclass(frozen=True)
class LPBound:
    """Result of :func:`delsarte_lp_bound`.

    Attributes
    ----------
    value : float
        Rigorous bound :math:`(f(1) - \\varepsilon) / (1 - \\varepsilon)`.
    raw : float
        :math:`f(1)` of the linear program's optimum (constraints only at grid points).
    degree : int
        Largest degree of the polynomial.
    coefficients : numpy.ndarray
        :math:`f_0 = 1, f_1, \\ldots, f_D` (Gegenbauer coefficients).
    max_on_interval : float
        Upper bound :math:`\\varepsilon` of :math:`f` on ``[-1, s]`` (0 when the polynomial
        is nonpositive there), from a fine grid and a derivative bound.
    """

    value: float
    raw: float
    degree: int
    coefficients: np.ndarray
    max_on_interval: float


_LP_EXCHANGE_ROUNDS = 8


def _eval_series(f: np.ndarray, d: int, t: np.ndarray) -> np.ndarray:
    """:math:`\\sum_k f_k P_k(t)`, evaluated in chunks."""
    t = np.asarray(t, dtype=np.float64)
    out = np.empty_like(t)
    for a in range(0, t.size, 1 << 16):
        P = gegenbauer_all(f.size - 1, d, t[a : a + (1 << 16)])
        acc = np.zeros_like(P[0])
        for k, p in enumerate(P):
            acc += f[k] * p
        out[a : a + (1 << 16)] = acc
    return out


def _solve_lp(d: int, s: float, degree: int, grid: np.ndarray) -> np.ndarray:
    P = np.asarray(gegenbauer_all(degree, d, grid))  # (degree+1, G)
    # minimize sum_k f_k  s.t.  sum_{k>=1} f_k P_k(t) <= -1 on the grid, f_k >= 0
    res = scipy.optimize.linprog(
        c=np.ones(degree),
        A_ub=P[1:].T,
        b_ub=-np.ones(grid.size),
        bounds=[(0, None)] * degree,
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0:
        raise RuntimeError(
            f"the LP solver failed for d={d}, s={s} at degree {degree}: {res.message}. "
            "In double precision the LP is reliable while the bound stays below about 1e8 "
            f"(Levenshtein's bound here is {levenshtein_bound(d, s):.3g}); use "
            "levenshtein_bound beyond that"
        )
    return np.concatenate([[1.0], np.maximum(res.x, 0.0)])


def _local_maxima(f: np.ndarray, d: int, s: float, n: int = 20001) -> np.ndarray:
    """Local maxima of the series on ``[-1, s]``, refined by Brent's method."""
    t = np.linspace(-1.0, s, n)
    v = _eval_series(f, d, t)
    idx = np.nonzero((v[1:-1] >= v[:-2]) & (v[1:-1] >= v[2:]))[0] + 1
    out = [t[0], t[-1]]
    g = lambda x: -float(_eval_series(f, d, np.array([x]))[0])
    for i in idx:
        r = scipy.optimize.minimize_scalar(
            g, bounds=(t[i - 1], t[i + 1]), method="bounded", options={"xatol": 1e-15}
        )
        out.append(float(r.x))
    return np.asarray(out)


def _sup_on_interval(f: np.ndarray, d: int, s: float, target: float) -> float:
    """Rigorous upper bound (up to rounding) of ``max(0, sup f)`` on ``[-1, s]``.

    On a uniform grid of spacing ``h`` the piecewise-linear interpolant is off by at most
    ``h**2/8 * max|f''|``, and ``|P_k''(t)| <= P_k''(1)`` on ``[-1, 1]`` for ``d >= 3``.
    """
    k = np.arange(f.size, dtype=np.float64)
    d2 = k * (k + d - 2) / (d - 1) * (k - 1) * (k + d - 1) / (d + 1)
    m2 = float(np.sum(f * np.maximum(d2, 0.0)))
    h = math.sqrt(8.0 * target / m2) if m2 > 0 else (s + 1.0)
    n = int(min(max((s + 1.0) / h, 1000), 4_000_000)) + 1
    t = np.linspace(-1.0, s, n)
    h = (s + 1.0) / (n - 1)
    vmax = float(_eval_series(f, d, t).max())
    return max(0.0, vmax + h * h / 8.0 * m2)


def delsarte_lp_bound(
    d: int,
    s,
    degree: int | None = None,
    n_grid: int = 4001,
    return_details: bool = False,
):
    """Delsarte linear-programming bound on :math:`A(d, s)`.

    If :math:`f(t) = \\sum_{k=0}^{D} f_k P_k(t)` has :math:`f_0 > 0`, :math:`f_k \\ge 0`
    and :math:`f(t) \\le 0` on :math:`[-1, s]`, then

    .. math:: A(d, s) \\le \\frac{f(1)}{f_0} = \\frac{1}{f_0}\\sum_k f_k .

    With :math:`f_0 = 1` the best such :math:`f` of degree :math:`\\le D` solves a linear
    program; here the constraint :math:`f \\le 0` is imposed on a grid over ``[-1, s]``
    (``n_grid`` uniform points plus Chebyshev points, ``s`` itself and ``-1``) and solved
    with HiGHS through :func:`scipy.optimize.linprog`.

    Exactness. A grid solution may be slightly positive between grid points, which would
    make ``f(1)`` too small. Two steps guard against it. First, an exchange loop adds the
    refined local maxima where ``f > 0`` to the grid and solves again. Second, the returned
    value is made rigorous: the maximum :math:`\\varepsilon` of :math:`f` on ``[-1, s]`` is
    bounded from above on a fine uniform grid of spacing ``h`` by the interpolation error
    :math:`h^2/8\\,\\max|f''|` with :math:`|P_k''(t)| \\le P_k''(1)`, and
    :math:`f - \\varepsilon` gives the valid bound :math:`(f(1) - \\varepsilon)/(1 -
    \\varepsilon)` (up to floating-point rounding in the evaluation). ``h`` is chosen so that
    the correction is about ``1e-11 f(1)``; for the tight codes the result matches
    :func:`levenshtein_bound` to better than ``1e-4`` relative (Leech: about ``2e-5``), and
    once ``degree`` reaches :func:`levenshtein_degree` it is never above Levenshtein's bound
    by more than that.

    Range. In double precision the program is reliable while the bound is below about
    ``1e8`` (``d = 24`` up to ``s ≈ 0.7``); beyond, HiGHS may fail (``RuntimeError``) or
    return a looser value, and :func:`levenshtein_bound` is the better tool.

    Parameters
    ----------
    d : int
        Ambient dimension (``d >= 3``).
    s : float
        Maximal inner product, ``-1 < s < 1``.
    degree : int, optional
        Largest polynomial degree ``D``; default ``max(levenshtein_degree + 6, 12)``, at
        most 60.
    n_grid : int
        Number of uniform grid points on ``[-1, s]``.
    return_details : bool
        Return an :class:`LPBound` instead of the float.

    References
    ----------
    Delsarte, Goethals & Seidel (1977), Theorem 4.3; Kabatiansky & Levenshtein (1978);
    Odlyzko & Sloane, "New bounds on the number of unit spheres that can touch a unit sphere
    in n dimensions", J. Combin. Theory A 26 (1979) 210-214; SPLAG ch. 13.
    """
    d = _check_dim(d, lo=3)
    s = _check_s(s)
    if s <= -1.0:
        raise ValueError("s = -1 allows exactly 2 points; the LP bound needs -1 < s < 1")
    if degree is None:
        degree = min(max(levenshtein_degree(d, s) + 6, 12), 60)
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 1:
        raise ValueError(f"degree must be an int >= 1, got {degree!r}")
    degree = int(degree)
    if n_grid < 10:
        raise ValueError(f"n_grid must be >= 10, got {n_grid}")

    cheb = 0.5 * (s - 1.0) + 0.5 * (s + 1.0) * np.cos(np.pi * (np.arange(n_grid) + 0.5) / n_grid)
    grid = np.unique(np.concatenate([np.linspace(-1.0, s, n_grid), cheb, [s, -1.0]]))
    f = None
    for _ in range(_LP_EXCHANGE_ROUNDS):
        f = _solve_lp(d, s, degree, grid)
        # exchange step: add the points where f is positive between grid points
        peaks = _local_maxima(f, d, s)
        bad = peaks[_eval_series(f, d, peaks) > 1e-12 * f.sum()]
        if bad.size == 0:
            break
        grid = np.unique(np.concatenate([grid, bad]))
    raw = float(f.sum())
    eps = _sup_on_interval(f, d, s, target=1e-11 * raw)
    value = math.inf if eps >= 1.0 else (raw - eps) / (1.0 - eps)
    value = max(value, raw)
    out = LPBound(value=float(value), raw=raw, degree=degree, coefficients=f, max_on_interval=eps)
    return out if return_details else out.value


# ----------------------------------------------------------- bounds on delta_min(N)


def fejes_toth_bound(n: int) -> float:
    """Fejes Tóth's bound on the minimum chord of ``n >= 3`` points on :math:`S^2`.

    .. math::
        \\delta_{\\min} \\le \\sqrt{4 - \\csc^2\\omega}, \\qquad
        \\omega = \\frac{n\\pi}{6(n - 2)},

    with equality for n = 3, 4, 6, 12 (triangle, tetrahedron, octahedron, icosahedron).

    References
    ----------
    L. Fejes Tóth (1943); SPLAG ch. 1 §2.6.
    """
    n = _check_n(n)
    if n <= 2:
        return 2.0
    w = n * math.pi / (6.0 * (n - 2))
    return float(math.sqrt(max(4.0 - 1.0 / math.sin(w) ** 2, 0.0)))


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"number of points must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"number of points must be >= 1, got {n}")
    return int(n)


def _levenshtein_inverse(d: int, n: int) -> float:
    """Smallest ``s`` with ``L(d, s) >= n`` (``L`` is continuous and increasing)."""
    if n <= 2:
        return -1.0
    m = 1
    while dgs_design_bound(d, m + 1) <= n:  # L at the left end of I_{m+1}
        m += 1
        if m > 1 << 20:
            raise ValueError(f"{n} points is too many for the Levenshtein inversion in d={d}")
    lo, hi = _breakpoint(d, m - 1), _breakpoint(d, m)
    g = lambda x: _levenshtein_m(d, m, x) - n
    if g(hi) <= 0:
        return hi
    if g(lo) >= 0:
        return lo
    return float(scipy.optimize.brentq(g, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))


def _rankin_inverse(d: int, n: int) -> float:
    """Smallest ``s`` allowed by Rankin's bounds, using the monotone envelope of the cap bound.

    The cap bound is U-shaped in ``s`` (infinite as ``s -> 0+`` and ``s -> 1``); since
    :math:`A(d, s)` increases with ``s``, :math:`A(d, s) \\le \\min_{s' \\ge s} R(s')`.
    """
    if n <= 2:
        return -1.0
    if n <= d + 1:
        return -1.0 / (n - 1)
    if n <= 2 * d:
        return 0.0
    r = scipy.optimize.minimize_scalar(
        lambda x: rankin_bound(d, x), bounds=(1e-9, 1 - 1e-9), method="bounded"
    )
    s_min, r_min = float(r.x), float(r.fun)
    if n <= r_min:
        return 0.0
    g = lambda x: rankin_bound(d, x) - n
    hi = 0.5 * (1.0 + s_min)
    while g(hi) < 0:
        hi = 0.5 * (1.0 + hi)
        if hi > 1 - 1e-15:
            return 1.0
    return float(scipy.optimize.brentq(g, s_min, hi, xtol=1e-14))


def max_inner_product_lower_bound(d: int, n: int, method: str = "best") -> float:
    """Lower bound on the maximal inner product of any ``n`` points on :math:`S^{d-1}`.

    ``s*`` is the least ``s`` with :math:`B(d, s) \\ge n` for the chosen bound ``B``
    (``"levenshtein"``, ``"rankin"``, ``"fejes-toth"`` for ``d = 3``, or ``"best"``: the
    largest of those that apply). Any ``n``-point code has
    :math:`\\max_{i \\ne j}\\langle x_i, x_j\\rangle \\ge s^*`.

    .. math:: s^*(d, n) = \\min\\{ s : B(d, s) \\ge n \\}
    """
    d = _check_dim(d)
    n = _check_n(n)
    methods = {
        "levenshtein": lambda: _levenshtein_inverse(d, n),
        "rankin": lambda: _rankin_inverse(d, n),
        "fejes-toth": lambda: float(1.0 - 0.5 * fejes_toth_bound(n) ** 2),
    }
    if method == "best":
        names = ["levenshtein", "rankin"] + (["fejes-toth"] if d == 3 else [])
        return max(methods[m]() for m in names)
    if method == "fejes-toth" and d != 3:
        raise ValueError(f"the Fejes Toth bound is for S^2 (d = 3), got d = {d}")
    if method not in methods:
        raise ValueError(
            f"unknown method {method!r}; choose from 'best', 'levenshtein', 'rankin', 'fejes-toth'"
        )
    return methods[method]()


def delta_min_upper_bound(d: int, n: int, method: str = "best") -> float:
    """Upper bound on the minimum chord distance of ``n`` points on :math:`S^{d-1}`.

    .. math:: \\delta_{\\min}(n) \\le \\sqrt{2 - 2 s^*(d, n)}

    with :math:`s^*` from :func:`max_inner_product_lower_bound`. The bound is attained by
    the tight codes (e.g. ``d = 24, n = 196560``: 1; ``d = 8, n = 240``: 1).

    Parameters
    ----------
    d : int
        Ambient dimension.
    n : int
        Number of points.
    method : {"best", "levenshtein", "rankin", "fejes-toth"}
        Which bound to invert; ``"best"`` takes the smallest chord among those that apply.
    """
    return float(chord_from_inner_product(max_inner_product_lower_bound(d, n, method)))
