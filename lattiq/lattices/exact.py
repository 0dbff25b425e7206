"""Exact integer linear algebra helpers: Hermite normal form and exact Gram determinants.

These run in Python integers (no overflow) and are meant for small matrices (dimension
≤ a few dozen), where exactness matters more than speed.
"""

from __future__ import annotations

import numpy as np
import sympy

__all__ = ["hermite_normal_form", "exact_det", "integer_rank"]


def hermite_normal_form(gens) -> np.ndarray:
    """Row-style Hermite normal form of the lattice spanned by integer rows ``gens``.

    Returns the nonzero rows (a basis of the same Z-module), upper triangular with positive
    pivots, as int64. Exact: the elimination runs on Python integers.

    .. math:: \\mathrm{span}_{\\mathbb Z}(\\text{rows}) = \\mathrm{span}_{\\mathbb Z}(H)
    """
    A = [[int(v) for v in row] for row in np.asarray(gens)]
    if not A:
        raise ValueError("need at least one generator")
    m, n = len(A), len(A[0])
    r = 0
    for c in range(n):
        if r == m:
            break
        # Euclid down column c over rows r..m-1
        while True:
            nz = [i for i in range(r, m) if A[i][c] != 0]
            if not nz:
                break
            p = min(nz, key=lambda i: abs(A[i][c]))
            A[r], A[p] = A[p], A[r]
            done = True
            for i in range(r + 1, m):
                if A[i][c] != 0:
                    q = A[i][c] // A[r][c]
                    A[i] = [a - q * b for a, b in zip(A[i], A[r], strict=True)]
                    if A[i][c] != 0:
                        done = False
            if done:
                break
        if all(A[i][c] == 0 for i in range(r, m)):
            continue
        if A[r][c] < 0:
            A[r] = [-a for a in A[r]]
        for i in range(r):
            q = A[i][c] // A[r][c]
            if q:
                A[i] = [a - q * b for a, b in zip(A[i], A[r], strict=True)]
        r += 1
    H = np.array(A[:r], dtype=object)
    return H.astype(np.int64)


def exact_det(M) -> sympy.Rational | sympy.Expr:
    """Exact determinant of a square matrix with integer, rational or sympy entries."""
    S = sympy.Matrix(M)
    if S.rows != S.cols:
        raise ValueError(f"determinant needs a square matrix, got {S.rows}x{S.cols}")
    return sympy.nsimplify(S.det(method="bareiss"))


def integer_rank(M) -> int:
    """Exact rank of an integer or rational matrix."""
    return int(sympy.Matrix(np.asarray(M).tolist()).rank())

