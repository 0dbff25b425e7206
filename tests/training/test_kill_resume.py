"""A training run killed (SIGKILL) at random moments, checkpoint writes included, and
resumed each time ends bit-identical to a run that was never interrupted: same weights,
same optimizer state, each step logged once with the same losses, no leftovers."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from lattiq.runtime.checkpoints import load_checkpoint
from lattiq.training.train_tokenizer import main as train_main

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
STEPS = 16
ARGS = [
    "--set", "model.image_size=16", "--set", "model.patch_size=4", "--set", "model.width=32",
    "--set", "model.depth=1", "--set", "model.heads=2", "--set", "batch_size=2",
    "--set", f"steps={STEPS}", "--set", "log_every=1", "--set", "image_every=5",
    "--set", "ckpt_every=1", "--set", "keep_checkpoints=2", "--set", "device=cpu",
    "--set", "data.name=natural", "--set", "ema_decay=0.9", "--no-progress",
]  # fmt: skip
# (the discriminator's state is covered by the resume test of test_train_tokenizer.py)


def _cmd(out: Path, resume: bool) -> list[str]:
    return [sys.executable, "-m", "lattiq.cli", "train-tokenizer", *ARGS, "--out", str(out),
            *(["--resume"] if resume else [])]  # fmt: skip


def _records(run: Path) -> list[dict]:
    p = run / "log.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines()] if p.is_file() else []


def _lines(run: Path) -> int:
    p = run / "log.jsonl"
    return p.read_bytes().count(b"\n") if p.is_file() else 0


def _tmp_entries(run: Path, pid: int | None = None) -> list[str]:
    """Temporary checkpoint entries (of process ``pid`` only, if given)."""
    ck = run / "checkpoints"
    names = [p.name for p in ck.iterdir()] if ck.is_dir() else []
    return [n for n in names if (".tmp-" in n or ".old-" in n)
            and (pid is None or n.endswith(f"-{pid}"))]  # fmt: skip


def _has_checkpoint(run: Path) -> bool:
    # a complete step directory counts even before `latest` names it (a kill in between)
    ck = run / "checkpoints"
    return ck.is_dir() and any(p.name.startswith("step_") for p in ck.iterdir())


def test_random_kills_then_resume_end_bit_identical(tmp_path):
    seed = 20250612
    rng = random.Random(seed)
    ref, run = tmp_path / "ref", tmp_path / "run"
    done = subprocess.run(_cmd(ref, False), env=ENV, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    kills: list[dict] = []
    killed_pid = None
    for _round in range(12):
        if len(kills) >= 3:
            break
        resume = _has_checkpoint(run)
        err = open(tmp_path / f"stderr-{_round}.txt", "w+")
        proc = subprocess.Popen(_cmd(run, resume), env=ENV, stderr=err, text=True)
        strategy = rng.choice(["log", "write", "write"])
        target = min(_lines(run) + rng.randint(1, 3), STEPS - 3)  # kill well before the end
        t0, seen_tmp = time.monotonic(), False
        while proc.poll() is None and time.monotonic() - t0 < 120:
            if strategy == "log" and _lines(run) >= target:
                time.sleep(rng.uniform(0.0, 0.03))
                break
            if strategy == "write" and _lines(run) >= target - 1 and _tmp_entries(run, proc.pid):
                seen_tmp = True
                break
            time.sleep(0.0005)
        if len(kills) == 0 and proc.poll() is None and _lines(run) > 0:
            # meanwhile a second writer is refused, naming the one that holds the run
            try:
                train_main([*ARGS, "--out", str(run)])
                raise AssertionError("a second writer was let in")
            except ValueError as e:
                assert f"in use by pid {proc.pid}" in str(e), e
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills.append({"strategy": strategy, "log_lines": _lines(run),
                          "tmp_left": _tmp_entries(run), "tmp_seen": seen_tmp})
        else:
            proc.wait()
        err.seek(0)
        text = err.read()
        err.close()
        if killed_pid is not None:
            assert f"lock left by pid {killed_pid}" in text, (seed, text[-2000:])
        killed_pid = proc.pid if proc.returncode == -signal.SIGKILL else None
        if proc.returncode == 0:
            break  # finished before it could be killed: no more rounds
        assert proc.returncode == -signal.SIGKILL, (seed, text[-3000:])
    assert len(kills) >= 3, (seed, kills)

    final = subprocess.run(_cmd(run, True), env=ENV, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert final.returncode == 0, final.stderr[-3000:]
    if kills[-1]["tmp_left"]:
        assert "leftover(s) of an interrupted write" in final.stderr

    msg = f"seed {seed}, kills {kills}"
    a, b = load_checkpoint(ref), load_checkpoint(run)
    assert a.step == b.step == STEPS, msg
    assert set(a.weights) == set(b.weights) == {"model", "ema"}, msg
    for name in a.weights:
        for k, v in a.weights[name].items():
            assert torch.equal(v, b.weights[name][k]), (name, k, msg)
    sa, sb = a.state["optimizer"]["state"], b.state["optimizer"]["state"]
    assert sa.keys() == sb.keys(), msg
    for i in sa:
        for k, v in sa[i].items():
            assert torch.equal(v, sb[i][k]), (i, k, msg)
    assert a.state["scheduler"] == b.state["scheduler"], msg
    ra, rb = _records(ref), _records(run)
    assert [r["step"] for r in rb] == list(range(1, STEPS + 1)), msg  # each step once
    for x, y in zip(ra, rb, strict=True):
        assert (x["l1"], x["loss"], x["lr"]) == (y["l1"], y["loss"], y["lr"]), (x["step"], msg)
    assert _tmp_entries(run) == [], msg
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "latest", f"step_{STEPS - 1:08d}", f"step_{STEPS:08d}"], msg
    assert not (run / "run.lock").exists(), msg
