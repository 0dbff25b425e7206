"""The exact Leech decoder against three independent oracles, plus properties.

1. Voronoi certificate: ``y`` is a nearest point of ``t`` (integer frame ``√8 Λ24``) iff
   ``2 (t - y)·s <= |s|²`` for every Voronoi-relevant ``s``; those are the vectors of norm
   4 and 6 (SPLAG ch. 21), 32 and 48 in the integer frame. Shell 1 is checked by a matrix
   product with all 196,560 vectors; shell 2 (16,773,120 vectors) by maximising ``r·s``
   over each of its four shapes in closed form (the closed form is itself checked
   exhaustively on sampled octads, dodecads and codewords, and against a brute-force pass
   over the whole shell).
2. Exhaustive maximum-likelihood search over both halves × all 4096 Golay codewords.
3. The generic LLL + Schnorr–Euchner decoder.
"""

import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices import get_lattice
from lattiq.lattices.decoders import (
    decode_generic,
    decode_leech,
    decode_points,
    leech_sextet_tables,
)
from lattiq.lattices.golay import golay_code
from lattiq.lattices.leech import leech_contains_int, leech_shell1
from lattiq.testing import lattice_points, near_voronoi_faces

SQ8 = math.sqrt(8.0)
DATA = Path(__file__).parent / "data"
LEECH = get_lattice("leech")
GOLAY = golay_code()
CW = GOLAY.codewords.astype(bool)
WT = CW.sum(axis=1)
DODECADS = CW[WT == 12]
OCTADS = CW[WT == 8]
SIGN = 1.0 - 2.0 * CW  # (4096, 24) the ±1 vector of each codeword


# --------------------------------------------------------------------------- oracles
def shell1_max(r: np.ndarray) -> np.ndarray:
    """max over the 196,560 norm-32 vectors s of r·s, rows of r (N, 24)."""
    S = leech_shell1().astype(np.float64)
    return (r @ S.T).max(axis=1)


