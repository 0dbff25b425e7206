"""The tokenizer model: config, presets, shapes, index round trips, refusals; ViT pieces."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.models import QuantizerConfig, Tokenizer, TokenizerConfig, tokenizer_preset
from lattiq.models.tokenizer import TOKENIZER_PRESETS
from lattiq.models.vit import Block, patchify, sincos_pos_embed_2d, unpatchify
from lattiq.quantizers.registry import legacy_config


def small_config(**kw) -> TokenizerConfig:
    base = dict(image_size=16, channels=3, patch_size=4, width=32, depth=1, heads=2)
    base.update(kw)
    return TokenizerConfig(**base)


@pytest.fixture(scope="module")
def leech_model():
    torch.manual_seed(0)
    return Tokenizer(small_config())


# --- ViT pieces ---------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(p=st.sampled_from([1, 2, 4]), h=st.integers(1, 4), w=st.integers(1, 4),
       c=st.sampled_from([1, 3]))  # fmt: skip
def test_patchify_inverse_and_layout(p, h, w, c):
    x = torch.randn(2, c, h * p, w * p)
    t = patchify(x, p)
    assert t.shape == (2, h * w, p * p * c)
    torch.testing.assert_close(unpatchify(t, p, h, w, c), x, rtol=0, atol=0)
    # token (i, j) holds the pixels of patch (i, j), channels last: pixel (py, px, ch)
    i, j = h - 1, w - 1
    patch = x[:, :, i * p : (i + 1) * p, j * p : (j + 1) * p].permute(0, 2, 3, 1).reshape(2, -1)
    torch.testing.assert_close(t[:, i * w + j], patch, rtol=0, atol=0)


def test_sincos_embedding():
    pe = sincos_pos_embed_2d(3, 5, 8)
    assert pe.shape == (15, 8)
    # first quarter: sin(row * omega), omega_0 = 1
    torch.testing.assert_close(pe[:, 0], torch.sin(torch.arange(3.0).repeat_interleave(5)))
    torch.testing.assert_close(pe[:, 4], torch.sin(torch.arange(5.0).repeat(3)))
    with pytest.raises(ValueError, match="divisible by 4"):
        sincos_pos_embed_2d(2, 2, 6)


def test_adaln_block_starts_as_identity():
    blk = Block(16, 2, cond_dim=8)
    x, c = torch.randn(2, 5, 16), torch.randn(2, 8)
    torch.testing.assert_close(blk(x, cond=c), x)
    with pytest.raises(ValueError, match="condition"):
        blk(x)


def test_attention_mask_is_respected():
    torch.manual_seed(0)
    blk = Block(16, 2)
    x = torch.randn(1, 4, 16)
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    y = blk(x, attn_mask=causal)
    x2 = x.clone()
    x2[:, 3] += 1.0  # changing the last token cannot change earlier outputs under a causal mask
    y2 = blk(x2, attn_mask=causal)
    torch.testing.assert_close(y[:, :3], y2[:, :3])


# --- config and presets -------------------------------------------------------------------


def test_presets_are_valid_and_vit_b8_is_the_papers():
    for name in TOKENIZER_PRESETS:
        tokenizer_preset(name).validate()
    b8 = tokenizer_preset("vit-b8")
    assert (b8.width, b8.depth, b8.patch_size, b8.heads) == (768, 12, 8, 12)
    with pytest.raises(ValueError, match="unknown tokenizer preset"):
        tokenizer_preset("huge")


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(image_size=18), "not a multiple of patch_size"),
        (dict(heads=3), "not divisible by heads"),
        (dict(width=0), "positive integer"),
        (dict(width=30, heads=2, pos_embed="sincos"), "divisible by 4"),
        (dict(decoder_depth=0), "decoder_depth"),
    ],
)
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        small_config(**kw).validate()


def test_unknown_quantizer_kind():
    with pytest.raises(ValueError, match="unknown quantizer kind"):
        Tokenizer(small_config(quantizer=QuantizerConfig(kind="vq")))


def test_multiscale_schedule_must_end_at_grid():
    with pytest.raises(ValueError, match="ends at side"):
        Tokenizer(small_config(quantizer=QuantizerConfig(scales=[1, 2])))


# --- the model ----------------------------------------------------------------------------


def test_shapes_and_rates(leech_model):
    m = leech_model
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    out = m(x)
    assert out.images.shape == x.shape
    assert out.latent.shape == (3, 4, 4, 24)
    assert out.quant.codes.shape == (3, 4, 4, 24)
    assert out.quant.indices.shape == (3, 4, 4)
    assert float(out.quant.aux_loss) == 0.0  # no penalty for the lattice code
    torch.testing.assert_close(out.quant.codes.norm(dim=-1), torch.ones(3, 4, 4))
    assert m.codebook_size == 196560 and m.tokens_per_image() == 16
    assert m.bits_per_pixel() == pytest.approx(16 * math.log2(196560) / 256)


def test_decode_indices_matches_forward(leech_model):
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        out = leech_model(x)
        torch.testing.assert_close(leech_model.decode_indices(out.quant.indices), out.images)
        torch.testing.assert_close(leech_model.decode(leech_model.encode(x).codes), out.images)


def test_gradients_reach_encoder_through_quantizer(leech_model):
    leech_model.zero_grad()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    leech_model(x).images.square().mean().backward()
    for name in ("patch_embed.weight", "to_latent.weight", "to_pixels.weight"):
        g = leech_model.get_parameter(name).grad
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0, name


def test_multiscale_tokenizer():
    torch.manual_seed(0)
    m = Tokenizer(small_config(quantizer=QuantizerConfig(code="leech", scales=[1, 2, 4])))
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        out = m(x)
        assert [tuple(i.shape) for i in out.quant.indices] == [(2, 1, 1), (2, 2, 2), (2, 4, 4)]
        torch.testing.assert_close(m.decode_indices(out.quant.indices), out.images)
    assert m.tokens_per_image() == 1 + 4 + 16


def test_bsq_baseline_penalty_comes_through_aux():
    m = Tokenizer(small_config(quantizer=QuantizerConfig(code="bsq-18", kind="bsq")))
    out = m(torch.rand(2, 3, 16, 16) * 2 - 1)
    assert out.quant.aux_loss.requires_grad and float(out.quant.aux_loss.detach()) != 0.0
    assert m.bits_per_token == 18.0


@pytest.mark.parametrize(
    ("shape", "dtype", "exc", "match"),
    [
        ((2, 1, 16, 16), torch.float32, ValueError, r"\(B, 3, 16, 16\)"),
        ((2, 3, 32, 32), torch.float32, ValueError, r"\(B, 3, 16, 16\)"),
        ((3, 16, 16), torch.float32, ValueError, "expected images"),
        ((2, 3, 16, 16), torch.uint8, TypeError, "floating point"),
    ],
)
def test_bad_images(leech_model, shape, dtype, exc, match):
    with pytest.raises(exc, match=match):
        leech_model(torch.zeros(shape, dtype=dtype))


def test_bad_codes(leech_model):
    with pytest.raises(ValueError, match="codes of shape"):
        leech_model.decode(torch.zeros(1, 4, 4, 8))


# --- rebuild from config, refuse other configs --------------------------------------------


def test_signature_round_trip_and_refusals(leech_model):
    sig = leech_model.signature()
    assert sig["quantizer"]["code"] == "leech" and "code_sha256" in sig["quantizer"]
    again = Tokenizer.from_config(sig["model"])
    again.load_weights(leech_model.state_dict(), sig)
    for k, v in leech_model.state_dict().items():
        assert torch.equal(again.state_dict()[k], v)

    other = Tokenizer(small_config(width=48))
    with pytest.raises(ValueError, match=r"model.width: 48 -> 32"):
        leech_model.check_compatible(other.signature())
    bsq = Tokenizer(small_config(quantizer=QuantizerConfig(code="bsq-24", kind="bsq")))
    with pytest.raises(ValueError, match=r"model.quantizer.code: 'bsq-24' -> 'leech'"):
        leech_model.load_weights(bsq.state_dict(), bsq.signature())
    tampered = {**sig, "quantizer": {**sig["quantizer"], "code_sha256": "0" * 64}}
    with pytest.raises(ValueError, match="code_sha256"):
        leech_model.check_compatible(tampered)
    with pytest.raises(ValueError, match="do not fit"):
        leech_model.load_weights(other.state_dict())


def test_config_is_plain_dataclass():
    cfg = small_config()
    d = dataclasses.asdict(cfg)
    assert d["quantizer"] == {"code": "leech", "kind": "spherical", "options": {}, "scales": None}


@pytest.mark.parametrize("scales", [None, [1, 2, 4, 8]])
def test_tokenizer_signature_with_the_old_spelling_still_loads(scales):
    cfg = tokenizer_preset("tiny")
    cfg = dataclasses.replace(cfg, quantizer=dataclasses.replace(cfg.quantizer, scales=scales))
    torch.manual_seed(0)
    tok = Tokenizer(cfg)
    sig = tok.signature()
    old = {**sig, "quantizer": legacy_config(sig["quantizer"])}
    assert old["quantizer"] != sig["quantizer"]  # the spelling differs ...
    tok.load_weights(tok.state_dict(), old)  # ... and the saved signature is accepted
    bad = json.loads(json.dumps(old))
    bad["quantizer"]["code_sha256" if scales is None else "upsample"] = "other"
    with pytest.raises(ValueError, match="does not match this tokenizer"):
        tok.load_weights(tok.state_dict(), bad)
