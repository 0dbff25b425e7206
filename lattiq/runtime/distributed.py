"""Where a process stands: single process or one rank of a ``torchrun`` job.

:func:`setup_distributed` joins the process group ``torchrun`` describes (gloo on CPU, nccl
on GPU) or runs single-process; :class:`DistInfo` says which; the helpers average values
and gradients over ranks and are no-ops for a single process.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "DistInfo",
    "all_reduce_mean",
    "barrier",
    "cleanup_distributed",
    "resolve_device",
    "setup_distributed",
    "sync_gradients",
    "unwrap",
]


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
    if info.distributed and dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    """Wait for every process (no-op when single-process)."""
    if info.distributed:
        dist.barrier()


def all_reduce_mean(x: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Mean of ``x`` over all processes (``x`` itself when single-process)."""
    if not info.distributed:
        return x
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




def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a DDP / compiled wrapper."""
    m: nn.Module = module
    while True:
        inner = getattr(m, "module", None) or getattr(m, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return m
        m = inner
