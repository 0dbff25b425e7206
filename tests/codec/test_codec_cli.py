"""`lattiq compress` / `lattiq decompress` / `lattiq fit-unigram`: exact round trips through
files, and one `lattiq: error:` line for each kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import photo_images
from PIL import Image

from lattiq.cli import main
from lattiq.codec import Codec, make_prior
from lattiq.codec.tokens import load_tokenizer


@pytest.fixture(scope="module")
def setup(codec_env, tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    tok = codec_env["get"]("leech-rgb")
    img = photo_images()["astronaut.png"]
    Image.fromarray(img).save(d / "in.png")
    assert main(["fit-unigram", "--tokenizer", str(tok), "--data", "natural", "--limit", "6",
                 "--json"]) == 0
    return {"dir": d, "tok": tok, "img": img}


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lattiq: error: "), err
    return err[0]


@pytest.mark.parametrize("model", ["uniform", "unigram", "context"])
def test_compress_decompress_files(setup, model, capsys):
    d, tok = setup["dir"], setup["tok"]
    f, out = d / f"{model}.ltq", d / f"{model}.png"
    capsys.readouterr()
    assert main(["compress", str(d / "in.png"), "-o", str(f), "--tokenizer", str(tok),
                 "--model", model, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["file_bytes"] == f.stat().st_size
    assert summary["width"] == 64 and summary["height"] == 48
    # the file names the tokenizer: decompress needs no --tokenizer
    assert main(["decompress", str(f), "-o", str(out)]) == 0
    got = np.asarray(Image.open(out))
    t = load_tokenizer(str(tok))
    want = Codec(t, make_prior("uniform", t)).reconstruct(setup["img"])
    assert np.array_equal(got, want)


def test_var_model_through_the_command_line(codec_env, tmp_path, capsys):
    tok, var = codec_env["get"]("bsq-ms"), codec_env["get"]("var-bits")
    a = (np.arange(20 * 30) % 251).astype(np.uint8).reshape(20, 30)
    Image.fromarray(a).save(tmp_path / "g.png")
    assert main(["compress", str(tmp_path / "g.png"), "-o", str(tmp_path / "g.ltq"),
                 "--tokenizer", str(tok), "--model", "var", "--var", str(var)]) == 0
    assert main(["decompress", str(tmp_path / "g.ltq"), "-o", str(tmp_path / "o.png")]) == 0
    got = np.asarray(Image.open(tmp_path / "o.png"))
    t = load_tokenizer(str(tok))
    want = Codec(t, make_prior("uniform", t)).reconstruct(a[:, :, None])
    assert np.array_equal(got, want[:, :, 0])
    capsys.readouterr()
    assert main(["compress", str(tmp_path / "g.png"), "-o", str(tmp_path / "h.ltq"),
                 "--tokenizer", str(tok), "--model", "var"]) == 2
    assert "--var RUN" in _error_line(capsys)


def test_bad_inputs_give_one_error_line(setup, codec_env, tmp_path, capsys):
    d, tok = setup["dir"], str(setup["tok"])
    capsys.readouterr()
    cases = []
    cases.append((["compress", str(tmp_path / "nope.png"), "-o", str(tmp_path / "x.ltq"),
                   "--tokenizer", tok], "no image file"))
    rgba = tmp_path / "rgba.png"
    Image.new("RGBA", (8, 8)).save(rgba)
    cases.append((["compress", str(rgba), "-o", str(tmp_path / "x.ltq"), "--tokenizer", tok],
                  "unsupported image mode 'RGBA'"))
    i16 = tmp_path / "i16.png"
    Image.fromarray(np.full((8, 8), 50000, np.uint16)).save(i16)
    cases.append((["compress", str(i16), "-o", str(tmp_path / "x.ltq"), "--tokenizer", tok],
                  "16-bit"))
    notours = tmp_path / "a.ltq"
    notours.write_bytes(b"GIF89a...")
    cases.append((["decompress", str(notours), "-o", str(tmp_path / "o.png")], "wrong magic"))
    good = d / "context.ltq"
    if not good.is_file():
        assert main(["compress", str(d / "in.png"), "-o", str(good), "--tokenizer", tok]) == 0
    trunc = tmp_path / "t.ltq"
    trunc.write_bytes(good.read_bytes()[:-5])
    cases.append((["decompress", str(trunc), "-o", str(tmp_path / "o.png")], "truncated"))
    cases.append((["decompress", str(good), "-o", str(tmp_path / "o.jpg")], "lossless"))
    cases.append((["decompress", str(good), "-o", str(tmp_path / "o.png"), "--tokenizer",
                   str(codec_env["get"]("leech-rgb-seed1"))], "another tokenizer"))
    cases.append((["decompress", str(tmp_path / "missing.ltq"), "-o", str(tmp_path / "o.png")],
                  "no compressed file"))
    cases.append((["compress", str(d / "in.png"), "-o", str(tmp_path / "x.ltq"),
                   "--tokenizer", str(codec_env["get"]("leech-rgb-seed1")), "--model",
                   "unigram"], "no unigram table"))
    for argv, msg in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        line = _error_line(capsys)
        assert msg in line, (argv, line)
    assert not (tmp_path / "o.png").exists()


def test_missing_constriction_is_one_error_line(setup, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "constriction" else real(name, *a))
    d = setup["dir"]
    capsys.readouterr()
    assert main(["compress", str(d / "in.png"), "-o", str(d / "m.ltq"), "--tokenizer",
                 str(setup["tok"])]) == 2
    assert "pip install" in _error_line(capsys)
