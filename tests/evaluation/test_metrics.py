"""Metrics: PSNR by hand, SSIM against scikit-image, Fréchet distance against scipy's sqrtm,
bits per pixel, and the FID Inception network's structure and loading."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from weights_helpers import fid_inception_state

from lattiq.evaluation.inception import FIDInceptionV3, load_fid_inception
from lattiq.evaluation.metrics import (
    FeatureStats,
    bits_per_pixel,
    frechet_distance,
    ms_ssim,
    ms_ssim_min_size,
    psnr,
    ssim,
)


def test_psnr_by_hand():
    x = torch.zeros(2, 1, 4, 4)
    y = x.clone()
    y[0] += 0.2  # [-1,1] -> [0,1]: error 0.1 everywhere, MSE 0.01 -> 20 dB
    y[1, 0, 0, 0] = 2.0  # clipped to 1 -> 0.5 error in one of 16 pixels
    got = psnr(y, x)
    assert float(got[0]) == pytest.approx(20.0, abs=1e-4)
    assert float(got[1]) == pytest.approx(10 * math.log10(16 / 0.25), abs=1e-4)
    assert math.isinf(float(psnr(x, x)[0]))
    with pytest.raises(ValueError, match="of one shape"):
        psnr(x, x[:, :, :2])


def test_ssim_matches_scikit_image():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(-1, 1, (2, 3, 24, 24)).astype(np.float32))
    y = (x + 0.3 * torch.from_numpy(rng.standard_normal((2, 3, 24, 24)).astype(np.float32))).clamp(
        -1, 1
    )
    got = ssim(y, x)
    for i in range(2):
        want = structural_similarity(
            ((x[i] + 1) / 2).numpy(), ((y[i] + 1) / 2).numpy(), channel_axis=0,
            gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0,
        )  # fmt: skip
        assert float(got[i]) == pytest.approx(want, abs=2e-3)
    torch.testing.assert_close(ssim(x, x), torch.ones(2))
    with pytest.raises(ValueError, match="11x11"):
        ssim(x[..., :8, :8], y[..., :8, :8])


def test_ms_ssim_needs_large_images():
    assert ms_ssim_min_size() == 161
    x = torch.rand(1, 3, 160, 160) * 2 - 1
    assert ms_ssim(x, x) is None
    x = torch.rand(1, 1, 161, 161) * 2 - 1
    y = (x + 0.1 * torch.randn_like(x)).clamp(-1, 1)
    v = ms_ssim(y, x)
    assert v.shape == (1,) and 0 < float(v) < 1
    assert float(ms_ssim(x, x)) == pytest.approx(1.0, abs=1e-5)


def _fid_scipy(mu1, c1, mu2, c2):
    from scipy import linalg

    covmean = linalg.sqrtm(c1 @ c2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * np.trace(covmean))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), f=st.integers(1, 8))
def test_frechet_distance_matches_sqrtm(seed, f):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((f, f)), rng.standard_normal((f, f))
    c1, c2 = a @ a.T + 0.1 * np.eye(f), b @ b.T + 0.1 * np.eye(f)
    mu1, mu2 = rng.standard_normal(f), rng.standard_normal(f)
    d = frechet_distance(mu1, c1, mu2, c2)
    assert d == pytest.approx(_fid_scipy(mu1, c1, mu2, c2), rel=1e-6, abs=1e-8)
    assert frechet_distance(mu1, c1, mu1, c1) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_1d_gaussians():
    # closed form in one dimension: (m1 - m2)^2 + (s1 - s2)^2
    d = frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-2.0]), np.array([[9.0]]))
    assert d == pytest.approx(9.0 + 1.0)
    with pytest.raises(ValueError, match="same F"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_feature_stats_match_numpy():
    rng = np.random.default_rng(1)
    f = rng.standard_normal((50, 4))
    s = FeatureStats(4)
    s.update(torch.from_numpy(f[:20]))
    other = FeatureStats(4)
    other.update(f[20:])
    s.merge(other)
    mu, cov = s.mean_cov()
    np.testing.assert_allclose(mu, f.mean(0), atol=1e-12)
    np.testing.assert_allclose(cov, np.cov(f, rowvar=False), atol=1e-12)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        s.update(np.zeros((2, 3)))


# --- FID Inception ------------------------------------------------------------------------


def test_inception_structure():
    net = FIDInceptionV3()
    # torchvision's inception_v3 has 27,161,264 parameters; without its fc (2048*1000+1000)
    # and AuxLogits (3,326,696) the FID trunk keeps 21,785,568.
    assert sum(p.numel() for p in net.parameters()) == 27_161_264 - 2_049_000 - 3_326_696
    sd = net.state_dict()
    assert sd["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert sd["Mixed_6b.branch7x7_2.conv.weight"].shape == (128, 128, 1, 7)
    assert sd["Mixed_7c.branch3x3dbl_3b.conv.weight"].shape == (384, 384, 3, 1)
    assert net.Mixed_7c.max_pool and not net.Mixed_7b.max_pool


def test_inception_loads_pytorch_fid_layout(tmp_path):
    sd = fid_inception_state()
    torch.save(sd, tmp_path / "pt_inception.pth")
    net = load_fid_inception(tmp_path / "pt_inception.pth")
    torch.testing.assert_close(
        net.Mixed_5b.branch_pool.bn.running_var, sd["Mixed_5b.branch_pool.bn.running_var"]
    )
    f = net(torch.rand(2, 1, 16, 16) * 2 - 1)
    assert f.shape == (2, 2048) and torch.isfinite(f).all() and (f >= 0).all()
    net.train()
    assert not net.training  # BatchNorm statistics never change


def test_inception_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="--inception PATH"):
        load_fid_inception(None)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_fid_inception(tmp_path / "nope.pth")
    torch.save({"fc.weight": torch.zeros(1, 1)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not an FID Inception"):
        load_fid_inception(tmp_path / "bad.pth")


def test_bits_per_pixel():
    assert bits_per_pixel(64, 2**18, 32) == pytest.approx(64 * 18 / 1024)
