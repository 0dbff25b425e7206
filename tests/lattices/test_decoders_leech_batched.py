"""The batched Leech decoder returns exactly the answers of the one-point-at-a-time kernel
it replaced (``leech_scalar_decoder.py``): on fresh random input, on tie-heavy input where
the documented tie rule decides, on the regression file of hard cases, and across block
boundaries. The oracles of ``test_decoders_leech.py`` check that those answers are right."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from lattiq.lattices._leech_kernels import LANES
from lattiq.lattices.decoders import decode_leech, leech_sextet_tables
from lattiq.lattices.leech import leech_shell1

SQ8 = math.sqrt(8.0)
HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("leech_scalar_decoder",
                                               HERE / "leech_scalar_decoder.py")
_ref = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _ref  # numba's cache reloads the kernel's module by name
_spec.loader.exec_module(_ref)


def scalar(x: np.ndarray) -> np.ndarray:
    """The reference kernel on standard coordinates (n, 24) -> integer frame (n, 24)."""
    x = np.ascontiguousarray(x)
    out = np.empty((x.shape[0], 24), dtype=np.int64)
    cols, cls_pair, cls_g = leech_sextet_tables()
    _ref.leech_kernel_scalar(x, SQ8, cols, cls_pair, cls_g, out)
    return out


def assert_same(x):
    np.testing.assert_array_equal(decode_leech(x), scalar(x))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fresh_gaussian_and_uniform(seed):
    rng = np.random.default_rng([15, seed])
    n = 3000 + 17 * seed
    scale = rng.choice([0.05, 0.5, 1.0, 3.0, 1e3], size=(n, 1))
    assert_same(rng.standard_normal((n, 24)) * scale)
    assert_same(rng.random((n, 24)) * 16 - 8)


def test_tie_heavy_inputs():
    rng = np.random.default_rng(1515)
    S = leech_shell1().astype(np.float64)
    # midpoints of shell vectors and of pairs of them: equidistant lattice points
    i, j = rng.integers(0, len(S), (2, 2000))
    assert_same(S[i] / 2 / SQ8)
    assert_same((S[i] + S[j]) / 2 / SQ8)
    # small integers and half-integers in the integer frame: many exact ties per point
    for lo, hi, step in ((-2, 3, 1.0), (-4, 5, 0.5), (0, 2, 1.0), (-1, 2, 0.25)):
        t = rng.integers(lo, hi, (2000, 24)) * step
        assert_same(t / SQ8)
    # coordinates exactly on points of 2Z + m (the runner-up class goes upwards)
    t = 2.0 * rng.integers(-3, 4, (1000, 24)) + rng.integers(0, 2, (1000, 1))
    assert_same(t / SQ8)
    assert_same(np.zeros((5, 24)))


def test_hard_cases_file():
    x = np.load(HERE / "data" / "decoders_leech_hard.npy")
    assert_same(x)
    assert_same(x.astype(np.float32))


@pytest.mark.parametrize("n", [1, LANES - 1, LANES, LANES + 1, 3 * LANES + 5])
def test_block_boundaries(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 24))
    assert_same(x)
    # a point's answer does not depend on its neighbours in the block
    y = decode_leech(x)
    np.testing.assert_array_equal(np.concatenate([decode_leech(r[None]) for r in x]), y)


def test_float32_and_large_magnitudes():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2000, 24)).astype(np.float32)
    assert_same(x)
    S = leech_shell1().astype(np.int64)
    big = (S[rng.integers(len(S), size=500)] * 2**44 + rng.standard_normal((500, 24)) * 4) / SQ8
    assert_same(big)
