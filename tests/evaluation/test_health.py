"""Codebook health: position options of the ViT, legacy configs, the identity control, the
health measurements against hand computations, and the regression test that the default
recipe does not fall back into codebook collapse."""

from __future__ import annotations

import json
import math

import pytest
import torch

from lattiq.evaluation.health import HealthStats, collapse_message, measure_health
from lattiq.models.tokenizer import (
    LEGACY_ARCHITECTURE,
    QuantizerConfig,
    Tokenizer,
    TokenizerConfig,
    tokenizer_preset,
    upgrade_config_dict,
)
from lattiq.models.vit import ViT, sincos_pos_embed_2d
from lattiq.quantizers import IdentityQuantizer, SphericalQuantizer, quantizer_from_config
from lattiq.runtime.config import config_to_dict


def _small(**kw) -> TokenizerConfig:
    base = dict(image_size=16, channels=1, patch_size=4, width=32, depth=1, heads=2)
    return tokenizer_preset("tiny", **{**base, **kw})


# ---- ViT positions --------------------------------------------------------------------------


def test_learned_positions_are_a_parameter_at_the_given_scale():
    torch.manual_seed(0)
    vit = ViT((8, 8), 128, 1, 4, pos_embed="learned", pos_scale=0.02)
    assert isinstance(vit.pos_embed, torch.nn.Parameter)
    std = float(vit.pos_embed.detach().std())
    assert 0.015 < std < 0.02  # truncated at ±2σ: std ≈ 0.88·σ
    assert float(vit.pos_embed.abs().max()) <= 0.04 + 1e-7
    assert "pos_embed" in vit.state_dict()


def test_sincos_positions_are_a_fixed_scaled_table():
    vit = ViT((4, 4), 32, 1, 2, pos_embed="sincos", pos_scale=0.5)
    assert "pos_embed" not in vit.state_dict()
    assert torch.allclose(vit.positions(), 0.5 * sincos_pos_embed_2d(4, 4, 32)[None])


@pytest.mark.parametrize("kw, match", [
    (dict(pos_embed="rope"), "position embedding"),
    (dict(pos_scale=float("nan")), "pos_scale"),
    (dict(pos_scale=-1.0), "pos_scale"),
])  # fmt: skip
def test_bad_position_options(kw, match):
    with pytest.raises(ValueError, match=match):
        ViT((2, 2), 8, 1, 2, **kw)


def test_ln_pre_normalizes_the_first_block_input():
    vit = ViT((2, 2), 8, 0, 2, pos_embed="learned", ln_pre=True)
    x = 100 * torch.randn(3, 4, 8, generator=torch.Generator().manual_seed(1))
    # with no blocks: norm(ln_pre(x + pos)); ln_pre output has zero mean per token
    pre = vit.ln_pre(x + vit.pos_embed)
    assert torch.allclose(pre.mean(-1), torch.zeros(3, 4), atol=1e-5)


# ---- tokenizer architecture -----------------------------------------------------------------


def test_defaults_put_code_and_position_at_comparable_size():
    torch.manual_seed(0)
    model = Tokenizer(tokenizer_preset("tiny"))
    codes = model.quantizer.indices_to_codes(torch.arange(0, 196560, 997))  # unit codewords
    code_norm = float(model.from_latent(codes).norm(dim=-1).mean())
    pos_norm = float(model.decoder.positions().norm(dim=-1).mean())
    assert 0.7 < code_norm / pos_norm < 1.4
    # the defect this guards against: amplitude-1 sin-cos positions vs a std-0.02 input
    legacy = Tokenizer(tokenizer_preset("tiny", **LEGACY_ARCHITECTURE))
    ratio = float(legacy.from_latent(codes).norm(dim=-1).mean()) / float(
        legacy.decoder.positions().norm(dim=-1).mean()
    )
    assert ratio < 0.05


@pytest.mark.parametrize("how", ["matched", "torch", "small"])
def test_decoder_input_inits(how):
    torch.manual_seed(0)
    m = Tokenizer(_small(dec_in_init=how))
    w = m.from_latent.weight
    if how == "small":
        assert abs(float(w.std()) - 0.02) < 0.004
    elif how == "torch":
        bound = 1 / math.sqrt(w.shape[1])
        assert float(w.abs().max()) <= bound and float(w.std()) > 0.5 * bound / math.sqrt(3)
    else:
        pos_rms = float(m.decoder.positions().pow(2).sum(-1).mean().sqrt())
        assert abs(float(w.std()) * math.sqrt(w.shape[0]) / pos_rms - 0.88) < 0.15


def test_mlp_tanh_head_and_clamp():
    torch.manual_seed(0)
    m = Tokenizer(_small(dec_head="mlp-tanh", out_clamp=True))
    assert isinstance(m.head[1], torch.nn.Tanh)
    with torch.no_grad():
        m.to_pixels.bias.fill_(5.0)  # push every pixel out of range
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    x.requires_grad_(True)
    y = m(x).images
    assert float(y.max()) <= 1.0 and float(y.min()) >= -1.0
    # the clamp passes the gradient straight through: saturated outputs still learn
    (y - 0.0).abs().sum().backward()
    assert m.to_pixels.bias.grad is not None and float(m.to_pixels.bias.grad.abs().sum()) > 0


