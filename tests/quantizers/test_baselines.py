"""BSQ, LFQ and random-projection baselines: codes, indices, entropy penalties."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

from lattiq.quantizers import (
    BSQQuantizer,
    LFQQuantizer,
    RandomProjectionQuantizer,
    quantizer_from_config,
)
from lattiq.quantizers.baselines import binary_entropy_terms


def _all_codes(d: int) -> torch.Tensor:
    k = torch.arange(2**d)
    bits = (k[:, None] >> torch.arange(d)) & 1
    return torch.where(bits.bool(), -1.0, 1.0).double()  # bit set <=> negative


def _entropies_by_enumeration(logits_codes: torch.Tensor):
    """Per-sample and batch entropy from a full softmax over all codes (n, 2^d)."""
    p = logits_codes.softmax(-1)
    ps = -(p * p.clamp_min(1e-300).log()).sum(-1).mean()
    avg = p.mean(0)
    be = -(avg * avg.clamp_min(1e-300).log()).sum()
    return ps, be


@pytest.mark.parametrize("cls", [BSQQuantizer, LFQQuantizer])
def test_entropy_terms_match_full_softmax(cls):
    d, tau = 6, 3.0
    q = cls(d, inv_temperature=tau, entropy_mode="exact")
    z = torch.randn(200, d, dtype=torch.float64)
    terms = q.entropy_terms(z)
    C = _all_codes(d)
    if cls is BSQQuantizer:
        u = F.normalize(z, dim=-1)
        logits = tau * u @ (C / math.sqrt(d)).T
    else:
        logits = -tau * ((z[:, None, :] - C[None]) ** 2).sum(-1)
    ps, be = _entropies_by_enumeration(logits)
    torch.testing.assert_close(terms["per_sample_entropy"], ps)
    torch.testing.assert_close(terms["batch_entropy"], be)
    # the factorized batch entropy is an upper bound of the exact one
    qf = cls(d, inv_temperature=tau, entropy_mode="factorized")
    assert qf.entropy_terms(z)["batch_entropy"] >= be - 1e-12


def test_entropy_gradcheck():
    logits = torch.randn(12, 4, dtype=torch.float64, requires_grad=True)
    for mode in ("factorized", "exact"):
        torch.autograd.gradcheck(lambda v, m=mode: binary_entropy_terms(v, m), (logits,))


@pytest.mark.parametrize("cls,scale", [(BSQQuantizer, 1 / math.sqrt(16)), (LFQQuantizer, 1.0)])
def test_codes_indices_round_trip(cls, scale):
    q = cls("bsq-16")
    z = torch.randn(3, 50, 16)
    out = q(z)
    assert out.codes.shape == z.shape and out.indices.shape == (3, 50)
    expected = torch.where(z < 0, -1.0, 1.0) * scale
    torch.testing.assert_close(out.codes, expected)
    assert torch.equal(q.indices_to_codes(out.indices), out.codes)
    assert torch.equal(q.codes_to_indices(out.codes), out.indices)
    neg = (z < 0).long()
    assert torch.equal(out.indices, (neg << torch.arange(16)).sum(-1))
    assert out.aux_loss.shape == () and out.aux_loss.requires_grad is False


def test_bsq_ste_and_aux_gradient():
    q = BSQQuantizer(8, commitment_weight=0.25)
    z = torch.randn(64, 8, requires_grad=True)
    out = q(z)
    g = torch.randn_like(z)
    (out.codes * g).sum().backward(retain_graph=True)
    zc = z.detach().clone().requires_grad_(True)
    (F.normalize(zc, dim=-1) * g).sum().backward()
    torch.testing.assert_close(z.grad, zc.grad)
    z.grad = None
    out.aux_loss.backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    q0 = BSQQuantizer(8, entropy_weight=0.0)
    assert float(q0(z).aux_loss) == 0.0


def test_binary_bad_input():
    with pytest.raises(ValueError, match="bit count"):
        BSQQuantizer("leech")
    with pytest.raises(ValueError, match="1..62"):
        BSQQuantizer(63)
    with pytest.raises(ValueError, match="exact"):
        BSQQuantizer(24, entropy_mode="exact")
    q = BSQQuantizer(4)
    with pytest.raises(ValueError, match="last dimension 4"):
        q(torch.randn(2, 5))
    with pytest.raises(TypeError):
        q(torch.ones(2, 4, dtype=torch.int32))
    with pytest.raises(ValueError, match="outside"):
        q.indices_to_codes(torch.tensor([16]))
    z = torch.randn(3, 4)
    z[1, 1] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        q(z)
    out = BSQQuantizer(4, nan_policy="sentinel")(z)
    assert out.indices[1] == -1 and torch.isfinite(out.aux_loss)


def test_random_projection_quantizer():
    q = RandomProjectionQuantizer((16, 3000), seed=7, memory_budget_bytes=2**16)
    P = q.codebook.double()
    torch.testing.assert_close(P.norm(dim=1), torch.ones(3000, dtype=torch.float64))
    z = torch.randn(200, 16, dtype=torch.float64)
    out = q(z)
    assert torch.equal(out.indices, (z @ P.T).argmax(1))
    assert float(out.aux_loss) == 0.0
    cfg = json.loads(json.dumps(q.config()))
    q2 = quantizer_from_config(cfg)
    assert torch.equal(q2.codebook, q.codebook)
    with pytest.raises(ValueError, match="codebook mismatch"):
        quantizer_from_config(dict(cfg, seed=8))
    with pytest.raises(ValueError, match="random-<d>-<N>"):
        RandomProjectionQuantizer("leech")


def test_baseline_configs_round_trip():
    for q in (BSQQuantizer(10, entropy_weight=0.2), LFQQuantizer(6, entropy_mode="exact")):
        q2 = quantizer_from_config(json.loads(json.dumps(q.config())))
        assert type(q2) is type(q) and q2.config() == q.config()
