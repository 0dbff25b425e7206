"""Tokenizer losses: LPIPS (loaded from files the test makes), patch discriminator and
adversarial terms, VF alignment (a test-built feature network and the DINOv2 loader)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from weights_helpers import dinov2_state, lpips_heads_state, vgg16_state

from lattiq.models.losses import (
    LPIPS,
    AdversarialLoss,
    DINOv2Features,
    PatchDiscriminator,
    VFAlignLoss,
    VGG16Features,
    adaptive_weight,
    discriminator_loss,
    generator_loss,
    load_feature_network,
    r1_penalty,
)

# --- LPIPS --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lpips_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("lpips")
    torch.save(vgg16_state(), d / "vgg16.pth")
    torch.save(lpips_heads_state(), d / "vgg.pth")
    return d / "vgg16.pth", d / "vgg.pth"


@pytest.fixture(scope="module")
def lpips_net(lpips_files):
    return LPIPS.from_files(*lpips_files)


def _lpips_oracle(vgg_sd, heads_sd, x, y):
    """LPIPS written literally from the paper with plain conv ops over the state dicts."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def feats(z):
        z = (z - shift) / scale
        out, taps = [], {3: 0, 8: 1, 15: 2, 22: 3, 29: 4}
        for i in range(30):
            if f"features.{i}.weight" in vgg_sd:
                z = F.conv2d(
                    z, vgg_sd[f"features.{i}.weight"], vgg_sd[f"features.{i}.bias"], padding=1
                )
            elif i in (4, 9, 16, 23):
                z = F.max_pool2d(z, 2)
            else:
                z = F.relu(z)
            if i in taps:
                out.append(z)
        return out

    total = 0.0
    for k, (a, b) in enumerate(zip(feats(x), feats(y), strict=True)):
        a = a / (a.norm(dim=1, keepdim=True) + 1e-10)
        b = b / (b.norm(dim=1, keepdim=True) + 1e-10)
        total = total + F.conv2d((a - b) ** 2, heads_sd[f"lin{k}.model.1.weight"]).mean(
            dim=(1, 2, 3)
        )
    return total


def test_lpips_matches_literal_oracle(lpips_net):
    torch.manual_seed(0)
    x, y = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    want = _lpips_oracle(vgg16_state(), lpips_heads_state(), x, y)
    torch.testing.assert_close(lpips_net(x, y), want, rtol=1e-4, atol=1e-6)


def test_lpips_properties(lpips_net):
    torch.manual_seed(1)
    x, y = torch.rand(3, 3, 16, 16) * 2 - 1, torch.rand(3, 3, 16, 16) * 2 - 1
    d = lpips_net(x, y)
    assert d.shape == (3,) and (d > 0).all()
    torch.testing.assert_close(lpips_net(y, x), d)
    assert torch.all(lpips_net(x, x) == 0)
    gray = x[:, :1]
    torch.testing.assert_close(
        lpips_net(gray, y[:, :1]), lpips_net(gray.repeat(1, 3, 1, 1), y[:, :1].repeat(1, 3, 1, 1))
    )
    xr = x.clone().requires_grad_(True)
    lpips_net(xr, y).sum().backward()
    assert xr.grad.abs().sum() > 0
    assert all(not p.requires_grad for p in lpips_net.parameters())
    lpips_net.train()
    assert not lpips_net.training


def test_lpips_file_errors(tmp_path, lpips_files):
    vgg, heads = lpips_files
    with pytest.raises(FileNotFoundError, match="lpips_vgg=PATH"):
        LPIPS.from_files(None, heads)
    with pytest.raises(FileNotFoundError, match="does not exist.*lpips_heads=PATH"):
        LPIPS.from_files(vgg, tmp_path / "nope.pth")
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not a torchvision VGG16"):
        LPIPS.from_files(tmp_path / "bad.pth", heads)
    torch.save({"lin0.weight": torch.zeros(1, 64, 1, 1)}, tmp_path / "badheads.pth")
    with pytest.raises(ValueError, match="lin1.model.1.weight"):
        LPIPS.from_files(vgg, tmp_path / "badheads.pth")
    with pytest.raises(ValueError, match="of one shape"):
        LPIPS(VGG16Features(), [h for h in lpips_heads_state().values()])(
            torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 4, 4)
        )


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("kind", ["pickle-payload", "truncated", "garbage-safetensors"])
def test_hostile_or_broken_weight_files_are_value_errors(tmp_path, kind):
    from lattiq.models.losses.lpips import read_state_dict

    marker = tmp_path / "payload-ran"
    if kind == "pickle-payload":
        p = tmp_path / "w.pth"
        torch.save({"a": torch.zeros(2), "b": _Payload(marker)}, p)
    elif kind == "truncated":
        p = tmp_path / "w.pth"
        torch.save(vgg16_state(), p)
        p.write_bytes(p.read_bytes()[:5000])
    else:
        p = tmp_path / "w.safetensors"
        p.write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match=r"VGG file .*w\.(pth|safetensors)' cannot be read"):
        read_state_dict(p, "VGG")
    assert not marker.exists(), "the pickle payload ran"


