"""SphericalQuantizer: the contract, gradients, round trips, bad input, config and usage."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from qtest_helpers import FakeCode, e8_roots_int

from lattiq.quantizers import QuantizerOutput, SphericalQuantizer


def test_contract_shapes_and_dtypes(leech_q):
    z = torch.randn(2, 3, 24)
    out = leech_q(z)
    assert isinstance(out, QuantizerOutput)
    assert out.codes.shape == (2, 3, 24) and out.codes.dtype == torch.float32
    assert out.indices.shape == (2, 3) and out.indices.dtype == torch.int64
    assert out.aux_loss.shape == () and float(out.aux_loss) == 0.0
    assert leech_q.dim == 24 and leech_q.codebook_size == 196560
    assert leech_q.bits_per_token == pytest.approx(math.log2(196560))
    assert leech_q.code_name == "leech" and len(leech_q.code_sha256) == 64


def test_codes_are_exact_codewords_and_round_trip(leech_q, leech_points):
    z = torch.randn(500, 24)
    out = leech_q(z)
    assert torch.equal(leech_q.indices_to_codes(out.indices), out.codes)
    torch.testing.assert_close(out.codes.double(), leech_points[out.indices], rtol=0, atol=1e-7)
    torch.testing.assert_close(out.codes.norm(dim=-1), torch.ones(500))
    assert torch.equal(leech_q.codes_to_indices(out.codes), out.indices)
    idx = torch.randint(0, 196560, (7, 11))
    assert torch.equal(leech_q.codes_to_indices(leech_q.indices_to_codes(idx)), idx)


def test_backends_agree(leech_q):
    z = torch.randn(300, 24, dtype=torch.float64)
    ref = leech_q(z).indices
    for backend in ("torch", "tiled"):
        q = SphericalQuantizer("leech", search_backend=backend)
        assert torch.equal(q(z).indices, ref), backend


def test_ste_gradient_is_the_normalization_jacobian(leech_q):
    """The STE passes the gradient unchanged to the normalized input: d codes / d z equals
    d normalize(z) / d z."""
    z = torch.randn(24, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda v: leech_q(v).codes, z)
    Jn = torch.autograd.functional.jacobian(lambda v: F.normalize(v, dim=-1), z)
    torch.testing.assert_close(J, Jn)
    zb = torch.randn(4, 5, 24, requires_grad=True)
    g = torch.randn(4, 5, 24)
    leech_q(zb).codes.backward(g)
    zc = zb.detach().clone().requires_grad_(True)
    F.normalize(zc, dim=-1).backward(g)
    torch.testing.assert_close(zb.grad, zc.grad)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_output_dtype_follows_input(leech_q, dtype):
    z = torch.randn(64, 24).to(dtype)
    out = leech_q(z)
    assert out.codes.dtype == dtype
    ref = leech_q(z.double()).indices  # search in float32/64 of the same values
    assert (out.indices != ref).sum() <= 1


def test_autocast_is_disabled_inside(leech_q):
    z = torch.randn(64, 24)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = leech_q(z)
    assert out.codes.dtype == torch.float32
    assert torch.equal(out.indices, leech_q(z).indices)


def test_zero_vectors_are_deterministic_and_finite(leech_q):
    z = torch.zeros(3, 24, requires_grad=True)
    out = leech_q(z)
    assert out.indices.tolist() == [0, 0, 0]
    assert torch.isfinite(out.codes).all()
    out.codes.sum().backward()
    assert torch.equal(z.grad, torch.zeros(3, 24))


def test_huge_finite_inputs_do_not_overflow(leech_q):
    z = torch.randn(50, 24)
    big = z * 1e20  # squared norm overflows float32
    assert torch.equal(leech_q(big).indices, leech_q(z).indices)
    assert torch.equal(leech_q.codes_to_indices(big), leech_q(z).indices)


def test_bad_input(leech_q):
    with pytest.raises(TypeError, match="floating-point"):
        leech_q(torch.ones(2, 24, dtype=torch.int64))
    with pytest.raises(ValueError, match="last dimension 24"):
        leech_q(torch.randn(2, 23))
    z = torch.randn(2, 4, 24)
    z[1, 2, 5] = float("nan")
    z[1, 3, 0] = float("inf")
    with pytest.raises(ValueError, match=r"2 non-finite value.*2 token.*\(1, 2\)"):
        leech_q(z)
    with pytest.raises(ValueError, match="outside"):
        leech_q.indices_to_codes(torch.tensor([0, 196560]))
    with pytest.raises(ValueError, match="outside"):
        leech_q.indices_to_codes(torch.tensor([-1]))
    with pytest.raises(TypeError, match="integer"):
        leech_q.indices_to_codes(torch.tensor([0.0]))
    with pytest.raises(ValueError, match="nan_policy"):
        SphericalQuantizer("leech", nan_policy="ignore")
    with pytest.raises(ValueError, match="search_backend"):
        SphericalQuantizer("leech", search_backend="gpu")
    with pytest.raises(TypeError, match="registry name"):
        SphericalQuantizer(3.0)


def test_nan_sentinel_policy():
    q = SphericalQuantizer("leech", nan_policy="sentinel")
    z = torch.randn(4, 24, requires_grad=True)
    with torch.no_grad():
        z[2, 7] = float("nan")
    out = q(z)
    assert out.indices[2] == -1 and (out.indices[[0, 1, 3]] >= 0).all()
    assert torch.equal(out.codes[2], torch.zeros(24))
    out.codes.sum().backward()
    assert torch.isfinite(z.grad).all() and torch.equal(z.grad[2], torch.zeros(24))


def test_config_round_trip_and_hash_check(leech_q):
    cfg = json.loads(json.dumps(leech_q.config()))
    q2 = SphericalQuantizer.from_config(cfg)
    assert q2.code_sha256 == leech_q.code_sha256
    bad = dict(cfg, code_sha256="0" * 64)
    with pytest.raises(ValueError, match="codebook mismatch"):
        SphericalQuantizer.from_config(bad)
    with pytest.raises(ValueError, match="lacks"):
        SphericalQuantizer.from_config({"code": "leech"})


def test_state_dict_carries_and_checks_the_hash(leech_q):
    sd = leech_q.state_dict()
    assert "codebook" not in sd  # rebuilt, never stored
    SphericalQuantizer("leech").load_state_dict(sd)
    sd_bad = {"_extra_state": torch.zeros(32, dtype=torch.uint8)}
    with pytest.raises(ValueError, match="codebook mismatch"):
        SphericalQuantizer("leech").load_state_dict(sd_bad)


def test_usage_statistics():
    q = SphericalQuantizer("leech")
    q.train()
    z = torch.randn(1000, 24)
    idx = q(z).indices
    counts = np.bincount(idx.numpy(), minlength=196560)
    p = counts[counts > 0] / counts.sum()
    H = -(p * np.log2(p)).sum()
    assert int(q.usage.used_codes()) == (counts > 0).sum()
    assert float(q.usage.entropy()) == pytest.approx(H)
    assert float(q.usage.perplexity()) == pytest.approx(2**H)
    assert int(q.usage.total()) == 1000
    q.eval()
    q(z)
    assert int(q.usage.total()) == 1000  # eval does not count
    q.usage.sync()  # no process group: a no-op
    q.usage.reset()
    assert int(q.usage.total()) == 0 and float(q.usage.entropy()) == 0.0
    assert q.usage.counts.device == q.codebook.device


def test_other_codes_via_code_objects():
    roots = e8_roots_int()
    e8 = FakeCode("roots-in-any-order", roots, 1 / math.sqrt(8), perm_seed=3, roots="e8")
    q = SphericalQuantizer(e8)
    assert q.search_kind == "roots" and q.codebook_size == 240
    z = torch.randn(400, 8, dtype=torch.float64)
    out = q(z)
    P = torch.as_tensor(e8.points)
    torch.testing.assert_close((z * P[out.indices]).sum(1), (z @ P.T).max(1).values)
    assert torch.equal(q.codes_to_indices(q.indices_to_codes(torch.arange(240))),
                       torch.arange(240))
    rng = np.random.default_rng(0)
    pts = rng.standard_normal((3000, 12))
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    rnd = FakeCode("custom-random", pts, 1.0)
    rnd.int_points = None
    qr = SphericalQuantizer(rnd, memory_budget_bytes=2**16)
    assert qr.search_kind == "tiled"
    z = torch.randn(100, 12, dtype=torch.float64)
    assert torch.equal(qr(z).indices, (z @ torch.as_tensor(pts).T).argmax(1))
    cfg = qr.config()
    assert SphericalQuantizer.from_config(cfg, code=rnd).code_sha256 == qr.code_sha256


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_leech_on_cuda_matches_cpu(leech_q):
    z = torch.randn(5000, 24)
    qc = SphericalQuantizer("leech").cuda()
    out = qc(z.cuda())
    assert out.codes.device.type == "cuda" and qc.usage.counts.device.type == "cuda"
    assert (out.indices.cpu() != leech_q(z).indices).sum() <= 2
    assert torch.equal(qc.indices_to_codes(out.indices), out.codes)


# --------------------------------------------------------------------------- registry walk
def _registry_names():
    try:
        from lattiq.spherecodes import list_codes
    except ImportError:
        return []
    return list_codes()


@pytest.mark.parametrize("name", _registry_names())
def test_every_registry_code(name, rng_seed):
    """Each registered code: exact against a float64 brute force, on the CPU kernel and on
    the torch search; round trips; the hash is the registry's."""
    from lattiq.spherecodes import get_code

    C = get_code(name)
    q = SphericalQuantizer(name)
    assert (q.dim, q.codebook_size, q.code_sha256) == (C.dim, C.size, C.sha256)
    P = torch.as_tensor(np.array(C.points))
    z = torch.randn(300, C.dim, dtype=torch.float64)
    best = (torch.nn.functional.normalize(z, dim=-1) @ P.T).max(1).values
    for backend in ("auto", "torch"):
        qb = q if backend == "auto" else SphericalQuantizer(name, search_backend="torch")
        out = qb(z)
        got = (torch.nn.functional.normalize(z, dim=-1) * P[out.indices]).sum(1)
        torch.testing.assert_close(got, best, rtol=0, atol=1e-12, msg=f"{name} {backend}")
        torch.testing.assert_close(out.codes, P[out.indices].to(out.codes.dtype))
    rng = np.random.default_rng(rng_seed)
    k = torch.as_tensor(rng.choice(C.size, min(C.size, 500), replace=False))
    assert torch.equal(q.codes_to_indices(q.indices_to_codes(k)), k)
    assert torch.equal(SphericalQuantizer(name, search_backend="torch").codes_to_indices(
        q.indices_to_codes(k)), k)


def test_registry_large_binary_code_needs_no_points():
    q = SphericalQuantizer("bsq-40")
    z = torch.randn(64, 40)
    out = q(z)
    assert torch.equal(out.indices, ((z < 0).long() << torch.arange(40)).sum(-1))
    assert torch.equal(q.codes_to_indices(out.codes), out.indices)
    assert q.codebook_size == 2**40
    q.train()
    q(z)
    assert not q.usage.exact and 0 < int(q.usage.used_codes()) <= 64  # hashed: a lower bound
