"""Output heads: losses against plain formulas, structured Leech scores against the table,
sampling filters against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices.leech import leech_shell1
from lattiq.models.heads import (
    BitHead,
    DitHead,
    FullSoftmaxHead,
    bits_to_index,
    filter_logits,
    index_to_bits,
    leech_codeword_log_probs,
    make_head,
)


@pytest.fixture(scope="module")
def dit():
    torch.manual_seed(0)
    return DitHead(16)


def _table_scores(logp_NPQ):
    """Oracle: sum over the 24 positions of log p_i(x_i + 4), read from the integer table."""
    lab = torch.from_numpy(leech_shell1().astype(np.int64) + 4)  # (V, 24)
    out = torch.zeros(logp_NPQ.shape[0], lab.shape[0], dtype=torch.float64)
    for i in range(24):
        out += logp_NPQ[:, i, :].double()[:, lab[:, i]]
    return out


def test_structured_leech_scores_equal_table_sum():
    g = torch.Generator().manual_seed(1)
    logp = torch.log_softmax(3 * torch.randn(5, 24, 9, generator=g), dim=-1)
    fast = leech_codeword_log_probs(logp)
    torch.testing.assert_close(fast.double(), _table_scores(logp), atol=2e-4, rtol=1e-6)


def test_structured_scores_one_hot_labels():
    # log-probs that are 0 at a codeword's labels and -1 elsewhere: exactly that codeword
    # (and only it) scores 0
    V = 196560
    for k in (0, 1103, 1104, 50_000, 98_255, 98_256, V - 1):
        lab = torch.from_numpy(leech_shell1()[k].astype(np.int64) + 4)
        logp = -torch.ones(1, 24, 9)
        logp[0, torch.arange(24), lab] = 0.0
        s = leech_codeword_log_probs(logp)[0]
        assert s[k].item() == 0.0
        assert int((s == 0).sum()) == 1


def test_dit_labels_are_the_quantizer_labels(dit):
    idx = torch.randint(0, 196560, (3, 7))
    lab = dit.labels(idx)
    ref = torch.from_numpy(leech_shell1().astype(np.int64))[idx] + 4
    assert torch.equal(lab, ref)
    assert lab.min() >= 0 and lab.max() <= 8


def test_dit_loss_is_sum_of_position_ce(dit):
    h = torch.randn(6, 16)
    t = torch.randint(0, 196560, (6,))
    out = dit.loss(h, t)
    lg = dit.position_logits(h)
    lab = dit.labels(t)
    ref = sum(F.cross_entropy(lg[:, i], lab[:, i]) for i in range(24))
    torch.testing.assert_close(out.loss, ref)
    out.loss.backward()
    assert dit.proj.weight.grad is not None


def test_dit_greedy_sample_is_argmax_over_codewords(dit):
    h = torch.randn(4, 16) * 5
    idx, finite = dit.sample(h, temperature=0.0)
    assert finite
    scores = _table_scores(torch.log_softmax(dit.log_probs(h), -1))
    assert torch.equal(idx, scores.argmax(-1))
    idx2, _ = dit.sample(h, top_k=1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(idx2, idx)


def test_dit_sampling_concentrated_distribution():
    # per-position log-probs peaked on codeword k's labels: sampling returns k
    head = DitHead(4)
    k = 123_456
    lab = torch.from_numpy(leech_shell1()[k].astype(np.int64) + 4)
    with torch.no_grad():
        head.proj.weight.zero_()
        b = torch.full((24, 9), -30.0)
        b[torch.arange(24), lab] = 0.0
        head.proj.bias.copy_(b.reshape(-1))
    idx, _ = head.sample(torch.zeros(10, 4), generator=torch.Generator().manual_seed(0))
    assert torch.all(idx == k)


def test_full_head_loss_and_sampling():
    torch.manual_seed(0)
    head = FullSoftmaxHead(8, 50, z_loss=1e-3, ce_chunk=3)
    h = torch.randn(7, 8)
    t = torch.randint(0, 50, (7,))
    out = head.loss(h, t)
    logits = head.proj(h)
    lse = torch.logsumexp(logits, -1)
    torch.testing.assert_close(out.loss, F.cross_entropy(logits, t) + 1e-3 * lse.square().mean())
    idx, finite = head.sample(h, temperature=0.0)
    assert finite and torch.equal(idx, logits.argmax(-1))


def test_guidance_zero_is_unconditional_and_one_is_conditional():
    torch.manual_seed(0)
    head = FullSoftmaxHead(8, 30)
    hc, hu = torch.randn(5, 8), torch.randn(5, 8)
    a, _ = head.sample(hc, hu, guidance=0.0, temperature=0.0)
    b, _ = head.sample(hu, temperature=0.0)
    assert torch.equal(a, b)
    a, _ = head.sample(hc, hu, guidance=1.0, temperature=0.0)
    b, _ = head.sample(hc, temperature=0.0)
    assert torch.equal(a, b)


def test_nonfinite_is_reported():
    head = FullSoftmaxHead(4, 10)
    with torch.no_grad():
        head.proj.weight[0, 0] = float("nan")
    _, finite = head.sample(torch.ones(3, 4))
    assert not finite


@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 20), seed=st.integers(0, 10_000))
def test_bits_roundtrip(d, seed):
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, 2**d, (11,), generator=g)
    b = index_to_bits(idx, d)
    assert set(b.unique().tolist()) <= {0, 1}
    assert torch.equal(bits_to_index(b), idx)


def test_bit_head_loss_and_greedy():
    torch.manual_seed(0)
    head = BitHead(8, 2**6)
    h = torch.randn(9, 8)
    t = torch.randint(0, 64, (9,))
    out = head.loss(h, t)
    lg = head.proj(h)
    ref = F.binary_cross_entropy_with_logits(lg, index_to_bits(t, 6).float(), reduction="sum") / 9
    torch.testing.assert_close(out.loss, ref)
    idx, _ = head.sample(h, temperature=0.0)
    assert torch.equal(idx, bits_to_index((lg > 0).long()))


def test_bit_head_sampling_frequencies():
    head = BitHead(1, 4)
    with torch.no_grad():
        head.proj.weight.zero_()
        head.proj.bias.copy_(torch.tensor([math.log(3.0), -math.log(3.0)]))  # p(b0)=.75, p(b1)=.25
    idx, _ = head.sample(torch.zeros(20000, 1), generator=torch.Generator().manual_seed(0))
    b = index_to_bits(idx, 2).float().mean(0)
    assert abs(b[0].item() - 0.75) < 0.02 and abs(b[1].item() - 0.25) < 0.02


@settings(max_examples=40, deadline=None)
@given(V=st.integers(2, 40), k=st.integers(0, 45), p=st.floats(0.01, 1.0),
       seed=st.integers(0, 10_000))
def test_filter_logits_brute_force(V, k, p, seed):
    g = torch.Generator().manual_seed(seed)
    lg = torch.randn(3, V, generator=g, dtype=torch.float64)
    out = filter_logits(lg, top_k=k, top_p=p)
    for row, orow in zip(lg, out, strict=True):
        order = torch.argsort(row, descending=True)
        keep = torch.zeros(V, dtype=torch.bool)
        kk = V if k == 0 or k >= V else k
        keep[order[:kk]] = True
        if p < 1.0:
            probs = torch.softmax(torch.where(keep, row, -torch.inf), -1)[order]
            mass = 0.0
            nucleus = torch.zeros(V, dtype=torch.bool)
            for j, v in enumerate(order.tolist()):
                if j > 0 and mass >= p:
                    break
                nucleus[v] = True
                mass += probs[j].item()
            keep &= nucleus
        assert torch.equal(torch.isfinite(orow), keep)
        assert torch.equal(orow[keep], row[keep])


def test_make_head_errors():
    with pytest.raises(ValueError, match="unknown head"):
        make_head("nope", 8, 10)
    with pytest.raises(ValueError, match="Leech"):
        DitHead(8, vocab=1000)
    with pytest.raises(ValueError, match="2\\^d"):
        BitHead(8, 1000)
