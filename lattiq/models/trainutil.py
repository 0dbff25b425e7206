"""Training utilities shared by the tokenizer and generator scripts.

Everything a training script needs besides its model and loss, each piece small and
testable on its own:

* config dataclasses <-> YAML/JSON files, with ``--set key.sub=value`` overrides and a
  readable difference between two configs;
* distributed set-up from ``torchrun``'s environment (gloo on CPU, nccl on GPU) or a single
  process, and gradient averaging for modules kept outside DDP;
* learning-rate schedules ``"fast"`` and ``"standard"`` (linear warm-up, then cosine);
* an exponential moving average of weights;
* a JSONL metrics log and a tqdm progress bar with loss, throughput and ETA;
* atomic checkpoints: safetensors weights (several named state dicts) + JSON config +
  optimizer / scheduler / RNG state as safetensors + JSON (no pickle), with a manifest of
  SHA-256 hashes, written to a temporary directory that is renamed into place, with a
  ``latest`` pointer written last, so that a resumed run continues exactly; the config a
  resumed or extended run starts from; run directories (locks, refusals, clean resumes)
  come from :mod:`lattiq.models.rundir`;
* a PNG grid of images.

Shape legend: ``B`` batch, ``C`` channels, ``H``, ``W`` image height and width.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import math
import os
import random
import re
import shutil
import sys
import time
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .rundir import RunDir, check_output_file, check_writable_dir, open_run_dir

__all__ = [
    "SCHEDULES",
    "Checkpoint",
    "DistInfo",
    "EMA",
    "JSONLLogger",
    "Progress",
    "RunDir",
    "all_reduce_mean",
    "check_output_file",
    "check_writable_dir",
    "cleanup_distributed",
    "config_diff",
    "count_parameters",
    "config_from_dict",
    "estimate_checkpoint_bytes",
    "config_to_dict",
    "find_checkpoint",
    "get_rng_state",
    "load_checkpoint",
    "load_config",
    "lr_multiplier",
    "make_lr_scheduler",
    "merge_config",
    "open_run_dir",
    "parse_overrides",
    "read_checkpoint_config",
    "resolve_device",
    "restore_lr_scheduler",
    "resume_check",
    "run_config",
    "save_checkpoint",
    "save_config",
    "save_image_grid",
    "seed_everything",
    "set_rng_state",
    "setup_distributed",
    "sync_gradients",
    "unwrap",
]


# ---------------------------------------------------------------------------------------------
# Config: dataclass <-> dict / file, overrides, differences
# ---------------------------------------------------------------------------------------------


def config_to_dict(cfg: Any) -> dict:
    """A (nested) config dataclass as a plain dict of JSON-ready values."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"expected a dataclass instance, got {type(cfg).__name__}")
    return _to_plain(dataclasses.asdict(cfg))


def _to_plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _to_plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_to_plain(x) for x in v]
    if isinstance(v, Path):
        return str(v)
    return v


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _dataclass_in(tp: Any) -> type | None:
    """The dataclass type inside ``tp`` (``X``, ``X | None``, ``Optional[X]``), if any."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return tp
    for a in typing.get_args(tp):
        if dataclasses.is_dataclass(a) and isinstance(a, type):
            return a
    return None


def _check_value(name: str, tp: Any, v: Any) -> Any:
    """Coerce ``v`` to the annotated type ``tp`` where that is lossless; else raise."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if v is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _check_value(name, a, v)
            except (TypeError, ValueError):
                pass
        raise ValueError(f"config key {name!r}: {v!r} does not fit {tp}")
    if tp is Any:
        return v
    if origin in (list, Sequence, tuple):
        if not isinstance(v, (list, tuple)):
            raise ValueError(f"config key {name!r}: expected a list, got {v!r}")
        (item,) = typing.get_args(tp)[:1] or (Any,)
        return [_check_value(name, item, x) for x in v]
    if origin in (dict, Mapping):
        if not isinstance(v, dict):
            raise ValueError(f"config key {name!r}: expected a mapping, got {v!r}")
        return dict(v)
    if tp is bool:
        if isinstance(v, bool):
            return v
        raise ValueError(f"config key {name!r}: expected true/false, got {v!r}")
    if tp is int:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or float(v) != int(v):
            raise ValueError(f"config key {name!r}: expected an integer, got {v!r}")
        return int(v)
    if tp is float:
        if isinstance(v, str):  # YAML 1.1 reads "1e-4" as a string
            try:
                v = float(v)
            except ValueError:
                pass
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"config key {name!r}: expected a number, got {v!r}")
        return float(v)
    if tp is str:
        if not isinstance(v, str):
            raise ValueError(f"config key {name!r}: expected a string, got {v!r}")
        return v
    if type(None) is tp:
        if v is not None:
            raise ValueError(f"config key {name!r}: expected null, got {v!r}")
        return None
    return v


