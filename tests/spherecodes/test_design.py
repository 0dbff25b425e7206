"""Design strength through Gegenbauer moments: known designs, oracles, distributions."""

import itertools
import math
from collections import Counter
from fractions import Fraction as F

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices.leech import leech_shell1
from lattiq.spherecodes.design import (
    design_strength,
    design_strength_from_distribution,
    distribution_moments,
    gegenbauer_moments,
    moment_floors,
)

PHI = (1 + math.sqrt(5)) / 2


def _unit(X):
    X = np.asarray(X, dtype=np.float64)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _roots_d(n):
    out = []
    for i, j in itertools.combinations(range(n), 2):
        for a, b in itertools.product((1, -1), repeat=2):
            v = np.zeros(n)
            v[i], v[j] = a, b
            out.append(v)
    return np.array(out)


def icosahedron():
    P = [p for a in (1, -1) for b in (PHI, -PHI) for p in ([0, a, b], [a, b, 0], [b, 0, a])]
    return _unit(P)


def dodecahedron():
    P = [list(v) for v in itertools.product((1, -1), repeat=3)]
    for a, b in itertools.product((1, -1), repeat=2):
        P += [[0, a / PHI, b * PHI], [a / PHI, b * PHI, 0], [b * PHI, 0, a / PHI]]
    return _unit(P)


def cube(d=3):
    return _unit(list(itertools.product((1, -1), repeat=d)))


def cross_polytope(d):
    return np.vstack([np.eye(d), -np.eye(d)])


def simplex(d):
    E = np.eye(d + 1) - 1.0 / (d + 1)
    Q, _ = np.linalg.qr(E.T)  # orthonormal basis of the sum-zero hyperplane in its columns
    return _unit(E @ Q[:, :d])


def polygon(n):
    t = 2 * np.pi * np.arange(n) / n
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def e8_roots():
    half = [np.array(s) / 2 for s in itertools.product((1, -1), repeat=8) if np.prod(s) > 0]
    return _unit(np.vstack([_roots_d(8), half]))


def cell600():
    P = list(np.vstack([np.eye(4), -np.eye(4)]))
    P += [np.array(s) / 2 for s in itertools.product((1, -1), repeat=4)]
    even = [p for p in itertools.permutations(range(4)) if _parity(p) == 0]
    for signs in itertools.product((1, -1), repeat=3):
        base = np.array([signs[0] * PHI, signs[1] * 1.0, signs[2] / PHI, 0.0]) / 2
        for p in even:
            P.append(base[list(p)])
    return _unit(P)


def _parity(p):
    return sum(1 for i in range(len(p)) for j in range(i + 1, len(p)) if p[i] > p[j]) % 2


def _orthonormal_complement(W):
    """(d, d - r) orthonormal basis of the complement of the rows of W."""
    Q, _ = np.linalg.qr(np.vstack([W, np.eye(W.shape[1])]).T)
    return Q[:, W.shape[0] :]


# kissing configurations derived from the Leech lattice (integer frame sqrt(8)*Leech)
S64 = leech_shell1().astype(np.int64)


def kissing_23():
    """(23, 4600): shell vectors v with v.w = 16 for w = S[0], as v - w/2 in w-perp."""
    w = S64[0]
    V = S64[S64 @ w == 16]
    Y = 2 * V - w  # integer form of 2(v - w/2): norm 4 * 24 = 96
    return Y, _unit(Y @ _orthonormal_complement(w[None].astype(float)))


def kissing_22():
    """(22, 891): within the 4600, those at inner product 1/3 from one of them, projected."""
    Y, _ = kissing_23()
    y0 = Y[0]
    Z = 3 * Y[Y @ y0 == 32] - y0  # 3(y - y0/3), inner product y.y0 = 96/3 = 32
    w = S64[0]
    C = _orthonormal_complement(np.stack([w, y0]).astype(float))
    return Z, _unit(Z @ C)


KNOWN = [
    ("icosahedron", icosahedron, 5),
    ("dodecahedron", dodecahedron, 5),
    ("cube", cube, 3),
    ("cross-polytope-3", lambda: cross_polytope(3), 3),
    ("cross-polytope-6", lambda: cross_polytope(6), 3),
    ("tetrahedron", lambda: simplex(3), 2),
    ("simplex-7", lambda: simplex(7), 2),
    ("hypercube-5", lambda: cube(5), 3),
    ("d4-roots", lambda: _unit(_roots_d(4)), 5),
    ("e8-roots", e8_roots, 7),
    ("600-cell", cell600, 11),
    ("pentagon", lambda: polygon(5), 4),
    ("13-gon", lambda: polygon(13), 12),
    ("kissing-22-891", lambda: kissing_22()[1], 5),
]


@pytest.mark.parametrize("name,make,t", KNOWN, ids=[k[0] for k in KNOWN])
def test_known_design_strengths(name, make, t):
    X = make()
    assert design_strength(X) == t
    assert design_strength(X, method="pairs") == t
    if X.shape[1] <= 3:
        assert design_strength(X, method="harmonic") == t


