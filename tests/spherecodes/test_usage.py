"""Rate and utilization helpers: bits per codeword, entropy, perplexity, usage ratios."""

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lattiq.spherecodes.usage import (
    bits_per_codeword,
    entropy,
    max_min_ratio,
    perplexity,
    usage_histogram,
    usage_stats,
    used_codes,
)


def test_bits_per_codeword_known_values():
    assert bits_per_codeword(2**16) == 16
    assert bits_per_codeword(1) == 0
    assert bits_per_codeword(196560) == pytest.approx(17.5846102, abs=1e-6)
    assert bits_per_codeword(240) == pytest.approx(math.log2(240))


def test_uniform_and_one_hot_extremes():
    n = 1000
    u = np.full(n, 7)
    assert entropy(u) == pytest.approx(math.log2(n))
    assert perplexity(u) == pytest.approx(n)
    assert max_min_ratio(u) == 1.0
    one = np.zeros(n, dtype=np.int64)
    one[3] = 42
    assert entropy(one) == 0.0 and perplexity(one) == 1.0
    assert used_codes(one) == 1
    assert max_min_ratio(one) == 1.0 and max_min_ratio(one, used_only=False) == math.inf


counts_strategy = hnp.arrays(
    np.int64, st.integers(1, 300), elements=st.integers(0, 10**6)
).filter(lambda c: c.sum() > 0)


@settings(max_examples=60, deadline=None)
@given(counts_strategy)
def test_entropy_matches_scipy_and_bounds(c):
    h = entropy(c)
    assert h == pytest.approx(scipy.stats.entropy(c, base=2), abs=1e-9)
    assert -1e-12 <= h <= math.log2(c.size) + 1e-9
    assert entropy(c, base=math.e) == pytest.approx(scipy.stats.entropy(c), abs=1e-9)
    assert perplexity(c) == pytest.approx(2**h, rel=1e-9)
    assert 1 - 1e-9 <= perplexity(c) <= used_codes(c) + 1e-9


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(np.int64, st.integers(0, 500), elements=st.integers(0, 49)),
)
def test_histogram_matches_unique(idx):
    h = usage_histogram(idx, 50)
    assert h.shape == (50,) and h.dtype == np.int64 and h.sum() == idx.size
    vals, counts = np.unique(idx, return_counts=True)
    assert np.array_equal(h[vals], counts)
    assert used_codes(h) == vals.size


def test_histogram_any_shape_and_entropy_scale_invariance():
    idx = np.arange(24).reshape(2, 3, 4) % 6
    h = usage_histogram(idx, 6)
    assert np.array_equal(h, [4] * 6)
    assert entropy(h) == entropy(3 * h) == pytest.approx(math.log2(6))


def test_usage_stats_summary():
    s = usage_stats(indices=[0, 0, 1, 2], n_codes=8)
    assert (s.n_codes, s.total, s.used) == (8, 4, 3)
    assert s.utilization == 3 / 8
    assert s.bits_per_codeword == 3
    assert s.entropy_bits == pytest.approx(1.5)
    assert s.normalized_entropy == pytest.approx(0.5)
    assert s.perplexity == pytest.approx(2**1.5)
    assert s.max_min_ratio == 2.0
    d = s.to_dict()
    assert d["used"] == 3 and set(d) >= {"entropy_bits", "perplexity", "utilization"}
    assert usage_stats([2, 1, 1, 0, 0, 0, 0, 0]) == s


def test_float_counts_accepted():
    assert entropy(np.array([0.5, 0.5])) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: bits_per_codeword(0), ValueError, ">= 1"),
        (lambda: bits_per_codeword(2.0), TypeError, "int"),
        (lambda: usage_histogram([0, 5], 5), ValueError, r"outside \[0, 5\)"),
        (lambda: usage_histogram([-1], 5), ValueError, "outside"),
        (lambda: usage_histogram([0.5], 5), TypeError, "integers"),
        (lambda: entropy([0, 0, 0]), ValueError, "all zero"),
        (lambda: entropy([1, -1]), ValueError, ">= 0"),
        (lambda: entropy([1, np.nan]), ValueError, "NaN"),
        (lambda: entropy(np.ones((2, 2))), ValueError, "1-D"),
        (lambda: entropy([]), ValueError, "empty"),
        (lambda: entropy([1, 2], base=1), ValueError, "base"),
        (lambda: usage_stats(), ValueError, "exactly one"),
        (lambda: usage_stats(indices=[1]), ValueError, "n_codes"),
        (lambda: usage_stats([1, 2], n_codes=3), ValueError, "n_codes is 3"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
