"""Training and evaluation scripts: three-step smoke runs of each loss combination, exact
resume, DDP with two CPU processes, refusals, evaluation report, command-line wiring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from weights_helpers import dinov2_state, lpips_heads_state, vgg16_state

from lattiq.evaluation.eval_tokenizer import main as eval_main
from lattiq.models import Tokenizer
from lattiq.training.train_tokenizer import main as train_main

ROOT = Path(__file__).resolve().parents[2]

TINY = [
    "--set", "model.image_size=16", "--set", "model.patch_size=4", "--set", "model.width=32",
    "--set", "model.depth=1", "--set", "model.heads=2", "--set", "batch_size=2",
    "--set", "steps=3", "--set", "log_every=1", "--set", "image_every=3",
    "--set", "ckpt_every=3", "--set", "device=cpu", "--set", "data.name=natural",
    "--no-progress",
]  # fmt: skip


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("weights")
    torch.save(vgg16_state(), d / "vgg16.pth")
    torch.save(lpips_heads_state(), d / "lpips_vgg.pth")
    torch.save(dinov2_state(dim=64, patch=2, grid=4), d / "dinov2.pth")
    return d


def _log(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]


COMBOS = {
    "l1": [],
    "l1+lpips": ["--set", "loss.lpips=1.0", "--set", "loss.lpips_vgg={w}/vgg16.pth",
                 "--set", "loss.lpips_heads={w}/lpips_vgg.pth"],
    "l1+adv-hinge-adaptive-r1": ["--set", "loss.adv=0.1", "--set", "loss.disc_layers=1",
                                 "--set", "loss.r1=1.0", "--set", "loss.disc_width=8"],
    "l1+adv-ns-late-start": ["--set", "loss.adv=0.1", "--set", "loss.adv_loss=non-saturating",
                             "--set", "loss.adv_start=1", "--set", "loss.adv_adaptive=false",
                             "--set", "loss.disc_layers=1", "--set", "loss.disc_width=8"],
    "l1+vf": ["--set", "loss.vf=0.5", "--set", "loss.vf_model={w}/dinov2.pth"],
    "bsq-entropy": ["--set", "model.quantizer.code=bsq-18", "--set", "model.quantizer.kind=bsq"],
    "all+multiscale": ["--set", "loss.lpips=1.0", "--set", "loss.lpips_vgg={w}/vgg16.pth",
                       "--set", "loss.lpips_heads={w}/lpips_vgg.pth", "--set", "loss.adv=0.1",
                       "--set", "loss.disc_layers=1", "--set", "loss.disc_width=8",
                       "--set", "loss.vf=0.5", "--set", "loss.vf_model={w}/dinov2.pth",
                       "--set", "model.quantizer.scales=[1, 2, 4]"],
}  # fmt: skip
EXPECTED_TERMS = {
    "l1": {"l1"},
    "l1+lpips": {"l1", "lpips"},
    "l1+adv-hinge-adaptive-r1": {"l1", "g_loss", "adv_weight", "d_loss", "r1"},
    "l1+adv-ns-late-start": {"l1", "d_loss"},
    "l1+vf": {"l1", "vf", "vf_mcos", "vf_mdms"},
    "bsq-entropy": {"l1", "aux"},
    "all+multiscale": {"l1", "lpips", "g_loss", "d_loss", "vf"},
}


@pytest.mark.parametrize("combo", list(COMBOS))
def test_three_step_smoke(combo, tmp_path, weight_files):
    args = [a.replace("{w}", str(weight_files)) for a in COMBOS[combo]]
    run = tmp_path / "run"
    assert train_main([*TINY, *args, "--out", str(run)]) == 0
    log = _log(run)
    assert [r["step"] for r in log] == [1, 2, 3]
    assert EXPECTED_TERMS[combo] <= set(log[-1])
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in log)
    if combo == "l1+adv-ns-late-start":
        assert "g_loss" not in log[0] and "g_loss" in log[1]
    if combo == "bsq-entropy":
        assert log[-1]["aux"] != 0.0
    ck = run / "checkpoints" / "step_00000003"
    names = {p.name for p in ck.iterdir()}
    assert {"model.safetensors", "ema.safetensors", "config.json", "state.json",
            "state.safetensors", "manifest.json"} <= names
    assert not any(n.endswith((".pt", ".pth", ".pkl")) for n in names)  # no pickle
    assert ("disc.safetensors" in names) == ("adv" in combo or "all" in combo)
    assert (run / "images" / "step_00000003.png").is_file()
    model = Tokenizer.from_checkpoint(run)  # rebuilt from the saved config alone
    assert model.config.image_size == 16


def test_lpips_without_files_is_off_and_says_so(tmp_path, capsys):
    run = tmp_path / "run"
    train_main([*TINY, "--set", "steps=1", "--set", "loss.lpips=1.0", "--out", str(run)])
    assert "LPIPS is off" in capsys.readouterr().err
    assert "lpips" not in _log(run)[-1]


def test_vf_without_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="vf_model=PATH"):
        train_main([*TINY, "--set", "loss.vf=1.0", "--out", str(tmp_path)])


def test_bad_config_values(tmp_path):
    with pytest.raises(ValueError, match="unknown config key 'model.widht'"):
        train_main([*TINY, "--set", "model.widht=3"])
    with pytest.raises(ValueError, match="at least 24px"):
        train_main([*TINY, "--set", "loss.adv=0.1", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="unknown preset"):
        train_main(["--preset", "huge"])


def _weights(run: Path, name: str, step: int) -> dict:
    return load_file(str(run / "checkpoints" / f"step_{step:08d}" / f"{name}.safetensors"))


def test_interrupted_and_resumed_run_ends_with_the_same_weights(tmp_path):
    common = [*TINY, "--set", "steps=6", "--set", "ckpt_every=2", "--set", "loss.adv=0.1",
              "--set", "loss.disc_layers=1", "--set", "loss.disc_width=8",
              "--set", "loss.r1=0.5", "--set", "ema_decay=0.9"]  # fmt: skip
    straight, interrupted = tmp_path / "a", tmp_path / "b"
    train_main([*common, "--out", str(straight)])
    train_main([*common, "--out", str(interrupted), "--stop-at", "3"])
    assert (interrupted / "checkpoints" / "latest").read_text().strip() == "step_00000003"
    train_main([*common, "--out", str(interrupted), "--resume"])
    for name in ("model", "ema", "disc"):
        a, b = _weights(straight, name, 6), _weights(interrupted, name, 6)
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{name}:{k}"
    la, lb = _log(straight), _log(interrupted)
    assert [r["l1"] for r in la[3:]] == [r["l1"] for r in lb[3:]]


def test_resume_with_another_config_is_refused(tmp_path):
    run = tmp_path / "run"
    train_main([*TINY, "--set", "steps=2", "--out", str(run)])
    with pytest.raises(ValueError, match=r"model.width: 32 -> 48"):
        train_main([*TINY, "--set", "steps=2", "--set", "model.width=48", "--out", str(run),
                    "--resume"])  # fmt: skip
    with pytest.raises(ValueError, match=r"model.quantizer.code: 'leech' -> 'bsq-18'"):
        train_main([*TINY, "--set", "model.quantizer.code=bsq-18", "--set",
                    "model.quantizer.kind=bsq", "--out", str(run), "--resume"])  # fmt: skip
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train_main([*TINY, "--out", str(tmp_path / "fresh"), "--resume"])


def test_ddp_two_cpu_processes_match_one_process_with_the_global_batch(tmp_path):
    """Two gloo ranks with batch b see exactly the samples one process sees with batch 2b,
    and DDP averages their gradients, so the weights agree to rounding."""
    args = [*TINY, "--set", "steps=2", "--set", "ckpt_every=2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    env.pop("WORLD_SIZE", None)
    ddp = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", "0", "--rdzv_backend", "c10d", "--rdzv_endpoint", "localhost:0",
           "-m", "lattiq.training.train_tokenizer", *args, "--out", str(ddp)]  # fmt: skip
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "world size 2" in res.stderr
    single = tmp_path / "single"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the workers, so that matmuls reduce in the same order
    try:
        train_main([*args, "--set", "batch_size=4", "--out", str(single)])
    finally:
        torch.set_num_threads(threads)
    a, b = _weights(ddp, "model", 2), _weights(single, "model", 2)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=k)


def test_eval_report_and_grid(tmp_path, weight_files):
    run = tmp_path / "run"
    train_main([*TINY, "--set", "steps=2", "--out", str(run)])
    out = tmp_path / "eval"
    assert eval_main([str(run), "--limit", "5", "--batch-size", "3", "--device", "cpu",
                      "--lpips-vgg", str(weight_files / "vgg16.pth"),
                      "--lpips-heads", str(weight_files / "lpips_vgg.pth"),
                      "--out", str(out), "--json"]) == 0  # fmt: skip
    rep = json.loads((out / "report.json").read_text())
    assert rep["images"] == 5 and rep["data"] == "natural" and rep["split"] == "test"
    for k in ("psnr", "psnr_std", "ssim", "lpips", "perplexity", "max_min_ratio"):
        assert isinstance(rep[k], float), k
    assert rep["ms_ssim"] is None  # 16px images are too small for five scales
    assert rep["tokens"] == 5 * 16 and 1 <= rep["used_codes"] <= 80
    assert rep["bits_per_pixel"] == pytest.approx(16 * rep["bits_per_token"] / 256)
    assert (out / "grid.png").is_file()


class _Features(torch.nn.Module):
    """A cheap stand-in for the FID network: fixed random features of the image."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(3 * 16 * 16, 8)

    def forward(self, x):
        return self.proj(x.flatten(1))


