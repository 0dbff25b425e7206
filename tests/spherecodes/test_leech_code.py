"""The Leech spherical code: exact invariants and the structured nearest-codeword search,
against brute force (float inputs) and an exact integer oracle (inputs with ties)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices.leech import leech_shell1, leech_shell1_index
from lattiq.spherecodes import get_code
from lattiq.spherecodes.leech import leech_vectors_int
from lattiq.spherecodes.search import leech_nearest

C = get_code("leech")
V = leech_shell1()
VF = V.astype(np.float64)  # exact integer frame: scores are exact integers (or dyadics)


def brute(X, P):
    """argmax of X @ P.T in row chunks (first index on ties)."""
    X = np.atleast_2d(X)
    return np.concatenate([np.argmax(X[s:s + 64] @ P.T, axis=1) for s in range(0, len(X), 64)])


def int_oracle(X):
    """argmax of the exact integer-frame scores, first index on ties."""
    return brute(X, VF)


def test_invariants_are_exact():
    assert C.dim == 24 and C.size == 196560
    assert C.max_inner_product(exact=True) == Fraction(1, 2)
    assert C.min_distance() == 1.0
    assert C.inner_product_distribution() == {
        1: 1, Fraction(1, 2): 4600, Fraction(1, 4): 47104, 0: 93150,
        Fraction(-1, 4): 47104, Fraction(-1, 2): 4600, -1: 1,
    }
    # distance invariance, checked from other points by integer arithmetic
    for p in (1103, 50000, 196559):
        assert C.inner_product_distribution(point=p) == C.inner_product_distribution()
    assert C.design_strength() == 11
    assert C.distance_invariant


def test_exact_form_and_points():
    assert C.int_points is V and C.int_scale == pytest.approx(32**-0.5)
    np.testing.assert_array_equal(C.points, VF * C.int_scale)


def test_vectors_and_index_of_are_closed_form_inverses():
    idx = np.arange(C.size)
    np.testing.assert_array_equal(leech_vectors_int(idx), V)
    np.testing.assert_array_equal(C.index_of(C.points), idx)
    sub = np.array([[0, 1103], [1104, 98255], [98256, 196559]])
    np.testing.assert_array_equal(C.vectors(sub), C.points[sub])
    np.testing.assert_array_equal(leech_shell1_index(leech_vectors_int(sub.ravel())),
                                  sub.ravel())


def test_index_of_refuses_non_codewords():
    x = C.points[5].copy()
    x[0] += 1e-3
    with pytest.raises(ValueError, match="not a codeword of 'leech'"):
        C.index_of(x)
    y = np.zeros(24)
    y[:2] = [8, 0]  # right integer norm would be 64: not a minimal vector
    with pytest.raises(ValueError, match="not a codeword"):
        C.index_of(y / 8)


def test_nearest_equals_brute_force_on_gaussian_input():
    rng = np.random.default_rng(20240611)
    X = rng.standard_normal((1500, 24))
    np.testing.assert_array_equal(C.nearest(X), brute(X, C.points))


@pytest.mark.parametrize("lo, hi", [(-2, 3), (-1, 2), (0, 2), (-4, 5)])
def test_nearest_breaks_exact_ties_to_the_lowest_index(lo, hi):
    rng = np.random.default_rng(abs(lo) * 7 + hi)
    X = rng.integers(lo, hi, (1000, 24)).astype(np.float64)
    np.testing.assert_array_equal(C.nearest(X), int_oracle(X))


def test_nearest_on_midpoints_and_near_midpoints():
    rng = np.random.default_rng(3)
    i = rng.integers(0, C.size, 800)
    j = rng.integers(0, C.size, 800)
    mid = VF[i] + VF[j]  # exact ties between i and j (and possibly more)
    np.testing.assert_array_equal(C.nearest(mid), int_oracle(mid))
    eps = 2.0**-30  # dyadic: every score stays exact in float64
    near = mid + eps * (VF[j] - VF[i])
    np.testing.assert_array_equal(C.nearest(near), int_oracle(near))
    np.testing.assert_array_equal(C.nearest(VF[i] + eps * VF[j]), i)


def test_nearest_of_a_codeword_is_itself_whatever_the_scale():
    idx = np.random.default_rng(4).integers(0, C.size, 2000)
    for scale in (1.0, 1e-300, 3e300, 2.0**-1070):
        np.testing.assert_array_equal(C.nearest(C.points[idx] * scale), idx)


def test_degenerate_inputs():
    assert C.nearest(np.zeros(24)) == 0
    e = np.zeros(24)
    e[5] = -1.0  # ties among the 46 (±4, ±4) vectors through -e5: lowest index wins
    assert C.nearest(e) == int_oracle(e[None])[0]
    x = np.random.default_rng(5).standard_normal((2, 3, 7, 24)).astype(np.float32)
    got = C.nearest(x)
    assert got.shape == (2, 3, 7) and got.dtype == np.int64
    np.testing.assert_array_equal(got.ravel(), C.nearest(x.reshape(-1, 24).astype(np.float64)))
    assert C.nearest(np.zeros((0, 24))).shape == (0,)
    np.testing.assert_array_equal(leech_nearest(x.reshape(-1, 24).astype(np.float64), threads=1),
                                  got.ravel())


def test_bad_input():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 24\)"):
        C.nearest(np.zeros((3, 23)))
    with pytest.raises(ValueError, match="NaN or Inf"):
        C.nearest(np.full(24, np.nan))
    with pytest.raises(TypeError, match="real numbers"):
        C.nearest(np.zeros(24, dtype=complex))
    with pytest.raises(ValueError, match="out of range"):
        C.vectors([196560])
    with pytest.raises(TypeError, match="integers"):
        C.vectors([1.5])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=24, max_size=24),
       st.integers(0, 196559), st.sampled_from([0.0, 2.0**-20, -(2.0**-20)]))
def test_property_structured_search_is_the_exact_argmax(coords, k, eps):
    x = np.array(coords, dtype=np.float64) + eps * VF[k]
    assert C.nearest(x) == int_oracle(x[None])[0]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 196559), st.floats(1e-6, 1e6))
def test_property_scaling_keeps_the_codeword(k, lam):
    assert C.nearest(lam * C.points[k]) == k
