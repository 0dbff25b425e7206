"""Exact integer linear algebra: Hermite normal form, rank, determinants, Gram matrices.

Everything runs in Python integers (no overflow), vectorised over numpy ``object`` arrays
where that helps. Rank and determinant use fraction-free Gaussian elimination (Bareiss
1968): every intermediate entry is a minor of the input, so the exact divisions stay in
the integers and the entries grow only linearly in the dimension (a 64 x 64 matrix with
entries below 50 stays under 460 bits). sympy is used only as a last resort, for entries
that are not rational (``sqrt(2)``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy

__all__ = [
    "hermite_normal_form",
    "exact_det",
    "integer_det",
    "integer_gram",
    "integer_rank",
    "integer_rank_certified",
    "rational_entries",
]

#: The prime of the modular rank test (the largest below 2^31, so products fit in int64).
RANK_PRIME = 2_147_483_647


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


def _as_int_objects(M) -> np.ndarray:
    """A 2-D ``object`` array of Python ints (copy) from an integer matrix."""
    a = np.asarray(M)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {a.shape}")
    if a.dtype.kind in "iu":
        return a.astype(object)
    out = np.empty(a.shape, dtype=object)
    for idx, v in np.ndenumerate(a):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"expected integer entries, got {v!r} of type {type(v).__name__}")
        out[idx] = int(v)
    return out


def _bareiss(A: np.ndarray) -> tuple[int, int]:
    """Fraction-free Gaussian elimination of the integer ``object`` array ``A`` (in place).

    Returns ``(rank, last)`` where ``last`` is the last pivot with the sign of the row
    permutation; for a square matrix of full rank ``last`` is its determinant.

    After step ``r`` (pivot columns ``c_0 < … < c_r``), entry ``(i, j)`` below and to the
    right is the minor on rows ``{0..r, i}`` and columns ``{c_0..c_r, j}`` (Sylvester's
    identity), so the division by the previous pivot is exact:

    .. math:: a^{(r)}_{ij} = \\big(a^{(r-1)}_{rr} a^{(r-1)}_{ij}
              - a^{(r-1)}_{ir} a^{(r-1)}_{rj}\\big) / a^{(r-2)}_{r-1,r-1}.

    References
    ----------
    Bareiss, "Sylvester's identity and multistep integer-preserving Gaussian elimination",
    Math. Comp. 22 (1968) 565–578.
    """
    k, m = A.shape
    prev = 1
    sign = 1
    r = 0
    for c in range(m):
        if r == k:
            break
        col = A[r:, c]
        nz = np.flatnonzero(col != 0)
        if nz.size == 0:
            continue  # no pivot in this column: it depends on the earlier ones
        p = r + int(nz[0])
        if p != r:
            A[[r, p]] = A[[p, r]]
            sign = -sign
        piv = A[r, c]
        if r + 1 < k and c + 1 < m:
            low = A[r + 1:, c + 1:]
            A[r + 1:, c + 1:] = (low * piv - A[r + 1:, c:c + 1] * A[r, c + 1:]) // prev
        A[r + 1:, c] = 0
        prev = piv
        r += 1
    return r, sign * prev


def integer_rank(M) -> int:
    """Exact rank of an integer matrix (fraction-free elimination on Python ints).

    Rational input is accepted too (each row is scaled by its common denominator).
    """
    ent = rational_entries(M)
    if ent is None:
        return int(sympy.Matrix(np.asarray(M).tolist()).rank())
    A, _ = _scaled_rows(ent)
    return _bareiss(A)[0]


def integer_rank_certified(M) -> int:
    """Exact rank of an integer matrix with entries below ``2^31`` in absolute value.

    The rank modulo the prime ``RANK_PRIME`` is computed first (compiled, int64): it never
    exceeds the rank over the rationals, and when it is full (``min(k, m)``) it proves full
    rank, since some maximal minor is then nonzero modulo the prime and so nonzero. Only a
    deficient result, which a dependent matrix or an unlucky prime gives, is decided again
    by fraction-free elimination on Python integers (:func:`integer_rank`).
    """
    from ._exact_kernels import rank_mod_p_kernel

    a = np.asarray(M)
    if a.dtype.kind not in "iu" or a.ndim != 2:
        raise TypeError(f"expected a 2-D integer array, got {a.dtype} with shape {a.shape}")
    if a.size and int(np.abs(a.astype(np.int64)).max()) >= 2**31:
        raise ValueError("entries must be below 2**31 in absolute value")
    if a.size == 0:
        return 0
    r = int(rank_mod_p_kernel(np.mod(a.astype(np.int64), RANK_PRIME), RANK_PRIME))
    if r == min(a.shape):
        return r
    return _bareiss(a.astype(object))[0]


def integer_det(M) -> int:
    """Exact determinant of a square integer matrix, as a Python ``int`` (Bareiss)."""
    A = _as_int_objects(M)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"determinant needs a square matrix, got {A.shape[0]}x{A.shape[1]}")
    if A.shape[0] == 0:
        return 1
    rank, last = _bareiss(A)
    return int(last) if rank == A.shape[0] else 0


def integer_gram(B) -> np.ndarray:
    """Exact Gram matrix :math:`B B^T` of an integer matrix, as Python ints (``object``).

    Uses an int64 product when no sum can overflow, Python integers otherwise.
    """
    a = np.asarray(B)
    if a.dtype.kind in "iu" and a.size:
        mx = int(np.abs(a.astype(object)).max()) if a.dtype.kind == "u" else int(np.abs(a).max())
        if a.shape[1] * mx * mx < 2**62:
            a64 = a.astype(np.int64)
            return (a64 @ a64.T).astype(object)
    A = _as_int_objects(a)
    return A.dot(A.T)


def rational_entries(M) -> list[list[Fraction]] | None:
    """Entries of a 2-D matrix as ``Fraction``, or ``None`` if one is not rational.

    Accepts Python / numpy integers, ``Fraction``, sympy rationals and integral floats.
    """
    rows = M.tolist() if isinstance(M, (np.ndarray, sympy.MatrixBase)) else M
    out = []
    for row in rows:
        r = []
        for v in row:
            if isinstance(v, Fraction):
                r.append(v)
            elif isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
                r.append(Fraction(int(v)))
            elif isinstance(v, sympy.Rational):
                r.append(Fraction(int(v.p), int(v.q)))
            elif isinstance(v, (float, np.floating)) and float(v).is_integer():
                r.append(Fraction(int(v)))
            else:
                return None
        out.append(r)
    return out


def _scaled_rows(ent: list[list[Fraction]]) -> tuple[np.ndarray, int]:
    """Integer ``object`` matrix ``D * M`` and the common denominator ``D`` of the entries."""
    den = 1
    for row in ent:
        for v in row:
            den = den * v.denominator // math.gcd(den, v.denominator)
    A = np.empty((len(ent), len(ent[0]) if ent else 0), dtype=object)
    for i, row in enumerate(ent):
        for j, v in enumerate(row):
            A[i, j] = v.numerator * (den // v.denominator)
    return A, den


def exact_det(M) -> sympy.Rational | sympy.Expr:
    """Exact determinant of a square matrix with integer, rational or sympy entries.

    Rational matrices go through fraction-free elimination on Python integers
    (:func:`integer_det` after clearing denominators); other sympy entries use sympy.
    """
    S = M if isinstance(M, sympy.MatrixBase) else None
    shape = S.shape if S is not None else np.shape(np.asarray(M, dtype=object))
    if len(shape) != 2 or shape[0] != shape[1]:
        dims = "x".join(str(s) for s in shape)
        raise ValueError(f"determinant needs a square matrix, got {dims}")
    ent = rational_entries(M)
    if ent is None:
        S = sympy.Matrix(M) if S is None else S
        return sympy.nsimplify(S.det(method="bareiss"))
    if shape[0] == 0:
        return sympy.Integer(1)
    A, den = _scaled_rows(ent)
    rank, last = _bareiss(A)
    d = int(last) if rank == shape[0] else 0
    return sympy.Rational(d, den ** shape[0])
