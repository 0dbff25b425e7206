"""What the exact decoders measure: normalized second moment and covering radius.

Both are properties of the Voronoi cell ``V`` of a lattice ``Λ`` of rank ``n``; the exact
decoders of :mod:`lattiq.lattices.decoders` make them computable by sampling: the error
``x − Q_Λ(x)`` of a point ``x`` uniform modulo ``Λ`` is uniform on ``V``.

Sampling is exactly uniform modulo ``Λ``: a full-rank lattice with an integer frame contains
``M·Z^n`` (``M`` = exponent of ``Z^n / Λ_int``: 1 for Zn, 2 for Dn, 4 for E8's ``2·E8``, 8
for ``√8 Λ24``), and the cube ``[0, M)^n`` tiles space under it; any other lattice is
sampled on the parallelepiped spanned by its basis, which tiles space under ``Λ`` itself.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import sympy

from .decoders import decode_points

__all__ = [
    "CoveringRadius",
    "NSMEstimate",
    "covering_radius",
    "known_covering_radius",
    "known_normalized_second_moment",
    "normalized_second_moment",
    "sample_fundamental_region",
]

_CHUNK = 1 << 16


class NSMEstimate(NamedTuple):
    """Monte Carlo estimate of the normalized second moment and its standard error."""

    value: float
    stderr: float


class CoveringRadius(NamedTuple):
    """Covering radius: ``value`` (float), ``exact`` (sympy, or ``None`` when estimated) and
    ``method`` (``"exact"`` or ``"monte-carlo lower bound"``)."""

    value: float
    exact: sympy.Expr | None
    method: str


# ------------------------------------------------------------------------- known values
def known_normalized_second_moment(L) -> sympy.Expr | None:
    """Exact normalized second moment where a closed form is known, else ``None``.

    .. math::
        G(\\mathbb Z^n) = \\tfrac1{12}, \\quad
        G(D_n) = 2^{-2/n}\\Big(\\tfrac1{12} + \\tfrac1{2n(n+1)}\\Big), \\quad
        G(A_n) = (n+1)^{-1/n}\\Big(\\tfrac1{12} + \\tfrac1{6(n+1)}\\Big), \\quad
        G(E_8) = \\tfrac{929}{12960}, \\quad
        G(E_7) = \\tfrac{163}{2016 \\cdot 2^{1/7}}, \\quad
        G(E_6) = \\tfrac{5}{56 \\cdot 3^{1/6}}

    (``D4``: ``13√2/240 ≈ 0.0766032``). The Leech lattice and K12 have no closed form here
    (Monte Carlo ≈ 0.06577 and ≈ 0.07010). The value is the family strategy's
    (:meth:`lattiq.lattices.family.LatticeFamily.known_normalized_second_moment`).

    References
    ----------
    Conway & Sloane, "Voronoi regions of lattices, second moments of polytopes, and
    quantization", IEEE Trans. Inf. Theory 28 (1982); SPLAG ch. 2 Table 2.3, ch. 21.
    """
    return L.strategy.known_normalized_second_moment()


def known_covering_radius(L) -> sympy.Expr | None:
    """Exact covering radius (standard coordinates) where known, else ``None``.

    .. math::
        R(\\mathbb Z^n) = \\tfrac{\\sqrt n}{2}, \\quad
        R(D_n) = \\max\\big(1, \\tfrac{\\sqrt n}{2}\\big), \\quad
        R(A_n) = \\sqrt{\\tfrac{a(n+1-a)}{n+1}},\\ a = \\lfloor\\tfrac{n+1}2\\rfloor, \\quad
        R(E_6) = \\sqrt{4/3}, \\quad R(E_7) = \\sqrt{3/2}, \\quad
        R(E_8) = 1, \\quad R(\\Lambda_{24}) = \\sqrt2

    The value is the family strategy's
    (:meth:`lattiq.lattices.family.LatticeFamily.known_covering_radius`).

    References
    ----------
    SPLAG ch. 4 (§§6.1, 6.2, 7.1, 8.1–8.3, 11) and ch. 23 (the Leech lattice's deep holes).
    """
    return L.strategy.known_covering_radius()


# ----------------------------------------------------------------------------- sampling
def _exponent(B_int: np.ndarray) -> int:
    """Smallest ``M`` with ``M·Z^n ⊂ span_Z(B)`` (lcm of the denominators of ``B^{-1}``)."""
    n = B_int.shape[0]
    A = [[Fraction(int(v)) for v in row] + [Fraction(int(i == j)) for j in range(n)]
         for i, row in enumerate(B_int.tolist())]
    for c in range(n):
        p = next(r for r in range(c, n) if A[r][c] != 0)
        A[c], A[p] = A[p], A[c]
        piv = A[c][c]
        A[c] = [v / piv for v in A[c]]
        for r in range(n):
            if r != c and A[r][c] != 0:
                f = A[r][c]
                A[r] = [a - f * b for a, b in zip(A[r], A[c], strict=True)]
    M = 1
    for row in A:
        for v in row[n:]:
            M = M * v.denominator // math.gcd(M, v.denominator)
    return M


@lru_cache(maxsize=64)
def _cube_side(L) -> int | None:
    if L.basis_int is None or L.dim != L.ambient_dim:
        return None
    M = L.strategy.cube_side()
    if M is not None:
        return M
    if L.dim > 64:
        return None
    return _exponent(np.asarray(L.basis_int))


def sample_fundamental_region(L, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform over a region that tiles space under a sublattice of ``L``.

    Returns ``(n, ambient_dim)`` float64 standard coordinates; modulo ``L`` they are
    uniform. Cube ``scale·[0, M)^dim`` when ``M·Z^dim ⊂ L_int``, else the basis
    parallelepiped ``{u B : u ∈ [0, 1)^dim}``.
    """
    M = _cube_side(L)
    if M is not None:
        return rng.random((n, L.dim)) * (M * L.scale_float)
    return rng.random((n, L.dim)) @ np.asarray(L.basis, dtype=np.float64)


def _nearest_std(L, x: np.ndarray, parallel) -> np.ndarray:
    y = decode_points(L, x, parallel=parallel)
    if L.basis_int is None:
        return y.astype(np.float64) @ np.asarray(L.basis, dtype=np.float64)
    return y.astype(np.float64) * L.scale_float


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _check_samples(n_samples) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2, got {n_samples}")
    return int(n_samples)


# ---------------------------------------------------------------------------- measures
def normalized_second_moment(L, n_samples: int = 200_000, seed=0, parallel=False) -> NSMEstimate:
    """Monte Carlo normalized second moment of ``L`` with the exact decoder.

    .. math::
        G(\\Lambda) = \\frac{1}{n}\\,
        \\frac{\\mathbb E_{x}\\,\\lVert x - Q_\\Lambda(x) \\rVert^2}{\\det(\\Lambda)^{1/n}},
        \\qquad x \\text{ uniform modulo } \\Lambda,

    where ``det(Λ)`` is the Gram determinant (so ``det^{1/n} = V^{2/n}`` for the cell
    volume ``V``). Points are drawn by :func:`sample_fundamental_region`; the standard
    error is the sample standard deviation of the scaled squared errors over ``√N``.

    Parameters
    ----------
    L : Lattice
    n_samples : int
        Number of uniform points (>= 2).
    seed : int, numpy.random.Generator or None
    parallel : bool or int
        Passed to the decoder.

    Returns
    -------
    NSMEstimate
        ``(value, stderr)``. Reproduces ``1/12`` (Zn), ``0.0766032`` (D4) and
        ``929/12960`` (E8) within a few standard errors; Leech gives about 0.06577.

    References
    ----------
    Conway & Sloane, SPLAG ch. 2 §3 and ch. 21; Agrell & Allen, "On the best lattice
    quantizers", IEEE Trans. Inf. Theory 69 (2023) (Monte Carlo methodology).
    """
    N = _check_samples(n_samples)
    rng = _rng(seed)
    n = L.dim
    norm = n * float(L.det()) ** (1.0 / n)
    count, mean, m2 = 0, 0.0, 0.0
    done = 0
    while done < N:
        b = min(_CHUNK, N - done)
        x = sample_fundamental_region(L, b, rng)
        e = ((x - _nearest_std(L, x, parallel)) ** 2).sum(axis=1) / norm
        bm = float(e.mean())
        bm2 = float(((e - bm) ** 2).sum())
        tot = count + b
        d = bm - mean
        mean += d * b / tot
        m2 += bm2 + d * d * count * b / tot
        count = tot
        done += b
    var = m2 / (count - 1)
    return NSMEstimate(mean, math.sqrt(var / count))


def covering_radius(
    L, method: str = "auto", n_samples: int = 100_000, seed=0, refine_steps: int = 200,
    parallel=False,
) -> CoveringRadius:
    """Covering radius: exact where known, else a Monte Carlo lower estimate.

    .. math:: R(\\Lambda) = \\max_{x} \\min_{v \\in \\Lambda} \\lVert x - v \\rVert

    ``method="auto"`` returns :func:`known_covering_radius` when it exists (Zn, Dn, An,
    E8, Leech: ``√2`` at min norm 4) and estimates otherwise; ``"monte-carlo"`` always
    estimates. The estimate is the largest distance to the decoded point over
    ``n_samples`` uniform points, then improved by ``refine_steps`` rounds of random
    hill-climbing (inside the lattice's span) from the 32 farthest points. Every distance
    is exact for a real point, so the estimate never exceeds the true radius.

    Returns
    -------
    CoveringRadius
        ``(value, exact, method)``.

    References
    ----------
    SPLAG ch. 2 §1.2 (definition) and the references of :func:`known_covering_radius`.
    """
    if method not in ("auto", "monte-carlo"):
        raise ValueError(f"method must be 'auto' or 'monte-carlo', got {method!r}")
    if method == "auto":
        ex = known_covering_radius(L)
        if ex is not None:
            return CoveringRadius(float(ex), ex, "exact")
    N = _check_samples(n_samples)
    if isinstance(refine_steps, bool) or not isinstance(refine_steps, (int, np.integer)) or \
            refine_steps < 0:
        raise ValueError(f"refine_steps must be an integer >= 0, got {refine_steps!r}")
    rng = _rng(seed)
    keep_x = np.empty((0, L.ambient_dim))
    keep_d = np.empty(0)
    done = 0
    while done < N:
        b = min(_CHUNK, N - done)
        x = sample_fundamental_region(L, b, rng)
        d = np.sqrt(((x - _nearest_std(L, x, parallel)) ** 2).sum(axis=1))
        allx = np.concatenate([keep_x, x])
        alld = np.concatenate([keep_d, d])
        top = np.argsort(-alld, kind="stable")[:32]
        keep_x, keep_d = allx[top], alld[top]
        done += b
    if refine_steps:
        # orthonormal basis of the lattice's span, so moves stay in it
        q, _ = np.linalg.qr(np.asarray(L.basis, dtype=np.float64).T)
        step = 0.25 * float(keep_d.max())
        for _ in range(int(refine_steps)):
            prop = keep_x + step * (rng.standard_normal((keep_x.shape[0], L.dim)) @ q.T)
            dp = np.sqrt(((prop - _nearest_std(L, prop, parallel)) ** 2).sum(axis=1))
            better = dp > keep_d
            keep_x[better] = prop[better]
            keep_d[better] = dp[better]
            step *= 0.97
    return CoveringRadius(float(keep_d.max()), None, "monte-carlo lower bound")