@pytest.mark.parametrize("kw, match", [
    (dict(pos_embed="abs"), "pos_embed"),
    (dict(dec_in_init="zeros"), "dec_in_init"),
    (dict(dec_head="conv"), "dec_head"),
    (dict(pos_scale="big"), "pos_scale"),
])  # fmt: skip
def test_bad_architecture_fields(kw, match):
    with pytest.raises(ValueError, match=match):
        _small(**kw)


def test_legacy_config_dicts_rebuild_the_legacy_architecture():
    cfg = config_to_dict(_small())
    old = {k: v for k, v in cfg.items() if k not in LEGACY_ARCHITECTURE}
    up = upgrade_config_dict(old)
    for k, v in LEGACY_ARCHITECTURE.items():
        assert up[k] == v
    model = Tokenizer.from_config(old)
    assert model.config.pos_embed == "sincos" and model.config.pos_scale == 1.0
    assert "encoder.pos_embed" not in model.state_dict()
    # a signature saved before the fields existed matches the model it rebuilds
    sig = model.signature()
    sig["model"] = {k: v for k, v in sig["model"].items() if k not in LEGACY_ARCHITECTURE}
    model.check_compatible(sig)
    with pytest.raises(ValueError, match="pos_embed"):
        Tokenizer(_small()).check_compatible(sig)
    assert upgrade_config_dict(cfg) is cfg  # new dicts are left alone


def test_state_dict_round_trip_keeps_learned_positions():
    torch.manual_seed(0)
    a = Tokenizer(_small())
    torch.manual_seed(1)
    b = Tokenizer(_small())
    assert not torch.equal(a.encoder.pos_embed, b.encoder.pos_embed)
    b.load_weights(a.state_dict(), a.signature())
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    assert torch.equal(a(x).images, b(x).images)


# ---- identity control -----------------------------------------------------------------------


def test_identity_quantizer_normalizes_and_counts_reference_cells():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(5, 7, 24, generator=g, requires_grad=True)
    q = IdentityQuantizer("leech")
    out = q(z)
    assert torch.allclose(out.codes, z / z.norm(dim=-1, keepdim=True), atol=1e-6)
    ref = SphericalQuantizer("leech")
    assert torch.equal(out.indices, ref(z.detach()).indices)
    assert float(out.aux_loss) == 0.0 and q.quantized is False and ref.quantized is True
    # the gradient is the normalization's, not a straight-through one
    v = torch.randn(5, 7, 24, generator=g)
    (out.codes * v).sum().backward()
    zn = z.detach() / z.detach().norm(dim=-1, keepdim=True)
    want = (v - zn * (zn * v).sum(-1, keepdim=True)) / z.detach().norm(dim=-1, keepdim=True)
    assert torch.allclose(z.grad, want, atol=1e-5)
    # config round trip and refusals
    q2 = quantizer_from_config(json.loads(json.dumps(q.config())))
    assert isinstance(q2, IdentityQuantizer) and q2.code_name == "leech"
    with pytest.raises(ValueError, match="non-finite"):
        q(torch.full((2, 24), float("nan")))
    with pytest.raises(ValueError, match="last dimension"):
        q(torch.randn(3, 8))


def test_identity_tokenizer_reports_no_rate():
    from lattiq.evaluation.eval_tokenizer import evaluate_tokenizer

    torch.manual_seed(0)
    cfg = _small(channels=3, quantizer=QuantizerConfig(code="leech", kind="identity"))
    model = Tokenizer(cfg)
    ds = [{"image": torch.rand(3, 16, 16) * 2 - 1, "label": 0} for _ in range(4)]
    rep = evaluate_tokenizer(model, _ListDataset(ds), batch_size=4)
    assert rep["quantized"] is False and rep["bits_per_token"] is None
    assert rep["bits_per_pixel"] is None and rep["used_codes"] >= 1


class _ListDataset(torch.utils.data.Dataset):
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, key):  # the eval loader asks for (index, seed) pairs
        i = key[0] if isinstance(key, tuple) else key
        return {**self.items[i], "skipped": torch.tensor(0)}


# ---- health measurements --------------------------------------------------------------------


