"""Nearest-point decoders of Zn, Dn, An, E8 against oracles, plus properties and bad input.

Oracle: a Voronoi certificate. ``y`` is a nearest point of ``t`` iff no Voronoi-relevant
vector ``s`` gives ``|t - y - s| < |t - y|``, i.e. ``2 (t - y)·s <= |s|²``; every relevant
vector has norm ``<= 4R²`` (``R`` = covering radius), so checking all shells up to that
norm is a complete proof. Second algorithm: the generic LLL + Schnorr–Euchner decoder.
"""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices import get_lattice, list_lattices
from lattiq.lattices.decoders import (
    MAX_ABS_INT_FRAME,
    decode_an,
    decode_dn,
    decode_e8,
    decode_generic,
    decode_points,
    decode_zn,
)
from lattiq.lattices.measure import known_covering_radius
from lattiq.lattices.reduction import lll_reduce
from lattiq.testing import lattice_points, near_voronoi_faces

DATA = Path(__file__).parent / "data"
ORACLE_LATTICES = ["z1", "z3", "z5", "d2", "d3", "d4", "d5", "d8", "a1", "a2", "a3", "a5", "e8"]


def relevant_candidates(L) -> np.ndarray:
    """All integer-frame lattice vectors of norm <= 4R² (standard), a superset of the
    Voronoi-relevant vectors."""
    bound = 4 * float(known_covering_radius(L)) ** 2 + 1e-9
    out, k = [], 1
    while float(L.shell_norm(k)) <= bound:
        out.append(L.shell(k))
        k += 1
    return np.concatenate(out).astype(np.float64)


def certificate_violation(L, x, y, S) -> float:
    """max over s of (2 r·s - |s|²) / scale-free units; <= 0 proves optimality."""
    t = x / L.scale_float
    r = t - y
    return float(((2 * r @ S.T) - (S * S).sum(axis=1)).max())


