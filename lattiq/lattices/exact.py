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


def lll_reduce_gram(gram, delta: float = 0.99) -> np.ndarray:
    """LLL reduction of a positive definite integer Gram matrix.

    Returns the unimodular integer matrix ``T`` (rows = new basis in old coordinates) such
    that ``T G Tᵀ`` is LLL-reduced (Lenstra, Lenstra & Lovász 1982, with Lovász constant
    ``delta``). The Gram matrix is updated exactly in Python integers; Gram–Schmidt data are
    recomputed in floating point, which only affects how well it is reduced, never the
    exactness of ``T``.
    """
    G = [[int(v) for v in row] for row in np.asarray(gram)]
    n = len(G)
    T = [[int(i == j) for j in range(n)] for i in range(n)]

    def gso():
        mu = np.zeros((n, n))
        bstar = np.zeros(n)
        Gf = np.array(G, dtype=float)
        for i in range(n):
            for j in range(i):
                mu[i, j] = (Gf[i, j] - np.dot(mu[j, :j], mu[i, :j] * bstar[:j])) / bstar[j]
            bstar[i] = Gf[i, i] - np.dot(mu[i, :i] ** 2, bstar[:i])
        return mu, bstar

    def reduce(k, j, q):  # b_k <- b_k - q b_j, exactly
        gkk = G[k][k] - 2 * q * G[j][k] + q * q * G[j][j]
        row = [G[k][r] - q * G[j][r] for r in range(n)]
        row[k] = gkk
        G[k] = row
        for r in range(n):
            G[r][k] = row[r]
        T[k] = [a - q * b for a, b in zip(T[k], T[j], strict=True)]

    def swap(k):
        G[k], G[k - 1] = G[k - 1], G[k]
        for r in range(n):
            G[r][k], G[r][k - 1] = G[r][k - 1], G[r][k]
        T[k], T[k - 1] = T[k - 1], T[k]

    k = 1
    mu, bstar = gso()
    iters = 0
    while k < n:
        iters += 1
        if iters > 100000:  # pragma: no cover - safety net
            break
        for j in range(k - 1, -1, -1):
            q = int(round(mu[k, j]))
            if q:
                reduce(k, j, q)
                mu, bstar = gso()
        if bstar[k] >= (delta - mu[k, k - 1] ** 2) * bstar[k - 1]:
            k += 1
        else:
            swap(k)
            mu, bstar = gso()
            k = max(k - 1, 1)
    return np.array(T, dtype=np.int64)