def merge_config(cfg: Any, updates: Mapping[str, Any], _prefix: str = "") -> Any:
    """Return a copy of dataclass ``cfg`` with the (nested, partial) ``updates`` applied.

    Unknown keys raise ``ValueError`` naming the key and listing the valid ones; values are
    checked against the field annotations (an int where a float is expected is accepted).
    """
    if not isinstance(updates, Mapping):
        where = _prefix.rstrip(".") or "<root>"
        raise ValueError(f"config section {where!r} must be a mapping, got {updates!r}")
    types_ = _field_types(type(cfg))
    changes: dict[str, Any] = {}
    for key, value in updates.items():
        full = f"{_prefix}{key}"
        if key not in types_:
            raise ValueError(
                f"unknown config key {full!r}; valid keys here: {', '.join(sorted(types_))}"
            )
        sub_cls = _dataclass_in(types_[key])
        current = getattr(cfg, key)
        if sub_cls is not None and isinstance(value, Mapping):
            base = current if current is not None else sub_cls()
            changes[key] = merge_config(base, value, _prefix=f"{full}.")
        elif sub_cls is not None and value is not None and not dataclasses.is_dataclass(value):
            raise ValueError(f"config key {full!r} is a section; give a mapping, got {value!r}")
        elif dataclasses.is_dataclass(value):
            changes[key] = value
        else:
            changes[key] = _check_value(full, types_[key], value)
    return dataclasses.replace(cfg, **changes)


def config_from_dict(cls: type, d: Mapping[str, Any]) -> Any:
    """Build dataclass ``cls`` from a (nested) dict; missing keys take their defaults."""
    return merge_config(cls(), d)


def parse_overrides(items: Iterable[str]) -> dict:
    """``["a.b=1", "c=[1, 2]"]`` -> ``{"a": {"b": 1}, "c": [1, 2]}``; values parsed as YAML."""
    import yaml

    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like key=value (e.g. model.width=128)")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key or any(not p for p in key.split(".")):
            raise ValueError(f"override {item!r} has an empty key part")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as e:
            raise ValueError(f"override {item!r}: cannot parse value: {e}") from None
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {item!r} conflicts with an earlier override")
        node[parts[-1]] = value
    return out


def _deep_update(a: dict, b: Mapping) -> dict:
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _deep_update(dict(out[k]), v)
        else:
            out[k] = v
    return out


