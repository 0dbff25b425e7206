"""LLL reduction and the generic (LLL + Schnorr–Euchner) decoder for user lattices.

Oracle for random lattices: exhaustive search of the box that provably contains every
lattice point within distance ``D`` of ``x`` (``D`` = distance to the rounded point): for a
square basis ``B`` the coefficients of such points satisfy
``|u_i - (x B^{-1})_i| <= D |B^{-1}_{:, i}|``.
"""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices import Lattice, get_lattice
from lattiq.lattices.decoders import (
    GenericDecoder,
    decode_an,
    decode_dn,
    decode_e8,
    decode_points,
    generic_decoder,
)
from lattiq.lattices.reduction import gram_schmidt, is_lll_reduced, lll_reduce
from lattiq.testing import random_bases


def brute_force_nearest(B: np.ndarray, x: np.ndarray) -> float:
    """Exact squared distance from x to the lattice of the square basis B.

    The box is taken on an LLL-reduced basis of the same lattice (small boxes; that basis
    spans the same lattice exactly, as ``test_lll_properties_integer`` checks).
    """
    B = lll_reduce(B)[0].astype(np.float64)
    Binv = np.linalg.inv(B)
    c = x @ Binv
    D = np.sqrt(((np.rint(c) @ B - x) ** 2).sum()) + 1e-9  # a lattice point at distance D
    half = D * np.linalg.norm(Binv, axis=0)
    ranges = [
        range(int(np.floor(ci - h)), int(np.ceil(ci + h)) + 1)
        for ci, h in zip(c, half, strict=True)
    ]
    U = np.array(list(itertools.product(*ranges)), dtype=np.float64)
    return float((((U @ B) - x) ** 2).sum(axis=1).min())


# -------------------------------------------------------------------------- LLL
@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: random_bases(n, max_entry=6)))
def test_lll_properties_integer(B):
    R, U = lll_reduce(B)
    assert R.dtype == np.int64 and U.dtype == np.int64
    assert np.array_equal(R, U @ B)  # exactly the same lattice ...
    assert abs(round(np.linalg.det(U.astype(float)))) == 1  # ... through a unimodular U
    assert is_lll_reduced(R)
    # LLL's guarantee: |b_1|² <= (1/(δ - 1/4))^{n-1} λ_1², and λ_1 <= any basis vector
    n = len(B)
    lam1_ub = min((B * B).sum(axis=1).min(), (R * R).sum(axis=1).min())
    assert (R[0] ** 2).sum() <= (1 / (0.99 - 0.25)) ** (n - 1) * lam1_ub


def test_lll_float_and_gram_schmidt(rng_seed):
    rng = np.random.default_rng(rng_seed)
    B = rng.standard_normal((10, 12)) @ np.diag(np.linspace(1, 50, 12))
    R, U = lll_reduce(B)
    assert R.dtype == np.float64
    np.testing.assert_allclose(R, U.astype(float) @ B, rtol=1e-9, atol=1e-9)
    assert is_lll_reduced(R)
    _, bn = gram_schmidt(B)
    np.testing.assert_allclose(np.prod(bn), np.linalg.det(B @ B.T), rtol=1e-8)
    _, bn2 = gram_schmidt(R)
    np.testing.assert_allclose(np.prod(bn2), np.prod(bn), rtol=1e-8)


def test_lll_skewed_leech_basis():
    L = get_lattice("leech")
    rng = np.random.default_rng(0)
    V = np.eye(24, dtype=np.int64)
    for _ in range(60):  # a random unimodular skew
        i, j = rng.choice(24, 2, replace=False)
        V[i] += rng.integers(-2, 3) * V[j]
    B = V @ L.basis_int
    R, U = lll_reduce(B)
    assert np.array_equal(R, U @ B) and is_lll_reduced(R)
    assert (R[0] ** 2).sum() == 32  # a minimal vector (norm 4 times 8)


def test_lll_bad_input():
    with pytest.raises(ValueError, match="dependent"):
        lll_reduce(np.array([[1, 2], [2, 4]]))
    with pytest.raises(ValueError, match="rows"):
        lll_reduce(np.ones((3, 2)))
    with pytest.raises(TypeError):
        lll_reduce(np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="delta"):
        lll_reduce(np.eye(2), delta=1.5)
    with pytest.raises(ValueError, match="NaN"):
        lll_reduce(np.array([[1.0, np.nan], [0.0, 1.0]]))


