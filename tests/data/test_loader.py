"""Step-indexed loading: epochs are permutations, ranks partition them, resuming at a step
gives the same batches, and the number of workers does not matter."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.data import (
    StepBatchSampler,
    get_dataset,
    make_eval_loader,
    make_train_loader,
    match_channels,
)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), batch=st.integers(1, 7), world=st.integers(1, 3),
       seed=st.integers(0, 100))  # fmt: skip
def test_epochs_are_permutations_split_over_ranks(n, batch, world, seed):
    samplers = [StepBatchSampler(n, batch, seed, r, world) for r in range(world)]
    steps = -(-3 * n // (batch * world))  # enough steps for three epochs
    seen = {}
    for s in range(steps):
        for sam in samplers:
            for idx, g in sam.batch(s):
                seen[g] = idx
    for e in range(3):
        assert sorted(seen[g] for g in range(e * n, (e + 1) * n)) == list(range(n))
    later = StepBatchSampler(n, batch, seed, 0, world, start_step=2, steps=4)
    assert list(later) == [samplers[0].batch(2), samplers[0].batch(3)]


def test_no_shuffle_uses_consecutive_draws():
    s = StepBatchSampler(10, 3, shuffle=False, rank=1, world_size=2)
    assert s.batch(1) == [(9, 9), (0, 10), (1, 11)]
    with pytest.raises(ValueError, match="empty"):
        StepBatchSampler(0, 3)


def test_workers_do_not_change_batches():
    ds = get_dataset("natural", "train", 16, seed=5)
    a = [b["image"] for b in make_train_loader(ds, 3, seed=5, steps=2, workers=0)]
    b = [b["image"] for b in make_train_loader(ds, 3, seed=5, steps=2, workers=2)]
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_eval_loader_and_channels():
    ds = get_dataset("natural", "test", 16)
    batches = list(make_eval_loader(ds, 5, limit=12))
    assert [len(b["image"]) for b in batches] == [5, 5, 2]
    x = torch.rand(2, 1, 4, 4)
    assert torch.equal(match_channels(x, 3)[:, 2], x[:, 0])
    rgb = torch.rand(2, 3, 4, 4)
    want = 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]
    torch.testing.assert_close(match_channels(rgb, 1)[:, 0], want)
    with pytest.raises(ValueError, match="channels"):
        match_channels(torch.zeros(1, 2, 4, 4), 3)
