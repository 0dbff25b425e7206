"""Bounds on spherical codes: Levenshtein, Rankin, Kabatiansky-Levenshtein, Delsarte LP."""

import math
from fractions import Fraction as F

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.spherecodes import bounds as B

# (d, s, N): codes that meet the Levenshtein bound with equality (SPLAG ch. 9, Table 9.1)
TIGHT = [
    (24, F(1, 2), 196560),  # Leech minimal vectors
    (8, F(1, 2), 240),  # E8 roots
    (23, F(1, 3), 4600),  # kissing configuration of the Leech lattice in 23 dimensions
    (22, F(1, 4), 891),  # ... in 22 dimensions
    (7, F(1, 3), 56),  # E7 kissing configuration in its 7-space
    (6, F(1, 4), 27),  # Schlafli graph code
]


@pytest.mark.parametrize("d,s,n", TIGHT)
def test_levenshtein_exact_for_tight_codes(d, s, n):
    assert B.levenshtein_bound(d, s, exact=True) == n
    assert B.levenshtein_bound(d, float(s)) == pytest.approx(n, rel=1e-6)


def test_levenshtein_exact_accepts_strings_and_sympy():
    import sympy

    assert B.levenshtein_bound(24, "1/2", exact=True) == 196560
    assert B.levenshtein_bound(24, sympy.Rational(1, 2), exact=True) == 196560


def test_levenshtein_icosahedron_and_polygons():
    assert B.levenshtein_bound(3, 1 / math.sqrt(5)) == pytest.approx(12, rel=1e-9)
    for n in (3, 5, 7, 10, 17):
        assert B.levenshtein_bound(2, math.cos(2 * math.pi / n)) == pytest.approx(n, rel=1e-9)