class _StubTokenizer(torch.nn.Module):
    """A tokenizer-shaped model with chosen latents and a decoder that may ignore the code."""

    def __init__(self, latents: torch.Tensor, use_code: bool):
        super().__init__()
        self.latents = latents  # (B, h, w, d)
        self.use_code = use_code
        self.seen = 0
        self.quantizer = IdentityQuantizer("d4")
        self.codebook_size = self.quantizer.codebook_size
        self.from_latent = torch.nn.Linear(4, 8, bias=False)
        with torch.no_grad():  # an isometry into the first 4 of 8 channels
            self.from_latent.weight.zero_()
            self.from_latent.weight[:4].copy_(torch.eye(4))
        self.decoder = torch.nn.Module()
        pos = torch.zeros(1, latents.shape[1] * latents.shape[2], 8)
        pos[..., 4:] = 2.0
        self.decoder.positions = lambda: pos

    def decode(self, codes):  # (B, h, w, d) -> (B, 1, h, w)
        if self.use_code:
            return codes[..., :1].permute(0, 3, 1, 2)
        return torch.zeros(codes.shape[0], 1, codes.shape[1], codes.shape[2])

    def forward(self, images):  # batches arrive in order: take the next latents
        from lattiq.models.tokenizer import TokenizerOutput

        lat = self.latents[self.seen : self.seen + images.shape[0]]
        self.seen += images.shape[0]
        q = self.quantizer(lat)
        return TokenizerOutput(self.decode(q.codes), q, lat)


def test_position_variance_fraction_against_hand_computation():
    g = torch.Generator().manual_seed(0)
    pos_part = torch.randn(1, 3, 3, 4, generator=g)
    # latents that depend on position only -> fraction 1
    lat = pos_part.expand(6, 3, 3, 4).clone()
    h = measure_health(_StubTokenizer(lat, True), torch.zeros(6, 1, 3, 3))
    assert abs(h["pos_variance_fraction"] - 1.0) < 1e-6
    # general case: compare with a direct between/total computation on normalized latents
    lat = torch.randn(6, 3, 3, 4, generator=g) + 0.7 * pos_part
    h = measure_health(_StubTokenizer(lat, True), torch.zeros(6, 1, 3, 3), batch_size=4)
    z = (lat / lat.norm(dim=-1, keepdim=True)).reshape(6, 9, 4).double()
    between = 6 * ((z.mean(0) - z.mean((0, 1))) ** 2).sum()
    total = ((z - z.mean((0, 1))) ** 2).sum()
    assert abs(h["pos_variance_fraction"] - float(between / total)) < 1e-6


def test_code_position_ratio_and_shuffle_drop():
    g = torch.Generator().manual_seed(1)
    lat = torch.randn(8, 2, 2, 4, generator=g)
    images = (lat / lat.norm(dim=-1, keepdim=True))[..., :1].permute(0, 3, 1, 2)
    used = measure_health(_StubTokenizer(lat, True), images)
    ignored = measure_health(_StubTokenizer(lat, False), images)
    # codes are unit vectors mapped by an isometry: norm 1; positions have norm 2·2 = 4
    assert abs(used["code_pos_ratio"] - 0.25) < 1e-6
    assert used["shuffle_drop_db"] > 20  # exact reconstruction vs another image's codes
    assert abs(ignored["shuffle_drop_db"]) < 1e-9
    msg = collapse_message({**ignored, "perplexity": 3.0, "used_codes": 3}, 16, step=500)
    assert "collapsed at step 500" in msg and "0.00 dB" in msg
    assert collapse_message({**used, "perplexity": 40.0}, 16, step=500) is None


def test_health_stats_empty():
    s = HealthStats(10).summary()
    assert s["used_codes"] == 0 and s["pos_variance_fraction"] is None


# ---- the regression test: the default recipe does not collapse -------------------------------


@pytest.fixture(scope="module")
def fashion_mnist():
    from lattiq.data import get_dataset

    try:
        return get_dataset("fashion-mnist", "test", 28)
    except (FileNotFoundError, OSError) as e:
        pytest.skip(f"Fashion-MNIST not installed: {e}")


def test_default_recipe_does_not_collapse(tmp_path, fashion_mnist):
    """200 steps of the tiny Leech tokenizer on Fashion-MNIST (batch 32, seed 0), the
    recipe of docs/results.md. The collapsed architecture reached about a dozen codes and a
    perplexity near 5 here; the thresholds sit far above that."""
    from lattiq.data import make_eval_loader
    from lattiq.training.train_tokenizer import main as train_main

    torch.set_num_threads(1)
    argv = ["--preset", "tiny", "--out", str(tmp_path), "--no-progress"]
    for kv in ["data.name=fashion-mnist", "model.image_size=28", "model.channels=1",
               "steps=200", "batch_size=32", "lr=1e-3", "schedule=fast", "ema_decay=0.99",
               "seed=0", "device=cpu", "log_every=50", "image_every=1000", "ckpt_every=1000",
               "health_every=100", "health_images=64"]:  # fmt: skip
        argv += ["--set", kv]
    assert train_main(argv) == 0
    model = Tokenizer.from_checkpoint(tmp_path, weights="ema")
    images = next(iter(make_eval_loader(fashion_mnist, 256)))["image"]
    h = measure_health(model, images)
    assert h["used_codes"] >= 300, h
    assert h["perplexity"] >= 30, h
    assert h["shuffle_drop_db"] >= 3.0, h  # the decoder reads the code
    assert h["pos_variance_fraction"] < 0.6, h
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    health = [r for r in log if "health_perplexity" in r]
    assert [r["step"] for r in health] == [100, 200]
