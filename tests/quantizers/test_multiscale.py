"""MultiScaleQuantizer: schedules, residual convergence, decoding and VAR inputs."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from lattiq.quantizers import (
    SCALE_SCHEDULES,
    BSQQuantizer,
    MultiScaleQuantizer,
    MultiScaleQuantizerOutput,
    QuantizerOutput,
    SphericalQuantizer,
    quantizer_from_config,
)


@pytest.fixture(scope="module")
def ms():
    return MultiScaleQuantizer(SphericalQuantizer("leech"), "seven")


def _smooth(B, S, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    f = torch.randn(B, d, S // 4, S // 4, generator=g)
    f = F.interpolate(f, size=(S, S), mode="bicubic", align_corners=False)
    return (f + 0.3 * torch.randn(B, d, S, S, generator=g)).permute(0, 2, 3, 1)


def test_schedules():
    assert SCALE_SCHEDULES["var10"] == (1, 2, 3, 4, 5, 6, 8, 10, 13, 16)
    assert SCALE_SCHEDULES["seven"] == (1, 2, 4, 6, 8, 12, 16)
    m = MultiScaleQuantizer("leech")
    assert m.scale_schedule == SCALE_SCHEDULES["var10"]
    assert MultiScaleQuantizer("leech", [1, 3, 8]).scale_schedule == (1, 3, 8)
    with pytest.raises(ValueError, match="unknown scale schedule"):
        MultiScaleQuantizer("leech", "var11")
    with pytest.raises(ValueError, match="increase"):
        MultiScaleQuantizer("leech", [1, 4, 4])
    with pytest.raises(ValueError, match="upsample"):
        MultiScaleQuantizer("leech", upsample="lanczos")


def test_forward_contract(ms):
    f = torch.randn(2, 16, 16, 24, requires_grad=True)
    out = ms(f)
    assert out.codes.shape == f.shape and out.codes.dtype == f.dtype
    assert [tuple(i.shape) for i in out.indices] == [(2, s, s) for s in ms.scale_schedule]
    assert all(i.dtype == torch.int64 for i in out.indices)
    assert out.aux_loss.shape == () and float(out.aux_loss) == 0.0
    torch.testing.assert_close(ms.indices_to_codes(out.indices), out.codes.detach(),
                               atol=1e-5, rtol=1e-5)
    g = torch.randn_like(f)
    out.codes.backward(g)
    torch.testing.assert_close(f.grad, g)  # straight-through to f
    assert ms.gains.grad is not None and ms.gains.grad.shape == (7,)
    with pytest.raises(ValueError, match="schedule's last scale"):
        ms(torch.randn(1, 8, 8, 24))
    with pytest.raises(ValueError, match="channels-last"):
        ms(torch.randn(1, 16, 16, 8))


def test_reconstruction_error_decreases_with_scales(ms):
    f = _smooth(4, 16, 24)
    ms.calibrate_gains(f)
    assert (ms.gains >= 0).all()
    with torch.no_grad():
        out = ms(f)
        errs = []
        acc = torch.zeros_like(f)
        for k in range(ms.num_scales):
            acc = acc + ms.scale_codes(k, out.indices[k])
            errs.append(float(((f - acc) ** 2).mean()))
    assert errs[-1] < 0.5 * float((f**2).mean())
    assert all(b < a for a, b in zip(errs, errs[1:], strict=False)), errs


def test_next_scale_inputs(ms):
    f = torch.randn(2, 16, 16, 24)
    with torch.no_grad():
        out = ms(f)
        nxt = ms.next_scale_inputs(out.indices)
        assert [tuple(t.shape) for t in nxt] == [(2, s, s, 24) for s in ms.scale_schedule[1:]]
        acc = torch.zeros_like(f)
        for k in range(1, ms.num_scales):
            acc = acc + ms.scale_codes(k - 1, out.indices[k - 1])
            s = ms.scale_schedule[k]
            ref = F.interpolate(acc.permute(0, 3, 1, 2), size=(s, s), mode="area")
            torch.testing.assert_close(nxt[k - 1], ref.permute(0, 2, 3, 1))
        # the last input is the sum of all but the last scale at full resolution
        torch.testing.assert_close(nxt[-1] + ms.scale_codes(6, out.indices[6]),
                                   ms.indices_to_codes(out.indices))
        # the k-th scale's indices are the quantization of the residual it sees
        for k in range(1, ms.num_scales):
            s = ms.scale_schedule[k]
            fk = F.interpolate(f.permute(0, 3, 1, 2), size=(s, s), mode="area").permute(0, 2, 3, 1)
            idx = ms.quantizer(fk - nxt[k - 1]).indices
            assert (idx != out.indices[k]).float().mean() < 0.01
    with pytest.raises(ValueError, match="at least 6"):
        ms.next_scale_inputs(out.indices[:3])
    with pytest.raises(ValueError, match="must end in"):
        ms.scale_codes(2, out.indices[1])


def test_config_round_trip_and_baseline_inner():
    m = MultiScaleQuantizer(BSQQuantizer("bsq-8"), [1, 2, 4], upsample="bilinear",
                            gains="fixed")
    cfg = json.loads(json.dumps(m.config()))
    m2 = quantizer_from_config(cfg)
    assert isinstance(m2, MultiScaleQuantizer) and m2.scale_schedule == (1, 2, 4)
    f = torch.randn(3, 4, 4, 8, requires_grad=True)
    out = m(f)
    assert out.aux_loss.requires_grad  # the BSQ penalties reach f
    out.aux_loss.backward()
    assert f.grad is not None and torch.isfinite(f.grad).all()


def test_video_trilinear():
    m = MultiScaleQuantizer("leech", [1, 2, 4], upsample="trilinear")
    f = torch.randn(1, 3, 4, 4, 24)
    out = m(f)
    assert out.codes.shape == f.shape
    assert [tuple(i.shape) for i in out.indices] == [(1, 3, s, s) for s in (1, 2, 4)]
    torch.testing.assert_close(m.indices_to_codes(out.indices), out.codes, atol=1e-5, rtol=0)


def test_output_types_say_what_indices_hold(ms):
    f = _smooth(2, 16, 24, seed=5)
    out = ms(f)
    assert type(out) is MultiScaleQuantizerOutput and out._fields == QuantizerOutput._fields
    assert isinstance(out.indices, list) and len(out.indices) == ms.num_scales
    assert all(isinstance(t, torch.Tensor) and t.dtype == torch.long for t in out.indices)
    single = ms.quantizer(f)
    assert type(single) is QuantizerOutput and isinstance(single.indices, torch.Tensor)
    assert single.indices.shape == (2, 16, 16)
