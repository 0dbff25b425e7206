"""E8 and D4 roots, and the binary codes bsq-<d>."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices import get_lattice
from lattiq.spherecodes import get_code


def brute(X, P):
    return np.argmax(X @ P.T, axis=1)


@pytest.mark.parametrize("name, n, dist", [
    ("e8", 240, {1: 1, Fraction(1, 2): 56, 0: 126, Fraction(-1, 2): 56, -1: 1}),
    ("d4", 24, {1: 1, Fraction(1, 2): 8, 0: 6, Fraction(-1, 2): 8, -1: 1}),
])
def test_root_codes(name, n, dist):
    C = get_code(name)
    assert C.size == n
    assert C.inner_product_distribution() == dist
    # the exact form lies in the lattice's integer frame and is its first shell
    L = get_lattice(name)
    V = C.exact_form.vectors
    assert L.contains(V * L.scale_float).all()
    assert sorted(map(tuple, V.tolist())) == sorted(map(tuple, L.shell(1).tolist()))


@pytest.mark.parametrize("name", ["e8", "d4"])
def test_root_nearest_against_brute_force_and_exact_ties(name):
    C = get_code(name)
    rng = np.random.default_rng(len(name))
    X = rng.standard_normal((5000, C.dim))
    np.testing.assert_array_equal(C.nearest(X), brute(X, C.points))
    V = C.exact_form.vectors.astype(np.float64)
    for lo, hi in ((-1, 2), (-2, 3), (0, 2)):
        Xi = rng.integers(lo, hi, (3000, C.dim)).astype(np.float64)
        np.testing.assert_array_equal(C.nearest(Xi), brute(Xi, V))


def test_e8_order_is_documented():
    V = get_code("e8").exact_form.vectors
    assert V[0].tolist() == [2, 2, 0, 0, 0, 0, 0, 0]
    assert V[3].tolist() == [-2, -2, 0, 0, 0, 0, 0, 0]
    assert V[112].tolist() == [1] * 8
    assert V[113].tolist() == [-1, 1, 1, 1, 1, 1, 1, -1]


@pytest.mark.parametrize("d", [2, 3, 8, 12])
def test_bsq_small(d):
    C = get_code(f"bsq-{d}")
    P = C.points
    assert P.shape == (2**d, d)
    np.testing.assert_array_equal(np.abs(P), 1 / math.sqrt(d))
    k = 3 % C.size
    np.testing.assert_array_equal(P[k] < 0, (k >> np.arange(d)) & 1 == 1)
    rng = np.random.default_rng(d)
    X = rng.standard_normal((2000, d))
    np.testing.assert_array_equal(C.nearest(X), brute(X, P))
    Xi = rng.integers(-1, 2, (2000, d)).astype(np.float64)  # zeros: ties to the + sign
    np.testing.assert_array_equal(C.nearest(Xi), brute(Xi, C.int_points.astype(np.float64)))
    assert C.inner_product_distribution() == {Fraction(d - 2 * k, d): math.comb(d, k)
                                              for k in range(d + 1)}
    assert C.design_strength() == 3
    assert C.max_inner_product(exact=True) == Fraction(d - 2, d)


def test_bsq_large_never_materializes():
    C = get_code("bsq-48")
    assert C.int_points is None and C.int_scale is None
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 48))
    idx = C.nearest(X)
    np.testing.assert_array_equal(C.vectors(idx), np.sign(X) / math.sqrt(48))
    np.testing.assert_array_equal(C.index_of(C.vectors(idx)), idx)
    assert len(C.sha256) == 64
    with pytest.raises(ValueError, match="not a codeword"):
        C.index_of(X / np.linalg.norm(X, axis=1, keepdims=True))
    with pytest.raises(ValueError, match="bytes"):
        C.save("/nonexistent/x.npy")


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 62), st.integers(0, 2**62 - 1))
def test_property_bsq_vectors_index_round_trip(d, k):
    C = get_code(f"bsq-{d}")
    k = k % C.size
    v = C.vectors([k])
    assert C.index_of(v)[0] == k and C.nearest(v)[0] == k