def read_config_file(path: str | os.PathLike) -> dict:
    """Read a YAML (``.yaml``/``.yml``) or JSON (``.json``) config file into a dict.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file for
    one that does not parse, is not text, or does not hold a mapping.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file {str(p)!r} does not exist (or is not a file)")
    suffix = p.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise ValueError(f"config file {str(p)!r}: use a .yaml, .yml or .json file")
    if p.stat().st_size > _MAX_CONFIG_BYTES:
        raise ValueError(f"config file {str(p)!r} is larger than "
                         f"{_MAX_CONFIG_BYTES // 2**20} MiB: not a config")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"config file {str(p)!r} is not UTF-8 text ({e.reason} at byte "
                         f"{e.start})") from None
    if suffix == ".json":
        try:
            d = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise ValueError(f"config file {str(p)!r} is not valid JSON: {e}") from None
    else:
        import yaml

        try:
            d = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError) as e:
            mark = getattr(e, "problem_mark", None)
            why = (f"{e.problem} (line {mark.line + 1}, column {mark.column + 1})"
                   if mark is not None and getattr(e, "problem", None) else " ".join(
                       str(e).split()))  # fmt: skip
            raise ValueError(f"config file {str(p)!r} is not valid YAML: {why}") from None
        d = {} if d is None else d
    if not isinstance(d, dict):
        raise ValueError(f"config file {str(p)!r} must hold a mapping at the top level, got "
                         f"{type(d).__name__}")
    _check_size(d, str(p))
    return d


#: Largest config file read, and most values in it (a YAML alias bomb expands without end).
_MAX_CONFIG_BYTES = 1 << 20
_MAX_CONFIG_NODES = 100_000


def _check_size(d: Any, where: str) -> None:
    todo, n = [d], 0
    while todo:
        v = todo.pop()
        n += 1
        if n > _MAX_CONFIG_NODES:
            raise ValueError(f"config file {where!r} holds more than {_MAX_CONFIG_NODES} "
                             "values (YAML aliases expanding?): not a config")
        if isinstance(v, dict):
            todo.extend(v.values())
        elif isinstance(v, list):
            todo.extend(v)


def load_config(
    base: Any, path: str | os.PathLike | None = None, overrides: Iterable[str] = ()
) -> Any:
    """``base`` (a dataclass instance), then the file at ``path``, then ``key=value`` overrides."""
    updates: dict = {}
    if path is not None:
        updates = read_config_file(path)
    updates = _deep_update(updates, parse_overrides(overrides))
    return merge_config(base, updates)


def save_config(cfg: Any, path: str | os.PathLike) -> None:
    """Write the config as JSON (atomically)."""
    d = cfg if isinstance(cfg, dict) else config_to_dict(cfg)
    _atomic_write_bytes(Path(path), (json.dumps(d, indent=2, sort_keys=True) + "\n").encode())


def config_diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Readable differences ``"key: a -> b"`` between two configs (dataclasses or dicts)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        a = config_to_dict(a)
    if dataclasses.is_dataclass(b) and not isinstance(b, type):
        b = config_to_dict(b)
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            name = f"{prefix}{k}"
            if k not in a:
                out.append(f"{name}: <absent> -> {b[k]!r}")
            elif k not in b:
                out.append(f"{name}: {a[k]!r} -> <absent>")
            else:
                out.extend(config_diff(a[k], b[k], prefix=f"{name}."))
        return out
    if isinstance(a, tuple):
        a = list(a)
    if isinstance(b, tuple):
        b = list(b)
    if a != b:
        out.append(f"{prefix.rstrip('.')}: {a!r} -> {b!r}")
    return out


# ---------------------------------------------------------------------------------------------
# Distributed
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: rank, world size, device and backend (``None`` if single)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.backend is not None


def resolve_device(device: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> ``cuda`` if available else ``cpu``; ``cuda`` -> ``cuda:<local_rank>``."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for but CUDA is not available; use cpu")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if device.startswith("cuda:") or device == "cpu" or device == "mps":
        return torch.device(device)
    raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")


def setup_distributed(device: str = "auto") -> DistInfo:
    """Join the process group ``torchrun`` describes, or run single-process.

    Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) the backend is nccl on CUDA and
    gloo on CPU; the CUDA device is ``LOCAL_RANK``. Otherwise nothing is initialised.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local)
    if world <= 1:
        return DistInfo(device=dev)
    import torch.distributed as dist

    backend = "nccl" if dev.type == "cuda" else "gloo"
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistInfo(rank=rank, local_rank=local, world_size=world, device=dev, backend=backend)