def shell2_parts(r: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-item maxima of r·s over the norm-48 vectors of √8 Λ24, by shape:

    * (±2^12) on a dodecad, even number of minus signs — per dodecad;
    * (±4, ±2^8): ±2 on an octad with an odd number of minus signs, ±4 off it — per octad;
    * (∓3^3, ±1^21) = s_c with three entries times −3 — per codeword c;
    * (±5, ±1^23) = s_c with one entry times 5 — per codeword c,

    where s_c = 1 − 2c. Counts: 2576·2^11 + 759·16·2·2^7 + 4096·C(24,3) + 4096·24
    = 16,773,120.
    """
    a, neg = np.abs(r), r < 0

    def signed_sum(sets, want_odd):
        s = (sets * a).sum(axis=1)
        odd = (sets & neg).sum(axis=1) % 2
        mn = np.where(sets, a, np.inf).min(axis=1)
        return s - 2 * (odd != want_odd) * mn

    p1 = 2 * signed_sum(DODECADS, 0)
    out4 = np.where(OCTADS, -np.inf, a).max(axis=1)
    p2 = 2 * signed_sum(OCTADS, 1) + 4 * out4
    br = SIGN * r
    tot = br.sum(axis=1)
    p3 = tot - 4 * np.partition(br, 3, axis=1)[:, :3].sum(axis=1)
    p4 = tot + 4 * br.max(axis=1)
    return p1, p2, p3, p4


def shell2_max(r: np.ndarray) -> float:
    return max(float(p.max()) for p in shell2_parts(r))


def certify(x: np.ndarray, y: np.ndarray) -> None:
    """Assert y (int frame) is a nearest Leech point of every row of x (standard)."""
    assert y.dtype == np.int64
    assert np.all(leech_contains_int(y))
    t = x * SQ8
    r = t - y
    tol = 1e-9 * (1 + np.abs(t).max(axis=1))
    m1 = shell1_max(r)
    bad = np.nonzero(m1 > 16 + tol)[0]
    assert bad.size == 0, f"shell-1 neighbour is closer for x = {x[bad[0]].tolist()}"
    for i in range(len(x)):
        assert shell2_max(r[i]) <= 24 + tol[i], f"shell-2 neighbour closer: {x[i].tolist()}"


def exhaustive_ml(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest point by trying both halves and all 4096 codewords; returns (points, dist²).

    For half m and codeword c the best point takes, per coordinate, the nearest integer
    ≡ m + 2c_i (mod 4), then fixes the parity of z (sum z ≡ m) by moving the coordinate
    whose runner-up costs least.
    """
    out = np.empty((len(x), 24), dtype=np.int64)
    dist = np.empty(len(x))
    for k, row in enumerate(x * SQ8):
        best = (np.inf, None)
        for m in (0, 1):
            cls = m + 2 * np.arange(2)  # (2,) residues mod 4
            y = cls[None, :] + 4 * np.round((row[:, None] - cls[None, :]) / 4)  # (24, 2)
            alt = y + 4 * np.where(row[:, None] >= y, 1, -1)
            d = (row[:, None] - y) ** 2
            e = (row[:, None] - alt) ** 2 - d
            q = ((y - cls[None, :]) / 4).astype(np.int64) & 1
            idx = CW.astype(np.int64)  # (4096, 24) class bit per coordinate
            cost = np.take_along_axis(d.T[None], idx[:, None, :], 1)[:, 0]  # (4096, 24)
            par = np.take_along_axis(q.T[None], idx[:, None, :], 1)[:, 0].sum(1) % 2
            pen = np.take_along_axis(e.T[None], idx[:, None, :], 1)[:, 0]
            tot = cost.sum(1) + np.where(par != m, pen.min(1), 0.0)
            c = int(np.argmin(tot))
            if tot[c] < best[0]:
                pt = np.take_along_axis(y.T, idx[c][None], 0)[0].copy()
                if par[c] != m:
                    j = int(np.argmin(pen[c]))
                    pt[j] = np.take_along_axis(alt.T, idx[c][None], 0)[0][j]
                best = (float(tot[c]), pt.astype(np.int64))
        dist[k], out[k] = best
    return out, dist


def fresh_points(rng, n):
    """Gaussian at several scales, uniform in the cube [0, 8)^24 / √8, near lattice points
    and near shell-1 midpoints (the hardest region)."""
    S = leech_shell1().astype(np.float64)
    q = n // 4
    return np.concatenate([
        rng.standard_normal((q, 24)) * rng.choice([0.1, 0.5, 1.0, 3.0, 100.0], size=(q, 1)),
        rng.random((q, 24)) * 8 / SQ8,
        (S[rng.integers(len(S), size=q)] * rng.integers(-2, 3, size=(q, 1))
         + 0.3 * rng.standard_normal((q, 24))) / SQ8,
        (S[rng.integers(len(S), size=n - 3 * q)] / 2
         + 0.05 * rng.standard_normal((n - 3 * q, 24))) / SQ8,
    ])


# ----------------------------------------------------------------- oracle tests
def test_certificate_on_fresh_points(rng_seed):
    rng = np.random.default_rng(rng_seed)
    x = fresh_points(rng, 240)
    certify(x, decode_leech(x))


def test_exhaustive_ml_agrees(rng_seed):
    rng = np.random.default_rng(rng_seed)
    x = fresh_points(rng, 120)
    y = decode_leech(x)
    ye, de = exhaustive_ml(x)
    t = x * SQ8
    dy = ((t - y) ** 2).sum(axis=1)
    np.testing.assert_allclose(dy, de, rtol=1e-12, atol=1e-9)
    assert np.array_equal(y, ye), "the same point, off exact ties (none for random input)"


def test_generic_decoder_agrees(rng_seed):
    rng = np.random.default_rng(rng_seed)
    x = rng.standard_normal((30, 24)) * rng.choice([0.3, 1.0, 3.0], size=(30, 1))
    assert np.array_equal(decode_leech(x), decode_generic(LEECH, x))


def test_shell2_closed_form_is_exhaustive(rng_seed):
    # enumerate every vector of a few octads / dodecads / codewords, check membership and
    # norm, and that the closed-form maximum equals the brute-force one item by item
    rng = np.random.default_rng(rng_seed)
    r = rng.standard_normal(24) * 3
    p1, p2, p3, p4 = shell2_parts(r)
    masks = np.array([[(k >> j) & 1 for j in range(12)] for k in range(4096)], bool)
    for di in rng.choice(len(DODECADS), 3, replace=False):
        pos = np.nonzero(DODECADS[di])[0]
        sg = masks[masks.sum(1) % 2 == 0]  # even minus signs
        V = np.zeros((len(sg), 24), np.int64)
        V[:, pos] = np.where(sg, -2, 2)
        assert np.all(leech_contains_int(V)) and np.all((V * V).sum(1) == 48)
        assert np.isclose((V @ r).max(), p1[di])
    m8 = masks[:256, :8]
    for oi in rng.choice(len(OCTADS), 3, replace=False):
        pos = np.nonzero(OCTADS[oi])[0]
        off = np.nonzero(~OCTADS[oi])[0]
        sg = m8[m8.sum(1) % 2 == 1]  # odd minus signs
        rows = []
        for j in off:
            for s4 in (4, -4):
                V = np.zeros((len(sg), 24), np.int64)
                V[:, pos] = np.where(sg, -2, 2)
                V[:, j] = s4
                rows.append(V)
        V = np.concatenate(rows)
        assert len(V) == 16 * 2 * 128
        assert np.all(leech_contains_int(V)) and np.all((V * V).sum(1) == 48)
        assert np.isclose((V @ r).max(), p2[oi])
    triples = np.array(list(combinations(range(24), 3)))
    for ci in rng.choice(4096, 3, replace=False):
        base = (1 - 2 * CW[ci].astype(np.int64))
        V = np.repeat(base[None], len(triples), 0)
        np.put_along_axis(V, triples, np.take_along_axis(V, triples, 1) * -3, 1)
        W = np.repeat(base[None], 24, 0)
        W[np.arange(24), np.arange(24)] *= 5
        for M, p in ((V, p3), (W, p4)):
            assert np.all(leech_contains_int(M)) and np.all((M * M).sum(1) == 48)
            assert np.isclose((M @ r).max(), p[ci])
    total = len(DODECADS) * 2**11 + len(OCTADS) * 16 * 2 * 2**7 + 4096 * (len(triples) + 24)
    assert total == 16_773_120  # the theta coefficient of norm 6: the shapes are the shell


def test_shell2_closed_form_brute_force():
    # every one of the 16,773,120 vectors, in chunks, for a few residuals
    rng = np.random.default_rng(0)
    R = rng.standard_normal((4, 24)) * 2
    best = np.full(4, -np.inf)
    minus = np.array([[(k >> j) & 1 for j in range(12)] for k in range(4096)], bool)
    for d in DODECADS:
        pos = np.nonzero(d)[0]
        sg = minus[minus.sum(1) % 2 == 0]
        V = np.zeros((len(sg), 24))
        V[:, pos] = np.where(sg, -2, 2)
        best = np.maximum(best, (V @ R.T).max(0))
    sg8 = minus[:256, :8][minus[:256, :8].sum(1) % 2 == 1]
    for o in OCTADS:
        pos, off = np.nonzero(o)[0], np.nonzero(~o)[0]
        V = np.zeros((len(sg8), 24))
        V[:, pos] = np.where(sg8, -2, 2)
        b = (V @ R.T).max(0)
        best = np.maximum(best, b + 4 * np.abs(R[:, off]).max(1))
    triples = np.array(list(combinations(range(24), 3)))
    T = np.zeros((len(triples), 24))
    np.put_along_axis(T, triples, 1.0, 1)
    for c in SIGN:
        base = c * R  # (4, 24)
        best = np.maximum(best, (base.sum(1)[:, None] - 4 * base @ T.T).max(1))
        best = np.maximum(best, (base.sum(1) + 4 * base.max(1)))
    np.testing.assert_allclose(best, [shell2_max(r) for r in R])


# ------------------------------------------------------------------- properties
coord = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(coord, min_size=24, max_size=24), lattice_points(LEECH, max_coeff=3))
def test_properties(xs, v):
    x = np.array(xs)
    y = decode_leech(x)
    assert leech_contains_int(y[None])[0]  # a lattice member
    assert np.array_equal(decode_leech(y / SQ8), y)  # idempotent
    vi = np.rint(v * SQ8).astype(np.int64)
    y2 = decode_leech(x + v)
    if not np.array_equal(y2, y + vi):  # translation equivariance, up to exact ties
        t = (x + v) * SQ8
        assert np.isclose(((t - y2) ** 2).sum(), ((t - y - vi) ** 2).sum(), atol=1e-7)


