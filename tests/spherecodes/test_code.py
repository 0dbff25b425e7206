"""SphericalCode.from_points policies, the generic tiled search, input validation."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.spherecodes import SphericalCode, get_code
from lattiq.spherecodes.search import tiled_nearest
from lattiq.testing import random_codes


def test_from_points_normalizes_with_a_warning():
    X = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 2.0], [1.0, 0.0, 0.0]])
    with pytest.warns(UserWarning, match="2 of 3 points are not unit vectors"):
        C = SphericalCode.from_points(X, name="three")
    np.testing.assert_allclose(C.points, [[0.6, 0.8, 0], [0, 0, 1], [1, 0, 0]])
    assert C.name == "three" and C.exact_form is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SphericalCode.from_points(X[2:] * (1 + 1e-7))  # within tolerance: silent


def test_from_points_refuses_zero_nan_and_bad_shapes():
    with pytest.raises(ValueError, match="zero vector"):
        SphericalCode.from_points([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="NaN or Inf"):
        SphericalCode.from_points([[1.0, np.inf], [0.0, 1.0]])
    with pytest.raises(ValueError, match="shape"):
        SphericalCode.from_points(np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        SphericalCode.from_points(np.ones((3, 1)))
    with pytest.raises(TypeError, match="real numbers"):
        SphericalCode.from_points(np.ones((3, 2), dtype=complex))
    with pytest.raises(ValueError, match="name"):
        SphericalCode.from_points(np.eye(2), name="")


def test_from_points_drops_duplicates_with_the_count():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    with pytest.warns(UserWarning) as rec:
        C = SphericalCode.from_points(X)
    assert any("dropped 2 duplicate" in str(w.message) for w in rec)
    np.testing.assert_array_equal(C.points, [[1, 0], [0, 1], [-1, 0]])


def test_from_points_keeps_an_integer_form():
    shell = get_code("e8").exact_form.vectors
    with pytest.warns(UserWarning, match="not unit vectors"):
        C = SphericalCode.from_points(shell, name="e8-copy")
    assert C.int_points is not None and C.exact_form.norm == 8
    assert C.max_inner_product(exact=True) == get_code("e8").max_inner_product(exact=True)
    assert C.inner_product_distribution(point=0) == get_code("e8").inner_product_distribution()
    with pytest.warns(UserWarning, match="not unit vectors"):
        mixed = SphericalCode.from_points(np.array([[1, 0], [1, 1]]))
    assert mixed.exact_form is None


def test_generic_search_equals_brute_force_with_tiny_tiles():
    C = get_code("random-16-3000-s5")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((777, 16))
    ref = np.argmax(X @ C.points.T, axis=1)
    np.testing.assert_array_equal(C.nearest(X), ref)
    for tb in (4096, 100_000):
        np.testing.assert_array_equal(tiled_nearest(X, C.points, tile_bytes=tb), ref)
    np.testing.assert_array_equal(tiled_nearest(X[:20], C.points[:50], tile_bytes=8),
                                  np.argmax(X[:20] @ C.points[:50].T, axis=1))


def test_generic_search_ties_go_to_the_lowest_index():
    P = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0.0]])
    with pytest.warns(UserWarning, match="duplicate"):
        C = SphericalCode.from_points(P)
    assert C.size == 3
    X = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 0], [0, 0, 1.0]])
    assert C.nearest(X).tolist() == [0, 1, 0, 2]
    assert tiled_nearest(X, C.points, tile_bytes=8).tolist() == [0, 1, 0, 2]


def test_vectors_index_of_and_validation():
    C = get_code("fibonacci-4-500")
    idx = np.array([[3, 499], [0, 7]])
    V = C.vectors(idx)
    assert V.shape == (2, 2, 4)
    np.testing.assert_array_equal(C.index_of(V), idx)
    with pytest.raises(ValueError, match="not a codeword"):
        C.index_of(V + 1e-3)
    with pytest.raises(ValueError, match="shape"):
        C.nearest(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        C.nearest(1.0)
    with pytest.raises(TypeError):
        C.nearest(np.array(["a", "b", "c", "d"]))
    with pytest.raises(ValueError, match="out of range"):
        C.vectors(-1)
    assert C.nearest(np.ones((0, 4))).shape == (0,)
    assert C.nearest(np.ones(4, dtype=np.int32)).shape == ()
    assert len(C) == 500 and "fibonacci-4-500" in repr(C) and C.bits == pytest.approx(8.9657842)


def test_single_point_code():
    C = SphericalCode.from_points([[0.0, 1.0]])
    assert C.nearest([[1.0, -1.0]]).tolist() == [0]
    with pytest.raises(ValueError, match="one point"):
        C.min_distance()


@settings(max_examples=30, deadline=None)
@given(random_codes(5, 2, 200), st.integers(0, 2**31))
def test_property_user_codes_search_exactly(P, seed):
    C = SphericalCode.from_points(P)
    X = np.random.default_rng(seed).standard_normal((50, 5))
    np.testing.assert_array_equal(C.nearest(X), np.argmax(X @ C.points.T, axis=1))
    np.testing.assert_array_equal(C.index_of(C.points), np.arange(C.size))
    G = C.points @ C.points.T
    np.fill_diagonal(G, -2)
    if C.size > 1:
        assert C.max_inner_product() == pytest.approx(G.max(), abs=1e-14)


def test_spherecodes_never_import_torch():
    code = ("import sys, lattiq.spherecodes as s, lattiq.spherecodes.cli, "
            "lattiq.spherecodes.io; s.get_code('e8').nearest([1.0] * 8); "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
