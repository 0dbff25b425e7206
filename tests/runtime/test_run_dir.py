"""Run directories and checkpoints under faults: locks (a second process refused, a dead
holder's lock taken over), no overwrite without --overwrite, leftovers and log repeats
cleaned on resume, corrupt and tampered files refused by name, pickles never executed,
the config read first, resume from the run's own config, extending a run, read-only and
full disks, and an astronomically large codebook."""

from __future__ import annotations

import json
import os
import pickle
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from lattiq.runtime import directory as rd
from lattiq.runtime.checkpoints import find_checkpoint, load_checkpoint
from lattiq.training.schedules import lr_multiplier, make_lr_scheduler, restore_lr_scheduler
from lattiq.training.train_tokenizer import main as train_main

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
TINY = [
    "--set", "model.image_size=16", "--set", "model.patch_size=4", "--set", "model.width=32",
    "--set", "model.depth=1", "--set", "model.heads=2", "--set", "batch_size=2",
    "--set", "steps=3", "--set", "log_every=1", "--set", "image_every=3",
    "--set", "ckpt_every=1", "--set", "device=cpu", "--set", "data.name=natural",
    "--no-progress",
]  # fmt: skip


def _log_steps(run: Path) -> list[int]:
    return [json.loads(x)["step"] for x in (run / "log.jsonl").read_text().splitlines()]


def _cli(*args: str, preexec=None, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lattiq.cli", *args], env=ENV,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec)


def _one_error_line(res: subprocess.CompletedProcess) -> str:
    """The process failed with exactly one ``lattiq: error:`` line and no traceback."""
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    errs = [x for x in res.stderr.splitlines() if x.startswith("lattiq: error:")]
    assert len(errs) == 1, res.stderr[-2000:]
    return errs[0]


# --- lock -------------------------------------------------------------------------------------


_HOLD = ("import sys, time; from lattiq.runtime.directory import RunLock; "
         "lock = RunLock.acquire(sys.argv[1]); print('locked', flush=True); time.sleep(60)")


def test_a_second_process_is_refused_naming_the_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path)], env=ENV,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        rec = json.loads((tmp_path / rd.LOCK_NAME).read_text())
        assert rec["pid"] == holder.pid
        with pytest.raises(ValueError, match=rf"in use by pid {holder.pid} on host"):
            rd.RunLock.acquire(tmp_path)
        # the training command says the same, before touching anything
        with pytest.raises(ValueError, match=rf"pid {holder.pid}"):
            train_main([*TINY, "--out", str(tmp_path)])
        assert not (tmp_path / "log.jsonl").exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_dead_holders_lock_is_taken_over_with_a_warning(tmp_path):
    code = _HOLD.replace("time.sleep(60)", "import os; os.kill(os.getpid(), 9)")
    dead = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=ENV)
    assert dead.returncode == -signal.SIGKILL
    assert json.loads((tmp_path / rd.LOCK_NAME).read_text())["pid"] > 0
    warnings: list[str] = []
    with rd.RunLock.acquire(tmp_path, warn=warnings.append) as lock:
        assert lock.held and len(warnings) == 1
        assert "taking over the lock left by pid" in warnings[0]
        assert json.loads((tmp_path / rd.LOCK_NAME).read_text())["pid"] == os.getpid()
    assert not (tmp_path / rd.LOCK_NAME).exists()  # released cleanly: removed
    with rd.RunLock.acquire(tmp_path, warn=warnings.append):
        pass
    assert len(warnings) == 1  # a clean release leaves nothing to take over


def test_lock_is_exclusive_within_a_process_too(tmp_path):
    with rd.RunLock.acquire(tmp_path), pytest.raises(ValueError, match="in use"):
        rd.RunLock.acquire(tmp_path)


# --- refusing to overwrite, --overwrite ----------------------------------------------------


