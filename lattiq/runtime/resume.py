"""Resuming and extending a run: the config it continues with, and what it may change."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .checkpoints import read_checkpoint_config
from .config import config_diff, config_to_dict, load_config, merge_config

__all__ = ["resume_check", "run_config"]


def resume_check(cfg: Any, mutable: Iterable[str], key: str = "config"
                 ) -> Callable[[dict, int, Path], None]:
    """A ``check`` for :func:`load_checkpoint`: the saved ``config[key]`` must equal ``cfg``
    except for the keys in ``mutable`` and ``steps``, which may grow (to extend a run) but
    not fall below the checkpoint's step."""
    allowed = set(mutable) | {"steps"}
    now = config_to_dict(cfg)

    def check(saved: dict, step: int, path: Path) -> None:
        diff = [d for d in config_diff(saved.get(key, {}), now)
                if d.split(":")[0] not in allowed]  # fmt: skip
        if diff:
            raise ValueError(f"cannot resume {path}: its config differs (saved -> now):\n  "
                             + "\n  ".join(diff))
        if now.get("steps", step) < step:
            raise ValueError(f"cannot resume {path} with steps={now['steps']}: the run is "
                             f"already at step {step}, past it (--set steps=N with N >= {step})")

    return check


def run_config(
    base: Any,
    path: str | os.PathLike | None,
    overrides: Iterable[str],
    *,
    out_dir: str | None = None,
    resume: bool = False,
    from_run: bool = True,
    key: str = "config",
) -> Any:
    """The config a training command runs with.

    A new run: ``base``, then the file at ``path``, then the ``key=value`` overrides, then
    ``out_dir``. With ``resume`` and ``from_run``, the config saved in the run directory's
    latest checkpoint replaces ``base`` (read without opening any other file of the run),
    so ``--resume`` alone continues the run as it was, and overrides change only what
    they name (``--set steps=N`` extends it; :func:`resume_check` then refuses changes a
    resume cannot honour).
    """
    overrides = list(overrides)
    cfg = load_config(base, path, overrides)
    if out_dir:
        cfg = dataclasses.replace(cfg, out_dir=out_dir)
    if not (resume and from_run):
        return cfg
    run_dir = cfg.out_dir
    ck, _, saved = read_checkpoint_config(run_dir)
    saved_cfg = saved.get(key)
    if not isinstance(saved_cfg, dict):
        raise ValueError(f"{ck / 'config.json'} holds no training config to resume from")
    try:
        base = merge_config(base, saved_cfg)
    except ValueError as e:
        raise ValueError(f"the config saved in {ck} does not fit this version: {e}") from None
    cfg = load_config(base, path, overrides)
    return dataclasses.replace(cfg, out_dir=str(run_dir))