def test_levenshtein_known_kissing_bounds():
    # Levenshtein's kissing-number bounds: 13.2857... in 3 dims, 26 in 4
    assert B.levenshtein_bound(3, 0.5) == pytest.approx(93 / 7, rel=1e-12)
    assert B.levenshtein_bound(4, 0.5) == pytest.approx(26, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(d=st.integers(3, 40), s=st.floats(-1.0, 0.0))
def test_levenshtein_and_rankin_for_nonpositive_s(d, s):
    # L_1 = 1 - 1/s on [-1, -1/d]; L_2 = 2d(1-s)/(1-ds) on [-1/d, 0]
    expect = (1 - 1 / s) if s <= -1 / d else 2 * d * (1 - s) / (1 - d * s)
    assert B.levenshtein_bound(d, s) == pytest.approx(expect, rel=1e-10)
    rankin = 2 * d if s == 0 else min(d + 1, 1 - 1 / s)
    assert B.rankin_bound(d, s) == pytest.approx(rankin, rel=1e-10)
    assert B.rankin_bound(d, s) <= B.levenshtein_bound(d, s) * (1 + 1e-12)


@pytest.mark.parametrize("d", [3, 4, 8, 24])
def test_levenshtein_continuous_at_breakpoints_and_equals_dgs(d):
    for m in range(1, 12):
        e = B._breakpoint(d, m)
        left, right = B._levenshtein_m(d, m, e), B._levenshtein_m(d, m + 1, e)
        assert left == pytest.approx(right, rel=1e-8)
        # the bound at the left end of I_{m+1} is the Delsarte-Goethals-Seidel number
        assert right == pytest.approx(B.dgs_design_bound(d, m + 1), rel=1e-8)


@settings(max_examples=40, deadline=None)
@given(d=st.integers(3, 30), a=st.floats(-0.99, 0.9), b=st.floats(-0.99, 0.9))
def test_levenshtein_is_increasing(d, a, b):
    lo, hi = sorted((a, b))
    assert B.levenshtein_bound(d, lo) <= B.levenshtein_bound(d, hi) * (1 + 1e-12)


def test_levenshtein_degree_matches_design_strength_of_tight_codes():
    # a code meeting L_m is an m-design: Leech 11, (22, 891) 5
    assert B.levenshtein_degree(24, 0.5) == 11
    assert B.levenshtein_degree(22, 0.25) == 5
    # E8 and (23, 4600) sit at the breakpoint t_3^{1,1} between I_6 and I_7, where L equals
    # the DGS number of 7-designs: the tight 7-designs
    for d, s, n in ((8, 0.5, 240), (23, 1 / 3, 4600)):
        assert B._breakpoint(d, 6) == pytest.approx(s, abs=1e-12)
        assert B.levenshtein_degree(d, s - 1e-9) == 6
        assert B.levenshtein_degree(d, s + 1e-9) == 7
        assert B.dgs_design_bound(d, 7) == n


@pytest.mark.parametrize("d", [2, 3, 5, 24])
def test_gegenbauer_matches_scipy(d):
    t = np.linspace(-1, 1, 101)
    for k in range(0, 15):
        got = B.gegenbauer(k, d, t)
        if d == 2:
            ref = scipy.special.eval_chebyt(k, t)
        else:
            lam = (d - 2) / 2
            ref = scipy.special.eval_gegenbauer(k, lam, t) / scipy.special.eval_gegenbauer(
                k, lam, 1.0
            )
        np.testing.assert_allclose(got, ref, atol=1e-12)
        assert B.gegenbauer(k, d, 1.0) == pytest.approx(1.0)


def test_gegenbauer_exact_rational():
    # P_2 on S^23 at 1/2: (24 t^2 - 1) / 23 = 5/23
    assert B.gegenbauer(2, 24, F(1, 2)) == F(5, 23)
    assert B.gegenbauer(6, 24, F(1, 4)) == pytest.approx(B.gegenbauer(6, 24, 0.25), abs=1e-15)


def test_rankin_cap_bound_against_closed_form_integral():
    # int_0^b sin^(d-2) (cos - cos b) = sin^(d-1) b/(d-1) - cos b * (1/2) B(sin^2 b; (d-1)/2, 1/2)
    for d in (3, 8, 24):
        for s in (0.1, 0.5, 0.9):
            beta = math.acos(math.sqrt(s))
            a = (d - 1) / 2
            inc = 0.5 * scipy.special.betainc(a, 0.5, math.sin(beta) ** 2) * scipy.special.beta(
                a, 0.5
            )
            closed = math.sin(beta) ** (d - 1) / (d - 1) - math.cos(beta) * inc
            assert B._cap_weight_integral(d, beta) == pytest.approx(closed, rel=1e-9)


@pytest.mark.parametrize("d,s,n", TIGHT)
def test_all_bounds_are_valid_on_tight_codes(d, s, n):
    s = float(s)
    assert B.rankin_bound(d, s) >= n
    assert B.kabatiansky_levenshtein_bound(d, s) >= n * (1 - 1e-12)
    assert B.kabatiansky_levenshtein_bound(d, s) >= B.levenshtein_bound(d, s) * (1 - 1e-12)


def test_kabatiansky_levenshtein_rate_kissing_exponent():
    # the famous 0.401: tau_d <= 2^(0.401 d (1 + o(1)))
    assert B.kabatiansky_levenshtein_rate(math.pi / 3) == pytest.approx(0.401, abs=1e-3)
    assert B.kabatiansky_levenshtein_bound(24, 0.5, form="asymptotic") == pytest.approx(
        2 ** (24 * B.kabatiansky_levenshtein_rate(math.pi / 3))
    )


@settings(max_examples=30, deadline=None)
@given(d=st.integers(3, 30), s=st.floats(-0.95, 0.95))
def test_kabatiansky_levenshtein_explicit_dominates_levenshtein(d, s):
    assert B.kabatiansky_levenshtein_bound(d, s) >= B.levenshtein_bound(d, s) * (1 - 1e-9)


@pytest.mark.parametrize("d,s,n", TIGHT[:4])
def test_lp_bound_meets_tight_codes(d, s, n):
    lp = B.delsarte_lp_bound(d, float(s), return_details=True)
    # rigorous value: never below the code size, within 1e-4 of it
    assert n * (1 - 1e-9) <= lp.value <= n * (1 + 1e-4)
    assert lp.raw == pytest.approx(n, rel=1e-6)


def test_lp_kissing_numbers_small_dimensions():
    lp3 = B.delsarte_lp_bound(3, 0.5)
    assert 12 <= lp3 < 14
    assert lp3 == pytest.approx(13.1583, abs=2e-3)  # Odlyzko & Sloane (1979)
    assert B.delsarte_lp_bound(4, 0.5) == pytest.approx(25.5584, abs=2e-3)
    assert B.delsarte_lp_bound(3, 0.5) <= B.levenshtein_bound(3, 0.5)


def test_lp_certificate_checked_independently():
    d, s = 5, 0.3
    lp = B.delsarte_lp_bound(d, s, return_details=True)
    f = lp.coefficients
    assert f[0] == 1 and np.all(f >= 0)
    t = np.linspace(-1, s, 200001)
    lam = (d - 2) / 2
    vals = sum(
        f[k] * scipy.special.eval_gegenbauer(k, lam, t) / scipy.special.eval_gegenbauer(k, lam, 1)
        for k in range(f.size)
    )
    assert vals.max() <= lp.max_on_interval + 1e-9
    assert lp.value >= (f.sum() - lp.max_on_interval) / (1 - lp.max_on_interval) - 1e-9
    assert lp.value <= B.levenshtein_bound(d, s) * (1 + 1e-4)


def test_fejes_toth_equality_cases():
    for n, s in ((3, -0.5), (4, -1 / 3), (6, 0.0), (12, 1 / math.sqrt(5))):
        assert B.fejes_toth_bound(n) == pytest.approx(math.sqrt(2 - 2 * s), rel=1e-12)


@pytest.mark.parametrize(
    "d,n,delta",
    [
        (24, 196560, 1.0),
        (8, 240, 1.0),
        (23, 4600, math.sqrt(4 / 3)),
        (22, 891, math.sqrt(1.5)),
        (3, 12, math.sqrt(2 - 2 / math.sqrt(5))),
        (3, 4, math.sqrt(8 / 3)),
        (5, 6, math.sqrt(2 + 2 / 5)),  # regular simplex
        (5, 10, math.sqrt(2)),  # cross-polytope
    ],
)
def test_delta_min_bound_attained(d, n, delta):
    assert B.delta_min_upper_bound(d, n) == pytest.approx(delta, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(d=st.integers(2, 6), n=st.integers(2, 60), seed=st.integers(0, 2**32 - 1))
def test_delta_min_bound_holds_for_random_codes(d, n, seed):
    X = np.random.default_rng(seed).standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    G = X @ X.T
    np.fill_diagonal(G, -np.inf)
    delta = math.sqrt(max(2 - 2 * G.max(), 0.0))
    for method in ("levenshtein", "rankin", "best"):
        assert delta <= B.delta_min_upper_bound(d, n, method) + 1e-9


def test_delta_min_bound_is_monotone_in_n():
    v = [B.delta_min_upper_bound(24, n) for n in (10, 100, 1000, 10**4, 10**5, 10**6)]
    assert all(a >= b for a, b in zip(v, v[1:], strict=False))


def test_conversions():
    assert B.chord_from_inner_product(0.5) == pytest.approx(1.0)
    assert B.inner_product_from_chord(1.0) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: B.levenshtein_bound(1, 0.5), ValueError, "d must be >= 2"),
        (lambda: B.levenshtein_bound(24, 1.0), ValueError, r"\[-1, 1\)"),
        (lambda: B.levenshtein_bound(24, float("nan")), ValueError, "finite"),
        (lambda: B.levenshtein_bound(24.0, 0.5), TypeError, "int"),
        (lambda: B.levenshtein_bound(24, 0.5, exact=True), TypeError, "rational"),
        (lambda: B.rankin_bound(3, -1.5), ValueError, r"\[-1, 1\)"),
        (lambda: B.delsarte_lp_bound(3, 0.5, degree=0), ValueError, "degree"),
        (lambda: B.delta_min_upper_bound(4, 10, "fejes-toth"), ValueError, "S\\^2"),
        (lambda: B.delta_min_upper_bound(4, 10, "nope"), ValueError, "unknown method"),
        (lambda: B.delta_min_upper_bound(4, 0), ValueError, ">= 1"),
        (lambda: B.kabatiansky_levenshtein_bound(4, 0.5, form="x"), ValueError, "form"),
        (lambda: B.kabatiansky_levenshtein_rate(2.0), ValueError, "theta"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("d", [2, 3, 8, 24])
def test_large_degree_jacobi_zeros_match_all_roots(d):
    # beyond degree 300 the largest zero comes from Bessel asymptotics + Brent's method
    alpha = (d - 3) / 2
    for k in (301, 700):
        for a, b in ((1, 0), (1, 1)):
            x, _ = scipy.special.roots_jacobi(k, alpha + a, alpha + b)
            z = B._largest_jacobi_zero.__wrapped__(k, d, a, b)
            assert (1 - z) == pytest.approx(1 - x.max(), rel=1e-8)


def test_levenshtein_near_one_is_fast_and_finite():
    # a random 1000-point code on S^2 has s within ~1e-7 of 1: degree in the thousands
    v = B.levenshtein_bound(3, 1 - 4e-8)
    assert math.isfinite(v) and v > 1e8
    assert B.levenshtein_degree(3, 1 - 4e-8) > 1000