def test_an_existing_run_is_refused_unless_resume_or_overwrite(tmp_path):
    run = tmp_path / "run"
    assert train_main([*TINY, "--out", str(run)]) == 0
    before = (run / "checkpoints" / "step_00000003" / "model.safetensors").read_bytes()
    with pytest.raises(ValueError, match="--resume to continue it, or --overwrite"):
        train_main([*TINY, "--out", str(run)])
    assert (run / "checkpoints" / "step_00000003" / "model.safetensors").read_bytes() == before
    assert _log_steps(run) == [1, 2, 3]
    with pytest.raises(ValueError, match="choose one"):
        train_main([*TINY, "--out", str(run), "--resume", "--overwrite"])
    (run / "notes.txt").write_text("mine")
    assert train_main([*TINY, "--set", "steps=2", "--out", str(run), "--overwrite"]) == 0
    assert _log_steps(run) == [1, 2]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "latest", "step_00000001", "step_00000002"]
    assert (run / "notes.txt").read_text() == "mine"  # only the run's own outputs go
    assert not (run / rd.LOCK_NAME).exists()


def test_a_failed_run_releases_its_lock(tmp_path):
    run = tmp_path / "run"
    assert train_main([*TINY, "--set", "steps=1", "--out", str(run)]) == 0
    with pytest.raises(ValueError, match="model.width: 32 -> 48"):  # refused under the lock
        train_main([*TINY, "--set", "model.width=48", "--out", str(run), "--resume"])
    assert not (run / rd.LOCK_NAME).exists()
    assert train_main([*TINY, "--set", "steps=2", "--out", str(run), "--resume"]) == 0


# --- leftovers and the log --------------------------------------------------------------------


def test_truncate_log_keeps_steps_up_to_the_resumed_one(tmp_path):
    lines = [{"step": 1}, {"note": "a"}, {"step": 2}, {"step": 3}, {"note": "b"}, {"step": 4}]
    text = "".join(json.dumps(r) + "\n" for r in lines) + '{"step": 5, "lo'  # torn write
    (tmp_path / "log.jsonl").write_text(text)
    run = rd.RunDir(tmp_path, None, True)
    assert run.truncate_log(2) == 4
    kept = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert kept == [{"step": 1}, {"note": "a"}, {"step": 2}]
    assert run.truncate_log(2) == 0
    assert rd.RunDir(tmp_path, None, False).truncate_log(0) == 0  # other ranks: no-op
    assert run.truncate_log(0) == 3 and (tmp_path / "log.jsonl").read_text() == ""


