"""Learning-rate schedules: linear warm-up, then cosine decay to a floor."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

__all__ = ["SCHEDULES", "lr_multiplier", "make_lr_scheduler", "restore_lr_scheduler"]

#: Named schedules: warm-up fraction of the run and the final learning rate as a fraction of
#: the peak. ``fast`` warms up briefly and decays to zero (short runs, quick comparisons);
#: ``standard`` warms up longer and keeps a floor of 10% (long runs).
SCHEDULES: dict[str, dict[str, float]] = {
    "fast": {"warmup_frac": 0.02, "final_ratio": 0.0},
    "standard": {"warmup_frac": 0.05, "final_ratio": 0.1},
    "constant": {"warmup_frac": 0.0, "final_ratio": 1.0},
}


def lr_multiplier(
    step: int, total_steps: int, schedule: str = "standard", warmup_steps: int | None = None
) -> float:
    r"""Learning-rate multiplier at ``step`` (0-based): linear warm-up, then cosine decay.

    .. math::
        m(s) = \begin{cases} (s+1)/W & s < W \\
        r + (1-r)\,\tfrac12\bigl(1+\cos(\pi\,\tfrac{s-W}{T-W})\bigr) & s \ge W \end{cases}

    with ``W`` warm-up steps, ``T`` total steps and ``r`` the final ratio
    (Loshchilov & Hutter, "SGDR", ICLR 2017; Goyal et al. 2017 for the warm-up).
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {sorted(SCHEDULES)}")
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    spec = SCHEDULES[schedule]
    w = int(round(spec["warmup_frac"] * total_steps)) if warmup_steps is None else int(warmup_steps)
    w = max(0, min(w, total_steps))
    r = spec["final_ratio"]
    if step < w:
        return (step + 1) / w
    if total_steps == w:
        return 1.0
    t = min(1.0, (step - w) / (total_steps - w))
    return r + (1.0 - r) * 0.5 * (1.0 + math.cos(math.pi * t))


def make_lr_scheduler(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    schedule: str = "standard",
    warmup_steps: int | None = None,
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` following :func:`lr_multiplier` (its state is saved with checkpoints)."""
    lr_multiplier(0, total_steps, schedule, warmup_steps)  # validate now
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_multiplier(s, total_steps, schedule, warmup_steps)
    )




def restore_lr_scheduler(sched: torch.optim.lr_scheduler.LambdaLR, state: Mapping) -> None:
    """Load a ``LambdaLR`` state and set the learning rates from *this* scheduler's lambdas.

    A resumed run with the same schedule gets exactly the rates it had; a run whose
    ``steps`` grew continues on the schedule rebuilt for the new total, from the step it
    had reached.
    """
    sched.load_state_dict(state)
    s = sched.last_epoch
    lrs = [base * fn(s) for base, fn in zip(sched.base_lrs, sched.lr_lambdas, strict=True)]
    for g, lr in zip(sched.optimizer.param_groups, lrs, strict=True):
        g["lr"] = lr
    sched._last_lr = list(lrs)
