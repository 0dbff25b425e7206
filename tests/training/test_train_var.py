"""`lattiq train-var`: three-step smoke test of each head, exact resume, DDP equals one
process, the token cache, and refusal of a mismatched tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import var_fixtures as vf
from safetensors.torch import load_file

from lattiq.runtime.checkpoints import load_checkpoint


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("trainvar")
    fm = vf.write_fake_fmnist(root / "fmnist")
    leech = vf.make_tokenizer_checkpoint(root / "tok_leech", code="leech")
    return {"root": root, "fm": fm, "leech": leech, "bsq": None}


def _bsq(env):
    if env["bsq"] is None:
        env["bsq"] = vf.make_tokenizer_checkpoint(env["root"] / "tok_bsq", code="bsq-6")
    return env["bsq"]


def _args(env, tok, out, *extra):
    return ["--tokenizer", str(tok), "--match-tokenizer", "--out", str(out), "--no-progress",
            "--set", f"data.root={env['fm']}", "--set", "batch_size=4", "--set", "steps=3",
            "--set", "sample_every=0", "--set", "log_every=1", *extra]


def _weights(run_dir: Path, name: str = "model") -> dict:
    ck = run_dir / "checkpoints" / (run_dir / "checkpoints" / "latest").read_text().strip()
    return load_file(str(ck / f"{name}.safetensors"))


@pytest.mark.parametrize("head", ["full", "dit"])
def test_three_steps_leech_heads(env, head):
    from lattiq.training.train_var import main

    out = env["root"] / f"run_{head}"
    assert main(_args(env, env["leech"], out, "--set", f"model.head={head}")) == 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3]
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in log)
    cfg = json.loads((out / "checkpoints" / "step_00000003" / "config.json").read_text())
    assert cfg["var"]["head"] == head and cfg["var"]["code"] == "leech"
    assert cfg["var"]["scales"] == [[1, 1], [2, 2], [4, 4]]
    assert set(_weights(out)) == set(_weights(out, "ema"))


def test_three_steps_bits_head_and_sample_grid(env):
    from lattiq.training.train_var import main

    out = env["root"] / "run_bits"
    args = _args(env, _bsq(env), out, "--set", "model.head=bits", "--set", "sample_every=3",
                 "--set", "optim.scalar=lion", "--set", "optim.matrix=muon")
    assert main(args) == 0
    assert (out / "samples" / "step_00000003.png").is_file()


def test_token_cache_is_reused(env):
    from lattiq.training.token_cache import ensure_token_cache

    msgs = []
    kw = dict(root=str(env["fm"]), log=msgs.append)
    a = ensure_token_cache(env["leech"], env["root"] / "cache", **kw)
    b = ensure_token_cache(env["leech"], env["root"] / "cache", **kw)
    assert a.path == b.path and "reusing" in msgs[-1] and "encoding" in msgs[0]
    assert [tuple(t.shape) for t in b.indices] == [(64, 1, 1), (64, 2, 2), (64, 4, 4)]
    assert all(torch.equal(x, y) for x, y in zip(a.indices, b.indices, strict=True))
    c = ensure_token_cache(env["leech"], env["root"] / "cache", limit=10, **kw)
    assert c.path != a.path and len(c) == 10
    assert torch.equal(c.indices[2], a.indices[2][:10])


def test_resume_is_exact(env):
    from lattiq.training.train_var import main

    extra = ("--set", "steps=4", "--set", "model.class_drop=0.5")
    a, b = env["root"] / "resume_a", env["root"] / "resume_b"
    assert main(_args(env, _bsq(env), a, *extra)) == 0
    assert main(_args(env, _bsq(env), b, *extra, "--stop-at", "2")) == 0
    assert int((b / "checkpoints" / "latest").read_text().strip()[5:]) == 2
    assert main(_args(env, _bsq(env), b, *extra, "--resume")) == 0
    for name in ("model", "ema"):
        wa, wb = _weights(a, name), _weights(b, name)
        for k in wa:
            assert torch.equal(wa[k], wb[k]), (name, k)
    sa = load_checkpoint(a / "checkpoints" / "step_00000004").state
    sb = load_checkpoint(b / "checkpoints" / "step_00000004").state
    qa = sa["optimizer"]["matrix"]["state"]
    qb = sb["optimizer"]["matrix"]["state"]
    assert all(torch.equal(qa[i]["Q"], qb[i]["Q"]) for i in qa)


def test_resume_alone_extension_and_overwrite_refusal(env):
    from lattiq.training.train_var import main

    extra = ("--set", "steps=4", "--set", "model.class_drop=0.5", "--set", "schedule=standard",
             "--set", "warmup_steps=0")
    a, b = env["root"] / "alone_a", env["root"] / "alone_b"
    assert main(_args(env, _bsq(env), a, *extra)) == 0
    assert main(_args(env, _bsq(env), b, *extra, "--set", "steps=2")) == 0
    with pytest.raises(ValueError, match="--resume to continue it, or --overwrite"):
        main(_args(env, _bsq(env), b, *extra))
    # --resume with nothing else: the run's own config; --set steps=4 extends it
    assert main(["--out", str(b), "--resume", "--set", "steps=4", "--no-progress"]) == 0
    log_a = [json.loads(x) for x in (a / "log.jsonl").read_text().splitlines()]
    log_b = [json.loads(x) for x in (b / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log_b] == [1, 2, 3, 4]
    # the extended steps run on the 4-step schedule: the rates a 4-step run had there
    assert [r["lr_factor"] for r in log_b[2:]] == [r["lr_factor"] for r in log_a[2:]]
    assert log_b[1]["lr_factor"] != log_a[1]["lr_factor"]
    assert not (b / "run.lock").exists()
    assert main(_args(env, _bsq(env), b, *extra, "--overwrite")) == 0
    for name in ("model", "ema"):  # started again from scratch: the same as run a
        wa, wb = _weights(a, name), _weights(b, name)
        assert all(torch.equal(wa[k], wb[k]) for k in wa), name


def test_unwritable_token_cache_is_refused_before_encoding(env, capsys):
    from lattiq.training.train_var import main

    blocker = env["root"] / "a-file"
    blocker.write_text("x")
    out = env["root"] / "cache_refused"
    with pytest.raises(NotADirectoryError, match="cannot write to directory .*a-file/cache"):
        main(_args(env, _bsq(env), out, "--set", f"data.cache_dir={blocker / 'cache'}"))
    assert "encoding" not in capsys.readouterr().err
    assert not (out / "run.lock").exists()


def test_resume_refuses_changed_config(env):
    from lattiq.training.train_var import main

    out = env["root"] / "resume_c"
    assert main(_args(env, _bsq(env), out, "--stop-at", "1")) == 0
    with pytest.raises(ValueError, match="optim.lr"):
        main(_args(env, _bsq(env), out, "--resume", "--set", "optim.lr=0.1"))


def test_mismatched_tokenizer_is_refused(env):
    from lattiq.training.train_var import main

    args = ["--tokenizer", str(env["leech"]), "--out", str(env["root"] / "bad"),
            "--set", "model.scales=[[1,1],[2,2],[3,3],[4,4]]", "--set", "model.code_dim=24"]
    with pytest.raises(ValueError, match=r"scales: \[\[1, 1\], \[2, 2\], \[3, 3\]"):
        main(args)
    args = ["--tokenizer", str(env["leech"]), "--out", str(env["root"] / "bad"),
            "--set", "model.code=bsq-18", "--set", "model.codebook_size=262144",
            "--set", "model.scales=[1,2,4]"]
    with pytest.raises(ValueError, match="code: 'bsq-18' -> 'leech'"):
        main(args)


def test_bad_config(env):
    from lattiq.training.train_var import main

    with pytest.raises(ValueError, match="no tokenizer"):
        main(["--out", str(env["root"] / "x")])
    with pytest.raises(ValueError, match="unknown config key"):
        main(_args(env, env["leech"], env["root"] / "x", "--set", "model.nope=1"))
    with pytest.raises(ValueError, match="unknown preset"):
        main(["--preset", "huge", "--tokenizer", str(env["leech"])])


def test_ddp_two_processes_equal_one(env):
    from lattiq.training.train_var import main

    single = env["root"] / "ddp_single"
    common = ("--set", "model.class_drop=0.0", "--set", "steps=2", "--set", "bf16=false")
    assert main(_args(env, _bsq(env), single, *common, "--set", "batch_size=8")) == 0
    out = env["root"] / "ddp_two"
    proc = vf.run_torchrun(["-m", "lattiq.training.train_var", *_args(
        env, _bsq(env), out, *common, "--set", "batch_size=4", "--set", "device=cpu")])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    wa, wb = _weights(single), _weights(out)
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-4, atol=1e-5, msg=k)


def test_data_fit_and_single_scale_tokenizer_refused(env):
    from lattiq.data.fit import load_images
    from lattiq.models.contract import tokenizer_contract
    from lattiq.models.tokenizer import Tokenizer, tokenizer_preset

    ds = load_images("fashion-mnist", "test", 32, 1, "pad", root=str(env["fm"]))
    x = ds[0]["image"]
    assert x.shape == (1, 32, 32)
    assert torch.all(x[:, :2] == -1.0) and torch.all(x[:, :, -2:] == -1.0)  # padded border
    assert load_images("fashion-mnist", "test", 32, 3, "resize",
                       root=str(env["fm"]))[0]["image"].shape == (3, 32, 32)
    with pytest.raises(ValueError, match="fit='resize'"):
        load_images("natural", "test", 32, 3, "pad")
    with pytest.raises(ValueError, match="fit must be"):
        load_images("fashion-mnist", "test", 32, 1, "crop", root=str(env["fm"]))
    single = Tokenizer(tokenizer_preset("tiny", image_size=16, width=32, depth=1, heads=2,
                                        quantizer={"code": "leech"}))
    with pytest.raises(ValueError, match="single-scale"):
        tokenizer_contract(single)


def test_token_cache_keeps_indices_beyond_int32_exactly(env):
    from lattiq.models.tokenizer import Tokenizer
    from lattiq.training.token_cache import ensure_token_cache

    tok_dir = vf.make_tokenizer_checkpoint(env["root"] / "tok_bsq40", code="bsq-40")
    cache = ensure_token_cache(tok_dir, env["root"] / "cache40", root=str(env["fm"]), limit=8)
    tok = Tokenizer.from_checkpoint(str(tok_dir)).eval()
    want = tok.encode(torch.stack(_fmnist_images(env, 8))).indices
    assert int(want[-1].max()) >= 2**31  # the case int32 would wrap
    for got, w in zip(cache.indices, want, strict=True):
        assert got.dtype == torch.int64 and torch.equal(got, w.long())


def _fmnist_images(env, n):
    from lattiq.data.fit import load_images

    ds = load_images("fashion-mnist", "train", 32, 1, "pad", str(env["fm"]))
    return [ds[i]["image"] for i in range(n)]