def test_leftovers_of_interrupted_writes_are_cleaned(tmp_path):
    ck = tmp_path / "checkpoints"
    for name in ("step_00000001", "step_00000002", ".step_00000003.tmp-77",
                 ".step_00000002.old-78", ".step_00000004.old-79"):
        (ck / name).mkdir(parents=True)
        (ck / name / "model.safetensors").write_text(name)
    (ck / ".latest.tmp-80").write_text("x")
    (tmp_path / ".log.jsonl.tmp-81").write_text("x")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / ".step_00000001.png.tmp-82.png").write_text("x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / ".keep.tmp-83").write_text("not ours")
    removed = rd.clean_leftovers(tmp_path, ("images",))
    assert sorted(p.name for p in ck.iterdir()) == ["step_00000001", "step_00000002",
                                                    "step_00000004"]
    # the replaced checkpoint whose successor never arrived is put back; the other dropped
    assert (ck / "step_00000004" / "model.safetensors").read_text() == ".step_00000004.old-79"
    assert (ck / "step_00000002" / "model.safetensors").read_text() == "step_00000002"
    assert len(removed) == 5 and not (tmp_path / ".log.jsonl.tmp-81").exists()
    assert not any((tmp_path / "images").iterdir())
    assert (tmp_path / "elsewhere" / ".keep.tmp-83").exists()


def test_free_space_is_checked_before_training(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9, 3 << 20))
    with pytest.raises(OSError, match=r"not enough free disk space .* 3\.0 MiB is free"):
        train_main([*TINY, "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run" / "log.jsonl").exists()
    assert not (tmp_path / "run" / rd.LOCK_NAME).exists()


# --- checkpoint files: corrupt, tampered, old, hostile ---------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("trained") / "run"
    assert train_main([*TINY, "--set", "steps=2", "--out", str(run)]) == 0
    return run


def _copy(run: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(run, dst)
    return dst


def _ck(run: Path) -> Path:
    return run / "checkpoints" / "step_00000002"


@pytest.mark.parametrize("name", ["model.safetensors", "state.safetensors", "state.json",
                                  "config.json", "ema.safetensors"])
@pytest.mark.parametrize("fault", ["truncate", "flip"])
def test_corrupt_checkpoint_files_are_refused_by_name(trained, tmp_path, name, fault):
    run = _copy(trained, tmp_path / "run")
    p = _ck(run) / name
    data = bytearray(p.read_bytes())
    if fault == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"checkpoint file .*{name} is corrupt or truncated"):
        train_main([*TINY, "--out", str(run), "--resume"])
    with pytest.raises(ValueError, match=name):
        load_checkpoint(run)


def test_missing_and_unlisted_files(trained, tmp_path):
    run = _copy(trained, tmp_path / "run")
    (_ck(run) / "ema.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="ema.safetensors is missing"):
        load_checkpoint(run)
    run = _copy(trained, tmp_path / "run2")
    save_file({"x": torch.zeros(1)}, str(_ck(run) / "extra.safetensors"))
    assert "extra" not in load_checkpoint(run).weights  # only what the manifest lists
    (_ck(run) / "manifest.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="manifest.json is not valid JSON"):
        load_checkpoint(run)
    (_ck(run) / "manifest.json").write_text('{"format": "x", "files": {}}')
    with pytest.raises(ValueError, match="is not a lattiq-checkpoint-v2 manifest"):
        load_checkpoint(run)
    (_ck(run) / "manifest.json").unlink()
    with pytest.raises(ValueError, match="state.json but no manifest.json"):
        load_checkpoint(run)


@pytest.mark.parametrize("pointer", ["../../etc", "step_1", "", "step_00000009"])
def test_latest_must_name_a_checkpoint_here(trained, tmp_path, pointer):
    run = _copy(trained, tmp_path / "run")
    (run / "checkpoints" / "latest").write_text(pointer + "\n")
    err = FileNotFoundError if pointer == "step_00000009" else ValueError
    with pytest.raises(err, match="latest"):
        load_checkpoint(run)


def test_a_first_checkpoint_not_yet_named_by_latest_is_resumed(trained, tmp_path):
    """A kill after the first checkpoint is renamed into place but before `latest` is
    written: the directory holds a run (a fresh start is refused) and --resume uses it."""
    run = _copy(trained, tmp_path / "run")
    (run / "checkpoints" / "latest").unlink()
    import shutil

    shutil.rmtree(run / "checkpoints" / "step_00000002")
    assert find_checkpoint(run).name == "step_00000001"
    with pytest.raises(ValueError, match="already holds a run"):
        train_main([*TINY, "--set", "steps=2", "--out", str(run)])
    assert train_main([*TINY, "--set", "steps=2", "--out", str(run), "--resume"]) == 0
    assert _log_steps(run) == [1, 2]
    assert (run / "checkpoints" / "latest").read_text().strip() == "step_00000002"


class _Payload:
    """Unpickling this makes a directory: evidence that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_old_pickle_state_is_refused_and_never_executed(trained, tmp_path):
    run = _copy(trained, tmp_path / "run")
    ck = _ck(run)
    marker = tmp_path / "payload-ran"
    for f in ("state.json", "state.safetensors", "manifest.json"):
        (ck / f).unlink()
    torch.save({"step": 2, "x": _Payload(marker)}, ck / "state.pt")  # the old format's file
    with pytest.raises(ValueError, match=r"state\.pt, a pickle file, which lattiq does not read"):
        train_main([*TINY, "--out", str(run), "--resume"])
    res = _cli("train-tokenizer", "--out", str(run), "--resume", "--no-progress")
    assert "does not read" in _one_error_line(res)
    # the weights of an old checkpoint can still be read, still without unpickling
    from lattiq.models import Tokenizer

    assert Tokenizer.from_checkpoint(str(run)).config.image_size == 16
    assert not marker.exists(), "the pickle payload ran"


@pytest.mark.parametrize("target", ["model.safetensors", "state.safetensors", "state.json",
                                    "config.json"])
def test_pickles_planted_in_new_checkpoints_never_run(trained, tmp_path, target):
    """A hostile directory with a consistent manifest: the payload is only ever parsed as
    safetensors or JSON, which fails cleanly."""
    import hashlib

    run = _copy(trained, tmp_path / "run")
    ck = _ck(run)
    marker = tmp_path / "payload-ran"
    evil = pickle.dumps(_Payload(marker))
    (ck / target).write_bytes(evil)
    man = json.loads((ck / "manifest.json").read_text())
    man["files"][target] = {"bytes": len(evil), "sha256": hashlib.sha256(evil).hexdigest()}
    (ck / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(ValueError, match=rf"{target} is not (a )?valid"):
        train_main([*TINY, "--out", str(run), "--resume"])
    assert not marker.exists(), "the pickle payload ran"


def test_config_is_checked_before_any_other_file_is_read(trained, tmp_path, monkeypatch):
    run = _copy(trained, tmp_path / "run")
    (_ck(run) / "state.safetensors").write_bytes(b"garbage")  # would fail if it were read
    opened: list[str] = []
    real = Path.read_bytes

    def spy(self):
        opened.append(self.name)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    with pytest.raises(ValueError, match=r"its config differs .*\n  model.width: 32 -> 48"):
        train_main([*TINY, "--set", "model.width=48", "--out", str(run), "--resume"])
    assert set(opened) <= {"manifest.json", "config.json"}, opened


# --- resuming from the run's own config, extending a run --------------------------------------


def test_resume_alone_takes_the_config_from_the_run_directory(tmp_path):
    common = [*TINY, "--set", "steps=4", "--set", "ema_decay=0.9"]
    a, b = tmp_path / "a", tmp_path / "b"
    assert train_main([*common, "--out", str(a)]) == 0
    assert train_main([*common, "--out", str(b), "--stop-at", "2"]) == 0
    assert train_main(["--out", str(b), "--resume", "--no-progress"]) == 0  # as in the README
    for name in ("model", "ema"):
        wa = load_file(str(a / "checkpoints" / "step_00000004" / f"{name}.safetensors"))
        wb = load_file(str(b / "checkpoints" / "step_00000004" / f"{name}.safetensors"))
        assert all(torch.equal(wa[k], wb[k]) for k in wa), name
    assert _log_steps(b) == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="model.depth: 1 -> 2"):
        train_main(["--out", str(b), "--resume", "--set", "model.depth=2"])
    with pytest.raises(ValueError, match="model.width: 32 -> 128"):
        train_main(["--out", str(b), "--resume", "--preset", "tiny"])  # a preset is compared


def test_extending_a_run_follows_the_schedule_rebuilt_for_the_new_total(tmp_path):
    short, fresh = tmp_path / "s", tmp_path / "f"
    args = [*TINY, "--set", "schedule=standard", "--set", "warmup_steps=1"]
    assert train_main([*args, "--set", "steps=3", "--out", str(short)]) == 0
    assert train_main(["--out", str(short), "--resume", "--set", "steps=6",
                       "--no-progress"]) == 0  # fmt: skip
    assert train_main([*args, "--set", "steps=6", "--out", str(fresh)]) == 0
    log_e = [json.loads(x) for x in (short / "log.jsonl").read_text().splitlines()]
    log_f = [json.loads(x) for x in (fresh / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log_e] == [1, 2, 3, 4, 5, 6]
    # steps 4-6 get exactly the rates of a run started with steps=6
    assert [r["lr"] for r in log_e[3:]] == [r["lr"] for r in log_f[3:]]
    assert log_e[2]["lr"] != log_f[2]["lr"]  # (the first three followed the 3-step schedule)
    assert json.loads((short / "config.json").read_text())["steps"] == 6
    with pytest.raises(ValueError, match="already at step 6, past it"):
        train_main(["--out", str(short), "--resume", "--set", "steps=5"])


def test_restored_scheduler_sets_the_rate_of_the_new_schedule_at_once():
    base = 0.1
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=base)
    sched = make_lr_scheduler(opt, 3, "standard", warmup_steps=1)
    for _ in range(3):
        opt.step()
        sched.step()
    opt2 = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=base)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.param_groups[0]["lr"] == base * lr_multiplier(3, 3, "standard", 1)
    sched2 = make_lr_scheduler(opt2, 6, "standard", warmup_steps=1)
    restore_lr_scheduler(sched2, sched.state_dict())
    # the next step (step 4) runs with the 6-step schedule's rate, not the 3-step one's
    want = base * lr_multiplier(3, 6, "standard", 1)
    assert opt2.param_groups[0]["lr"] == want and sched2.get_last_lr() == [want]


# --- disks that refuse writes ------------------------------------------------------------------


def _read_only_dir(tmp_path: Path) -> Path:
    """A directory this process cannot write: chmod, or where root ignores that, sysfs."""
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    try:
        (d / "probe").write_text("x")
    except OSError:
        return d / "run"
    (d / "probe").unlink()
    d.chmod(0o755)
    target = Path("/sys/lattiq-test-run")
    try:
        target.mkdir()
    except OSError:
        return target
    target.rmdir()
    pytest.skip("no directory here refuses writes to this user")


def test_read_only_output_is_refused_before_training(tmp_path):
    out = _read_only_dir(tmp_path)
    res = _cli("train-tokenizer", *TINY, "--out", str(out))
    line = _one_error_line(res)
    assert "cannot create run directory" in line or "cannot write to" in line
    assert "tokenizer:" not in res.stderr  # nothing was built or trained
    res = _cli("fmnist-classifier", "--out", str(out / "cls.safetensors"), "--root",
               str(tmp_path / "nowhere"))
    assert "cannot write to directory" in _one_error_line(res)  # before looking for data


def _limit_file_size(limit: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_during_a_checkpoint_leaves_the_previous_one_intact(tmp_path):
    run = tmp_path / "run"
    assert train_main([*TINY, "--set", "steps=2", "--out", str(run)]) == 0
    before = load_checkpoint(run)
    # files above 64 KiB now fail (EFBIG), as on a full disk: the weights files are ~120 KiB
    res = _cli("train-tokenizer", "--out", str(run), "--resume", "--set", "steps=4",
               "--no-progress", preexec=_limit_file_size(64 << 10))
    line = _one_error_line(res)
    assert "could not write checkpoint" in line and "step_00000003" in line
    assert "previous checkpoint (step_00000002) is left as it was" in line
    ck = run / "checkpoints"
    assert sorted(p.name for p in ck.iterdir()) == ["latest", "step_00000001",
                                                    "step_00000002"]  # no temporary dirs
    after = load_checkpoint(run)
    assert after.step == 2
    assert all(torch.equal(before.weights["model"][k], v)
               for k, v in after.weights["model"].items())  # fmt: skip
    assert not (run / rd.LOCK_NAME).exists()
    assert train_main(["--out", str(run), "--resume", "--set", "steps=4",
                       "--no-progress"]) == 0  # fmt: skip
    assert _log_steps(run) == [1, 2, 3, 4]


# --- bad input to the training command ----------------------------------------------------------


@pytest.mark.parametrize("name,text,match", [
    ("bad.yaml", "a: [1,\n", r"is not valid YAML: .*line 2"),
    ("bad.json", '{"steps": ', "is not valid JSON"),
    ("list.yaml", "- 1\n- 2\n", "must hold a mapping at the top level, got list"),
    ("bin.yml", b"\xff\xfe\x00", "is not UTF-8 text"),
    ("bomb.yaml", "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdef", "bcdefg", strict=True)), "more than 100000 values"),
    ("cfg.toml", "steps = 3", "use a .yaml, .yml or .json file"),
])  # fmt: skip
def test_malformed_config_files(tmp_path, name, text, match):
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ValueError, match=match):
        train_main(["--config", str(p), "--out", str(tmp_path / "run")])
    res = _cli("train-tokenizer", "--config", str(p), "--out", str(tmp_path / "run"))
    assert str(p) in _one_error_line(res)


def test_a_62_bit_code_trains_with_bounded_usage_counting(tmp_path):
    run = tmp_path / "run"
    assert train_main([*TINY, "--set", "steps=2", "--set", "model.quantizer.code=bsq-62",
                       "--set", "model.quantizer.kind=bsq", "--out", str(run)]) == 0
    log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    # 2 images x 16 tokens per step: almost surely 32 distinct codes out of 2^62
    assert [r["step"] for r in log] == [1, 2] and all(1 <= r["used_codes"] <= 32 for r in log)