def test_kissing_23_4600_is_a_7_design():
    _, X = kissing_23()
    assert X.shape == (4600, 23)
    assert design_strength(X, max_t=9) == 7


def test_known_designs_stay_designs_after_rotation():
    rng = np.random.default_rng(7)
    for X, t in ((icosahedron(), 5), (e8_roots(), 7), (_unit(_roots_d(4)), 5)):
        R, _ = np.linalg.qr(rng.standard_normal((X.shape[1],) * 2))
        assert design_strength(X @ R.T) == t


def test_random_points_have_strength_0_and_antipodal_random_1():
    rng = np.random.default_rng(3)
    for d in (2, 3, 5, 24):
        X = _unit(rng.standard_normal((300, d)))
        assert design_strength(X) == 0
        assert design_strength(np.vstack([X, -X])) == 1


def test_max_t_caps_the_answer():
    assert design_strength(cell600(), max_t=6) == 6
    assert design_strength(e8_roots(), max_t=1) == 1
    assert design_strength(e8_roots(), max_t=2) == 2


def test_explicit_tol_counts_small_moments_as_zero():
    # spherical Fibonacci points are nearly balanced: tiny but nonzero first moment
    n = 2000
    i = np.arange(n)
    z = 1 - (2 * i + 1) / n
    r = np.sqrt(1 - z * z)
    ph = 2 * np.pi * i / PHI
    X = np.stack([r * np.cos(ph), r * np.sin(ph), z], axis=1)
    M = gegenbauer_moments(X, 3)
    assert 0 < M[1] < 1e-8
    assert design_strength(X) == 0
    assert design_strength(X, tol=1e-6) >= 1


def _brute_moments(X, kmax):
    d = X.shape[1]
    G = np.clip(X @ X.T, -1, 1)
    out = []
    for k in range(kmax + 1):
        if d == 2:
            P = scipy.special.eval_chebyt(k, G)
        else:
            lam = (d - 2) / 2
            P = scipy.special.eval_gegenbauer(k, lam, G) / scipy.special.eval_gegenbauer(
                k, lam, 1.0
            )
        out.append(P.mean())
    return np.array(out)


@settings(max_examples=25, deadline=None)
@given(
    d=st.integers(2, 7),
    n=st.integers(1, 120),
    antipodal=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_moments_match_brute_force(d, n, antipodal, seed):
    X = _unit(np.random.default_rng(seed).standard_normal((n, d)))
    if antipodal:
        X = np.vstack([X, -X])
    ref = _brute_moments(X, 12)
    np.testing.assert_allclose(gegenbauer_moments(X, 12, method="pairs"), ref, atol=1e-12)
    if d <= 3:
        np.testing.assert_allclose(gegenbauer_moments(X, 12, method="harmonic"), ref, atol=1e-12)


def test_pairs_tiling_matches_brute_force_across_tiles(monkeypatch):
    from lattiq.spherecodes import design

    # several row and column tiles with ragged remainders
    monkeypatch.setattr(design, "_TILE_ROWS", 64)
    monkeypatch.setattr(design, "_TILE_COLS", 100)
    X = _unit(np.random.default_rng(11).standard_normal((500, 4)))
    X = np.vstack([X, -X[:77]])
    np.testing.assert_allclose(
        gegenbauer_moments(X, 8, method="pairs"), _brute_moments(X, 8), atol=1e-12
    )
    Y = np.vstack([X[:500], -X[:500]])  # antipodal: the half-set path, across tiles too
    np.testing.assert_allclose(
        gegenbauer_moments(Y, 8, method="pairs"), _brute_moments(Y, 8), atol=1e-12
    )


def test_harmonic_matches_pairs_on_larger_sets():
    rng = np.random.default_rng(5)
    X = _unit(rng.standard_normal((3000, 3)))
    np.testing.assert_allclose(
        gegenbauer_moments(X, 20, "harmonic"), gegenbauer_moments(X, 20, "pairs"), atol=1e-13
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), which=st.sampled_from([0, 1, 2]))
def test_strength_invariant_under_orthogonal_maps_and_permutations(seed, which):
    X, t = [(icosahedron(), 5), (cube(4), 3), (_unit(_roots_d(4)), 5)][which]
    rng = np.random.default_rng(seed)
    R, _ = np.linalg.qr(rng.standard_normal((X.shape[1],) * 2))
    assert design_strength(rng.permutation(X) @ R.T) == t


def test_moments_are_nonnegative_and_one_at_zero():
    X = _unit(np.random.default_rng(2).standard_normal((200, 5)))
    M = gegenbauer_moments(X, 10)
    assert M[0] == 1 and np.all(M >= -1e-14)


# ----------------------------------------------------------------- distributions

LEECH_FROM_A_POINT = {1: 1, F(1, 2): 4600, F(1, 4): 47104, 0: 93150, F(-1, 4): 47104,
                      F(-1, 2): 4600, -1: 1}  # fmt: skip


