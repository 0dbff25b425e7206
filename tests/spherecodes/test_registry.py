"""Every registered code: size, unit norms, exact δ_min; names and bad names."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from lattiq.spherecodes import CODE_FAMILIES, EXAMPLE_CODES, get_code, list_codes
from lattiq.spherecodes.analysis import max_inner_product

#: name -> (dim, size, exact largest inner product between distinct codewords)
KNOWN = {
    "leech": (24, 196560, Fraction(1, 2)),
    "leech-4600": (23, 4600, Fraction(1, 3)),
    "leech-891": (22, 891, Fraction(1, 4)),
    "e8": (8, 240, Fraction(1, 2)),
    "d4": (4, 24, Fraction(1, 2)),
    "e8-shell2": (8, 2160, Fraction(3, 4)),
    "d4-shell2": (4, 24, Fraction(1, 2)),
    "a2-shell1": (2, 6, Fraction(1, 2)),
    "z3-shell2": (3, 12, Fraction(1, 2)),
    "a3-shell1": (3, 12, Fraction(1, 2)),
    "d5-shell1": (5, 40, Fraction(1, 2)),
    "z4-shell3": (4, 32, Fraction(2, 3)),
    "z24-shell2": (24, 1104, Fraction(1, 2)),
    "bsq-2": (2, 4, Fraction(0)),
    "bsq-8": (8, 256, Fraction(3, 4)),
    "bsq-16": (16, 65536, Fraction(7, 8)),
}
#: small instances of the float families (δ_min checked against brute force)
FLOAT = ["fibonacci-2", "fibonacci-1000", "fibonacci-4-1000", "fibonacci-6-300",
         "random-24-1000-s0", "random-3-50-s7", "random-2-9"]


def test_list_codes_covers_every_family():
    names = list_codes()
    assert names[:5] == ["leech", "leech-4600", "leech-891", "e8", "d4"]
    assert set(EXAMPLE_CODES) <= set(names)
    assert list_codes(examples=False) == names[:5]
    assert len(CODE_FAMILIES) == 5


@pytest.mark.parametrize("name", sorted(set(KNOWN) | set(list_codes())))
def test_registered_code_size_norms_and_exact_min_distance(name):
    C = get_code(name)
    assert C.name == name or name == "random-24-1000-s0"
    P = C.points
    assert P.shape == (C.size, C.dim) and P.dtype == np.float64
    assert not P.flags.writeable
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0, atol=1e-14)
    if name in KNOWN:
        d, n, s = KNOWN[name]
        assert (C.dim, C.size) == (d, n)
        assert C.max_inner_product(exact=True) == s
        assert C.min_distance() == pytest.approx(math.sqrt(2 - 2 * s), abs=1e-15)
        if C.size <= 5000:  # the exact value agrees with an exact all-pairs search
            assert max_inner_product(P) == pytest.approx(float(s), abs=1e-14)
    else:
        G = P @ P.T
        np.fill_diagonal(G, -2)
        assert C.max_inner_product() == pytest.approx(G.max(), abs=1e-13)
    assert 0 <= C.min_angle() <= math.pi


@pytest.mark.parametrize("name", FLOAT)
def test_float_families_min_distance_matches_brute_force(name):
    C = get_code(name)
    P = C.points
    G = P @ P.T
    np.fill_diagonal(G, -2)
    assert C.min_distance() == pytest.approx(math.sqrt(2 - 2 * G.max()), abs=1e-12)
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0, atol=1e-14)
    assert len(np.unique(np.round(P, 12), axis=0)) == C.size


def test_known_min_angles_in_degrees():
    for name, deg in (("leech", 60.0), ("leech-4600", 70.5287794), ("leech-891", 75.5224878),
                      ("e8", 60.0), ("d4", 60.0)):
        assert math.degrees(get_code(name).min_angle()) == pytest.approx(deg, abs=1e-6)
    for d in (2, 5, 24):
        assert get_code(f"bsq-{d}").min_distance() == pytest.approx(2 / math.sqrt(d))


def test_codes_are_cached_and_aliases_resolve_to_one_code():
    assert get_code("leech") is get_code("leech")
    assert get_code("e8-shell1") is get_code("e8")
    assert get_code("d4-shell1") is get_code("d4")
    assert get_code("leech-shell1") is get_code("leech")
    assert get_code("random-5-10") is get_code("random-5-10-s0")
    assert get_code("random-5-10").name == "random-5-10-s0"
    assert get_code("random-5-10-s3").name == "random-5-10-s3"
    assert not np.array_equal(get_code("random-5-10-s3").points, get_code("random-5-10").points)


def test_random_codes_are_reproducible_from_the_seed():
    a = get_code("random-7-20-s11").points
    X = np.random.default_rng(11).standard_normal((20, 7))
    np.testing.assert_array_equal(a, X / np.linalg.norm(X, axis=1, keepdims=True))


@pytest.mark.parametrize("bad", ["foo", "leech-100", "Leech", "e8 ", "bsq-08", "bsq-x",
                                 "fibonacci-010", "random-3", "d4-shell", "q3-shell1",
                                 "random-3-10-s01", ""])
def test_unknown_names_list_the_known_codes(bad):
    with pytest.raises(ValueError, match="known codes: leech, leech-4600"):
        get_code(bad)


@pytest.mark.parametrize("bad, msg", [
    ("bsq-1", "2 <= d <= 62"), ("bsq-63", "2 <= d <= 62"), ("fibonacci-1", "2 <= N"),
    ("fibonacci-3-100", "called 'fibonacci-100'"), ("fibonacci-2-100", "d >= 4"),
    ("random-1-10", "d >= 2"), ("random-3-0", "N >= 1"), ("e8-shell0", "numbered from 1"),
    ("z1-shell1", "dimension >= 2"), ("d1-shell1", "n >= 2"),
])
def test_out_of_range_parameters_say_why(bad, msg):
    with pytest.raises(ValueError, match=msg):
        get_code(bad)


def test_too_large_codes_are_refused_with_their_size_in_bytes():
    with pytest.raises(ValueError, match=r"16,773,120 vectors.*3,220,439,040 bytes"):
        get_code("leech-shell2")
    C = get_code("bsq-40")  # implicit: fine until the points are asked for
    assert C.size == 2**40 and C.nearest(np.ones(40)) == 0
    nbytes = 2**40 * 40 * 8
    with pytest.raises(ValueError, match=rf"1,099,511,627,776 codewords.*{nbytes:,} bytes"):
        C.points  # noqa: B018


def test_name_must_be_a_string():
    with pytest.raises(TypeError):
        get_code(24)