def cleanup_distributed(info: DistInfo) -> None:
    """Leave the process group if this process joined one.

    Drop every reference to a ``DistributedDataParallel`` wrapper before calling this: with
    gloo (torch 2.13), a process whose DDP reducer is still alive when the group is torn down
    or when the interpreter exits can abort ("terminate called without an active
    exception"); about one two-rank run in seven did so here, none once the wrapper was
    released first. The garbage collection below frees a wrapper caught in a cycle.
    """
    import torch.distributed as dist

    if info.distributed and dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def _barrier(info: DistInfo) -> None:
    if info.distributed:
        import torch.distributed as dist

        dist.barrier()


def all_reduce_mean(x: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Mean of ``x`` over all processes (``x`` itself when single-process)."""
    if not info.distributed:
        return x
    import torch.distributed as dist

    y = x.detach().clone()
    dist.all_reduce(y, op=dist.ReduceOp.SUM)
    return y / info.world_size


def sync_gradients(module: nn.Module, info: DistInfo) -> None:
    """Average ``.grad`` of ``module``'s parameters over processes (for modules outside DDP).

    Used for the discriminator and small loss heads, whose double-backward (R1) and
    ``autograd.grad`` (adaptive weight) uses are simpler without DDP's hooks. A missing grad
    counts as zero, so every process takes part in every all-reduce.
    """
    if not info.distributed:
        return
    import torch.distributed as dist

    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        return
    flat = torch.cat(
        [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
    )
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= info.world_size
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n


# ---------------------------------------------------------------------------------------------
# Seeds and RNG state
# ---------------------------------------------------------------------------------------------


def seed_everything(seed: int) -> None:
    """Seed python, numpy's legacy global generator and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - legacy global state, for libraries
    torch.manual_seed(seed)


def get_rng_state() -> dict:
    """Python, numpy, torch (and CUDA) RNG states, for an exact resume."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping) -> None:
    """Restore what :func:`get_rng_state` returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ---------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# EMA
# ---------------------------------------------------------------------------------------------


class EMA:
    r"""Exponential moving average of a module's floating-point parameters and buffers.

    .. math::
        \bar\theta \leftarrow \beta_t \bar\theta + (1-\beta_t)\,\theta, \qquad
        \beta_t = \min\bigl(\beta, \tfrac{1+t}{10+t}\bigr)

    (Polyak & Juditsky 1992; the warm-up of ``β_t`` as in TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``). Kept in float32.
    """

    def __init__(self, module: nn.Module, decay: float = 0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = float(decay)
        self.num_updates = 0
        self.shadow: dict[str, torch.Tensor] = {
            k: v.detach().float().clone()
            for k, v in module.state_dict().items()
            if v.dtype.is_floating_point
        }

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        beta = min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))
        self.num_updates += 1
        for k, v in module.state_dict().items():
            if k in self.shadow:
                self.shadow[k].mul_(beta).add_(v.detach().float(), alpha=1.0 - beta)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged tensors, keyed like the module's state dict."""
        return dict(self.shadow)

    def load_state_dict(self, state: Mapping[str, torch.Tensor], num_updates: int) -> None:
        """Restore the averages; entries that are not averaged (integer buffers) are ignored."""
        missing = set(self.shadow) - set(state)
        extra = {k for k, v in state.items() if v.dtype.is_floating_point} - set(self.shadow)
        if missing or extra:
            raise ValueError(
                f"EMA state does not match the model: missing {sorted(missing)[:5]}, "
                f"unexpected {sorted(extra)[:5]}"
            )
        for k in self.shadow:
            self.shadow[k].copy_(state[k])
        self.num_updates = int(num_updates)

    @torch.no_grad()
    def copy_to(self, module: nn.Module) -> None:
        """Overwrite ``module``'s weights with the averages."""
        sd = module.state_dict()
        for k, v in self.shadow.items():
            sd[k].copy_(v.to(sd[k].dtype))

    @contextmanager
    def swapped_in(self, module: nn.Module):
        """Context in which ``module`` holds the EMA weights; its own come back after."""
        backup = {k: v.detach().clone() for k, v in module.state_dict().items()}
        self.copy_to(module)
        try:
            yield module
        finally:
            module.load_state_dict(backup)


