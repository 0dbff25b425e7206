"""Deterministic, step-indexed data loading for single-process and DDP training.

The batch that rank ``r`` sees at step ``s`` is a function of ``(seed, s, r)`` only: global
sample position ``g = (s·world + r)·batch + j`` picks index ``perm_e[g mod n]`` with
``e = g // n`` and ``perm_e`` a permutation drawn from ``seed + e``. Each sample also gets
``g`` as its ``draw`` number, from which datasets seed their random crops. So the data do
not depend on the number of workers, and resuming at step ``s`` needs no loader state.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

__all__ = ["StepBatchSampler", "make_eval_loader", "make_train_loader", "match_channels"]


class StepBatchSampler(Sampler[list[tuple[int, int]]]):
    """Yields, per step, a list of ``(index, draw)`` keys for this rank's batch."""

    def __init__(
        self,
        n: int,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        start_step: int = 0,
        steps: int | None = None,
        shuffle: bool = True,
    ):
        if n <= 0:
            raise ValueError("cannot sample from an empty dataset")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.n, self.batch_size, self.seed = int(n), int(batch_size), int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.start_step, self.steps, self.shuffle = int(start_step), steps, shuffle
        self._perm: tuple[int, torch.Tensor] | None = None

    def _index(self, g: int) -> int:
        if not self.shuffle:
            return g % self.n
        epoch = g // self.n
        if self._perm is None or self._perm[0] != epoch:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = (epoch, torch.randperm(self.n, generator=gen))
        return int(self._perm[1][g % self.n])

    def batch(self, step: int) -> list[tuple[int, int]]:
        base = (step * self.world_size + self.rank) * self.batch_size
        return [(self._index(g), g) for g in range(base, base + self.batch_size)]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start_step
        while self.steps is None or step < self.steps:
            yield self.batch(step)
            step += 1

    def __len__(self) -> int:
        if self.steps is None:
            raise TypeError("an endless sampler has no length")
        return max(0, self.steps - self.start_step)


def make_train_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    start_step: int = 0,
    steps: int | None = None,
    workers: int = 0,
    shuffle: bool | None = None,
) -> DataLoader:
    """Endless (or ``steps``-long) loader of per-rank batches, from ``start_step`` on.

    ``shuffle`` defaults to ``True`` except for virtual random-crop datasets (``natural``
    training crops), whose samples are already random.
    """
    if shuffle is None:
        shuffle = not getattr(dataset, "virtual", False)
    sampler = StepBatchSampler(
        len(dataset), batch_size, seed, rank, world_size, start_step, steps, shuffle
    )
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=torch.cuda.is_available(),
    )


def make_eval_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    limit: int | None = None,
    rank: int = 0,
    world_size: int = 1,
    workers: int = 0,
) -> DataLoader:
    """The first ``limit`` samples (all if ``None``), in order, this rank's share of them."""
    n = len(dataset) if limit is None else min(int(limit), len(dataset))
    idx = list(range(rank, n, world_size))
    batches = [[(i, i) for i in idx[k : k + batch_size]] for k in range(0, len(idx), batch_size)]
    return DataLoader(dataset, batch_sampler=batches, num_workers=workers)


def match_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, channels, H, W): gray repeated to RGB, RGB to luma (ITU-R BT.601)."""
    if x.shape[1] == channels:
        return x
    if x.shape[1] == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1).contiguous()
    if x.shape[1] == 3 and channels == 1:
        w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * w).sum(1, keepdim=True)
    raise ValueError(f"cannot convert {x.shape[1]}-channel images to {channels} channels")
