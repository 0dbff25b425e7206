"""Smoke test of benchmarks/rate_distortion.py: every codec and baseline runs end to end on
tiny settings, decompression is checked inside, and the table, JSON and plot are written."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location(
        "rate_distortion", ROOT / "benchmarks" / "rate_distortion.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rate_distortion_smoke(codec_env, tmp_path, capsys):
    mod = _load()
    rgb = codec_env["get"]("leech-rgb")
    gray, var = codec_env["get"]("bsq-ms"), codec_env["get"]("var-bits")
    args = ["--codec", f"name=leech,tokenizer={rgb},data=natural",
            "--codec", f"name=bsq,tokenizer={gray},var={var}",
            "--natural-limit", "1", "--crop", "48", "--fmnist-limit", "3",
            "--fmnist-root", str(codec_env["fmnist"]), "--fit-unigram", "4",
            "--jpeg", "20", "80", "--webp", "50", "--avif", "50", "--out", str(tmp_path)]
    assert mod.main(args) == 0
    md = capsys.readouterr().out
    res = json.loads((tmp_path / "results.json").read_text())["results"]
    assert set(res) == {"natural", "fashion-mnist"}
    nat = {(r["codec"], r["setting"]) for r in res["natural"]}
    assert {("jpeg", "q20"), ("jpeg", "q80"), ("webp", "q50"), ("leech", "uniform"),
            ("leech", "unigram"), ("leech", "context"), ("bsq", "var")} <= nat
    fm = {(r["codec"], r["setting"]) for r in res["fashion-mnist"]}
    assert ("bsq", "var") in fm and ("leech", "uniform") not in fm
    for rs in res.values():
        for r in rs:
            assert r["bpp"] > 0 and r["psnr"] > 0 and 0 < r["ssim"] <= 1
            if r["kind"] == "lattiq":
                assert r["exact"] and r["bpp_payload"] < r["bpp"]
    # JPEG's rate grows with its quality
    j = {r["setting"]: r["bpp"] for r in res["natural"] if r["codec"] == "jpeg"}
    assert j["q80"] > j["q20"]
    # uniform coding costs log2 K bits a token (48 px: whole tiles, no padding)
    u = next(r for r in res["natural"] if r["codec"] == "leech" and r["setting"] == "uniform")
    extra = (u["bpp_payload"] - u["fixed_bpp"]) * 48 * 48  # bits beyond 144 tokens x log2 K
    assert 0 <= extra <= 64  # the range coder's last words
    assert "| natural | leech | context |" in md
    assert (tmp_path / "rate_distortion.png").stat().st_size > 10_000
    assert (tmp_path / "table.md").read_text().strip() == md.strip()


def test_var_prior_bits_codes_at_the_models_cross_entropy(codec_env, capsys):
    """benchmarks/var_prior_bits.py: for the per-bit head the range coder's bits per token
    equal the generator's null-label cross-entropy, in every framing."""
    spec = importlib.util.spec_from_file_location(
        "var_prior_bits", ROOT / "benchmarks" / "var_prior_bits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tok, var = codec_env["get"]("bsq-ms"), codec_env["get"]("var-bits")
    assert mod.main(["--tokenizer", str(tok), "--var", str(var), "--images", "6",
                     "--framings", "codec", "right-bottom", "resize",
                     "--fmnist-root", str(codec_env["fmnist"])]) == 0
    rows = [r.split("|") for r in capsys.readouterr().out.splitlines()
            if r.startswith(("| codec", "| right-bottom", "| pad", "| resize"))]
    assert [r[1].strip() for r in rows] == ["codec", "right-bottom", "resize"]
    for r in rows:
        var_bits, ce_null = float(r[3]), float(r[4])
        assert 0 < var_bits <= 8.5  # a bsq-8 code: at most 8 bits a token, plus rounding
        assert abs(var_bits - ce_null) <= 0.01 * ce_null + 0.02
