"""Shared training utilities: config files, schedules, EMA, logs, atomic checkpoints."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lattiq.evaluation.figures import save_image_grid
from lattiq.runtime.checkpoints import find_checkpoint, load_checkpoint, save_checkpoint
from lattiq.runtime.config import (
    config_diff,
    config_from_dict,
    config_to_dict,
    load_config,
    parse_overrides,
    save_config,
)
from lattiq.runtime.distributed import all_reduce_mean, setup_distributed
from lattiq.runtime.rng import seed_everything
from lattiq.training.ema import EMA
from lattiq.training.logs import JSONLLogger, Progress
from lattiq.training.schedules import lr_multiplier, make_lr_scheduler


@dataclass
class Inner:
    width: int = 8
    rate: float = 0.5
    name: str = "a"
    sides: list[int] = field(default_factory=lambda: [1, 2])
    path: str | None = None


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    steps: int = 10
    flag: bool = False


# --- config -------------------------------------------------------------------------------


def test_config_round_trip_yaml_and_json(tmp_path):
    cfg = Outer(inner=Inner(width=3, sides=[4]), steps=7, flag=True)
    d = config_to_dict(cfg)
    assert d == {
        "inner": {"width": 3, "rate": 0.5, "name": "a", "sides": [4], "path": None},
        "steps": 7,
        "flag": True,
    }
    assert config_from_dict(Outer, d) == cfg
    save_config(cfg, tmp_path / "c.json")
    assert load_config(Outer(), tmp_path / "c.json") == cfg
    (tmp_path / "c.yaml").write_text("inner:\n  width: 5\nsteps: 3\n")
    got = load_config(Outer(), tmp_path / "c.yaml", ["inner.rate=2", "inner.path=/x"])
    assert got == Outer(inner=Inner(width=5, rate=2.0, path="/x"), steps=3)


def test_overrides_parse_yaml_values():
    assert parse_overrides(["a.b=1", "c=[1, 2]", "d=true", "e=hi", "f=1e-3"]) == {
        "a": {"b": 1},
        "c": [1, 2],
        "d": True,
        "e": "hi",
        "f": "1e-3",  # YAML 1.1; float fields accept it (below)
    }
    assert load_config(Outer(), None, ["inner.rate=1e-3"]).inner.rate == 1e-3


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("inner.widht=3", "unknown config key 'inner.widht'"),
        ("nope=1", "unknown config key 'nope'"),
        ("steps=1.5", "expected an integer"),
        ("flag=3", "true/false"),
        ("inner=3", "is a section"),
        ("inner.sides=4", "expected a list"),
        ("steps", "key=value"),
    ],
)
def test_bad_overrides_are_refused(override, match):
    with pytest.raises(ValueError, match=match):
        load_config(Outer(), None, [override])


def test_bad_config_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(Outer(), tmp_path / "missing.yaml")
    (tmp_path / "c.txt").write_text("steps: 1")
    with pytest.raises(ValueError, match="yaml"):
        load_config(Outer(), tmp_path / "c.txt")


def test_config_diff_lists_every_difference():
    a = Outer()
    b = Outer(inner=Inner(width=9, name="b"), flag=True)
    assert config_diff(a, b) == [
        "flag: False -> True",
        "inner.name: 'a' -> 'b'",
        "inner.width: 8 -> 9",
    ]
    assert config_diff(a, a) == []
    assert config_diff({"x": 1}, {"y": 1}) == ["x: 1 -> <absent>", "y: <absent> -> 1"]


# --- schedules ----------------------------------------------------------------------------


def test_schedule_values():
    total = 100
    m = [lr_multiplier(s, total, "standard") for s in range(total)]
    w = 5  # 5% warm-up
    assert m[:w] == pytest.approx([(s + 1) / w for s in range(w)])
    assert m[w] == pytest.approx(1.0)
    assert m[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 94 / 95)))
    assert all(a >= b for a, b in zip(m[w:], m[w + 1 :], strict=False))
    f = [lr_multiplier(s, total, "fast") for s in range(total + 1)]
    assert f[0] == pytest.approx(0.5) and f[total] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_multiplier(0, 10, "slow")


@settings(max_examples=50, deadline=None)
@given(
    total=st.integers(1, 500), step=st.integers(0, 600), name=st.sampled_from(["fast", "standard"])
)
def test_schedule_is_bounded(total, step, name):
    m = lr_multiplier(step, total, name)
    assert 0.0 <= m <= 1.0 + 1e-12


def test_scheduler_drives_optimizer():
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=2.0)
    sched = make_lr_scheduler(opt, 10, "fast", warmup_steps=2)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:2] == pytest.approx([1.0, 2.0])


# --- EMA ----------------------------------------------------------------------------------


def test_ema_matches_hand_computation():
    torch.manual_seed(0)
    m = nn.Linear(3, 2)
    ema = EMA(m, decay=0.9)
    ref = {k: v.clone() for k, v in m.state_dict().items()}
    for t in range(5):
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.randn_like(p))
        ema.update(m)
        beta = min(0.9, (1 + t) / (10 + t))
        for k, v in m.state_dict().items():
            ref[k] = beta * ref[k] + (1 - beta) * v
    for k in ref:
        torch.testing.assert_close(ema.shadow[k], ref[k])
    own = {k: v.clone() for k, v in m.state_dict().items()}
    with ema.swapped_in(m):
        torch.testing.assert_close(m.weight, ref["weight"])
    torch.testing.assert_close(m.weight, own["weight"])
    with pytest.raises(ValueError, match="decay"):
        EMA(m, decay=1.0)


# --- logging ------------------------------------------------------------------------------


def test_jsonl_logger(tmp_path):
    with JSONLLogger(tmp_path / "log.jsonl") as log:
        log.log({"step": 1}, loss=torch.tensor(0.5), arr=np.arange(2))
        log.log(step=2, loss=float("nan"))
    rows = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert rows[0]["step"] == 1 and rows[0]["loss"] == 0.5 and rows[0]["arr"] == [0, 1]
    assert rows[1]["loss"] == "nan"
    off = JSONLLogger(tmp_path / "off.jsonl", enabled=False)
    off.log(step=1)
    assert not (tmp_path / "off.jsonl").exists()


def test_progress_runs_disabled_and_enabled():
    for enabled in (False, True):
        p = Progress(3, enabled=enabled)
        p.update(1, items=4, loss=0.1)
        p.close()


# --- checkpoints --------------------------------------------------------------------------


def test_checkpoint_round_trip_and_latest(tmp_path):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    cfg = Outer(steps=3)
    for step in (1, 2, 3):
        ck = save_checkpoint(
            tmp_path,
            step,
            weights={"model": model.state_dict(), "ema": model.state_dict()},
            config=cfg,
            state={"optimizer": opt.state_dict()},
            keep=2,
        )
    assert ck.name == "step_00000003"
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["latest", "step_00000002", "step_00000003"]  # no temp dirs left
    assert find_checkpoint(tmp_path) == ck
    loaded = load_checkpoint(tmp_path)
    assert loaded.step == 3 and loaded.config == config_to_dict(cfg)
    assert set(loaded.weights) == {"model", "ema"}
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.weights["model"][k], v)
    opt2 = torch.optim.AdamW(model.parameters(), lr=1e-3)
    opt2.load_state_dict(loaded.state["optimizer"])
    assert torch.equal(
        opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"]
    )
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        find_checkpoint(tmp_path / "nothing")


def test_checkpoint_restores_rng(tmp_path):
    seed_everything(5)
    save_checkpoint(tmp_path, 1, weights={}, config={"a": 1})
    want = (random.random(), np.random.rand(), torch.rand(1))  # noqa: NPY002
    seed_everything(99)
    load_checkpoint(tmp_path, restore_rng=True)
    got = (random.random(), np.random.rand(), torch.rand(1))  # noqa: NPY002
    assert want[:2] == got[:2] and torch.equal(want[2], got[2])


def test_tied_weights_save(tmp_path):
    m = nn.Linear(3, 3)
    sd = {"a": m.weight, "b": m.weight}
    save_checkpoint(tmp_path, 0, weights={"m": sd}, config={})
    got = load_checkpoint(tmp_path).weights["m"]
    assert torch.equal(got["a"], got["b"])


def test_image_grid(tmp_path):
    from PIL import Image

    x = torch.linspace(-1, 1, 5 * 3 * 4 * 6).reshape(5, 3, 4, 6)
    save_image_grid(tmp_path / "g.png", x, nrow=2, padding=1)
    img = np.asarray(Image.open(tmp_path / "g.png"))
    assert img.shape == (3 * 5 + 1, 2 * 7 + 1, 3)
    np.testing.assert_allclose(
        img[1:5, 1:7].transpose(2, 0, 1) / 255.0, ((x[0] + 1) / 2).numpy(), atol=1 / 255
    )
    save_image_grid(tmp_path / "g1.png", x[:, :1], nrow=4)
    assert np.asarray(Image.open(tmp_path / "g1.png")).ndim == 2
    with pytest.raises(ValueError, match="C in"):
        save_image_grid(tmp_path / "bad.png", torch.zeros(1, 2, 4, 4))


def test_single_process_distributed_defaults(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    info = setup_distributed("cpu")
    assert not info.distributed and info.is_main and info.world_size == 1
    x = torch.ones(2)
    assert all_reduce_mean(x, info) is x
    with pytest.raises(ValueError, match="device"):
        setup_distributed("tpu")
