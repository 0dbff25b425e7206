"""Theta series: closed forms against Fincke–Pohst enumeration, and the DESIGN.md values."""

from math import comb

import pytest

from lattiq.lattices import get_lattice
from lattiq.spherecodes import get_code

# entry m counts the vectors of norm m (SPLAG ch. 4)
LEECH = [1, 0, 0, 0, 196560, 0, 16773120, 0, 398034000, 0, 4629381120]
E8 = [1, 0, 240, 0, 2160, 0, 6720, 0, 17520]
D4 = [1, 0, 24, 0, 24, 0, 96, 0, 24]


def test_closed_forms_match_literature():
    assert get_lattice("leech").theta_series(11) == LEECH
    assert get_lattice("e8").theta_series(9) == E8
    assert get_lattice("d4").theta_series(9) == D4
    assert get_lattice("z3").theta_series(6) == [1, 6, 12, 8, 6, 24]


@pytest.mark.parametrize("name,n", [("e8", 9), ("d4", 11), ("z4", 8), ("d6", 7), ("z8", 5)])
def test_enumeration_agrees_with_closed_form(name, n):
    L = get_lattice(name)
    assert L.theta_series(n, method="enumerate") == L.theta_series(n, method="closed")


def test_leech_enumeration_through_norm_6():
    L = get_lattice("leech")
    assert L.theta_series(7, method="enumerate") == LEECH[:7]


@pytest.mark.slow
def test_leech_enumeration_through_norm_8():
    assert get_lattice("leech").theta_series(9, method="enumerate") == LEECH[:9]


def test_a2_hexagonal():
    # norms 2, 6, 8, 14 ... each with 6 vectors (A2 in the zero-sum plane)
    th = get_lattice("a2").theta_series(15)
    assert th[:9] == [1, 0, 6, 0, 0, 0, 6, 0, 6]
    assert th[14] == 12


@pytest.mark.parametrize("name,n", [("a1", 20), ("a2", 30), ("a3", 21), ("a5", 13), ("a8", 9)])
def test_an_closed_form_agrees_with_enumeration(name, n):
    L = get_lattice(name)
    assert L.theta_series(n, method="closed") == L.theta_series(n, method="enumerate")


def test_an_closed_form_literature_values():
    # A3 = D3 (face-centred cubic); A_n: n(n+1) roots, and the norm-4 vectors
    # (1, 1, -1, -1, 0, ...): C(n+1, 2) C(n-1, 2)
    assert get_lattice("a3").theta_series(9, method="closed") == get_lattice("d3").theta_series(9)
    for n in (4, 9, 30, 62):
        th = get_lattice(f"a{n}").theta_series(5, method="closed")
        assert th[:5] == [1, 0, n * (n + 1), 0, comb(n + 1, 2) * comb(n - 1, 2)]


def test_high_dimensional_small_norm_is_answered_or_refused_at_once():
    # the Gauss estimate of a62 through norm 6 is ~5e4 vectors; the truth is 1.36e9, so the
    # closed form answers and the code request is refused by its size, not by a long walk
    assert get_lattice("a62").theta_series(7)[6] == 1_359_148_686
    with pytest.raises(ValueError, match="GiB"):
        get_code("a62-shell3")


def test_enumeration_stops_at_its_node_budget(monkeypatch):
    from lattiq.lattices import theta

    monkeypatch.setattr(theta, "MAX_ENUMERATION_NODES", 1000)
    with pytest.raises(ValueError, match="search-tree nodes"):
        get_lattice("e8").theta_series(9, method="enumerate")
