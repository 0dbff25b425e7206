"""Bad and extreme input to the lattice API: every case is classified and asserted as a
correct answer (checked against an independent oracle) or a clear error.

* Magnitudes 1e-300 … 1e300 on every family's ``nearest`` (oracle: the generic
  LLL + Schnorr–Euchner decoder, and exact translation by lattice vectors) and
  ``contains`` (oracle: exact sympy arithmetic and an exact linear solve).
* Inputs the float64 decoders cannot answer exactly (integer-frame coordinates beyond
  2^50) are refused with ``ValueError``: the documented choice.
* NaN/Inf, wrong shapes and dtypes; malformed names (hypothesis); size limits that refuse
  heavy work quickly with their estimate; one compiled numba signature whatever the input
  layout.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices import CONTAINS_TOL, Lattice, get_lattice
from lattiq.lattices import _decode_kernels as dk
from lattiq.lattices import _leech_kernels as lk
from lattiq.lattices import theta as th
from lattiq.lattices.decoders import (
    MAX_ABS_INT_FRAME,
    MAX_GENERIC_RATIO,
    GenericDecoder,
    decode_an,
    decode_dn,
    decode_e8,
    decode_generic,
    decode_leech,
    decode_zn,
    generic_decoder,
)
from lattiq.spherecodes import get_code

FAMILIES = ["z3", "z8", "d4", "d6", "a2", "a3", "e8", "leech", "e6", "e7", "k12", "bw16"]
MAGNITUDES = [1e-300, 1e-200, 1e-100, 1e-20, 1e-3, 1.0, 1e3, 1e12, 1e15, 1e100, 1e200, 1e300]


def _user_lattice() -> Lattice:
    return Lattice.from_basis([[2, 1, 0], [0, 3, 1], [1, 0, 4]], name="user3")


def _lattices():
    return [get_lattice(n) for n in FAMILIES] + [_user_lattice()]


# ---------------------------------------------------------------------------- nearest


def _int_frame_max(L, x) -> float:
    return float(np.abs(x).max()) / L.scale_float


@pytest.mark.parametrize("L", _lattices(), ids=lambda L: L.name)
def test_nearest_at_every_magnitude_is_exact_or_refused(L):
    rng = np.random.default_rng(20240611)
    U = rng.standard_normal((6, L.ambient_dim))
    dec = generic_decoder(L)
    answered = refused = 0
    generic = L.family == "generic"
    for t in MAGNITUDES:
        X = U * t
        too_big = (float(np.abs(X).max()) / dec.min_gs > MAX_GENERIC_RATIO if generic
                   else _int_frame_max(L, X) > MAX_ABS_INT_FRAME)
        if too_big:
            # beyond 2^50 in the integer frame (2^30 shortest Gram-Schmidt lengths for the
            # generic decoder) float64 cannot decode exactly: refused
            with pytest.raises(ValueError, match="integer frame"):
                L.nearest(X)
            refused += 1
            continue
        y = L.decode(X)
        answered += 1
        if float(np.abs(X).max()) / dec.min_gs <= MAX_GENERIC_RATIO:
            assert np.array_equal(y, decode_generic(L, X)), (L.name, t)
        if t < 1e-3:  # deep inside the Voronoi cell of 0
            assert not y.any()
        np.testing.assert_array_equal(L.nearest(X), y.astype(np.float64) * L.scale_float
                                      if L.basis_int is not None else y @ L.basis)
    assert answered >= 6 and refused >= 3


@pytest.mark.parametrize("name", ["z3", "d4", "a3", "e8", "user3"])
def test_nearest_exact_up_to_the_documented_range(name):
    # integer-frame inputs between 2^30 (the generic oracle's reach) and 2^50 (2^20..2^26
    # for the generic decoder, whose limit is 2^30 Gram-Schmidt lengths): a lattice vector
    # v plus an offset f on a 1/64 grid is exact in float64, so decode(v + f) must be
    # v + decode(f) exactly (translation invariance)
    L = _user_lattice() if name == "user3" else get_lattice(name)
    rng = np.random.default_rng(7)
    f = np.round(rng.standard_normal((100, L.ambient_dim)) * 32) / 64
    if name == "a3":  # offsets in the hyperplane of the lattice
        f[:, -1] = -f[:, :-1].sum(axis=1)
    for e in ((20, 24, 26) if name == "user3" else (31, 38, 41)):
        coef = rng.integers(-3, 4, size=(100, L.dim)) * 2**e
        v = coef @ L.basis_int
        assert np.abs(v).max() < MAX_ABS_INT_FRAME
        x = (v + f) * L.scale_float
        assert np.array_equal(x / L.scale_float - v, f)  # exact input
        assert np.array_equal(L.decode(x) - v, L.decode(f * L.scale_float)), (name, e)


def test_decoders_refuse_nan_inf_and_wrong_input():
    for fn, d in ((decode_zn, 3), (decode_dn, 4), (decode_an, 3), (decode_e8, 8),
                  (decode_leech, 24)):
        x = np.zeros((2, d))
        for bad in (np.nan, np.inf, -np.inf):
            x[1, 0] = bad
            with pytest.raises(ValueError, match="NaN|infinite"):
                fn(x)
        for arr in (np.zeros((2, d), complex), np.zeros((2, d), object),
                    np.full((2, d), "a"), np.zeros((2, d), bool)):
            with pytest.raises(TypeError):
                fn(arr)
        with pytest.raises(ValueError, match="shape"):
            fn(np.zeros((2, d + 1)) if d >= 8 else np.float64(1.0))
        with pytest.raises(ValueError, match="2\\*\\*53"):
            fn(np.full((1, d), 2**60, dtype=np.int64))
    for L in _lattices():
        with pytest.raises(ValueError):
            L.nearest(np.full(L.ambient_dim, np.nan))
        with pytest.raises(ValueError, match="last dimension"):
            L.nearest(np.zeros(L.ambient_dim + 1))
        with pytest.raises(TypeError):
            L.nearest(np.zeros(L.ambient_dim, dtype=complex))
        with pytest.raises(TypeError):
            L.nearest(["a"] * L.ambient_dim)


# ---------------------------------------------------------------------------- contains


@cache
def _solver(L):
    B = sympy.Matrix(L.basis_int.tolist())
    return B, B.T * (B * B.T).inv()


def contains_oracle(L, x, tol=Fraction(CONTAINS_TOL)) -> bool | None:
    """The documented rule computed another way: ``y = x / scale`` in mpmath at 4000 bits
    (exact for the rationals a float holds and for a 1/√8 scale to far below the
    tolerance); every coordinate within ``tol`` of an integer ``r_i``; ``r = u B`` solved
    exactly in sympy. ``None`` when some distance is within 1e-30 of the tolerance."""
    with mpmath.workprec(4000):
        inv = 1 / mpmath.mpf(sympy.N(L.scale, 1300))
        t = mpmath.mpf(tol.numerator) / tol.denominator
        r = []
        for v in x:
            p, q = float(v).as_integer_ratio()
            y = mpmath.mpf(p) / q * inv
            k = mpmath.nint(y)
            d = abs(y - k)
            if abs(d - t) < mpmath.mpf(10) ** -30:
                return None
            if d > t:
                return False
            r.append(int(k))
    B, P = _solver(L)
    u = sympy.Matrix([r]) * P
    return all(c.is_integer for c in u) and u * B == sympy.Matrix([r])


@pytest.mark.parametrize("L", _lattices(), ids=lambda L: L.name)
def test_contains_matches_exact_oracle_at_every_magnitude(L):
    rng = np.random.default_rng(99)
    rows = []
    for k in (0, 10, 40, 60, 200, 900, -200, -900):
        coef = rng.integers(-4, 5, size=(3, L.dim))
        member = (coef @ L.basis_int).astype(np.float64) * L.scale_float * 2.0**k
        rows.append(member)
        off = member.copy()
        off[:, 0] += max(1e-3, abs(off[0, 0]) * 1e-13) * L.scale_float  # representable
        rows.append(off)
    rows.append(rng.standard_normal((3, L.ambient_dim)) * 1e12)
    rows.append(np.round(rng.standard_normal((3, L.ambient_dim)) * 1e15))
    X = np.concatenate(rows)
    X = X[np.all(np.isfinite(X), axis=1)]
    want = [contains_oracle(L, x) for x in X]
    keep = np.array([w is not None for w in want])
    assert keep.sum() >= len(X) - 2
    got = L.contains(X[keep])
    want = np.array([w for w in want if w is not None])
    assert np.array_equal(got, want), (L.name, np.nonzero(got != want)[0].tolist())
    assert want.any() and not want.all()


@pytest.mark.parametrize("name", ["d4", "d6", "z8", "leech", "e8", "a3"])
def test_non_members_at_scale_1e12_are_rejected(name):
    # the old relative tolerance (1e-9 * |y|) accepted points 1e-3 off the lattice here
    L = get_lattice(name)
    rng = np.random.default_rng(5)
    v = L.nearest(rng.standard_normal((50, L.ambient_dim)) * 1e12)
    off = v.copy()
    off[:, 0] += 1e-3
    assert not L.contains(off).any()
    if L.scale_float in (1.0, 0.5):  # exact floats: every decoded point is a member
        assert L.contains(v).all()


def test_contains_issue_cases_and_huge_integers():
    a2 = get_lattice("a2")
    assert a2.contains([2**63 - 1, 2**63 - 1, 2]) is False  # no int64 overflow
    assert a2.contains([2e30, -1e30, -1e30]) is True
    assert a2.contains(np.array([2**62, -(2**62), 0], dtype=np.int64)) is True
    assert a2.contains(np.array([2**64 - 1, 0, 0], dtype=np.uint64)) is False
    assert a2.contains(np.array([2**100, -(2**100), 0], dtype=object)) is True
    assert a2.contains(np.array([2**100, -(2**100) + 1, 0], dtype=object)) is False
    d4 = get_lattice("d4")
    assert d4.contains(np.array([2**63 - 1, 1, 0, 0], dtype=np.int64)) is True
    assert d4.contains(np.array([2**63 - 1, 2, 0, 0], dtype=np.int64)) is False
    e8 = get_lattice("e8")
    assert e8.contains(np.full(8, 1e308))  # 2·1e308 overflows float64: decided exactly
    assert e8.contains(np.full(8, 0.5) * 2.0**-1074 * 0) is True  # zero
    assert e8.contains(np.full(8, 2.0**-1074))  # subnormal: within 1e-9 of the origin
    assert not e8.contains(np.r_[np.full(7, 0.5), 0.5 + 2.0**-20])  # 1.9e-6 off (frame 2x)
    leech = get_lattice("leech")
    v = np.zeros(24, dtype=object)
    v[:2] = sympy.sqrt(2)
    assert leech.contains(v) is True  # exact symbolic input
    assert leech.contains(np.array([Fraction(1, 3)] + [0] * 23, dtype=object)) is False


def test_contains_tolerance_is_absolute():
    z = get_lattice("z3")
    assert z.contains([2.0**20 + 2.0**-32, 0, 0]) is True  # 2.3e-10 off: within 1e-9
    assert z.contains([2.0**20 + 2.0**-29, 0, 0]) is False  # 1.9e-9 off
    assert z.contains([1e12 + 2.0**-13, 0, 0]) is False  # one ulp (1.2e-4) off at 1e12
    assert z.contains([CONTAINS_TOL, 0, 0]) is True
    assert z.contains([np.nextafter(CONTAINS_TOL, 1), 0, 0]) is False


def test_contains_refuses_bad_input():
    L = get_lattice("d4")
    with pytest.raises(ValueError, match="NaN or Inf"):
        L.contains([np.nan, 0, 0, 0])
    with pytest.raises(ValueError, match="NaN or Inf"):
        L.contains(np.array([np.inf, 0, 0, 0], dtype=object))
    with pytest.raises(ValueError, match="last dimension"):
        L.contains([1, 1, 0])
    with pytest.raises(ValueError, match="last dimension"):
        L.contains(3.0)
    for bad in (np.zeros(4, complex), np.zeros(4, bool), np.array(["1", "1", "0", "0"])):
        with pytest.raises(TypeError):
            L.contains(bad)
    # strings in an object array are refused, never handed to sympify (which evaluates)
    with pytest.raises(TypeError, match="unsupported entry"):
        L.contains(np.array(["__import__('os')", 1, 0, 0], dtype=object))
    with pytest.raises(TypeError, match="not a number"):
        L.contains(np.array([sympy.Symbol("x"), 1, 0, 0], dtype=object))


# ---------------------------------------------------------------------------- names

_NUMBERS = st.sampled_from(["0", "1", "2", "3", "8", "24", "63", "64", "65", "4096", "4097",
                            "99999", "1000000000", "18446744073709551617", "007", "-1", ""])


@st.composite
def near_names(draw):
    fam = draw(st.sampled_from(["d", "a", "z", "e", "leech", "e8", "D", " z", "x"]))
    return fam + draw(_NUMBERS) + draw(st.sampled_from(["", " ", "-", ".5", "\x00"]))


@settings(max_examples=300, deadline=5000)
@given(st.one_of(st.text(max_size=30), near_names()))
def test_malformed_lattice_names_only_raise_value_error(name):
    try:
        L = get_lattice(name)
    except ValueError as err:
        assert str(err)  # a message a person can act on
        assert "lattice" in str(err) or "needs" in str(err)
    else:
        assert isinstance(L, Lattice) and 1 <= L.dim <= 4096


def test_lattice_name_of_the_wrong_type():
    for bad in (None, 8, b"e8", ["e8"]):
        with pytest.raises(ValueError, match="string"):
            get_lattice(bad)


# ---------------------------------------------------------------------------- sizes


def test_theta_sizes_answered_fast_or_refused_with_estimate():
    assert len(get_lattice("e8").theta_series(10**6)) == 10**6
    t = get_lattice("leech").theta_series(10**5)
    assert t[:5] == [1, 0, 0, 0, 196560] and len(t) == 10**5
    with pytest.raises(ValueError, match="array operations"):
        get_lattice("leech").theta_series(10**6)
    with pytest.raises(ValueError, match="in memory"):
        get_lattice("e8").theta_series(10**7)
    with pytest.raises(ValueError, match="would visit about"):
        get_lattice("a8").theta_series(10**4)
    # A_n has a closed form: a high dimension at a small norm is answered, not enumerated
    assert get_lattice("a100").theta_series(5) == [1, 0, 100 * 101, 0, 5050 * 4851]
    with pytest.raises(ValueError, match="dimension 100"):
        get_lattice("a100").theta_series(5, method="enumerate")


def test_shells_refused_before_heavy_work():
    with pytest.raises(ValueError, match="in memory|array operations"):
        get_lattice("e8").shell(10**7)
    with pytest.raises(ValueError, match="too many"):
        get_lattice("e8").shell(99999)
    assert get_lattice("d4096").shell_size(1) == 2 * 4096 * 4095
    assert get_lattice("a100").shell(1).shape == (100 * 101, 101)  # roots, built directly
    n = get_lattice("z3").shell_size(100000)
    C = get_code("z3-shell100000")  # answered: 1.7e8 vectors visited, within the limit
    assert C.size == n and C.exact_form.vectors.shape == (n, 3)
    assert len(set(map(tuple, C.exact_form.vectors.tolist()))) == n
    with pytest.raises(ValueError, match="dimension 100"):
        get_lattice("a100").shell(2)


def _series_mul(a, b, n):
    out = [0] * n
    for i, ai in enumerate(a[:n]):
        if ai:
            for j, bj in enumerate(b[: n - i]):
                out[i + j] += ai * bj
    return out


def _series_pow(a, p, n):
    out = [1] + [0] * (n - 1)
    for _ in range(p):
        out = _series_mul(out, a, n)
    return out


def naive_theta(family, n, T):
    """Second algorithm for the closed forms: dense series products with Python ints,
    Θ_Dn = (θ3ⁿ + θ4ⁿ)/2 and Θ_Λ24 = E4³ − 720 Δ with Δ = q² Π (1 − q^{2k})²⁴."""
    t3 = [0] * T
    t4 = [0] * T
    k = 0
    while k * k < T:
        t3[k * k] += 1 if k == 0 else 2
        t4[k * k] += 1 if k == 0 else 2 * (-1) ** k
        k += 1
    if family == "z":
        return _series_pow(t3, n, T)
    if family == "d":
        return [(a + b) // 2 for a, b in zip(_series_pow(t3, n, T), _series_pow(t4, n, T),
                                              strict=True)]
    h = (T + 1) // 2 + 1
    e4 = [1] + [240 * sum(d**3 for d in range(1, m + 1) if m % d == 0) for m in range(1, h)]
    if family == "e8":
        c = e4
    else:
        prod = [1] + [0] * (h - 1)
        for m in range(1, h):
            f = [0] * h
            f[0], f[m] = 1, -1
            prod = _series_mul(prod, _series_pow(f, 24, h), h)
        delta = [0] + prod[: h - 1]
        c = [a - 720 * b for a, b in zip(_series_pow(e4, 3, h), delta, strict=True)]
    out = [0] * T
    for m, v in enumerate(c):
        if 2 * m < T:
            out[2 * m] = v
    return out


@pytest.mark.parametrize("family,n,T", [
    ("z", 1, 40), ("z", 3, 150), ("z", 24, 40), ("z", 40, 20), ("z", 300, 9),
    ("d", 2, 30), ("d", 4, 60), ("d", 24, 30), ("e8", 8, 1), ("e8", 8, 2), ("e8", 8, 201),
    ("leech", 24, 1), ("leech", 24, 3), ("leech", 24, 121),
])
def test_fast_closed_forms_agree_with_series_products(family, n, T):
    assert th.theta_closed_form(family, n, T) == naive_theta(family, n, T)


@pytest.mark.parametrize("how,family,n,T", [
    ("int64", "z", 3, 60), ("int64", "d", 8, 30),  # int64 needs small nonnegative counts
    *[(how, fam, n, T) for how in ("modular", "python")
      for fam, n, T in (("z", 3, 60), ("z", 24, 30), ("d", 8, 30), ("leech", 24, 61))],
])
def test_every_closed_form_strategy_agrees(monkeypatch, how, family, n, T):
    monkeypatch.setattr(th, "_power_plan", lambda *a: (how, 0.0))
    assert th.theta_closed_form(family, n, T) == naive_theta(family, n, T)


def test_strategy_choice_and_crt():
    assert th._power_plan(th._sparse_theta3(150)[1], 3, 150, th._zn_bits(3, 150))[0] == "int64"
    assert th._power_plan(th._sparse_eta3(5000)[1], 8, 5000, th._leech_bits(5000))[0] == \
        "modular"
    assert th._power_plan(th._sparse_theta3(9)[1], 300, 9, th._zn_bits(300, 9))[0] == "python"
    assert th._crt([np.array([5, 2]), np.array([5, 3])], [7, 11]) == [5, -19]
    assert len(set(th._primes(40))) == 40 and all(2**30 < p < 2**31 for p in th._primes(40))


# ---------------------------------------------------------------------------- layouts


def _layouts(x: np.ndarray):
    """The same values as read-only, strided, Fortran, big-endian, float32 and int32."""
    r = x.copy()
    r.setflags(write=False)
    wide = np.zeros((x.shape[0] * 2, x.shape[1]))
    wide[::2] = x
    yield r
    yield wide[::2]
    yield np.asfortranarray(x)
    yield x.astype(">f8")
    yield x.astype(np.float32)
    yield np.round(x).astype(np.int32)
    yield np.round(x).astype(">i8")


KERNELS = [dk.zn_kernel, dk.dn_kernel, dk.an_kernel, dk.e8_kernel, dk.cvp_kernel,
           lk.leech_kernel]


def test_input_layouts_reuse_one_compiled_signature():
    rng = np.random.default_rng(11)
    lattices = _lattices()
    for L in lattices:  # compile (or load) the canonical float64 signatures
        L.nearest(rng.standard_normal((4, L.ambient_dim)))
    GenericDecoder(np.eye(3)).decode(np.zeros((2, 3)))
    before = [len(k.signatures) for k in KERNELS]
    assert all(b >= 1 for b in before)
    for L in lattices:
        for x in _layouts(rng.standard_normal((4, L.ambient_dim)) * 3):
            y = L.decode(x)
            assert np.array_equal(y, L.decode(np.array(x, dtype=np.float64)))
            L.contains(x)
    for fn, d in ((decode_zn, 5), (decode_dn, 5), (decode_an, 5), (decode_e8, 8),
                  (decode_leech, 24)):
        for x in _layouts(rng.standard_normal((3, d))):
            fn(x)
    for x in _layouts(rng.standard_normal((3, 3))):
        GenericDecoder(np.eye(3)).decode(x)
    assert [len(k.signatures) for k in KERNELS] == before


def test_layout_inputs_are_not_modified():
    x = np.random.default_rng(0).standard_normal((3, 24)).astype(">f8")
    keep = x.copy()
    get_lattice("leech").decode(x)
    assert x.dtype.str == ">f8" and np.array_equal(x, keep)
    assert math.isfinite(float(x.sum()))
