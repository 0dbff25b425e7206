"""compress -> decompress with trained tiny tokenizers and generators: exact round trips on
every test image and every probability model, identical probability tables on both sides,
code lengths within 1% of each model's cross-entropy on long streams, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import photo_images, synthetic_images, to_gray

from lattiq.codec import Codec, CodecFileError, make_prior, prior_from_header, read_header
from lattiq.codec.container import pack, unpack
from lattiq.codec.entropy import SymbolCoder
from lattiq.codec.image import to_tiles
from lattiq.codec.layout import TokenLayout
from lattiq.codec.tokens import load_tokenizer, tokenizer_sha256
from lattiq.codec.unigram import fit_unigram, load_unigram, save_unigram

IMAGES = {**synthetic_images(), **photo_images()}


def _direct_reconstruction(tok, image: np.ndarray, pad: str = "edge-centre") -> np.ndarray:
    """The tokenizer run by hand, without the codec: tiles -> encode -> decode -> crop.
    ``pad``: centred edge padding (half above/left, rounded down) or all right/bottom."""
    s = tok.config.image_size
    h, w = image.shape[:2]
    r, q = -(-h // s), -(-w // s)
    t, lf = ((r * s - h) // 2, (q * s - w) // 2) if pad == "edge-centre" else (0, 0)
    padded = np.pad(image, ((t, r * s - h - t), (lf, q * s - w - lf), (0, 0)), mode="edge")
    x = torch.from_numpy(padded).permute(2, 0, 1).float() / 127.5 - 1.0  # (C, rS, qS)
    tiles = x.reshape(x.shape[0], r, s, q, s).permute(1, 3, 0, 2, 4).reshape(r * q, -1, s, s)
    torch.set_num_threads(1)
    with torch.no_grad():
        idx = tok.encode(tiles).indices
        y = tok.decode_indices(idx)
    u8 = ((y.clamp(-1, 1) + 1) * 127.5 + 0.5).floor().to(torch.uint8)  # (N, C, s, s)
    full = u8.reshape(r, q, -1, s, s).permute(0, 3, 1, 4, 2).reshape(r * s, q * s, -1)
    return full[t : t + h, lf : lf + w].numpy()


@pytest.fixture(scope="module")
def leech(codec_env):
    path = codec_env["get"]("leech-rgb")
    tok = load_tokenizer(str(path))
    counts = fit_unigram(tok, [a for a in IMAGES.values() if a.shape[0] > 8])
    save_unigram(path, counts, tokenizer_sha256=tokenizer_sha256(tok),
                 tokenizer_name=str(path), alpha=0.5)
    return path, tok


def _round_trip(tok, prior, image, name="tok"):
    trace_enc, trace_dec = [], []
    codec = Codec(tok, prior, name)
    res = codec.compress(image)
    # encoder-side tables, recomputed through a tracing coder
    tiles, r, q = to_tiles(image, tok.config.image_size)
    layout = codec.layout(r, q)
    enc = SymbolCoder(trace=trace_enc)
    prior.code(enc, layout, res.tokens)
    words = enc.finish()
    assert words.astype(">u4").tobytes() == unpack(res.data)[1]
    # decoder side, with a prior rebuilt from the header alone (plus its stored resources)
    header = read_header(res.data)
    again = prior_from_header(header, tok, unigram=getattr(prior, "counts", None) is not None
                              and prior or None, var=getattr(prior, "model", None))
    dec = SymbolCoder(np.frombuffer(unpack(res.data)[1], ">u4").astype(np.uint32),
                      trace=trace_dec)
    tokens = again.code(dec, layout, None)
    assert all(np.array_equal(a, b) for a, b in zip(tokens, res.tokens, strict=True))
    assert len(trace_enc) == len(trace_dec) > 0
    for a, b in zip(trace_enc, trace_dec, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    out = Codec(tok, again, name).decompress(res.data)
    return res, out


@pytest.mark.parametrize("model", ["uniform", "unigram", "context"])
@pytest.mark.parametrize("name", sorted(IMAGES))
def test_round_trip_rgb_leech(leech, model, name):
    path, tok = leech
    image = IMAGES[name]
    prior = make_prior(model, tok, unigram=load_unigram(path, tokenizer_sha256(tok)))
    res, out = _round_trip(tok, prior, image, str(path))
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out, _direct_reconstruction(tok, image))
    assert abs(res.payload_bits - res.model_bits) <= 0.01 * res.model_bits + 64
    if model == "uniform":
        assert res.model_bits == pytest.approx(res.header["tokens"]["count"] * np.log2(196560))


@pytest.mark.parametrize("model", ["uniform", "context"])
def test_round_trip_gray_bsq(codec_env, model):
    tok = load_tokenizer(str(codec_env["get"]("bsq-gray")))
    for name, image in IMAGES.items():
        g = to_gray(image)
        _, out = _round_trip(tok, make_prior(model, tok), g)
        assert np.array_equal(out, _direct_reconstruction(tok, g)), name


@pytest.mark.parametrize("head", ["full", "dit", "bits"])
def test_round_trip_var_prior(codec_env, head):
    from lattiq.models.sample import load_generator

    var_path = codec_env["get"](f"var-{head}")
    tok = load_tokenizer(str(codec_env["get"]("bsq-ms" if head == "bits" else "leech-ms")))
    var, _ = load_generator(str(var_path))
    names = ("gradient-37x53", "astronaut.png") if head == "bits" else ("gradient-37x53",)
    for name in names:
        g = to_gray(IMAGES[name])
        prior = make_prior("var", tok, var=var, var_name=str(var_path))
        res, out = _round_trip(tok, prior, g)
        assert np.array_equal(out, _direct_reconstruction(tok, g))
        assert res.header["model"]["params"]["head"] == head
        for model in ("uniform", "context"):  # the other models on multi-scale tokens
            _, out2 = _round_trip(tok, make_prior(model, tok), g)
            assert np.array_equal(out2, out)


# -- long streams: actual bits vs the model's cross-entropy -----------------------------------


def _skewed_tokens(rng, layout: TokenLayout, copy: float) -> list[np.ndarray]:
    out = []
    for s in layout.scales:
        mos = (rng.zipf(1.4, (layout.rows * s, layout.cols * s)) - 1) % layout.codebook_size
        keep = rng.random(mos.shape) < copy
        for y in range(mos.shape[0]):
            for x in range(1, mos.shape[1]):
                if keep[y, x]:
                    mos[y, x] = mos[y, x - 1]
        out.append(layout.from_mosaic(mos, s))
    return out


def _rate_check(prior, layout, tokens):
    enc = SymbolCoder()
    prior.code(enc, layout, tokens)
    words = enc.finish()
    bits = 32 * words.size
    assert abs(bits - enc.bits) <= 0.01 * enc.bits, (bits, enc.bits)
    got = prior.code(SymbolCoder(words), layout, None)
    assert all(np.array_equal(a, b) for a, b in zip(got, tokens, strict=True))
    return enc


@pytest.mark.parametrize("model", ["uniform", "unigram", "context-leech", "context-digits"])
def test_long_stream_rate(model):
    from lattiq.codec.context import ContextPrior
    from lattiq.codec.factor import digits_factorisation, leech_factorisation
    from lattiq.codec.priors import UniformPrior
    from lattiq.codec.unigram import UnigramPrior

    rng = np.random.default_rng(42)
    v = 196560 if model != "context-digits" else 1000
    layout = TokenLayout((2, 8), 40, 40, v)  # 108,800 tokens
    tokens = _skewed_tokens(rng, layout, copy=0.3)
    if model == "uniform":
        prior = UniformPrior(v)
    elif model == "unigram":
        counts = np.stack([np.bincount(t.reshape(-1), minlength=v) for t in
                           _skewed_tokens(np.random.default_rng(7), layout, 0.3)])
        prior = UnigramPrior(counts, alpha=0.5)
    elif model == "context-leech":
        prior = ContextPrior(leech_factorisation())
    else:
        prior = ContextPrior(digits_factorisation(v))
    enc = _rate_check(prior, layout, tokens)
    assert enc.symbols >= layout.count


@pytest.mark.parametrize("head", ["full", "bits"])
def test_long_stream_rate_var(codec_env, head):
    """The generator as prior on >= 10^5 coded symbols (random tokens of many tiles)."""
    from lattiq.codec.var_prior import VARPrior
    from lattiq.models.sample import load_generator

    tok = load_tokenizer(str(codec_env["get"]("bsq-ms" if head == "bits" else "leech-ms")))
    var, _ = load_generator(str(codec_env["get"](f"var-{head}")))
    tiles = 4800 if head == "bits" else 120  # bits: 8 symbols a token; full: 196,560-way rows
    layout = TokenLayout((1, 2, 4), 1, tiles, tok.codebook_size)
    rng = np.random.default_rng(3)
    tokens = [rng.integers(0, tok.codebook_size, (tiles, s, s)) for s in layout.scales]
    enc = _rate_check(VARPrior(var, tok), layout, tokens)
    assert enc.symbols >= (100_000 if head == "bits" else 2520)


# -- refusals ---------------------------------------------------------------------------------


def test_file_from_another_tokenizer_is_refused(codec_env, leech):
    path, tok = leech
    other = load_tokenizer(str(codec_env["get"]("leech-rgb-seed1")))
    res = Codec(tok, make_prior("uniform", tok), str(path)).compress(IMAGES["gradient-37x53"])
    with pytest.raises(CodecFileError, match="another tokenizer"):
        Codec(other, make_prior("uniform", other), "other").decompress(res.data)


def test_another_model_or_table_is_refused(codec_env, leech, tmp_path):
    path, tok = leech
    img = IMAGES["coffee.png"]
    uni = load_unigram(path, tokenizer_sha256(tok))
    res = Codec(tok, uni, str(path)).compress(img)
    with pytest.raises(ValueError, match="coded with the 'unigram' model"):
        Codec(tok, make_prior("context", tok), str(path)).decompress(res.data)
    counts = uni.counts.copy()
    counts[0, 0] += 1
    save_unigram(tmp_path, counts, tokenizer_sha256=tokenizer_sha256(tok), tokenizer_name="x")
    with pytest.raises(CodecFileError, match="differs from the one the file was coded with"):
        Codec(tok, load_unigram(tmp_path), str(path)).decompress(res.data)
    # a unigram table of another tokenizer is refused when loaded
    other = load_tokenizer(str(codec_env["get"]("leech-rgb-seed1")))
    with pytest.raises(ValueError, match="fitted for another tokenizer"):
        load_unigram(path, tokenizer_sha256(other))
    # a changed table file is refused
    raw = bytearray((tmp_path / "unigram.safetensors").read_bytes())
    raw[-1] ^= 0xFF
    (tmp_path / "unigram.safetensors").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="SHA-256"):
        load_unigram(tmp_path)


def test_generator_with_other_weights_is_refused(codec_env):
    from lattiq.models.sample import load_generator

    tok = load_tokenizer(str(codec_env["get"]("leech-ms")))
    var, _ = load_generator(str(codec_env["get"]("var-dit")))
    g = to_gray(IMAGES["checker-37x53"])
    res = Codec(tok, make_prior("var", tok, var=var), "t").compress(g)
    with torch.no_grad():
        var.head.proj.bias.add_(0.01)
    again = prior_from_header(read_header(res.data), tok, var=var)
    with pytest.raises(CodecFileError, match="parameters or weights differ"):
        Codec(tok, again, "t").decompress(res.data)


def test_token_crc_catches_a_model_that_disagrees(leech):
    """Same header and payload hash, wrong tokens: decompression fails, no image."""
    path, tok = leech
    img = IMAGES["noise-20x9"]
    codec = Codec(tok, make_prior("context", tok), str(path))
    res = codec.compress(img)
    header, payload = unpack(res.data)
    header = {k: v for k, v in header.items() if k != "payload"}
    header["tokens"] = {**header["tokens"], "crc32": (header["tokens"]["crc32"] + 1) % 2**32}
    with pytest.raises(CodecFileError, match="CRC-32"):
        codec.decompress(pack(header, payload))


def test_corrupted_and_truncated_files(leech):
    path, tok = leech
    codec = Codec(tok, make_prior("context", tok), str(path))
    data = codec.compress(IMAGES["astronaut.png"]).data
    rng = np.random.default_rng(11)
    for pos in rng.choice(len(data), 40, replace=False):
        bad = bytearray(data)
        bad[pos] ^= 0x40
        with pytest.raises(CodecFileError):
            codec.decompress(bytes(bad))
    for n in rng.choice(len(data), 20, replace=False):
        with pytest.raises(CodecFileError):
            codec.decompress(data[:n])


def test_forged_header_values_are_refused(leech):
    path, tok = leech
    codec = Codec(tok, make_prior("uniform", tok), str(path))
    header, payload = unpack(codec.compress(IMAGES["flat-16x16"]).data)
    base = {k: v for k, v in header.items() if k != "payload"}
    for change in (
        {"image": {**base["image"], "width": 2**20, "height": 2**20}},
        {"image": {**base["image"], "width": 40}},  # tiling no longer fits
        {"image": {**base["image"], "mode": "L"}},
        {"coder": {"name": "other", "precision": 24}},
        {"tokens": {**base["tokens"], "count": 3}},
        {"tokenizer": {**base["tokenizer"], "image_size": 32}},
        {"tiling": {**base["tiling"], "pad": "zero"}},
    ):
        with pytest.raises(CodecFileError):
            codec.decompress(pack({**base, **change}, payload))


def test_files_with_right_bottom_padding_still_decode(leech):
    """Files written before centred padding say ``"pad": "edge"``; they decode with it."""
    path, tok = leech
    image = IMAGES[sorted(k for k in IMAGES if IMAGES[k].shape[0] % tok.config.image_size)[0]]
    old = Codec(tok, make_prior("uniform", tok), str(path), pad="edge").compress(image)
    assert read_header(old.data)["tiling"]["pad"] == "edge"
    new = Codec(tok, make_prior("uniform", tok), str(path))
    out = new.decompress(old.data)
    assert np.array_equal(out, _direct_reconstruction(tok, image, pad="edge"))
    # and the default codec centres the image instead: another framing, another file
    assert read_header(new.compress(image).data)["tiling"]["pad"] == "edge-centre"
    with pytest.raises(ValueError, match="padding"):
        Codec(tok, make_prior("uniform", tok), str(path), pad="zero")


def test_image_checks(leech):
    path, tok = leech
    codec = Codec(tok, make_prior("uniform", tok), str(path))
    with pytest.raises(ValueError, match="uint8 image"):
        codec.compress(np.zeros((4, 4, 1), np.uint8))
    with pytest.raises(ValueError, match="uint8 image"):
        codec.compress(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="out of range"):
        codec.compress(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="unknown probability model"):
        make_prior("gzip", tok)
    with pytest.raises(ValueError, match="unigram model needs"):
        make_prior("unigram", tok)