def test_rfid_from_feature_statistics(tmp_path):
    from lattiq.data import get_dataset
    from lattiq.evaluation.eval_tokenizer import evaluate_tokenizer
    from lattiq.evaluation.metrics import FeatureStats, frechet_distance

    run = tmp_path / "run"
    train_main([*TINY, "--set", "steps=1", "--out", str(run)])
    model = Tokenizer.from_checkpoint(run)
    ds = get_dataset("natural", "test", 16)
    torch.manual_seed(0)
    net = _Features()
    rep = evaluate_tokenizer(model, ds, batch_size=4, limit=6, inception=net)
    real, fake = FeatureStats(8), FeatureStats(8)
    with torch.no_grad():
        x = torch.stack([ds[i]["image"] for i in range(6)])
        real.update(net(x))
        fake.update(net(model(x).images.clamp(-1, 1)))
    want = frechet_distance(*real.mean_cov(), *fake.mean_cov())
    assert rep["rfid"] == pytest.approx(want, rel=1e-6)


def test_eval_without_optional_weights(tmp_path, capsys):
    run = tmp_path / "run"
    train_main([*TINY, "--set", "steps=1", "--out", str(run)])
    eval_main([str(run), "--limit", "2", "--device", "cpu", "--weights", "model"])
    cap = capsys.readouterr()
    assert "LPIPS not computed" in cap.err and "rFID not computed" in cap.err
    rep = json.loads((run / "eval" / "report.json").read_text())
    assert rep["lpips"] is None and rep["rfid"] is None and rep["weights"] == "model"
    with pytest.raises(FileNotFoundError, match="--inception PATH"):
        eval_main([str(run), "--inception", str(tmp_path / "missing.pth"), "--device", "cpu"])


def test_cli_registers_without_importing_torch():
    code = (
        "import argparse, sys\n"
        "from lattiq.commands import tokenizer as tokenizer_cli\n"
        "p = argparse.ArgumentParser(); sub = p.add_subparsers(dest='cmd')\n"
        "tokenizer_cli.register(sub)\n"
        "a = p.parse_args(['train-tokenizer', '--set', 'steps=3', '--resume'])\n"
        "b = p.parse_args(['eval-tokenizer', 'runs/x', '--limit', '4'])\n"
        "assert a.overrides == ['steps=3'] and a.resume and callable(a.func)\n"
        "assert b.checkpoint == 'runs/x' and b.limit == 4 and callable(b.func)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert res.returncode == 0, res.stderr
