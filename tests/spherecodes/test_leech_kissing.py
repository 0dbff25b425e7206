"""The (23, 4600) and (22, 891) codes derived from the Leech shell."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lattiq.lattices.leech import leech_shell1
from lattiq.spherecodes import get_code
from lattiq.spherecodes.search import leech_subset_nearest

K23 = get_code("leech-4600")
K22 = get_code("leech-891")


def brute(X, P):
    return np.concatenate([np.argmax(X[s:s + 256] @ P.T, axis=1) for s in range(0, len(X), 256)])


def test_construction_from_the_leech_shell():
    shell = leech_shell1().astype(np.int64)
    v, uw = shell[0], shell[4]
    assert v.tolist()[:3] == [4, 4, 0] and uw.tolist()[:3] == [4, 0, 4]
    assert ((shell @ v) == 16).sum() == 4600
    assert (((shell @ v) == 16) & ((shell @ uw) == 16)).sum() == 891


def test_4600_has_an_exact_integer_form_in_23_coordinates():
    Z = K23.int_points
    assert Z.shape == (4600, 23) and np.issubdtype(Z.dtype, np.integer)
    assert ((Z * Z).sum(axis=1) == 48).all()
    np.testing.assert_allclose(K23.points, Z * K23.int_scale, rtol=0, atol=0)
    G = Z @ Z.T  # exact integer Gram matrix
    vals = set(np.unique(G).tolist())
    assert vals == {48, 16, 0, -16, -48}  # unit 1, 1/3, 0, -1/3, -1


def test_891_exact_form_keeps_24_integer_coordinates():
    assert K22.int_points is None and K22.int_scale is None
    e = K22.exact_form
    assert e.vectors.shape == (891, 24) and e.norm == 192 and e.basis.shape == (24, 22)
    np.testing.assert_allclose(e.basis.T @ e.basis, np.eye(22), atol=1e-15)
    assert ((e.vectors * e.vectors).sum(axis=1) == 192).all()
    # the vectors lie in the subspace x1 = x2 = -x0
    assert (e.vectors[:, 1] == -e.vectors[:, 0]).all()
    assert (e.vectors[:, 2] == -e.vectors[:, 0]).all()
    np.testing.assert_allclose(K22.points, (e.vectors @ e.basis) * e.scale, atol=1e-15)


def test_exact_invariants():
    assert K23.max_inner_product(exact=True) == Fraction(1, 3)
    assert K22.max_inner_product(exact=True) == Fraction(1, 4)
    assert K23.inner_product_distribution() == {1: 1, Fraction(1, 3): 891, 0: 2816,
                                                Fraction(-1, 3): 891, -1: 1}
    assert K22.inner_product_distribution() == {1: 1, Fraction(1, 4): 336,
                                                Fraction(-1, 8): 512, Fraction(-1, 2): 42}
    for C in (K23, K22):
        ref = C.inner_product_distribution()
        for p in (1, C.size // 2, C.size - 1):
            assert C.inner_product_distribution(point=p) == ref
    assert (K23.design_strength(), K22.design_strength()) == (7, 5)


@pytest.mark.parametrize("C", [K23, K22], ids=["4600", "891"])
def test_nearest_equals_brute_force(C):
    rng = np.random.default_rng(C.size)
    X = rng.standard_normal((3000, C.dim))
    np.testing.assert_array_equal(C.nearest(X), brute(X, C.points))
    idx = rng.integers(0, C.size, 500)
    np.testing.assert_array_equal(C.nearest(C.points[idx]), idx)
    np.testing.assert_array_equal(C.index_of(C.vectors(idx)), idx)


def test_4600_ties_go_to_the_lowest_index():
    rng = np.random.default_rng(1)
    Z = K23.int_points.astype(np.float64)
    for lo, hi in ((-1, 2), (-2, 3), (0, 2)):
        X = rng.integers(lo, hi, (1500, 23)).astype(np.float64)  # exact lift: integer scores
        np.testing.assert_array_equal(K23.nearest(X), brute(X, Z))


def test_891_subset_search_ties_go_to_the_lowest_index():
    # integer points of the 22-dimensional subspace, given in the 24 lifted coordinates
    rng = np.random.default_rng(2)
    W = rng.integers(-2, 3, (1500, 24)).astype(np.float64)
    W[:, 1] = -W[:, 0]
    W[:, 2] = -W[:, 0]
    Z = K22.exact_form.vectors.astype(np.float64)
    np.testing.assert_array_equal(leech_subset_nearest(W, K22.structure.subset), brute(W, Z))