# ------------------------------------------------------------------ generic decoder
@settings(max_examples=40, deadline=None)
@given(st.integers(2, 4).flatmap(lambda n: random_bases(n, max_entry=5)), st.integers(0, 2**31))
def test_generic_matches_brute_force(B, seed):
    rng = np.random.default_rng(seed)
    dec = GenericDecoder(B)
    x = rng.standard_normal((6, len(B))) * 4
    u = dec.decode(x)
    for i in range(len(x)):
        d = ((u[i] @ B - x[i]) ** 2).sum()
        assert d <= brute_force_nearest(B.astype(float), x[i]) + 1e-9


def test_generic_fresh_random_float_bases(rng_seed):
    rng = np.random.default_rng(rng_seed)
    for n in (2, 3, 4):
        B = rng.standard_normal((n, n)) * rng.uniform(0.3, 3)
        dec = GenericDecoder(B)
        x = rng.standard_normal((20, n)) * 5
        pts = dec.nearest(x)
        for i in range(len(x)):
            assert ((pts[i] - x[i]) ** 2).sum() <= brute_force_nearest(B, x[i]) + 1e-9


def test_generic_matches_structured_decoders(rng_seed):
    rng = np.random.default_rng(rng_seed)
    x = rng.standard_normal((300, 8))
    assert np.array_equal(decode_points(Lattice.from_basis(get_lattice("e8").basis_int), x * 2),
                          decode_e8(x))
    xd = rng.standard_normal((300, 5)) * 3
    U = Lattice.from_basis(get_lattice("d5").basis_int)
    assert np.array_equal(decode_points(U, xd), decode_dn(xd))
    # rank 3 in R^4: off-span points decode like A3
    xa = rng.standard_normal((300, 4)) * 3
    A = Lattice.from_basis(get_lattice("a3").basis_int)
    assert np.array_equal(decode_points(A, xa), decode_an(xa))


def test_rational_basis_frame():
    # E8 given by a skewed basis with halves: integer frame = 2·E8, like the built-in one
    E = get_lattice("e8")
    V = np.eye(8, dtype=np.int64)
    V[0] += 3 * V[5]
    V[2] -= 2 * V[7]
    rows = V @ E.basis_int
    U = Lattice.from_basis([[Fraction(int(v), 2) for v in r] for r in rows])
    assert U.family == "generic" and U.basis_int is not None
    x = np.random.default_rng(1).standard_normal((200, 8))
    y = U.decode(x)
    assert np.array_equal(y * U.scale_float, decode_e8(x) * 0.5)
    np.testing.assert_allclose(U.nearest(x), decode_e8(x) * 0.5)


def test_gram_lattice_coefficient_frame():
    # D4 from its Gram matrix: the basis is a rotated D4 (Cholesky rows)
    D = get_lattice("d4")
    Bd = D.basis
    G = (D.basis_int @ D.basis_int.T).tolist()
    U = Lattice.from_gram(G)
    assert U.basis_int is None
    C = U.basis
    Q = np.linalg.solve(Bd, C)  # C = Bd Q, Q orthogonal
    np.testing.assert_allclose(Q @ Q.T, np.eye(4), atol=1e-12)
    x = np.random.default_rng(2).standard_normal((300, 4)) * 2
    coef = U.decode(x @ Q)
    assert coef.shape == (300, 4)
    want = np.rint(np.linalg.solve(Bd.T, decode_dn(x).T).T).astype(np.int64)
    assert np.array_equal(coef, want)
    np.testing.assert_allclose(U.nearest(x @ Q), decode_dn(x) @ Q, atol=1e-12)


def test_generic_parallel_cache_and_limits():
    L = Lattice.from_basis([[2, 1, 0], [0, 3, 1], [1, 0, 4]])
    dec = generic_decoder(L)
    assert generic_decoder(L) is dec
    x = np.random.default_rng(3).standard_normal((20000, 3)) * 10
    a = dec.decode(x)
    assert np.array_equal(dec.decode(x, parallel=True), a)
    assert dec.decode(np.zeros((0, 3))).shape == (0, 3)
    with pytest.raises(ValueError, match="exact"):
        dec.decode(np.full((1, 3), 1e12))
    with pytest.raises(ValueError, match="shape"):
        dec.decode(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="dependent"):
        GenericDecoder([[1.0, 1.0], [2.0, 2.0]])
