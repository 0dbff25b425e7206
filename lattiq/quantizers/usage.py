"""Codebook usage statistics that a training loop can log cheaply.

The histogram lives on the quantizer's device and is updated with one ``index_add_`` per
forward; nothing is copied to the host until a statistic is read with ``.item()``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["CodeUsage", "HASHED_USAGE_BINS", "MAX_EXACT_USAGE_SIZE"]

#: Codebooks up to this size get an exact histogram (int64, 32 MiB at most)...
MAX_EXACT_USAGE_SIZE = 2**22
#: ...larger ones a hashed histogram of this many bins (``k mod bins``).
HASHED_USAGE_BINS = 2**20


class CodeUsage:
    """Histogram of code indices with entropy and perplexity.

    .. math::
        H = -\\sum_k p_k \\log_2 p_k, \\qquad p_k = n_k / \\textstyle\\sum_j n_j,
        \\qquad \\mathrm{PPL} = 2^{H}

    Not an ``nn.Module`` on purpose: its counts are per-rank state that DDP must not
    broadcast from rank 0. The owning quantizer moves it with ``.to()``/``.cuda()``; ranks
    are combined only when :meth:`sync` is called.

    Parameters
    ----------
    size : int
        Codebook size ``K``. Above :data:`MAX_EXACT_USAGE_SIZE` indices are hashed
        (``k mod 2^20``) into :data:`HASHED_USAGE_BINS` bins, so ``used_codes`` and the
        entropy are then lower bounds.
    """

    def __init__(self, size: int, device: torch.device | str | None = None):
        if size < 1:
            raise ValueError(f"codebook size must be positive, got {size}")
        self.size = int(size)
        self.exact = self.size <= MAX_EXACT_USAGE_SIZE
        self.bins = self.size if self.exact else HASHED_USAGE_BINS
        self.counts = torch.zeros(self.bins, dtype=torch.long, device=device)

    def to(self, *args, **kwargs) -> CodeUsage:
        """Move the histogram (dtype arguments are ignored: counts stay int64)."""
        device = None
        for a in args:
            if isinstance(a, (torch.device, str)):
                device = a
            elif isinstance(a, torch.Tensor):
                device = a.device
        device = kwargs.get("device", device)
        if device is not None:
            self.counts = self.counts.to(device)
        return self

    @torch.no_grad()
    def update(self, indices: torch.Tensor) -> None:
        """Count ``indices`` (any shape, int64); negative entries (sentinels) are ignored."""
        flat = indices.reshape(-1).to(self.counts.device)
        valid = flat >= 0
        if not self.exact:
            flat = torch.remainder(flat, self.bins)
        self.counts.index_add_(0, flat.clamp(min=0), valid.long())

    def reset(self) -> None:
        """Zero the histogram."""
        self.counts.zero_()

    def total(self) -> torch.Tensor:
        """Number of counted indices (0-dim LongTensor)."""
        return self.counts.sum()

    def used_codes(self) -> torch.Tensor:
        """Number of distinct codes seen (0-dim LongTensor)."""
        return (self.counts > 0).sum()

    def usage_fraction(self) -> torch.Tensor:
        """``used_codes / K`` (0-dim float tensor)."""
        return self.used_codes().double() / self.size

    def entropy(self) -> torch.Tensor:
        """Entropy of the index histogram in bits (0-dim float64 tensor, 0 when empty)."""
        c = self.counts.double()
        tot = c.sum()
        p = c / tot.clamp(min=1)
        h = -(torch.where(p > 0, p * torch.log2(p), torch.zeros_like(p))).sum()
        return torch.where(tot > 0, h, torch.zeros_like(h))

    def perplexity(self) -> torch.Tensor:
        """``2^H``: the effective number of codes in use (0-dim float64 tensor)."""
        return torch.exp2(self.entropy())

    def max_entropy(self) -> float:
        """``log2 K``, the entropy of a uniform histogram."""
        return math.log2(self.size)

    def sync(self, process_group=None) -> None:
        """Sum the histograms of all ranks in place (``all_reduce``); no-op without a group."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return
        dist.all_reduce(self.counts, op=dist.ReduceOp.SUM, group=process_group)

    def state(self) -> dict:
        """Plain-Python summary for logging (one host copy)."""
        return {
            "total": int(self.total().item()),
            "used_codes": int(self.used_codes().item()),
            "entropy_bits": float(self.entropy().item()),
            "perplexity": float(self.perplexity().item()),
        }

    def __repr__(self) -> str:
        return f"CodeUsage(size={self.size}, device={self.counts.device})"
