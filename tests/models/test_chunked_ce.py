"""Chunked cross-entropy equals the plain one, in value and gradient; Z-loss is exact."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.models.chunked_ce import chunked_cross_entropy, reference_cross_entropy


def _problem(N, D, V, seed, bias=True, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(N, D, generator=g, dtype=dtype, requires_grad=True)
    w = torch.randn(V, D, generator=g, dtype=dtype, requires_grad=True)
    b = torch.randn(V, generator=g, dtype=dtype, requires_grad=True) if bias else None
    t = torch.randint(0, V, (N,), generator=g)
    return h, w, b, t


def _grads(fn, h, w, b, t, **kw):
    out = fn(h, w, t, b, **kw)
    params = [h, w] + ([b] if b is not None else [])
    gs = torch.autograd.grad(out.loss, params)
    return out, gs


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
@pytest.mark.parametrize("bias", [True, False])
def test_equals_reference_value_and_grad(chunk, bias):
    h, w, b, t = _problem(37, 16, 101, seed=chunk + 10 * bias, bias=bias)
    a, ga = _grads(chunked_cross_entropy, h, w, b, t, z_loss=0.01, chunk_size=chunk)
    r, gr = _grads(reference_cross_entropy, h, w, b, t, z_loss=0.01)
    for x, y in zip(a, r, strict=True):
        torch.testing.assert_close(x, y.to(x.dtype), rtol=1e-6, atol=1e-6)
    for x, y in zip(ga, gr, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-7)


def test_plain_ce_matches_torch_when_alpha_zero():
    h, w, b, t = _problem(50, 8, 33, seed=1, dtype=torch.float32)
    out = chunked_cross_entropy(h, w, t, b, z_loss=0.0, chunk_size=16)
    ref = F.cross_entropy(h @ w.t() + b, t)
    torch.testing.assert_close(out.loss, ref)
    torch.testing.assert_close(out.ce, ref)
    g1 = torch.autograd.grad(out.loss, [h, w, b])
    g2 = torch.autograd.grad(ref, [h, w, b])
    for x, y in zip(g1, g2, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)


def test_gradcheck_double():
    h, w, b, t = _problem(5, 3, 7, seed=2)

    def f(h, w, b):
        return chunked_cross_entropy(h, w, t, b, z_loss=0.3, chunk_size=2).loss

    assert torch.autograd.gradcheck(f, (h, w, b))


def test_z_loss_value_and_gradient_known():
    # Zero logits: log Z = log V exactly, softmax uniform.
    N, D, V = 4, 3, 10
    h = torch.zeros(N, D, dtype=torch.float64, requires_grad=True)
    w = torch.zeros(V, D, dtype=torch.float64)
    b = torch.zeros(V, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0, 1, 2, 3])
    alpha = 1e-4
    out = chunked_cross_entropy(h, w, t, b, z_loss=alpha, chunk_size=3)
    assert out.log_z_sq.item() == pytest.approx(math.log(V) ** 2, rel=1e-12)
    assert out.ce.item() == pytest.approx(math.log(V), rel=1e-12)
    assert out.loss.item() == pytest.approx(math.log(V) + alpha * math.log(V) ** 2, rel=1e-12)
    (gb,) = torch.autograd.grad(out.loss, [b])
    # d/db_v of mean_n [lse - b_t + α lse²] = (1 + 2α log V)/V - (#n with t_n = v)/N
    expect = torch.full((V,), (1 + 2 * alpha * math.log(V)) / V, dtype=torch.float64)
    expect[:4] -= 1.0 / N
    torch.testing.assert_close(gb, expect, rtol=1e-12, atol=1e-15)


def test_z_loss_gradient_alone():
    # gradient of the log_z_sq output alone is 2 lse softmax / N
    h, w, b, t = _problem(6, 4, 9, seed=3)
    out = chunked_cross_entropy(h, w, t, b, z_loss=0.0, chunk_size=4)
    (gb,) = torch.autograd.grad(out.log_z_sq, [b])
    logits = h @ w.t() + b
    lse = torch.logsumexp(logits, -1)
    expect = (2 * lse[:, None] * torch.softmax(logits, -1)).mean(0)
    torch.testing.assert_close(gb, expect.detach())


def test_ignore_index_and_leading_dims():
    h, w, b, t = _problem(24, 5, 17, seed=4)
    t = t.clone()
    t[::3] = -100
    out = chunked_cross_entropy(h.reshape(2, 3, 4, 5), w, t.reshape(2, 3, 4), b, chunk_size=5)
    keep = t != -100
    ref = reference_cross_entropy(h[keep], w, t[keep], b)
    torch.testing.assert_close(out.loss, ref.loss)
    g1 = torch.autograd.grad(out.loss, [w])[0]
    g2 = torch.autograd.grad(ref.loss, [w])[0]
    torch.testing.assert_close(g1, g2)


@settings(max_examples=25, deadline=None)
@given(
    N=st.integers(1, 40),
    V=st.integers(2, 50),
    chunk=st.integers(1, 50),
    alpha=st.floats(0, 1),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_matches_reference(N, V, chunk, alpha, seed):
    h, w, b, t = _problem(N, 4, V, seed=seed)
    a, ga = _grads(chunked_cross_entropy, h, w, b, t, z_loss=alpha, chunk_size=chunk)
    r, gr = _grads(reference_cross_entropy, h, w, b, t, z_loss=alpha)
    torch.testing.assert_close(a.loss, r.loss)
    for x, y in zip(ga, gr, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-9)


def test_bfloat16_weights_close_to_float32():
    h, w, b, t = _problem(20, 8, 40, seed=5, dtype=torch.float32)
    out = chunked_cross_entropy(h.bfloat16(), w.bfloat16(), t, b.bfloat16(), chunk_size=7)
    ref = reference_cross_entropy(h, w, t, b)
    assert abs(out.loss.item() - ref.loss.item()) < 0.1 * abs(ref.loss.item())


def test_bad_input():
    h, w, b, t = _problem(4, 3, 5, seed=6)
    with pytest.raises(ValueError, match="outside"):
        chunked_cross_entropy(h, w, torch.tensor([0, 1, 5, 2]), b)
    with pytest.raises(ValueError, match="leading shape"):
        chunked_cross_entropy(h, w, t[:3], b)
    with pytest.raises(ValueError, match="width"):
        chunked_cross_entropy(h[:, :2], w, t, b)
    with pytest.raises(TypeError, match="int64"):
        chunked_cross_entropy(h, w, t.float(), b)
    with pytest.raises(ValueError, match="chunk_size"):
        chunked_cross_entropy(h, w, t, b, chunk_size=0)
    with pytest.raises(ValueError, match="z_loss"):
        chunked_cross_entropy(h, w, t, b, z_loss=-1.0)
