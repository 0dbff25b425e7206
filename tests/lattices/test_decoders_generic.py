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


# ------------------------------------------------------- deep insertions, fast decoder
def deep_condition_holds(R, depth, delta=0.99, eps=1e-9) -> bool:
    """Deep-insertion condition, recomputed here from a fresh Gram–Schmidt: for every row
    ``k`` and admissible position ``i`` (``i < depth`` or ``k - i <= depth``), the
    projection of ``b_k`` orthogonal to ``b_0..b_{i-1}`` is not shorter than
    ``sqrt(delta) |b*_i|``."""
    mu, bn = gram_schmidt(R)
    n = len(bn)
    for k in range(1, n):
        proj = bn[k] + np.cumsum((mu[k, :k] ** 2 * bn[:k])[::-1])[::-1]  # proj[i], i < k
        for i in range(k):
            if (i < depth or k - i <= max(depth, 1)) and proj[i] < delta * bn[i] * (1 - eps):
                return False
    return True


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 7).flatmap(lambda n: random_bases(n, max_entry=9)), st.integers(0, 8))
def test_deep_lll_properties(B, depth):
    R, U = lll_reduce(B, depth=depth)
    assert np.array_equal(R, U @ B)
    assert abs(round(np.linalg.det(U.astype(float)))) == 1
    assert is_lll_reduced(R) and deep_condition_holds(R, depth)


def test_deep_lll_fresh_random_bases():
    rng = np.random.default_rng()
    for n, depth in ((20, 4), (30, 30), (24, 0)):
        B = rng.integers(-50, 51, (n, n))
        R, U = lll_reduce(B, depth=depth)
        assert np.array_equal(R, U @ B) and is_lll_reduced(R)
        assert deep_condition_holds(R, depth)
        # same lattice: integer change of basis with determinant ±1, both ways
        V = np.rint(np.linalg.solve(R.T.astype(float), B.T.astype(float)).T).astype(np.int64)
        assert np.array_equal(V @ R, B)
    with pytest.raises(ValueError, match="depth"):
        lll_reduce(np.eye(3), depth=-1)


def reference_cvp(B: np.ndarray, t: np.ndarray) -> int:
    """Exact squared distance from integer ``t`` to the lattice of integer rows ``B``:
    Fincke–Pohst enumeration (recursive, fixed radius = Babai's distance, float pruning
    padded so no candidate is lost) with every leaf judged in exact integers."""
    R_basis, _ = lll_reduce(B, depth=0)
    Bi = [[int(v) for v in row] for row in R_basis]
    ti = [int(v) for v in t]
    Rf = R_basis.astype(float)
    q, r = np.linalg.qr(Rf.T)
    y = q.T @ t.astype(float)
    n = len(Bi)

    def exact(u):
        v = [sum(u[i] * Bi[i][j] for i in range(n)) for j in range(len(ti))]
        return sum((a - b) ** 2 for a, b in zip(v, ti, strict=True))

    u = [0] * n  # Babai's nearest plane gives the radius
    for k in range(n - 1, -1, -1):
        u[k] = round((y[k] - sum(r[k, j] * u[j] for j in range(k + 1, n))) / r[k, k])
    best = [exact(u)]
    bound = best[0] * (1 + 1e-9) + 1e-6

    def rec(k, partial, u):
        if k < 0:
            best[0] = min(best[0], exact(u))
            return
        c = (y[k] - sum(r[k, j] * u[j] for j in range(k + 1, n))) / r[k, k]
        h = np.sqrt(max(bound - partial, 0.0)) / abs(r[k, k])
        for v in range(int(np.floor(c - h)) - 1, int(np.ceil(c + h)) + 2):
            p = partial + (r[k, k] * (c - v)) ** 2
            if p <= bound:
                u[k] = v
                rec(k - 1, p, u)
        u[k] = 0

    rec(n - 1, 0.0, [0] * n)
    return best[0]


def exact_sq_dist(coef, B, t) -> int:
    v = np.asarray(coef, dtype=object) @ np.asarray(B, dtype=object)
    return sum((int(a) - int(b)) ** 2 for a, b in zip(v, t, strict=True))


@pytest.mark.parametrize("n", [6, 10, 13, 20, 26, 28, pytest.param(32, marks=pytest.mark.slow)])
def test_generic_matches_reference_enumeration(n):
    # 26: pruned first pass on a plain LLL basis; 28, 32: with depth-4 deep insertions
    rng = np.random.default_rng()
    B = rng.integers(-50, 51, (n, n))
    while abs(np.linalg.det(B.astype(float))) < 0.5:
        B = rng.integers(-50, 51, (n, n))
    T = rng.integers(-1000, 1001, (8 if n < 20 else 3 if n < 28 else 2, n))
    coef = GenericDecoder(B).decode(T)
    for c, t in zip(coef, T, strict=True):
        assert exact_sq_dist(c, B, t) == reference_cvp(B, t)


def test_generic_depths_and_batching_agree():
    # plain LLL, depth 4 and unrestricted insertions give different bases of one lattice;
    # the exact distances must agree, one target at a time or batched, in threads or not
    rng = np.random.default_rng()
    n = 28
    B = rng.integers(-50, 51, (n, n))
    T = rng.integers(-1000, 1001, (12, n))
    want = None
    for depth in (0, 4, n):
        dec = GenericDecoder(B, depth=depth)
        assert np.array_equal(dec.reduced, (dec.U @ B).astype(float))
        np.testing.assert_allclose(dec.Q.T @ dec.Q, np.eye(n), atol=1e-12)
        np.testing.assert_allclose(dec.Q @ dec.R, dec.reduced.T, atol=1e-9 * np.abs(B).max())
        d = [exact_sq_dist(c, B, t) for c, t in zip(dec.decode(T), T, strict=True)]
        one = [exact_sq_dist(dec.decode(t), B, t) for t in T]
        assert d == one
        want = d if want is None else want
        assert d == want
    big = np.repeat(T, 800, axis=0).astype(np.float64)  # enough rows for threads
    dec = GenericDecoder(B)
    assert np.array_equal(dec.decode(big, parallel=2), dec.decode(big))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 5).flatmap(lambda n: random_bases(n, max_entry=7)),
       st.integers(0, 2**32 - 1))
def test_generic_translation_and_idempotence(B, seed):
    rng = np.random.default_rng(seed)
    dec = GenericDecoder(B)
    n = len(B)
    x = rng.standard_normal((5, n)) * 6
    w = rng.integers(-4, 5, (5, n))
    c = dec.decode(x)
    assert np.array_equal(dec.decode(x + w @ B), c + w)  # ties have measure zero
    assert np.array_equal(dec.decode((c @ B).astype(float)), c)  # lattice points are fixed


def test_generic_decoder_bad_input():
    with pytest.raises(ValueError, match="NaN or infinite"):
        GenericDecoder([[1.0, np.inf], [0.0, 1.0]])
    with pytest.raises(ValueError, match="n <= m rows"):
        GenericDecoder(np.ones((3, 2)))
    with pytest.raises(ValueError, match="depth"):
        GenericDecoder(np.eye(2), depth=-2)
    with pytest.raises(ValueError, match="dependent"):
        GenericDecoder(np.array([[1, 2, 3], [2, 4, 6], [0, 0, 1]]))
    dec = GenericDecoder(np.eye(3) * 2)
    with pytest.raises(ValueError, match="NaN"):
        dec.decode(np.array([[0.0, np.nan, 1.0]]))