def test_lpips_reads_safetensors(tmp_path):
    from safetensors.torch import save_file

    save_file(vgg16_state(), str(tmp_path / "vgg16.safetensors"))
    save_file(lpips_heads_state(), str(tmp_path / "vgg.safetensors"))
    net = LPIPS.from_files(tmp_path / "vgg16.safetensors", tmp_path / "vgg.safetensors")
    x = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(net(x, -x), _lpips_oracle(vgg16_state(), lpips_heads_state(), x, -x),
                               rtol=1e-4, atol=1e-6)  # fmt: skip


# --- adversarial --------------------------------------------------------------------------


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_patch_discriminator_shapes(n_layers):
    s = PatchDiscriminator.min_size(n_layers)
    d = PatchDiscriminator(3, 8, n_layers)
    assert d(torch.zeros(2, 3, s, s)).shape == (2, 1, 1, 1)
    with pytest.raises(RuntimeError):
        d(torch.zeros(1, 3, s - 2**n_layers, s - 2**n_layers))
    assert d(torch.zeros(1, 3, 64, 64)).shape[1] == 1


def test_gan_losses_by_hand():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-2.0, 0.0, 3.0])
    hinge_d = 0.5 * (torch.tensor([0.0, 0.5, 2.0]).mean() + torch.tensor([0.0, 1.0, 4.0]).mean())
    torch.testing.assert_close(discriminator_loss(real, fake, "hinge"), hinge_d)
    ns_d = 0.5 * (F.softplus(-real).mean() + F.softplus(fake).mean())
    torch.testing.assert_close(discriminator_loss(real, fake, "non-saturating"), ns_d)
    torch.testing.assert_close(generator_loss(fake, "hinge"), -fake.mean())
    torch.testing.assert_close(generator_loss(fake, "non-saturating"), F.softplus(-fake).mean())
    with pytest.raises(ValueError, match="hinge"):
        discriminator_loss(real, fake, "wasserstein")


def test_r1_of_linear_discriminator_is_weight_norm():
    lin = nn.Linear(12, 1, bias=False)
    disc = lambda x: lin(x.flatten(1))
    x = torch.randn(4, 3, 2, 2)
    # D(x) = <w, x>: grad is w for every sample
    torch.testing.assert_close(r1_penalty(disc, x), lin.weight.pow(2).sum())
    r1_penalty(disc, x).backward()  # double backward reaches the weights
    torch.testing.assert_close(lin.weight.grad, 2 * lin.weight.detach())


def test_adaptive_weight_is_gradient_norm_ratio():
    w = nn.Parameter(torch.tensor([1.0, 2.0]))
    rec = (3 * w).sum()  # grad (3, 3)
    g = (w * torch.tensor([0.0, 4.0])).sum()  # grad (0, 4)
    lam = adaptive_weight(rec, g, w)
    assert float(lam) == pytest.approx((18**0.5) / (4 + 1e-4))
    assert not lam.requires_grad


def test_adversarial_loss_schedule_and_terms():
    torch.manual_seed(0)
    adv = AdversarialLoss(3, weight=0.5, kind="hinge", start=2, adaptive=False, r1=1.0,
                          width=8, n_layers=1)  # fmt: skip
    fake = torch.rand(2, 3, 8, 8, requires_grad=True)
    g0, _ = adv.generator_term(fake, step=1)
    assert float(g0) == 0.0
    g, lam = adv.generator_term(fake, step=2)
    torch.testing.assert_close(g, 0.5 * generator_loss(adv.disc(fake)))
    g.backward()
    assert all(p.grad is None for p in adv.disc.parameters())  # generator step leaves D alone
    assert fake.grad is not None
    d, logs = adv.discriminator_term(torch.rand(2, 3, 8, 8), fake, step=2)
    assert {"d_loss", "d_real", "d_fake", "r1"} <= set(logs)
    d.backward()
    assert all(p.grad is not None for p in adv.disc.parameters())
    with pytest.raises(ValueError, match="non-saturating"):
        AdversarialLoss(3, kind="lsgan")


# --- VF alignment -------------------------------------------------------------------------


class PoolFeatures(nn.Module):
    """A feature network a test builds: conv + pooling to a (B, h, w, F) grid."""

    def __init__(self, f: int = 6, stride: int = 4):
        super().__init__()
        self.conv = nn.Conv2d(3, f, stride, stride)

    def forward(self, x):
        return self.conv(x).permute(0, 2, 3, 1)


def _vf_oracle(z, f, m1, m2):
    """Per-position loops over the definition."""
    b, n, _ = z.shape
    total = 0.0
    for i in range(b):
        mcos = sum(max(0.0, 1 - m1 - float(F.cosine_similarity(z[i, a], f[i, a], dim=0)))
                   for a in range(n)) / n  # fmt: skip
        mdms = 0.0
        for a in range(n):
            for c in range(n):
                dz = float(F.cosine_similarity(z[i, a], z[i, c], dim=0))
                df = float(F.cosine_similarity(f[i, a], f[i, c], dim=0))
                mdms += max(0.0, abs(dz - df) - m2)
        total += mcos + mdms / n**2
    return total / b


