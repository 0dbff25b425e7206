"""Spherical Fibonacci codes: construction, and the exact inverse-mapping search."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from lattiq.spherecodes import get_code
from lattiq.spherecodes.families import kronecker_generators, kronecker_sphere_points
from lattiq.spherecodes.search import fibonacci_nearest


def test_points_follow_the_definition():
    n = 1000
    P = get_code(f"fibonacci-{n}").points
    i = np.arange(n)
    z = 1 - (2 * i + 1) / n
    phi = 2 * np.pi * np.mod(i * (math.sqrt(5) - 1) / 2, 1.0)
    r = np.sqrt(1 - z * z)
    np.testing.assert_allclose(P, np.stack([r * np.cos(phi), r * np.sin(phi), z], 1),
                               atol=1e-14)


def test_kronecker_family_reduces_to_fibonacci_on_s2():
    np.testing.assert_allclose(kronecker_sphere_points(3, 777), get_code("fibonacci-777").points,
                               atol=1e-12)
    g = kronecker_generators(1)
    assert g[0] == pytest.approx((math.sqrt(5) - 1) / 2, abs=1e-15)
    for m in (2, 3, 5):
        phi = 1 / kronecker_generators(m)[0]
        assert phi ** (m + 1) == pytest.approx(phi + 1, abs=1e-12)


def test_kronecker_points_are_spread_evenly():
    P = get_code("fibonacci-5-4000").points
    # every coordinate has mean ~0 and second moment ~1/d (uniform on S^4)
    assert np.abs(P.mean(axis=0)).max() < 0.01
    np.testing.assert_allclose((P * P).mean(axis=0), 0.2, atol=0.01)


@pytest.mark.parametrize("n", [2, 3, 7, 50, 1000, 12345, 200_000])
def test_inverse_mapping_equals_brute_force(n):
    C = get_code(f"fibonacci-{n}")
    rng = np.random.default_rng(n)
    X = rng.standard_normal((3000, 3))
    # near the poles and on the seam phi = 0 as well
    X[:200] = [0, 0, 1] + 1e-3 * rng.standard_normal((200, 3))
    X[200:400] = [0, 0, -1] + 1e-3 * rng.standard_normal((200, 3))
    X[400:500, 1] = 0.0
    X[500:520] = [[0, 0, 1], [0, 0, -1], [1, 0, 0], [-1, 0, 0]] * 5
    ref = np.argmax(X @ C.points.T, axis=1) if n <= 20_000 else \
        cKDTree(C.points).query(X / np.linalg.norm(X, axis=1, keepdims=True))[1]
    np.testing.assert_array_equal(C.nearest(X), ref)
    idx = rng.integers(0, n, 500)
    np.testing.assert_array_equal(C.nearest(C.points[idx]), idx)
    np.testing.assert_array_equal(C.index_of(C.vectors(idx)), idx)


def test_inverse_mapping_scales_without_materializing():
    n = 10**9
    C = get_code(f"fibonacci-{n}")
    rng = np.random.default_rng(0)
    idx = rng.integers(0, n, 300)
    V = C.vectors(idx)
    np.testing.assert_array_equal(C.nearest(V), idx)
    # a random query: its answer beats every point of a wide neighbourhood band
    x = rng.standard_normal((40, 3))
    k = C.nearest(x)
    for r in range(len(x)):
        band = np.clip(k[r] + np.arange(-3000, 3001), 0, n - 1)
        ips = C.vectors(band) @ x[r]
        assert ips[band == k[r]][0] >= ips.max() - 1e-15
    assert C._points is None


def test_zero_input_gives_index_zero():
    assert get_code("fibonacci-100").nearest(np.zeros(3)) == 0
    assert fibonacci_nearest(np.zeros((2, 3)), 5).tolist() == [0, 0]


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 5000), st.floats(-1, 1), st.floats(-math.pi, math.pi))
def test_property_exact_nearest(n, z, phi):
    r = math.sqrt(max(0.0, 1 - z * z))
    x = np.array([r * math.cos(phi), r * math.sin(phi), z])
    C = get_code(f"fibonacci-{n}")
    assert C.nearest(x) == np.argmax(C.points @ x)
