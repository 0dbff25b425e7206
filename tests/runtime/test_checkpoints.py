"""Atomic checkpoints: round trip, the latest pointer, RNG state, tied weights; the
single-process defaults of the distributed helpers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from torch import nn

from lattiq.runtime.checkpoints import find_checkpoint, load_checkpoint, save_checkpoint
from lattiq.runtime.config import config_to_dict
from lattiq.runtime.distributed import all_reduce_mean, setup_distributed
from lattiq.runtime.rng import seed_everything


@dataclass
class Inner:
    width: int = 8
    sides: list[int] = field(default_factory=lambda: [1, 2])


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    steps: int = 10


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


def test_single_process_distributed_defaults(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    info = setup_distributed("cpu")
    assert not info.distributed and info.is_main and info.world_size == 1
    x = torch.ones(2)
    assert all_reduce_mean(x, info) is x
    with pytest.raises(ValueError, match="device"):
        setup_distributed("tpu")