def test_vf_loss_matches_oracle_and_trains_only_the_projection():
    torch.manual_seed(0)
    net = PoolFeatures()
    vf = VFAlignLoss(net, latent_dim=5, feature_dim=6, cos_margin=0.1, dist_margin=0.05)
    latent = torch.randn(2, 3, 3, 5, requires_grad=True)
    images = torch.rand(2, 3, 12, 12) * 2 - 1
    loss, logs = vf(latent, images)
    z = vf.proj(latent).reshape(2, 9, 6).detach()
    f = net(images).reshape(2, 9, 6).detach()
    assert float(loss.detach()) == pytest.approx(_vf_oracle(z, f, 0.1, 0.05), rel=1e-5)
    assert float(logs["vf_mcos"] + logs["vf_mdms"]) == pytest.approx(float(loss.detach()), rel=1e-6)
    loss.backward()
    assert latent.grad.abs().sum() > 0 and vf.proj.weight.grad is not None
    assert all(p.grad is None for p in net.parameters())
    assert list(vf.trainable_parameters()) == list(vf.proj.parameters())


def test_vf_resizes_features_to_latent_grid():
    vf = VFAlignLoss(PoolFeatures(stride=2), latent_dim=4, feature_dim=6)
    f = vf.features(torch.zeros(1, 1, 16, 16), (4, 4))  # 8x8 features, gray input
    assert f.shape == (1, 4, 4, 6)
    with pytest.raises(ValueError, match="feature_dim"):
        VFAlignLoss(PoolFeatures(), 4, 7)(torch.zeros(1, 2, 2, 4), torch.zeros(1, 3, 8, 8))


def _dinov2_oracle(sd, x, patch, heads, registers=0):
    """DINOv2 forward written directly over the checkpoint's tensors."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = ((x + 1) / 2 - mean) / std
    t = F.conv2d(x, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=patch)
    b, d, h, w = t.shape
    t = t.flatten(2).transpose(1, 2)
    t = torch.cat([sd["cls_token"].expand(b, -1, -1), t], 1) + sd["pos_embed"]
    if registers:
        t = torch.cat([t[:, :1], sd["register_tokens"].expand(b, -1, -1), t[:, 1:]], 1)
    i = 0
    while f"blocks.{i}.norm1.weight" in sd:
        p = f"blocks.{i}."
        y = F.layer_norm(t, (d,), sd[p + "norm1.weight"], sd[p + "norm1.bias"], 1e-6)
        qkv = F.linear(y, sd[p + "attn.qkv.weight"], sd[p + "attn.qkv.bias"])
        q, k, v = qkv.reshape(b, -1, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / (d // heads) ** 0.5, -1) @ v
        att = F.linear(att.transpose(1, 2).reshape(b, -1, d), sd[p + "attn.proj.weight"],
                       sd[p + "attn.proj.bias"])  # fmt: skip
        t = t + att * sd[p + "ls1.gamma"]
        y = F.layer_norm(t, (d,), sd[p + "norm2.weight"], sd[p + "norm2.bias"], 1e-6)
        y = F.linear(F.gelu(F.linear(y, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])),
                     sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"])  # fmt: skip
        t = t + y * sd[p + "ls2.gamma"]
        i += 1
    t = F.layer_norm(t, (d,), sd["norm.weight"], sd["norm.bias"], 1e-6)
    return t[:, 1 + registers :].reshape(b, h, w, d)


@pytest.mark.parametrize("registers", [0, 4])
def test_dinov2_loader_matches_oracle(tmp_path, registers):
    sd = dinov2_state(dim=128, registers=registers)
    torch.save(sd, tmp_path / "dinov2.pth")
    net = load_feature_network(tmp_path / "dinov2.pth")
    assert isinstance(net, DINOv2Features) and net.patch == 2 and net.dim == 128
    x = torch.rand(2, 3, 8, 8) * 2 - 1  # 4x4 patch grid = the checkpoint's
    torch.testing.assert_close(net(x), _dinov2_oracle(sd, x, 2, 2, registers), rtol=1e-4,
                               atol=1e-5)  # fmt: skip
    assert net(torch.zeros(1, 3, 12, 12)).shape == (1, 6, 6, 128)  # resized positions


def test_dinov2_loader_key_variants_and_errors(tmp_path):
    sd = dinov2_state()
    plain = DINOv2Features(sd)
    chunked = DINOv2Features({"teacher": {"backbone." + k: v for k, v in
                                          dinov2_state(chunked=True).items()}})  # fmt: skip
    x = torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(plain(x), chunked(x))
    with pytest.raises(FileNotFoundError, match="vf_model=PATH"):
        load_feature_network(None)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_feature_network(tmp_path / "missing.pth")
    torch.save({"weight": torch.zeros(2)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not a DINOv2 checkpoint"):
        load_feature_network(tmp_path / "other.pth")
    with pytest.raises(ValueError, match="multiple of 2"):
        plain(torch.zeros(1, 3, 7, 7))
