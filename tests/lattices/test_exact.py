"""Exact integer linear algebra (Bareiss rank / determinant) and ``Lattice.from_basis``.

Oracles: Gaussian elimination over ``Fraction`` (a second algorithm, written here), sympy
for small matrices, and numpy's float determinant where it is exact enough to round.
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices import Lattice, get_lattice
from lattiq.lattices.exact import (
    RANK_PRIME,
    exact_det,
    integer_det,
    integer_gram,
    integer_rank,
    integer_rank_certified,
)


def fraction_rank_det(M):
    """Rank and determinant by Gaussian elimination over the rationals (the oracle)."""
    A = [[Fraction(v) for v in row] for row in M]
    k, m = len(A), len(A[0])
    det = Fraction(1)
    r = 0
    for c in range(m):
        p = next((i for i in range(r, k) if A[i][c] != 0), None)
        if p is None:
            det = Fraction(0)
            continue
        if p != r:
            A[r], A[p] = A[p], A[r]
            det = -det
        det *= A[r][c]
        for i in range(r + 1, k):
            f = A[i][c] / A[r][c]
            if f:
                A[i] = [a - f * b for a, b in zip(A[i], A[r], strict=True)]
        r += 1
        if r == k:
            break
    return r, (det if r == k == m else Fraction(0))


def dependent_rows(rng, k, m, rank, lo=-9, hi=10):
    """A k x m integer matrix of the given rank (rows mixed from ``rank`` random ones)."""
    base = rng.integers(lo, hi, (rank, m))
    mix = rng.integers(-3, 4, (k, rank))
    return mix @ base


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(0, 7), st.integers(0, 2**32 - 1))
def test_rank_and_det_match_fraction_elimination(k, extra, seed):
    rng = np.random.default_rng(seed)
    m = k + extra
    rank = int(rng.integers(0, k + 1))
    M = dependent_rows(rng, k, m, rank) if rank < k else rng.integers(-20, 21, (k, m))
    r_want, d_want = fraction_rank_det(M.tolist())
    assert integer_rank(M) == r_want == integer_rank_certified(M)
    if k == m:
        assert integer_det(M) == d_want
        assert exact_det(M.tolist()) == d_want


def test_fresh_random_against_sympy_and_float():
    rng = np.random.default_rng()
    for n in (1, 2, 5, 9, 12):
        M = rng.integers(-50, 51, (n, n))
        d = integer_det(M)
        assert d == sympy.Matrix(M.tolist()).det(method="bareiss")
        if n <= 5:  # |det| < 2^40: the float determinant rounds to it
            assert d == round(np.linalg.det(M.astype(float)))
    # 30 x 30: too big for float rounding, checked by the Fraction oracle
    M = rng.integers(-50, 51, (30, 30))
    assert integer_det(M) == fraction_rank_det(M.tolist())[1]
    # rank-deficient wide matrices
    M = dependent_rows(rng, 20, 33, 13, -50, 51)
    assert integer_rank(M) == 13 == fraction_rank_det(M.tolist())[0]


def test_exact_det_rational_and_symbolic():
    M = [[Fraction(1, 2), Fraction(1, 3)], [sympy.Rational(2, 5), 7]]
    assert exact_det(M) == Fraction(1, 2) * 7 - Fraction(1, 3) * Fraction(2, 5)
    assert exact_det(sympy.Matrix([[2, 1], [1, 2]])) == 3
    s = sympy.sqrt(2)
    assert exact_det([[s, 1], [1, s]]) == 1  # not rational: sympy's path
    assert exact_det([[3.0, 1], [1, 1]]) == 2
    with pytest.raises(ValueError, match="square"):
        exact_det([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="square"):
        integer_det(np.ones((2, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="integer"):
        integer_det(np.array([[1.5, 0], [0, 1]], dtype=object))


def test_certified_rank_when_the_prime_divides_every_minor():
    p = RANK_PRIME
    M = np.array([[p, 0, 0], [0, 1, 0]], dtype=np.int64)  # rank 1 modulo p, 2 over Q
    assert integer_rank_certified(M) == 2
    S = np.array([[1, 2], [3, 6 - p]], dtype=np.int64)  # det = -p: singular modulo p
    assert integer_rank_certified(S) == 2
    L = Lattice.from_basis(S)
    assert L.det() == p * p
    rng = np.random.default_rng()
    M = dependent_rows(rng, 12, 15, 7, -(2**20), 2**20)
    assert integer_rank_certified(M) == 7 == fraction_rank_det(M.tolist())[0]
    with pytest.raises(ValueError, match="2\\*\\*31"):
        integer_rank_certified(np.array([[2**31, 0], [0, 1]]))
    with pytest.raises(TypeError, match="integer"):
        integer_rank_certified(np.eye(2))


def test_integer_gram_is_exact_beyond_int64():
    B = np.array([[2**31, 2**31 - 1], [-(2**31), 3]], dtype=np.int64)
    G = integer_gram(B)
    want = [[sum(int(a) * int(b) for a, b in zip(r, s, strict=True)) for s in B] for r in B]
    assert G.tolist() == want and G[0, 0] > 2**62


# ------------------------------------------------------------------ Lattice.from_basis
@pytest.mark.parametrize("n", [24, 40])
def test_from_basis_random_integer_exact(n):
    rng = np.random.default_rng()
    B = rng.integers(-50, 51, (n, n))
    L = Lattice.from_basis(B)
    want = fraction_rank_det(B.tolist())[1] ** 2
    assert L.det() == want and L.basis_int.dtype == np.int64
    G = L.gram()
    assert G.shape == (n, n) and G[3, 5] == int(B[3] @ B[5])


def test_from_basis_wide_and_rational():
    rng = np.random.default_rng()
    B = rng.integers(-50, 51, (12, 20))
    L = Lattice.from_basis(B)
    gram = (B.astype(object) @ B.T.astype(object)).tolist()
    assert L.det() == fraction_rank_det(gram)[1]
    # rational rows: integer frame = basis x common denominator
    R = [[Fraction(int(v), 6) for v in row] for row in B]
    U = Lattice.from_basis(R)
    assert U.scale == sympy.Rational(1, 6) and np.array_equal(U.basis_int, B)
    assert U.det() == L.det() / sympy.Integer(6) ** 24
    # integral floats stay exact; the square case takes its determinant from construction
    S = rng.integers(-50, 51, (10, 10))
    F = Lattice.from_basis(S.astype(np.float64))
    assert F.basis_int is not None and F.det() == fraction_rank_det(S.tolist())[1] ** 2


def test_from_basis_dependent_rows_are_refused_exactly():
    rng = np.random.default_rng()
    for k, m, r in ((30, 30, 29), (20, 35, 12), (5, 5, 1)):
        M = dependent_rows(rng, k, m, r, -50, 51)
        with pytest.raises(ValueError, match="linearly dependent"):
            Lattice.from_basis(M)
        with pytest.raises(ValueError, match="linearly dependent"):
            Lattice.from_basis([[Fraction(int(v), 3) for v in row] for row in M])
    # nearly dependent but independent: float rank would be fooled, exact rank is not
    a = 2**30
    B = np.array([[a, a - 1], [a + 1, a]], dtype=np.int64)  # det 1
    assert np.linalg.matrix_rank(B.astype(float)) == 1
    assert Lattice.from_basis(B).det() == 1
    with pytest.raises(ValueError, match="too large"):
        Lattice.from_basis(np.array([[2**40, 0], [0, 1]]))


def test_from_basis_builtin_copies_agree():
    for name in ("e8", "leech", "a5", "d7"):
        L = get_lattice(name)
        U = Lattice.from_basis(L.basis_int)
        assert U.det() * L.scale ** (2 * L.dim) == L.det()
        assert exact_det(U.gram()) == U.det()