def _exact_distribution(Y, i, norm):
    c = Counter((Y @ Y[i]).tolist())
    return {F(int(k), norm): v for k, v in c.items()}


def test_leech_distribution_exact_strength_11():
    assert design_strength_from_distribution(LEECH_FROM_A_POINT, 24) == 11
    # computed from the integer shell, from points of each shape: the same, strength 11
    for i in (0, 5000, 150000):
        dist = _exact_distribution(S64, i, 32)
        assert dist == LEECH_FROM_A_POINT
        assert design_strength_from_distribution(dist, 24) == 11
    M = distribution_moments(LEECH_FROM_A_POINT, 24, 12)
    assert all(m == 0 for m in M[1:12]) and M[12] > 0


def test_leech_distribution_float_keys():
    dist = {float(k): v for k, v in LEECH_FROM_A_POINT.items()}
    assert design_strength_from_distribution(dist, 24) == 11
    assert design_strength_from_distribution(dist, 24, tol=1e-10) == 11


def test_kissing_configurations_from_distributions():
    Y, X23 = kissing_23()
    Z, X22 = kissing_22()
    for i in (0, 1234, 4599):
        d23 = _exact_distribution(Y, i, 96)
        assert max(k for k in d23 if k != 1) == F(1, 3)
        assert design_strength_from_distribution(d23, 23) == 7
    z2 = int(Z[0] @ Z[0])
    for i in (0, 500):
        d22 = _exact_distribution(Z, i, z2)
        assert max(k for k in d22 if k != 1) == F(1, 4)
        assert design_strength_from_distribution(d22, 22) == 5
    # float distribution from the float points agrees
    g = np.round(X22 @ X22[0], 12)
    vals, counts = np.unique(g, return_counts=True)
    assert design_strength_from_distribution(dict(zip(vals, counts, strict=True)), 22) == 5


def test_all_pairs_distribution_equals_point_set_strength():
    X = icosahedron()
    g = np.round((X @ X.T).ravel(), 12)
    vals, counts = np.unique(g, return_counts=True)
    assert design_strength_from_distribution(dict(zip(vals, counts, strict=True)), 3) == 5


def test_sympy_rational_keys_are_exact():
    import sympy

    dist = {sympy.Rational(k.numerator, k.denominator) if isinstance(k, F) else sympy.Integer(k):
            v for k, v in LEECH_FROM_A_POINT.items()}  # fmt: skip
    M = distribution_moments(dist, 24, 4)
    assert isinstance(M[1], F) and M[2] == 0


def test_moment_floors_shape_and_scale():
    fl = moment_floors(196560, 24, 12, "pairs")
    assert fl.shape == (13,) and fl[0] == 0 and np.all(fl[1:] > 0) and fl.max() < 1e-11
    fh = moment_floors(10**6, 3, 20, "harmonic")
    assert fh.max() < 1e-20


@pytest.mark.slow
def test_leech_shell_generic_pairs_path():
    """The 196,560 Leech vectors without using their structure (antipodal pairs: ~2 min)."""
    X = S64.astype(np.float64) / math.sqrt(32)
    assert design_strength(X, max_t=12, method="pairs") == 11


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: design_strength(np.ones((3, 3))), ValueError, "unit vectors"),
        (lambda: design_strength(np.full((2, 3), np.nan)), ValueError, "NaN"),
        (lambda: design_strength(np.ones(3)), ValueError, r"shape \(N, d\)"),
        (lambda: design_strength(np.ones((3, 1))), ValueError, "d >= 2"),
        (lambda: design_strength(np.zeros((0, 3))), ValueError, "empty"),
        (lambda: design_strength(np.array([["a", "b"]])), TypeError, "real array"),
        (lambda: design_strength(e8_roots(), method="harmonic"), ValueError, "d <= 3"),
        (lambda: design_strength(e8_roots(), method="fast"), ValueError, "method"),
        (lambda: design_strength(e8_roots(), max_t=0), ValueError, "max_t"),
        (lambda: design_strength(e8_roots(), tol=-1), ValueError, "tol"),
        (lambda: design_strength_from_distribution({0.5: 3}, 24), ValueError, "itself"),
        (lambda: design_strength_from_distribution({}, 24), ValueError, "empty"),
        (lambda: design_strength_from_distribution([1, 2], 24), TypeError, "mapping"),
        (lambda: design_strength_from_distribution({1: 1, 2: 3}, 24), ValueError, r"\[-1, 1\]"),
        (lambda: design_strength_from_distribution({1: 1, 0: -2}, 24), ValueError, ">= 0"),
        (
            lambda: design_strength_from_distribution({1.0: 1, 0.5: 2}, 24, exact=True),
            TypeError,
            "rational",
        ),
        (lambda: design_strength_from_distribution({1: 1}, 1), ValueError, "dim"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_accepts_objects_with_points_attribute():
    class Code:
        points = icosahedron()

    assert design_strength(Code()) == 5
