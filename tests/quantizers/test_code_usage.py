"""The one usage tracker, CodeUsage: dense, hashed and exact sparse counts, checked against
the numpy statistics of lattiq.spherecodes.usage and against each other."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.quantizers.usage import HASHED_USAGE_BINS, CodeUsage
from lattiq.spherecodes.usage import usage_stats


def test_codebook_usage():
    u = CodeUsage(8, exact=True)
    u.update([torch.tensor([[0, 1], [1, 3]]), torch.tensor([3, 3, 3])])
    s = u.summary()
    # counts: 0->1, 1->2, 3->4
    p = np.array([1, 2, 4]) / 7
    assert s["used_codes"] == 3 and s["tokens"] == 7 and s["usage_fraction"] == 3 / 8
    assert s["entropy_bits"] == pytest.approx(float(-(p * np.log2(p)).sum()))
    assert s["perplexity"] == pytest.approx(2 ** s["entropy_bits"])
    assert s["max_min_ratio"] == 4.0
    uni = CodeUsage(4, exact=True)
    uni.update(torch.arange(4).repeat(5))
    assert uni.summary()["perplexity"] == pytest.approx(4.0)
    with pytest.raises(ValueError, match=r"\[0, 8\)"):
        u.update(torch.tensor([8]))
    assert CodeUsage(3, exact=True).summary()["used_codes"] == 0


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), batches=st.lists(st.integers(0, 50), max_size=5),
       seed=st.integers(0, 2**31))
def test_sparse_usage_counts_match_dense(size, batches, seed):
    g = torch.Generator().manual_seed(seed)
    dense, sparse = CodeUsage(size, exact=True), CodeUsage(size, exact=True, dense_limit=0)
    assert dense.dense and not sparse.dense and sparse.counts is None
    for n in batches:
        idx = torch.randint(0, size, (n,), generator=g)
        dense.update(idx)
        sparse.update([idx[: n // 2], idx[n // 2 :]])
    assert torch.equal(dense.used_counts(), sparse.used_counts())
    a, b = dense.summary(), sparse.summary()
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])), k


def test_usage_of_an_astronomical_codebook_is_bounded():
    u = CodeUsage(2**62, exact=True)
    assert not u.dense
    u.update(torch.tensor([2**62 - 1, 5, 5, 2**40]))
    s = u.summary()
    assert s["used_codes"] == 3 and s["tokens"] == 4 and s["usage_fraction"] == 3 / 2**62
    with pytest.raises(ValueError, match="counted sparsely"):
        u.merge_counts(torch.zeros(3))
    with pytest.raises(ValueError, match=r"\[0, 4611686018427387904\)"):
        u.update(torch.tensor([-1]))


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 200), n=st.integers(1, 400), seed=st.integers(0, 2**31))
def test_device_statistics_match_the_numpy_ones(size, n, seed):
    idx = torch.randint(0, size, (n,), generator=torch.Generator().manual_seed(seed))
    u = CodeUsage(size)
    u.update(idx)
    ref = usage_stats(indices=idx.numpy(), n_codes=size)
    assert int(u.total()) == ref.total and int(u.used_codes()) == ref.used
    assert float(u.entropy()) == pytest.approx(ref.entropy_bits, abs=1e-12)
    assert float(u.perplexity()) == pytest.approx(ref.perplexity, rel=1e-12)
    s = u.summary()
    assert s["entropy_bits"] == pytest.approx(ref.entropy_bits, abs=1e-12)
    assert s["max_min_ratio"] == pytest.approx(ref.max_min_ratio)
    assert s["usage_fraction"] == pytest.approx(ref.utilization)


def test_hashed_counts_are_lower_bounds_and_skip_sentinels():
    size = 2**30
    u = CodeUsage(size)  # a quantizer's counter: hashed above the dense limit
    assert not u.dense and not u.exact and u.counts.numel() == HASHED_USAGE_BINS
    codes = torch.tensor([3, 3 + HASHED_USAGE_BINS, 7, -1])  # two share a bin; -1: sentinel
    u.update(codes)
    assert int(u.total()) == 3 and int(u.used_codes()) == 2  # 3 distinct codes seen
    exact = CodeUsage(size, exact=True)
    exact.update(codes[:3])
    assert int(exact.used_codes()) == 3 and exact.summary()["used_codes"] == 3
    u.reset(), exact.reset()
    assert int(u.total()) == 0 and exact.summary()["tokens"] == 0
    assert "hashed" in repr(u) and "sparse" in repr(exact)