# ---------------------------------------------------------------------------------------------
# Logging and progress
# ---------------------------------------------------------------------------------------------


class JSONLLogger:
    """Append one JSON object per call to ``path`` (only where ``enabled``, i.e. rank 0)."""

    def __init__(self, path: str | os.PathLike, enabled: bool = True):
        self.path = Path(path)
        self.enabled = enabled
        self._fh = None
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", buffering=1)

    def log(self, record: Mapping[str, Any] | None = None, **fields: Any) -> None:
        if not self.enabled:
            return
        rec = {"time": time.time(), **(record or {}), **fields}
        self._fh.write(json.dumps(_jsonable(rec), sort_keys=False) + "\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _jsonable(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return v.item() if v.numel() == 1 else v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


class Progress:
    """tqdm bar over steps with the loss, images per second and ETA (rank 0 only)."""

    def __init__(self, total: int, initial: int = 0, enabled: bool = True, desc: str = "train"):
        from lattiq.progress import progress  # a bar on a terminal, plain lines in a log

        self.enabled = enabled
        self._t0 = time.perf_counter()
        self._items = 0
        self.bar = progress(total, initial=initial, desc=desc, unit="steps") if enabled else None

    def update(self, steps: int = 1, items: int = 0, **metrics: float) -> None:
        self._items += items
        if self.bar is None:
            return
        dt = max(time.perf_counter() - self._t0, 1e-9)
        post = {k: f"{float(v):.4g}" for k, v in metrics.items()}
        post["img/s"] = f"{self._items / dt:.1f}"
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(steps)

    def write(self, msg: str) -> None:
        if self.bar is not None:
            self.bar.write(msg)
        elif self.enabled:
            print(msg, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------

#: Written into every checkpoint's ``manifest.json``.
CHECKPOINT_FORMAT = "lattiq-checkpoint-v2"
#: Weight names a checkpoint cannot use (the training state's own files).
_RESERVED = {"state", "manifest"}
_STEP_NAME = re.compile(r"step_\d{8}")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _cpu_state(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # clone: safetensors refuses tensors that share storage (tied weights)
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns."""

    path: Path
    step: int
    config: dict
    weights: dict[str, dict[str, torch.Tensor]]
    state: dict


def save_checkpoint(
    run_dir: str | os.PathLike,
    step: int,
    *,
    weights: Mapping[str, Mapping[str, torch.Tensor]],
    config: Any,
    state: Mapping[str, Any] | None = None,
    info: DistInfo | None = None,
    keep: int = 2,
) -> Path | None:
    """Write ``run_dir/checkpoints/step_<step>/`` atomically; call on every rank.

    The directory holds ``<name>.safetensors`` for each named state dict in ``weights``,
    ``config.json``, the training state (``state`` plus every rank's RNG state and the
    step) as ``state.safetensors`` (its tensors) + ``state.json`` (the rest, see
    :mod:`lattiq.models.state_io`; no pickle), and ``manifest.json`` with the size and
    SHA-256 of every other file. It is written under a temporary name, flushed to disk
    and renamed into place; then ``run_dir/checkpoints/latest`` is replaced to name it.
    Older checkpoints beyond ``keep`` are removed. Returns the checkpoint directory on
    rank 0, ``None`` elsewhere.

    Raises
    ------
    OSError
        If the checkpoint cannot be written (disk full, read-only); the temporary
        directory is removed and the previous checkpoint is left as it was.
    """
    from safetensors.torch import save

    from .state_io import state_to_bytes

    bad = _RESERVED & set(weights)
    if bad:
        raise ValueError(f"weights cannot be named {sorted(bad)}: those names are reserved")
    info = info or DistInfo()
    rng = get_rng_state()
    if info.distributed:
        import torch.distributed as dist

        rngs: list | None = [None] * info.world_size if info.is_main else None
        dist.gather_object(rng, rngs, dst=0)
    else:
        rngs = [rng]
    out = None
    if info.is_main:
        root = Path(run_dir) / "checkpoints"
        name = f"step_{step:08d}"
        final = root / name
        tmp = root / f".{name}.tmp-{os.getpid()}"
        cfg = config if isinstance(config, dict) else config_to_dict(config)
        full_state = {"step": int(step), "world_size": info.world_size, "rng": rngs}
        full_state.update(state or {})
        files = {f"{w}.safetensors": save(_cpu_state(sd), {"step": str(step), "name": w})
                 for w, sd in weights.items()}  # fmt: skip
        files["config.json"] = (json.dumps(cfg, indent=2, sort_keys=True) + "\n").encode()
        files["state.safetensors"], files["state.json"] = state_to_bytes(full_state)
        manifest = {"format": CHECKPOINT_FORMAT, "step": int(step), "files": {
            f: {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
            for f, b in sorted(files.items())}}  # fmt: skip
        files["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
        try:
            root.mkdir(parents=True, exist_ok=True)
            if tmp.exists():
                shutil.rmtree(tmp)
            tmp.mkdir()
            for f, data in files.items():
                with open(tmp / f, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            _fsync_dir(tmp)
            if final.exists():
                old = root / f".{name}.old-{os.getpid()}"
                os.replace(final, old)
                os.replace(tmp, final)
                shutil.rmtree(old)
            else:
                os.replace(tmp, final)
            _fsync_dir(root)
            _atomic_write_bytes(root / "latest", (name + "\n").encode())
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            latest = root / "latest"
            prev = latest.read_text().strip() if latest.is_file() else "none"
            err = type(e)(f"could not write checkpoint {final}: {e.strerror or e}; the "
                          f"previous checkpoint ({prev}) is left as it was")
            err.errno = e.errno
            raise err from None
        steps = sorted(p for p in root.iterdir()
                       if p.is_dir() and _STEP_NAME.fullmatch(p.name))  # fmt: skip
        for p in steps[: max(0, len(steps) - keep)]:
            if p != final:
                shutil.rmtree(p, ignore_errors=True)
        out = final
    _barrier(info)
    return out


def find_checkpoint(path: str | os.PathLike) -> Path:
    """Resolve a run directory, its ``checkpoints/`` folder or a checkpoint directory.

    In a ``checkpoints/`` folder, ``latest`` names the checkpoint; without it (a run killed
    between renaming its first checkpoint into place and writing ``latest``) the newest
    ``step_*`` directory is used: a directory of that name is complete, since checkpoints
    are renamed into place only once fully written.
    """
    p = Path(path)
    for root in (p / "checkpoints", p):
        latest = root / "latest"
        if not latest.is_file() and root.name == "checkpoints" and root.is_dir():
            done = sorted(d for d in root.iterdir() if _STEP_NAME.fullmatch(d.name)
                          and d.is_dir() and (d / "config.json").is_file())  # fmt: skip
            if done:
                return done[-1]
        if latest.is_file():
            name = latest.read_text(errors="replace").strip()
            if not _STEP_NAME.fullmatch(name):
                raise ValueError(f"{latest} should name a checkpoint (step_NNNNNNNN), it holds "
                                 f"{name[:60]!r}")
            target = root / name
            if not target.is_dir():
                raise FileNotFoundError(f"{latest} names {target}, which does not exist")
            return target
    if any((p / f).is_file() for f in ("manifest.json", "config.json", "state.pt")):
        return p
    raise FileNotFoundError(
        f"no checkpoint at {str(p)!r}: expected a run directory with checkpoints/latest, "
        "or a checkpoint directory holding config.json and *.safetensors"
    )


class _CheckpointFiles:
    """Reads the files of one checkpoint directory, each checked against its manifest."""

    def __init__(self, path: Path):
        self.path = path
        self.manifest: dict | None = None
        m = path / "manifest.json"
        if m.is_file():
            self.manifest = self._json(m.read_bytes(), m)
            files = self.manifest.get("files") if isinstance(self.manifest, dict) else None
            if (self.manifest.get("format") != CHECKPOINT_FORMAT or not isinstance(files, dict)
                    or not all(isinstance(v, dict) for v in files.values())):
                raise ValueError(f"{m} is not a {CHECKPOINT_FORMAT} manifest")
        elif (path / "state.json").is_file():
            raise ValueError(f"checkpoint {path} has state.json but no manifest.json: it is "
                             "incomplete or was altered")

    @staticmethod
    def _json(data: bytes, where: Path) -> Any:
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as e:
            raise ValueError(f"{where} is not valid JSON ({e})") from None

    def names(self) -> list[str]:
        if self.manifest is not None:
            return sorted(self.manifest["files"])
        return sorted(f.name for f in self.path.iterdir() if f.is_file())

    def read(self, name: str) -> bytes:
        p = self.path / name
        if self.manifest is not None and name not in self.manifest["files"]:
            raise ValueError(f"{p} is not listed in the checkpoint's manifest.json")
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"checkpoint file {p} is missing") from None
        if self.manifest is not None:
            want = self.manifest["files"][name]
            if len(data) != want.get("bytes") or hashlib.sha256(data).hexdigest() != want.get(
                    "sha256"):
                raise ValueError(
                    f"checkpoint file {p} is corrupt or truncated: {len(data)} bytes whose "
                    f"SHA-256 does not match manifest.json ({want.get('bytes')} bytes "
                    "expected)"
                )
        return data

    def json(self, name: str) -> Any:
        return self._json(self.read(name), self.path / name)

    def tensors(self, name: str, device: str) -> dict[str, torch.Tensor]:
        from safetensors.torch import load

        data = self.read(name)
        try:
            sd = load(data)
        except Exception as e:  # safetensors raises its own error type for a malformed file
            raise ValueError(f"{self.path / name} is not a valid safetensors file ({e})"
                             ) from None
        return {k: v.to(device) for k, v in sd.items()} if device != "cpu" else sd

    @property
    def step(self) -> int:
        if self.manifest is not None and type(self.manifest.get("step")) is int:
            return self.manifest["step"]
        m = re.fullmatch(r"step_(\d{8})", self.path.name)
        return int(m.group(1)) if m else -1


def read_checkpoint_config(path: str | os.PathLike) -> tuple[Path, int, dict]:
    """``(checkpoint directory, step, config)`` of the latest checkpoint at ``path``.

    Reads only ``latest``, ``manifest.json`` and ``config.json`` (checked against the
    manifest): nothing else in the directory is opened.
    """
    files = _CheckpointFiles(find_checkpoint(path))
    config = files.json("config.json") if "config.json" in files.names() else {}
    if not isinstance(config, dict):
        raise ValueError(f"{files.path / 'config.json'} must hold a JSON object")
    return files.path, files.step, config


def load_checkpoint(
    path: str | os.PathLike,
    *,
    info: DistInfo | None = None,
    with_state: bool = True,
    restore_rng: bool = False,
    map_location: str | torch.device = "cpu",
    check: Callable[[dict, int, Path], None] | None = None,
) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    ``path`` may be the run directory, its ``checkpoints/`` folder, or one checkpoint
    directory. Its config is read first and handed to ``check(config, step, directory)``,
    which may raise to refuse the checkpoint before any other file is read. Every file is checked
    against ``manifest.json`` (size and SHA-256) before it is parsed. With
    ``restore_rng`` this rank's RNG state is restored (when the world size is the one it
    was saved with).

    Checkpoints of an older format that kept the training state in ``state.pt`` (a
    pickle) still give their weights (``with_state=False``); their state is refused, never
    unpickled.

    Raises
    ------
    FileNotFoundError
        No checkpoint at ``path``, or one of its files is missing.
    ValueError
        A file is corrupt, truncated or malformed; the checkpoint is in the old pickle
        format and ``with_state`` was asked for; or ``check`` refused it.
    """
    from .state_io import unpack_state

    info = info or DistInfo()
    ck, step, config = read_checkpoint_config(path)
    if check is not None:
        check(config, step, ck)
    files = _CheckpointFiles(ck)
    state: dict = {}
    if with_state:
        if files.manifest is None or "state.json" not in files.names():
            old = " (state.pt, a pickle file, which lattiq does not read)" if (
                ck / "state.pt").exists() else ""
            raise ValueError(
                f"checkpoint {ck} has no training state in this version's format{old}: it "
                "cannot be resumed. Its weights can still be evaluated; to train, start a "
                "new run (--overwrite, or another --out)"
            )
        where = f"training state of {ck}"
        state = unpack_state(files.json("state.json"),
                             files.tensors("state.safetensors", "cpu"), where)
        if not isinstance(state, dict) or type(state.get("step")) is not int:
            raise ValueError(f"{where}: malformed (no step)")
        step = state["step"]
    weights = {
        f[: -len(".safetensors")]: files.tensors(f, str(map_location))
        for f in files.names()
        if f.endswith(".safetensors") and f[: -len(".safetensors")] not in _RESERVED
    }
    if restore_rng and state:
        rngs = state.get("rng") or []
        if state.get("world_size") == info.world_size and len(rngs) > info.rank:
            set_rng_state(rngs[info.rank])
        elif info.is_main:
            print(
                f"warning: checkpoint saved with world size {state.get('world_size')}, "
                f"running with {info.world_size}: RNG states not restored",
                file=sys.stderr,
            )
    return Checkpoint(path=ck, step=step, config=config, weights=weights, state=state)


def estimate_checkpoint_bytes(modules: Iterable[nn.Module | None],
                              optimizers: Iterable[Any] = ()) -> int:
    """Rough size of a checkpoint: the modules' state dicts (list a module twice for its
    EMA copy) plus two float32 slots per optimized parameter (Adam's moments)."""
    n = 0
    for m in modules:
        if m is not None:
            n += sum(t.numel() * t.element_size() for t in m.state_dict().values())
    for opt in optimizers:
        if opt is not None:
            n += sum(8 * p.numel() for g in opt.param_groups for p in g["params"])
    return n


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


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------


def save_image_grid(
    path: str | os.PathLike,
    images: torch.Tensor,
    nrow: int = 8,
    value_range: tuple[float, float] = (-1.0, 1.0),
    padding: int = 2,
) -> None:
    """Save a (B, C, H, W) batch (C = 1 or 3) as one PNG grid, ``nrow`` images per row."""
    from PIL import Image

    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            f"expected images (B, C, H, W) with C in (1, 3), got {tuple(images.shape)}"
        )
    lo, hi = value_range
    x = ((images.detach().float().cpu() - lo) / (hi - lo)).clamp(0, 1)
    b, c, h, w = x.shape
    ncol = min(nrow, b)
    nr = math.ceil(b / ncol)
    grid = torch.ones(c, nr * (h + padding) + padding, ncol * (w + padding) + padding)
    for i in range(b):
        r, q = divmod(i, ncol)
        y0, x0 = padding + r * (h + padding), padding + q * (w + padding)
        grid[:, y0 : y0 + h, x0 : x0 + w] = x[i]
    arr = (grid.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    if c == 1:
        arr = arr[:, :, 0]
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}.png")
    Image.fromarray(arr).save(tmp)
    os.replace(tmp, p)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a DDP / compiled wrapper."""
    m: nn.Module = module
    while True:
        inner = getattr(m, "module", None) or getattr(m, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return m
        m = inner
