"""Lattice invariants asserted exactly against SPLAG, and lattice properties."""

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices import Lattice, get_lattice, list_lattices
from lattiq.testing import lattice_points, random_bases

# name: (dim, det, min_norm, kissing, center density)   (SPLAG ch. 1 Table 1.2, ch. 4)
KNOWN = {
    "a2": (2, 3, 2, 6, 1 / (2 * sympy.sqrt(3))),
    "d4": (4, 4, 2, 24, sympy.Rational(1, 8)),
    "e8": (8, 1, 2, 240, sympy.Rational(1, 16)),
    "leech": (24, 1, 4, 196560, sympy.Integer(1)),
    "z3": (3, 1, 1, 6, sympy.Rational(1, 8)),
    "d5": (5, 4, 2, 40, sympy.sqrt(2) / 16),
    "a3": (3, 4, 2, 12, sympy.Rational(1, 8) * sympy.sqrt(2)),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_invariants_exact(name):
    dim, det, mn, kiss, cd = KNOWN[name]
    L = get_lattice(name)
    assert L.dim == dim
    assert L.det() == det
    assert L.min_norm() == mn
    assert L.kissing_number() == kiss
    assert sympy.simplify(L.center_density() - cd) == 0
    assert sympy.simplify(L.density() - cd * sympy.pi ** sympy.Rational(dim, 2)
                          / sympy.gamma(sympy.Rational(dim, 2) + 1)) == 0


@pytest.mark.parametrize("name", ["a2", "d4", "e8", "z3", "d5", "a3", "a4"])
def test_recorded_invariants_match_computation(name):
    # the closed-form table and the enumeration / exact determinant agree
    L = get_lattice(name)
    U = Lattice.from_basis(L.basis_int, name="copy")
    assert U.det() * L.scale ** (2 * L.dim) == L.det()
    assert U.min_norm() * L.scale**2 == L.min_norm()
    assert U.kissing_number() == L.kissing_number()


def test_e8_and_leech_recorded_values_match_enumeration():
    for name in ("e8", "leech"):
        L = get_lattice(name)
        th = L.theta_series(5, method="enumerate")
        assert th[L.min_norm()] == L.kissing_number()
        assert all(v == 0 for v in th[1:int(L.min_norm())])
        from lattiq.lattices.exact import exact_det

        assert exact_det(L.gram()) == L.det()


def test_hermite_constants():
    assert get_lattice("e8").hermite_constant() == 2
    assert get_lattice("leech").hermite_constant() == 4
    assert get_lattice("d4").hermite_constant() == sympy.sqrt(2)
    assert get_lattice("a2").hermite_constant() == 2 / sympy.sqrt(3)


def test_unimodular_even():
    for name in ("e8", "leech"):
        L = get_lattice(name)
        assert L.is_unimodular() and L.is_even()
    assert get_lattice("z4").is_unimodular() and not get_lattice("z4").is_even()
    assert not get_lattice("d4").is_unimodular()


@pytest.mark.parametrize("name", ["leech", "e8", "d4", "a2", "z3", "d6", "a5"])
def test_gram_positive_definite_and_basis_members(name):
    L = get_lattice(name)
    assert np.all(np.linalg.eigvalsh(L.gram_float()) > 0)
    assert np.all(L.contains(L.basis))
    G = L.gram()
    if L.is_even():
        assert all(G[i, i] % 2 == 0 for i in range(L.dim))


def test_duals():
    assert get_lattice("d4").dual().det() == sympy.Rational(1, 4)
    a2s = get_lattice("a2").dual()
    assert a2s.det() == sympy.Rational(1, 3) and a2s.min_norm() == sympy.Rational(2, 3)
    assert get_lattice("e8").dual() is get_lattice("e8")
    d5s = get_lattice("d5").dual()
    # D5* ⊃ Z5, min norm 1; the glue (1/2)^5 has norm 5/4
    assert d5s.min_norm() == 1 and d5s.contains(np.full(5, 0.5))
    U = Lattice.from_basis([[2, 1], [0, 3]])
    assert U.dual().det() == 1 / U.det()


def test_shells():
    e8 = get_lattice("e8")
    s1 = e8.shell(1)
    assert s1.shape == (240, 8)
    assert set(((s1 * 0.5) ** 2).sum(1)) == {2.0}
    assert e8.shell(2).shape == (2160, 8) and e8.shell_norm(2) == 4
    assert get_lattice("d4").shell(3).shape == (96, 4)
    assert get_lattice("leech").shell(1).shape == (196560, 24)
    a2 = get_lattice("a2").shell(1)
    assert (a2.sum(1) == 0).all() and len(a2) == 6


def test_contains_exact_and_float():
    L = get_lattice("e8")
    assert L.contains(np.full(8, 0.5))
    assert not L.contains(np.r_[np.full(7, 0.5), -0.5])  # odd number of minus signs
    assert L.contains(np.array([Fraction(1, 2)] * 8, dtype=object))
    assert not L.contains(np.array([Fraction(1, 3)] * 8, dtype=object))
    assert L.contains(np.full(8, 0.5) + 1e-12)
    assert not L.contains(np.full(8, 0.5) + 1e-3)
    leech = get_lattice("leech")
    v = np.zeros(24)
    v[:2] = np.sqrt(2)
    assert leech.contains(v)
    assert get_lattice("d3").contains(np.array([1, 1, 0])) and not get_lattice("d3").contains(
        np.array([1, 0, 0]))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["e8", "d4", "a3", "z2", "leech"]), st.data())
