"""The training loop's pieces: learning-rate schedules, EMA, the metrics log, progress."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lattiq.training.ema import EMA
from lattiq.training.logs import JSONLLogger, Progress
from lattiq.training.schedules import lr_multiplier, make_lr_scheduler


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
