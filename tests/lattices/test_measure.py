"""Normalized second moment and covering radius, against the known values (SPLAG)."""

from fractions import Fraction

import numpy as np
import pytest
import sympy

from lattiq.lattices import Lattice, get_lattice
from lattiq.lattices.measure import (
    CoveringRadius,
    NSMEstimate,
    _exponent,
    covering_radius,
    known_covering_radius,
    known_normalized_second_moment,
    normalized_second_moment,
    sample_fundamental_region,
)

#: Our own estimate with 10^7 samples (seed 123): 0.0657524 ± 0.0000019.
LEECH_NSM = 0.065752


@pytest.mark.parametrize(
    "name,n", [("z1", 20_000), ("z3", 50_000), ("d4", 100_000), ("e8", 100_000),
               ("a2", 50_000), ("d3", 50_000)]
)
def test_nsm_reproduces_known_values(name, n):
    L = get_lattice(name)
    est = L.normalized_second_moment(n_samples=n, seed=11)
    assert isinstance(est, NSMEstimate)
    exact = float(known_normalized_second_moment(L))
    assert 0 < est.stderr < 0.01 * est.value
    assert abs(est.value - exact) <= 3 * est.stderr, (name, est, exact)


def test_nsm_known_values_exact():
    assert known_normalized_second_moment(get_lattice("z5")) == sympy.Rational(1, 12)
    assert known_normalized_second_moment(get_lattice("e8")) == sympy.Rational(929, 12960)
    d4 = known_normalized_second_moment(get_lattice("d4"))
    assert sympy.simplify(d4 - 13 * sympy.sqrt(2) / 240) == 0
    assert abs(float(d4) - 0.0766032) < 5e-8
    # D3 and A3 are the same lattice (fcc); D2 and A1 are scaled copies of Z2 and Z
    assert sympy.simplify(known_normalized_second_moment(get_lattice("d3"))
                          - known_normalized_second_moment(get_lattice("a3"))) == 0
    assert known_normalized_second_moment(get_lattice("d2")) == sympy.Rational(1, 12)
    assert known_normalized_second_moment(get_lattice("a1")) == sympy.Rational(1, 12)
    assert known_normalized_second_moment(get_lattice("leech")) is None


def test_nsm_leech():
    est = normalized_second_moment(get_lattice("leech"), n_samples=100_000, seed=3)
    assert abs(est.value - LEECH_NSM) <= 3 * est.stderr + 2e-6, est
    assert est.value < float(known_normalized_second_moment(get_lattice("e8")))
    assert abs(est.value - 0.06576) < 5e-5  # the figure quoted for Λ24


def test_nsm_generic_lattice_matches_family():
    # a skewed basis of D4 as a user lattice: parallelepiped sampling + generic decoder
    V = np.array([[1, 2, 0, 0], [0, 1, 0, 3], [0, 0, 1, 0], [0, 0, 0, 1]]) @ np.array(
        [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, -1, 1, 1]]
    )
    assert round(abs(np.linalg.det(V))) == 1
    U = Lattice.from_basis(V @ get_lattice("d4").basis_int)
    est = normalized_second_moment(U, n_samples=40_000, seed=5)
    assert abs(est.value - float(13 * np.sqrt(2) / 240)) <= 3 * est.stderr
    # a Gram-matrix lattice (coefficient frame): A2
    G = Lattice.from_gram([[2, -1], [-1, 2]])
    est = normalized_second_moment(G, n_samples=40_000, seed=6)
    exact = float(known_normalized_second_moment(get_lattice("a2")))
    assert abs(est.value - exact) <= 3 * est.stderr


def test_sampling_regions():
    assert _exponent(get_lattice("leech").basis_int) == 8
    assert _exponent(get_lattice("e8").basis_int) == 4
    assert _exponent(get_lattice("d5").basis_int) == 2
    assert _exponent(np.array([[2, 1], [0, 3]])) == 6
    rng = np.random.default_rng(0)
    x = sample_fundamental_region(get_lattice("leech"), 1000, rng)
    assert x.shape == (1000, 24) and 0 <= x.min() and x.max() < 8 / np.sqrt(8)
    xa = sample_fundamental_region(get_lattice("a3"), 1000, rng)
    np.testing.assert_allclose(xa.sum(axis=1), 0, atol=1e-12)  # stays in the hyperplane
    # uniform modulo the lattice: the decoded residual of Z2 is uniform on the unit square
    z = get_lattice("z2")
    r = sample_fundamental_region(z, 20000, rng)
    res = r - z.nearest(r)
    assert np.all(np.abs(res) <= 0.5)
    assert abs(res.mean()) < 0.01 and abs((res**2).mean() - 1 / 12) < 0.003


def test_covering_radius_exact():
    cases = {
        "z4": 1, "z3": sympy.sqrt(3) / 2, "d2": 1, "d3": 1, "d4": 1, "d9": sympy.Rational(3, 2),
        "a1": 1 / sympy.sqrt(2), "a2": sympy.sqrt(sympy.Rational(2, 3)), "a3": 1,
        "e8": 1, "leech": sympy.sqrt(2),
    }
    for name, want in cases.items():
        c = get_lattice(name).covering_radius()
        assert isinstance(c, CoveringRadius) and c.method == "exact"
        assert sympy.simplify(c.exact - want) == 0, name
        assert c.value == pytest.approx(float(want))


@pytest.mark.parametrize(
    "name,hole",
    [("e8", [1, 0, 0, 0, 0, 0, 0, 0]), ("d4", [1, 0, 0, 0]), ("d6", [0.5] * 6),
     ("a2", [2 / 3, -1 / 3, -1 / 3]), ("a3", [0.5, 0.5, -0.5, -0.5]), ("z3", [0.5] * 3)],
)
def test_deep_holes_attain_known_radius(name, hole):
    L = get_lattice(name)
    h = np.array(hole, dtype=np.float64)
    d = np.linalg.norm(h - L.nearest(h))
    assert d == pytest.approx(float(known_covering_radius(L)), abs=1e-12)


def test_covering_radius_monte_carlo_is_a_tight_lower_bound():
    for name in ("d4", "a2"):
        L = get_lattice(name)
        c = covering_radius(L, method="monte-carlo", n_samples=20_000, seed=1)
        exact = float(known_covering_radius(L))
        assert c.exact is None and c.method == "monte-carlo lower bound"
        assert 0.97 * exact <= c.value <= exact + 1e-12, (name, c)
    U = Lattice.from_basis([[Fraction(3, 2), Fraction(1, 2)], [0, 1]])  # generic: MC
    c = U.covering_radius(n_samples=10_000, seed=2)
    assert c.method == "monte-carlo lower bound" and c.value > 0


def test_bad_arguments():
    L = get_lattice("z2")
    with pytest.raises(ValueError, match="n_samples"):
        normalized_second_moment(L, n_samples=1)
    with pytest.raises(ValueError, match="n_samples"):
        normalized_second_moment(L, n_samples=2.5)
    with pytest.raises(ValueError, match="method"):
        covering_radius(L, method="exact-ish")
    with pytest.raises(ValueError, match="refine_steps"):
        covering_radius(L, method="monte-carlo", refine_steps=-1)
    gen = np.random.default_rng(0)
    a = normalized_second_moment(L, n_samples=1000, seed=gen)
    b = normalized_second_moment(L, n_samples=1000, seed=0)
    assert a == b  # a seed and a Generator seeded alike draw the same points
