"""Worker for test_dion's DDP test: a few Dion steps on a small MLP, single process or DDP.

Run as ``python ddp_dion_worker.py OUT.pt`` (one process, whole batch) or under
``torchrun --nproc_per_node 2`` (each rank a half of the same batch, gloo).
"""

from __future__ import annotations

import gc
import os
import sys

import torch
from torch import nn


def run(out_path: str) -> None:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    torch.set_num_threads(1)
    if world > 1:
        torch.distributed.init_process_group("gloo")
    from lattiq.training.optim import Dion

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16, bias=False), nn.Tanh(), nn.Linear(16, 3, bias=False))
    model = model.double()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 6, generator=g, dtype=torch.float64)
    y = torch.randn(8, 3, generator=g, dtype=torch.float64)
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = Dion(model.parameters(), lr=0.05, rank_fraction=0.5, weight_decay=0.01, seed=3)
    per = x.shape[0] // world
    xs, ys = x[rank * per : (rank + 1) * per], y[rank * per : (rank + 1) * per]
    for _ in range(5):
        opt.zero_grad()
        loss = ((net(xs) - ys) ** 2).mean()
        loss.backward()
        opt.step()
    if rank == 0:
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, out_path)
    if world > 1:
        # release the DDP wrapper, then let every rank reach here before the group is torn
        # down: a live DDP reducer at teardown or exit can abort the process under gloo
        del net
        gc.collect()
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    run(sys.argv[1])
