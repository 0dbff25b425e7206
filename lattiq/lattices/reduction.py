"""Lattice basis reduction: Gram–Schmidt and LLL (with deep insertions) for bases given as
rows.

LLL (Lenstra, Lenstra & Lovász 1982) turns any basis into one whose vectors are short and
nearly orthogonal; the generic closest-vector decoder enumerates on such a basis. The
kernel is the floating-point variant of Schnorr & Euchner (1994): Gram–Schmidt rows are
recomputed from the current basis, while the basis change ``U`` is kept in exact integers,
so ``U`` is always unimodular and ``U @ B`` is always a basis of the same lattice; floating
point only affects how well reduced the result is, and :func:`is_lll_reduced` checks that.
Deep insertions (Schnorr & Euchner's "LLL with deep insertions") move a row forward past
several others when that shortens a Gram–Schmidt vector; the result is still LLL-reduced
and its Gram–Schmidt norms decay more slowly, which shrinks closest-vector enumeration.
"""

from __future__ import annotations

import numpy as np

from ._reduction_kernels import DEPENDENT, lll_kernel

__all__ = ["gram_schmidt", "is_lll_reduced", "lll_reduce"]


def _as_basis(basis) -> tuple[np.ndarray, bool]:
    B = np.asarray(basis)
    if B.dtype.kind in "bcOUSV" or B.dtype.kind not in "iuf":
        raise TypeError(f"basis must be a real integer or float array, got dtype {B.dtype}")
    if B.ndim != 2 or B.shape[0] == 0 or B.shape[0] > B.shape[1]:
        raise ValueError(
            f"basis must be a 2-D array of n <= m rows (n, m) with n >= 1, got shape {B.shape}"
        )
    if not np.all(np.isfinite(B)):
        raise ValueError("basis has NaN or infinite entries")
    is_int = B.dtype.kind in "iu"
    if is_int and np.abs(B).max() >= 2**53:
        raise ValueError("integer basis entries must be below 2**53 in absolute value")
    return B, is_int


def gram_schmidt(basis) -> tuple[np.ndarray, np.ndarray]:
    """Gram–Schmidt orthogonalisation of the rows ``b_0, …, b_{n-1}`` (no normalisation).

    .. math::
        b_i^* = b_i - \\sum_{j<i} \\mu_{ij} b_j^*, \\qquad
        \\mu_{ij} = \\frac{\\langle b_i, b_j^* \\rangle}{\\langle b_j^*, b_j^* \\rangle}

    Parameters
    ----------
    basis : (n, m) array_like
        Linearly independent rows.

    Returns
    -------
    mu : (n, n) float64
        Lower triangular with unit diagonal.
    bstar_sq : (n,) float64
        ``|b_i^*|²``; their product is the Gram determinant.

    References
    ----------
    Cohen, *A Course in Computational Algebraic Number Theory*, Alg. 2.6.3.
    """
    B, _ = _as_basis(basis)
    B = B.astype(np.float64)
    n = B.shape[0]
    Bs = np.zeros_like(B)
    mu = np.eye(n)
    bn = np.zeros(n)
    for i in range(n):
        v = B[i].copy()
        for j in range(i):
            mu[i, j] = B[i] @ Bs[j] / bn[j]
            v -= mu[i, j] * Bs[j]
        Bs[i] = v
        bn[i] = v @ v
        if not bn[i] > 0:
            raise ValueError(f"basis rows are linearly dependent (row {i})")
    return mu, bn


def lll_reduce(basis, delta: float = 0.99, depth: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """LLL-reduce a lattice basis (rows), optionally with deep insertions.

    The result ``B' = U B`` is size-reduced and satisfies Lovász's condition:

    .. math::
        |\\mu_{ij}| \\le \\tfrac12, \\qquad
        |b_k^*|^2 \\ge (\\delta - \\mu_{k,k-1}^2)\\, |b_{k-1}^*|^2 .

    With ``depth > 0`` it also satisfies the deep-insertion condition for every position
    ``i`` with ``i < depth`` or ``k - i <= depth``: the projection of ``b_k`` orthogonal to
    ``b_0, …, b_{i-1}`` is not shorter than ``sqrt(delta) |b_i^*|``.

    Parameters
    ----------
    basis : (n, m) array_like, n <= m
        Linearly independent rows, integer or float.
    delta : float
        Lovász constant in ``(1/4, 1)``; 0.99 gives well-reduced bases.
    depth : int
        Deep-insertion depth: 0 for plain LLL, ``n`` or more for unrestricted insertions.

    Returns
    -------
    reduced : (n, m) ndarray
        ``U @ basis``: int64 (exact) for integer input, float64 otherwise.
    U : (n, n) int64
        Unimodular change of basis.

    References
    ----------
    Lenstra, Lenstra & Lovász, "Factoring polynomials with rational coefficients",
    Math. Ann. 261 (1982). Schnorr & Euchner, "Lattice basis reduction: improved practical
    algorithms and solving subset sum problems", Math. Programming 66 (1994).
    """
    B, is_int = _as_basis(basis)
    if not 0.25 < float(delta) < 1.0:
        raise ValueError(f"delta must lie in (0.25, 1), got {delta}")
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0:
        raise ValueError(f"depth must be an integer >= 0, got {depth!r}")
    n = B.shape[0]
    work = B.astype(np.float64)  # a copy: the kernel works in place
    U = np.eye(n, dtype=np.int64)
    it = lll_kernel(work, U, float(delta), int(min(depth, n)), 100_000 * n * n)
    if it == DEPENDENT:
        raise ValueError("basis rows are linearly dependent (or numerically so in float64)")
    if it < 0:  # pragma: no cover - would need a pathological basis
        raise RuntimeError("LLL did not converge; the basis may be numerically degenerate")
    if is_int:
        return U @ B.astype(np.int64), U
    return U.astype(np.float64) @ B.astype(np.float64), U


def is_lll_reduced(basis, delta: float = 0.99, eps: float = 1e-9) -> bool:
    """Check size reduction and Lovász's condition, with relative slack ``eps``."""
    mu, bn = gram_schmidt(basis)
    n = len(bn)
    low = np.tril(mu, -1)
    if np.any(np.abs(low) > 0.5 + eps):
        return False
    for k in range(1, n):
        if bn[k] < (delta - mu[k, k - 1] ** 2) * bn[k - 1] * (1 - eps):
            return False
    return True
