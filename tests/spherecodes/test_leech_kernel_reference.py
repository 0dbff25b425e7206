"""The sextet-screened Leech shell search returns exactly the answers of the byte-table kernel
it replaced (``leech_reference_kernel.py``): on fresh random input at many scales, on
tie-heavy input where the tie rule decides (codewords, midpoints of two codewords and points
just off them, small integer vectors), on extreme magnitudes, across block boundaries and
thread counts. ``test_leech_code.py`` checks those answers against brute force."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices.leech import leech_shell1
from lattiq.spherecodes import get_code
from lattiq.spherecodes._kernels_leech import LANES
from lattiq.spherecodes.search import leech_nearest

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("leech_reference_kernel",
                                               HERE / "leech_reference_kernel.py")
_ref = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _ref  # numba's cache reloads the kernel's module by name
_spec.loader.exec_module(_ref)

C = get_code("leech")
V = leech_shell1().astype(np.float64)  # integer frame


def assert_same(x):
    x = np.ascontiguousarray(x, dtype=np.float64)
    np.testing.assert_array_equal(leech_nearest(x, threads=1),
                                  _ref.leech_nearest_reference(x))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fresh_gaussian_and_uniform(seed):
    rng = np.random.default_rng([2024, seed])
    n = 20000 + 37 * seed
    scale = rng.choice([1e-3, 0.5, 1.0, 7.0, 1e4], size=(n, 1))
    assert_same(rng.standard_normal((n, 24)) * scale)
    assert_same(rng.random((n, 24)) * 2 - 1)
    assert_same(rng.laplace(size=(n, 24)))
    # a few large coordinates among small ones: shapes A and B win more often
    y = rng.standard_normal((n, 24)) * 0.1
    y[np.arange(n), rng.integers(0, 24, n)] += rng.choice([-3.0, 3.0], n)
    y[np.arange(n), rng.integers(0, 24, n)] += rng.choice([-2.5, 2.5], n)
    assert_same(y)


def test_float32_input_through_the_code():
    rng = np.random.default_rng(32)
    x = rng.standard_normal((5000, 24)).astype(np.float32)
    got = C.nearest(x)
    np.testing.assert_array_equal(got, _ref.leech_nearest_reference(x.astype(np.float64)))


def test_codewords_and_their_scalings():
    rng = np.random.default_rng(5)
    i = rng.integers(0, len(V), 4000)
    for s in (1.0, 1 / 8**0.5, 3.0, 2.0**-40, 2.0**40):
        assert_same(V[i] * s)
    np.testing.assert_array_equal(leech_nearest(V[i], threads=1), i)


def test_midpoints_and_points_just_off_them():
    rng = np.random.default_rng(6)
    i, j = rng.integers(0, len(V), (2, 4000))
    mid = V[i] + V[j]
    assert_same(mid)
    # below, at and above the screening resolution (scores rounded to 2⁻¹⁸ of the largest
    # coordinate, candidates kept within 32 of those units): the float64 scores decide
    for eps in [2.0**-30, 1e-9] + [2.0**-k for k in range(24, 11, -1)] + [3e-6]:
        assert_same(mid + eps * (V[j] - V[i]))
        assert_same(mid + eps * rng.standard_normal(mid.shape))
    k = rng.integers(0, len(V), 4000)
    assert_same(V[i] + V[j] + V[k])  # three-way mixtures


@pytest.mark.parametrize("lo, hi, step", [(-1, 2, 1.0), (0, 2, 1.0), (-2, 3, 1.0),
                                          (-4, 5, 0.5), (-1, 2, 0.25), (-3, 4, 1.0)])
def test_small_integer_and_dyadic_vectors(lo, hi, step):
    rng = np.random.default_rng([lo + 10, hi, int(4 * step)])
    assert_same(rng.integers(lo, hi, (6000, 24)) * step)


def test_sparse_and_degenerate_rows():
    rng = np.random.default_rng(7)
    n = 3000
    x = np.zeros((n, 24))
    for r in range(n):  # one to four nonzero coordinates of equal or random size
        k = rng.integers(1, 5)
        pos = rng.choice(24, k, replace=False)
        x[r, pos] = rng.choice([-1.0, 1.0], k) * (1.0 if r % 2 else rng.random(k))
    assert_same(x)
    assert_same(np.zeros((70, 24)))
    assert_same(np.ones((5, 24)))
    assert_same(-np.ones((5, 24)))
    assert_same(np.eye(24))
    assert_same(-np.eye(24))


def test_extreme_magnitudes():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2000, 24))
    for s in (1e-300, 2.0**-1070, 3e300, 1.7e308 / 8):
        assert_same(x * s)
    # huge and tiny coordinates in one row: the scaled tiny ones underflow alike
    y = x.copy()
    y[:, 0] = 1e300
    y[:, 1] = -1e-300
    assert_same(y)
    z = x * 1e-310  # subnormal rows
    assert_same(z)


@pytest.mark.parametrize("n", [1, LANES - 1, LANES, LANES + 1, 3 * LANES + 5])
def test_block_boundaries(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 24))
    assert_same(x)
    # a point's answer does not depend on its neighbours in the block
    y = leech_nearest(x, threads=1)
    np.testing.assert_array_equal(
        np.concatenate([leech_nearest(r[None], threads=1) for r in x]), y)


def test_threads_agree():
    x = np.random.default_rng(9).standard_normal((10 * LANES + 3, 24))
    np.testing.assert_array_equal(leech_nearest(x, threads=2), leech_nearest(x, threads=1))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=24, max_size=24),
       st.integers(0, 196559), st.integers(0, 196559),
       st.sampled_from([0.0, 2.0**-30, 2.0**-20, -(2.0**-20), 1e-7]))
def test_property_same_as_the_reference(coords, k1, k2, eps):
    x = np.array(coords, dtype=np.float64) + V[k1] / 4 + eps * V[k2]
    assert_same(x[None])