def test_membership_closed_under_addition_and_negation(name, data):
    L = get_lattice(name)
    x = data.draw(lattice_points(L))
    y = data.draw(lattice_points(L))
    assert L.contains(x) and L.contains(-x) and L.contains(x + y) and L.contains(x - y)


@settings(max_examples=25, deadline=None)
@given(random_bases(3, max_entry=3))
def test_user_lattice_invariants(B):
    L = Lattice.from_basis(B)
    assert L.det() == round(np.linalg.det(B)) ** 2
    th = L.theta_series(int(L.min_norm()) + 1, method="enumerate")
    assert th[0] == 1 and th[int(L.min_norm())] == L.kissing_number()
    assert L.kissing_number() % 2 == 0
    assert L.contains(B.astype(float)).all()


def test_from_gram():
    L = Lattice.from_gram([[2, 1], [1, 2]])  # A2
    assert L.det() == 3 and L.min_norm() == 2 and L.kissing_number() == 6
    assert L.theta_series(9) == get_lattice("a2").theta_series(9)


def test_registry_walks_every_entry():
    for name in list_lattices():
        L = get_lattice(name)
        assert L.name == name and L.det() > 0 and L.kissing_number() > 0


@pytest.mark.parametrize("bad,match", [
    ("e9", "unknown lattice"), ("foo", "known: leech"), ("d1", "d<n> needs"),
])
def test_unknown_names(bad, match):
    with pytest.raises(ValueError, match=match):
        get_lattice(bad)


def test_bad_bases():
    with pytest.raises(ValueError, match="linearly dependent"):
        Lattice.from_basis([[1, 2], [2, 4]])
    with pytest.raises(ValueError, match="cannot be linearly independent"):
        Lattice.from_basis(np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN or Inf"):
        Lattice.from_basis([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(ValueError, match="2-D"):
        Lattice.from_basis([1, 2, 3])
    with pytest.raises(ValueError, match="positive definite"):
        Lattice.from_gram([[1, 2], [2, 1]])
    with pytest.raises(ValueError, match="symmetric"):
        Lattice.from_gram([[2, 1], [0, 2]])
    with pytest.raises(ValueError, match="last dimension"):
        get_lattice("e8").contains(np.zeros(7))
    with pytest.raises(ValueError, match="NaN"):
        get_lattice("e8").contains(np.full(8, np.nan))


def test_theta_refuses_huge_requests_with_estimate():
    with pytest.raises(ValueError, match=r"about [0-9.e+]+ vectors"):
        get_lattice("leech").theta_series(40, method="enumerate")
    with pytest.raises(ValueError, match="positive integer"):
        get_lattice("e8").theta_series(0)
    with pytest.raises(ValueError, match="not integral"):
        Lattice.from_basis([[1, Fraction(1, 2)], [0, Fraction(3, 2)]]).theta_series(4)
