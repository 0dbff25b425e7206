"""Checkpoints: written atomically, read back checked, never a pickle.

A checkpoint is a directory ``run_dir/checkpoints/step_<step>/`` holding safetensors
weights (several named state dicts), ``config.json``, the optimizer / scheduler / RNG state
as safetensors + JSON (:mod:`lattiq.runtime.state_io`), and a manifest of SHA-256 hashes. It
is written to a temporary directory that is renamed into place, with a ``latest`` pointer
written last, so that a resumed run continues exactly; ``docs/formats.md`` describes the
files and what they guarantee.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from safetensors.torch import load, save
from torch import nn

from ._files import atomic_write_bytes, fsync_dir
from .config import config_to_dict
from .distributed import DistInfo, barrier
from .rng import get_rng_state, set_rng_state
from .state_io import state_to_bytes, unpack_state

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "estimate_checkpoint_bytes",
    "find_checkpoint",
    "load_checkpoint",
    "read_checkpoint_config",
    "save_checkpoint",
]


#: Written into every checkpoint's ``manifest.json``.
CHECKPOINT_FORMAT = "lattiq-checkpoint-v2"
#: Weight names a checkpoint cannot use (the training state's own files).
_RESERVED = {"state", "manifest"}
_STEP_NAME = re.compile(r"step_\d{8}")



def _cpu_state(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # clone: safetensors refuses tensors that share storage (tied weights)
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}



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
    :mod:`lattiq.runtime.state_io`; no pickle), and ``manifest.json`` with the size and
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
    bad = _RESERVED & set(weights)
    if bad:
        raise ValueError(f"weights cannot be named {sorted(bad)}: those names are reserved")
    info = info or DistInfo()
    rng = get_rng_state()
    if info.distributed:
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
            fsync_dir(tmp)
            if final.exists():
                old = root / f".{name}.old-{os.getpid()}"
                os.replace(final, old)
                os.replace(tmp, final)
                shutil.rmtree(old)
            else:
                os.replace(tmp, final)
            fsync_dir(root)
            atomic_write_bytes(root / "latest", (name + "\n").encode())
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
    barrier(info)
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