@settings(max_examples=60, deadline=None)
@given(near_voronoi_faces(LEECH, eps=1e-7))
def test_voronoi_faces(case):
    x, p = case
    assert np.array_equal(decode_leech(x), np.rint(p * SQ8).astype(np.int64))


def test_voronoi_face_both_sides():
    rng = np.random.default_rng(1)
    S = leech_shell1().astype(np.float64)
    v = S[rng.integers(len(S), size=300)]
    assert np.array_equal(decode_leech(v * (0.5 - 1e-9) / SQ8), np.zeros_like(v, np.int64))
    assert np.array_equal(decode_leech(v * (0.5 + 1e-9) / SQ8), v.astype(np.int64))


def test_ties_are_deterministic():
    # x = v/2 is equidistant from 0 and v: the answer is one of them, always the same
    S = leech_shell1().astype(np.int64)
    rng = np.random.default_rng(2)
    v = S[rng.choice(len(S), 5000, replace=False)]
    x = v / 2 / SQ8
    y = decode_leech(x)
    assert np.all(np.all(y == 0, axis=1) | np.all(y == v, axis=1))
    assert np.array_equal(y, decode_leech(x.copy()))
    big = np.repeat(x, 4, axis=0)
    assert np.array_equal(decode_leech(big, parallel=True), np.repeat(y, 4, axis=0))


