"""All-pairs analysis: δ_min by k-d tree and by pruned tiles, inner products, covering."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from lattiq.spherecodes import SphericalCode, get_code
from lattiq.spherecodes import analysis as A


def unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def brute_max_ip(P):
    G = P @ P.T
    np.fill_diagonal(G, -np.inf)
    k = int(np.argmax(G))
    return G.flat[k], divmod(k, len(P))


@pytest.mark.parametrize("d", [2, 3, 5, 6, 7, 12, 24])
def test_max_inner_product_matches_brute_force(d):
    rng = np.random.default_rng(d)
    P = unit(rng.standard_normal((3000, d)))
    s, (i, j) = A.max_inner_product(P, return_pair=True)
    ref, (a, b) = brute_max_ip(P)
    assert s == pytest.approx(ref, abs=1e-15)
    assert {i, j} == {a, b}
    assert A.min_distance(P) == pytest.approx(math.sqrt(2 - 2 * ref), abs=1e-12)


def test_tiled_search_is_exact_when_blocks_are_pruned():
    # clusters in 10-d: most block pairs are far apart and get pruned
    rng = np.random.default_rng(1)
    centers = unit(rng.standard_normal((20, 10)))
    P = unit(np.repeat(centers, 300, axis=0) + 0.05 * rng.standard_normal((6000, 10)))
    stats = {}
    s, i, j = A._max_ip_tiled(P, tile=128, stats=stats)
    ref, _ = brute_max_ip(P)
    assert stats["computed"] < stats["block_pairs"] / 2
    assert s == pytest.approx(ref, abs=1e-15)
    assert P[i] @ P[j] == pytest.approx(ref, abs=1e-15)


def test_exact_integer_helpers():
    V = get_code("e8").exact_form.vectors
    assert A.exact_max_inner_product(V) == 4
    counts = A.exact_inner_product_counts(V, 8)
    assert sum(counts.values()) == 240**2
    assert counts[Fraction(1, 2)] == 240 * 56
    with pytest.raises(ValueError):
        A.exact_max_inner_product(V[:1])


def test_inner_product_counts_and_histogram():
    P = get_code("random-4-300-s2").points
    d0 = A.inner_product_counts(P, point=0)
    assert sum(d0.values()) == 300 and d0[1.0] == 1
    allp = A.inner_product_counts(P)
    assert sum(allp.values()) == 300**2
    counts, edges = A.inner_product_histogram(P, bins=50)
    assert counts.sum() == 300 * 299 // 2 and len(edges) == 51
    with pytest.raises(ValueError, match="histogram"):
        A.inner_product_counts(unit(np.random.default_rng(0).standard_normal((2001, 3))))
    with pytest.raises(ValueError, match="bins"):
        A.inner_product_histogram(P, bins=0)


def test_code_distribution_views():
    C = get_code("z3-shell2")  # cuboctahedron: not assumed distance-invariant
    allp = C.inner_product_distribution()
    assert sum(allp.values()) == 144
    assert C.inner_product_distribution(point=3) == {1: 1, Fraction(1, 2): 4, 0: 2,
                                                     Fraction(-1, 2): 4, -1: 1}
    R = get_code("random-3-40-s1")
    assert sum(R.inner_product_distribution().values()) == 1600
    assert sum(R.inner_product_distribution(point=39).values()) == 40
    with pytest.raises(ValueError, match="out of range"):
        R.inner_product_distribution(point=40)
    with pytest.raises(TypeError):
        R.inner_product_distribution(point=1.0)


def test_covering_radius_estimates():
    # the octahedron (z3-shell1) has covering radius arccos(1/sqrt 3)
    C = get_code("z3-shell1")
    rho = C.covering_radius(n_samples=20000, seed=0)
    exact = math.acos(1 / math.sqrt(3))
    assert exact - 0.05 < rho <= exact + 1e-12
    rho1 = C.covering_radius(n_samples=5000, seed=1)
    assert rho1 == C.covering_radius(5000, np.random.default_rng(1))
    L = get_code("leech")
    assert L.min_angle() / 2 < L.covering_radius(n_samples=2000, seed=0) < math.pi / 2
    with pytest.raises(ValueError):
        C.covering_radius(n_samples=0)


def test_design_strength_for_codes_without_known_structure():
    assert get_code("z3-shell2").design_strength() == 3   # cuboctahedron
    assert get_code("a2-shell1").design_strength() == 5   # hexagon
    assert get_code("random-5-50-s0").design_strength() == 0
    assert SphericalCode.from_points(np.eye(4)).design_strength() == 0


def test_delta_min_of_a_million_points_on_s2():
    C = get_code("fibonacci-1000000")
    s = C.max_inner_product()  # k-d tree over all the points
    P = C.points
    # a second algorithm: spherical Fibonacci neighbours sit at Fibonacci index offsets
    fib = [1, 2]
    while fib[-1] < len(P):
        fib.append(fib[-1] + fib[-2])
    ref = max(float(np.max(np.einsum("ij,ij->i", P[:-k], P[k:]))) for k in fib[:-1])
    assert s == pytest.approx(ref, abs=1e-15)


@pytest.mark.slow
def test_delta_min_of_the_leech_points_without_structure():
    s, (i, j) = A.max_inner_product(get_code("leech").points, return_pair=True)
    assert s == pytest.approx(0.5, abs=1e-15)