def mixed_points(L, rng, n=400) -> np.ndarray:
    d = L.ambient_dim
    parts = [
        rng.standard_normal((n // 4, d)) * rng.choice([0.2, 1.0, 7.0, 1e4], size=(n // 4, 1)),
        rng.random((n // 4, L.dim)) @ L.basis * 3.0,
        (rng.integers(-3, 4, size=(n // 4, L.dim)) @ L.basis)
        + 0.4 * rng.standard_normal((n // 4, d)),
        np.round(rng.standard_normal((n - 3 * (n // 4), d)) * 4) / 2,  # ties galore
    ]
    return np.concatenate(parts)


@pytest.mark.parametrize("name", ORACLE_LATTICES)
def test_oracle_certificate_and_generic_agree(name, rng_seed):
    L = get_lattice(name)
    rng = np.random.default_rng(rng_seed)
    x = mixed_points(L, rng)
    y = decode_points(L, x)
    assert y.dtype == np.int64 and y.shape == x.shape
    assert np.all(L.contains(y * L.scale_float))
    S = relevant_candidates(L)
    for i in range(len(x)):
        scale = 1.0 + float(np.abs(x[i]).max()) / L.scale_float
        assert certificate_violation(L, x[i], y[i], S) <= 1e-9 * scale, (name, x[i].tolist())
    # the generic enumeration decoder finds the same points off ties, and equal
    # distances everywhere
    g = decode_generic(L, x)
    t = x / L.scale_float
    dy = ((t - y) ** 2).sum(axis=1)
    dg = ((t - g) ** 2).sum(axis=1)
    np.testing.assert_allclose(dy, dg, rtol=1e-12, atol=1e-9)
    generic = slice(0, len(x) // 4 * 3)
    assert np.array_equal(y[generic], g[generic])


@pytest.mark.parametrize("name", ["z4", "d4", "d6", "a2", "a4"])
def test_brute_force_box(name, rng_seed):
    # brute force: every lattice point whose coefficients (on an LLL-reduced, nearly
    # orthogonal basis) are within ±3 of the rounded coefficients of x
    L = get_lattice(name)
    rng = np.random.default_rng(rng_seed)
    B, _ = lll_reduce(L.basis)
    x = rng.standard_normal((40, L.ambient_dim)) * 2
    y = decode_points(L, x) * L.scale_float
    u0 = np.rint(np.linalg.lstsq(B.T, x.T, rcond=None)[0].T)
    grid = np.stack(np.meshgrid(*[np.arange(-3, 4)] * L.dim, indexing="ij"), -1)
    grid = grid.reshape(-1, L.dim)
    for i in range(len(x)):
        cand = (u0[i] + grid) @ B
        best = ((cand - x[i]) ** 2).sum(axis=1).min()
        assert ((y[i] - x[i]) ** 2).sum() <= best + 1e-12


# ----------------------------------------------------------------------- tie rules
def test_documented_tie_rules():
    assert decode_zn(np.array([0.5, -0.5, 1.5, -1.5, 2.0])).tolist() == [1, 0, 2, -1, 2]
    # D4: odd rounding sum; the coordinate farthest from an integer flips, lowest index first
    assert decode_dn(np.array([0.5, 0.5, 0.0, 0.0])).tolist() == [1, 1, 0, 0]
    assert decode_dn(np.array([0.6, 0.0, -0.4, 0.0])).tolist() == [0, 0, 0, 0]
    assert decode_dn(np.array([1.0, 0.0, 0.0, 0.0])).tolist() == [2, 0, 0, 0]
    # E8: the point (1/4)^8 is equidistant from 0 and (1/2)^8; D8 wins
    assert decode_e8(np.full(8, 0.25)).tolist() == [0] * 8
    # A2: equal rounding errors go by index
    assert decode_an(np.array([0.5, 0.5, -1.0])).tolist() == [0, 1, -1]


@pytest.mark.parametrize("name", ["z3", "d4", "a3", "e8"])
def test_deterministic_and_parallel_equal(name):
    L = get_lattice(name)
    rng = np.random.default_rng(5)
    x = np.round(rng.standard_normal((30000, L.ambient_dim)) * 8) / 4  # many ties
    a = decode_points(L, x)
    b = decode_points(L, x, parallel=True)
    c = decode_points(L, x, parallel=3)
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert np.array_equal(a, decode_points(L, x.copy()))


# ---------------------------------------------------------------------- properties
PROP_LATTICES = ["z3", "d3", "d4", "d7", "a2", "a4", "e8"]
dyadic = st.integers(-(2**20), 2**20).map(lambda k: k / 2**10)


@st.composite
def points_and_lattice(draw):
    L = get_lattice(draw(st.sampled_from(PROP_LATTICES)))
    x = np.array(draw(st.lists(dyadic, min_size=L.ambient_dim, max_size=L.ambient_dim)))
    return L, x


@settings(max_examples=150, deadline=None)
@given(points_and_lattice(), st.data())
def test_properties(case, data):
    L, x = case
    y = L.decode(x)
    p = y * L.scale_float
    assert L.contains(p)  # membership
    assert np.array_equal(L.decode(p), y)  # idempotent
    v = data.draw(lattice_points(L, max_coeff=6))  # exact: scales are powers of two
    y2 = L.decode(x + v)
    shifted = y + np.rint(v / L.scale_float).astype(np.int64)
    if not np.array_equal(y2, shifted):  # only a tie may differ, at equal distance
        t = (x + v) / L.scale_float
        assert np.isclose(((t - y2) ** 2).sum(), ((t - shifted) ** 2).sum(), rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", PROP_LATTICES)
def test_voronoi_faces(name):
    L = get_lattice(name)

    @settings(max_examples=40, deadline=None)
    @given(near_voronoi_faces(L, eps=1e-7))
    def inner(case):
        x, p = case
        assert np.array_equal(L.decode(x), np.rint(p / L.scale_float).astype(np.int64))

    inner()


def test_voronoi_face_both_sides():
    rng = np.random.default_rng(0)
    for name in PROP_LATTICES:
        L = get_lattice(name)
        S = L.shell(1).astype(np.float64) * L.scale_float
        v = S[rng.integers(len(S), size=64)]
        for sgn, want in ((-1, 0.0), (1, 1.0)):
            x = v * (0.5 + sgn * 1e-9)
            got = L.nearest(x)
            np.testing.assert_array_equal(got, v * want)


# ------------------------------------------------------------------ regressions
@pytest.mark.parametrize("name", ["d4", "e8", "a3"])
def test_regression_inputs(name):
    f = DATA / f"decoders_{name}_hard.npy"
    x = np.load(f)
    L = get_lattice(name)
    y = decode_points(L, x)
    S = relevant_candidates(L)
    for i in range(len(x)):
        assert certificate_violation(L, x[i], y[i], S) <= 1e-9


# -------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn,d", [(decode_zn, 3), (decode_dn, 4), (decode_an, 3), (decode_e8, 8)])
def test_bad_input(fn, d):
    with pytest.raises(ValueError, match="NaN"):
        fn(np.full((2, d), np.nan))
    with pytest.raises(ValueError, match="NaN"):
        fn(np.array([[np.inf] + [0.0] * (d - 1)]))
    with pytest.raises(TypeError):
        fn(np.ones((2, d), dtype=bool))
    with pytest.raises(TypeError):
        fn(np.ones((2, d), dtype=complex))
    with pytest.raises(TypeError):
        fn(np.array([[object()] * d]))
    with pytest.raises(ValueError, match="2\\*\\*53"):
        fn(np.full((1, d), 2**60, dtype=np.int64))
    with pytest.raises(ValueError, match="exact"):
        fn(np.full((1, d), 2.0**52))
    if fn is not decode_zn:  # E8 takes width 8 only, Dn and An at least 2
        with pytest.raises(ValueError, match="shape"):
            fn(np.zeros((2, 9)) if fn is decode_e8 else np.zeros((2, 1)))
    with pytest.raises(ValueError, match="shape"):
        fn(np.float64(1.0))
    with pytest.raises(ValueError, match="parallel|thread"):
        fn(np.zeros((2, d)), parallel=0)


def test_dtypes_and_shapes():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 8))
    y = decode_e8(x)
    assert y.shape == (3, 5, 8) and y.dtype == np.int64
    x32 = x.astype(np.float32)
    assert np.array_equal(decode_e8(x32), decode_e8(x32.astype(np.float64)))
    x16 = x.astype(np.float16)
    assert np.array_equal(decode_e8(x16), decode_e8(x16.astype(np.float64)))
    xi = rng.integers(-9, 9, size=(4, 8))
    assert np.array_equal(decode_e8(xi), decode_e8(xi.astype(np.float64)))
    assert decode_e8(np.zeros((0, 8))).shape == (0, 8)
    assert decode_e8(np.zeros((2, 0, 8))).shape == (2, 0, 8)
    assert decode_dn(np.zeros(4)).shape == (4,)


def test_large_magnitudes_stay_exact():
    # lattice vectors beyond 2^42 plus offsets on a 1/16 grid: every input is exact in
    # float64, and the decoded point must be the shifted decoding of the offset
    for name in ("z3", "d4", "a3", "e8"):
        L = get_lattice(name)
        rng = np.random.default_rng(2)
        frac = np.round(rng.standard_normal((300, L.ambient_dim)) * 8) / 16
        if name == "a3":  # offsets in the hyperplane, so the projection is exact
            frac[:, -1] = -frac[:, :-1].sum(axis=1)
        coef = rng.integers(1, 8, size=(300, L.dim)) * 2**40
        base = coef @ L.basis_int
        x = (base + frac) * L.scale_float
        assert np.array_equal(x / L.scale_float - base, frac)  # the input is exact
        assert 2.0**42 < np.abs(x / L.scale_float).max() < MAX_ABS_INT_FRAME
        y = decode_points(L, x)
        y0 = decode_points(L, frac * L.scale_float)
        assert np.array_equal(y - base, y0), name


def test_every_registry_entry_decodes():
    rng = np.random.default_rng(3)
    for name in list_lattices():
        L = get_lattice(name)
        x = rng.standard_normal((50, L.ambient_dim))
        y = L.decode(x)
        assert np.all(L.contains(y * L.scale_float)), name
        np.testing.assert_allclose(L.nearest(x), y * L.scale_float)
        assert np.array_equal(L.decode(L.nearest(x)), y), name