def test_parallel_float32_and_shapes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20000, 24))
    y = decode_leech(x)
    assert np.array_equal(decode_leech(x, parallel=True), y)
    assert np.array_equal(decode_leech(x, parallel=2), y)
    x32 = x.astype(np.float32)
    assert np.array_equal(decode_leech(x32), decode_leech(x32.astype(np.float64)))
    assert decode_leech(x.reshape(10, 2000, 24)).shape == (10, 2000, 24)
    assert decode_leech(np.zeros((0, 24))).shape == (0, 24)
    assert np.array_equal(LEECH.decode(x[:100]), y[:100])
    assert np.array_equal(decode_points(LEECH, x[:100]), y[:100])
    np.testing.assert_allclose(LEECH.nearest(x[:100]), y[:100] / SQ8)


def test_large_magnitudes_and_refusal():
    rng = np.random.default_rng(4)
    S = leech_shell1().astype(np.int64)
    base = S[rng.integers(len(S), size=64)] * 2**44  # lattice vectors ~2^46.6
    x = (base + rng.standard_normal((64, 24)) * 4) / SQ8
    certify(x, decode_leech(x))
    with pytest.raises(ValueError, match="exact"):
        decode_leech(np.full((1, 24), 2.0**50))
    with pytest.raises(ValueError, match="NaN"):
        decode_leech(np.full((1, 24), np.nan))
    with pytest.raises(ValueError, match="shape"):
        decode_leech(np.zeros((3, 23)))
    with pytest.raises(TypeError):
        decode_leech(np.zeros((3, 24), dtype=complex))


def test_sextet_tables():
    cols, cls_pair, cls_g = leech_sextet_tables()
    assert sorted(cols.ravel().tolist()) == list(range(24))
    octad_set = {tuple(o) for o in GOLAY.octads.tolist()}
    for i in range(6):  # a sextet: the union of any two tetrads is an octad
        for j in range(i + 1, 6):
            assert tuple(sorted(cols[i].tolist() + cols[j].tolist())) in octad_set
    assert cls_pair.shape == (128, 6) and cls_g.shape == (128,)
    # 64 hexacode words x 2 interpretations: within a class all columns share a parity
    par = np.array([[bin(p).count("1") % 2 for p in row] for row in cls_pair])
    assert np.all(par == par[:, :1])
    assert (par[:, 0] == 0).sum() == 64


def test_regression_inputs():
    x = np.load(DATA / "decoders_leech_hard.npy")
    y = decode_leech(x)
    certify(x, y)
    t = x * SQ8
    ye, de = exhaustive_ml(x[:40])
    np.testing.assert_allclose(((t[:40] - y[:40]) ** 2).sum(1), de, atol=1e-9)
