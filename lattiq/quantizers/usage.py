"""Codebook usage: how often each code index is used, and the entropy of that use.

One tracker, :class:`CodeUsage`, for the quantizers' own always-on counter and for the
measurements of training logs, health checks and evaluation. It keeps its counts in one of
three ways, picked by the codebook size ``K``:

* ``K`` up to ``dense_limit`` (:data:`MAX_EXACT_USAGE_SIZE`, 2^22): one counter per code,
  updated with one ``index_add_`` per batch on the tracker's device, nothing copied to the
  host until a statistic is read;
* above it, with ``exact=False`` (the quantizers' counter): a hashed histogram of
  :data:`HASHED_USAGE_BINS` bins (``k mod 2^20``), fixed memory, so ``used_codes`` and the
  entropy are lower bounds;
* above it, with ``exact=True`` (measurements): counters for the codes seen only, so the
  statistics are exact and memory grows with the number of distinct codes used, never with
  the codebook (``bsq-62`` has 2^62 codes).

The entropy and perplexity of a histogram are those of :mod:`lattiq.spherecodes.usage`:

.. math::
    H = -\\sum_k p_k \\log_2 p_k, \\qquad p_k = n_k / \\textstyle\\sum_j n_j,
    \\qquad \\mathrm{PPL} = 2^{H}
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.distributed as dist

from lattiq.spherecodes.usage import entropy as _entropy_bits
from lattiq.spherecodes.usage import max_min_ratio as _max_min_ratio

__all__ = ["CodeUsage", "HASHED_USAGE_BINS", "MAX_EXACT_USAGE_SIZE"]

#: Codebooks up to this size get one counter per code (int64, 32 MiB at most)...
MAX_EXACT_USAGE_SIZE = 2**22
#: ...larger ones, when not ``exact``, a hashed histogram of this many bins (``k mod bins``).
HASHED_USAGE_BINS = 2**20


class CodeUsage:
    """Counts of code indices, with entropy, perplexity and a summary for reports.

    Not an ``nn.Module`` on purpose: its counts are per-rank state that DDP must not
    broadcast from rank 0. The owning quantizer moves it with ``.to()``; ranks are combined
    only when :meth:`sync` is called.

    Parameters
    ----------
    size : int
        Codebook size ``K``.
    device : torch.device or str, optional
        Where the counts live (default CPU).
    exact : bool
        For codebooks above ``dense_limit``: count the codes seen exactly (memory grows with
        the distinct codes) instead of hashing them into :data:`HASHED_USAGE_BINS` bins.
        An exact tracker also checks every index (``ValueError`` outside ``[0, K)``); the
        hashed and dense counters of a quantizer never read indices back to the host, and
        skip negative ones (the ``nan_policy="sentinel"`` marker).
    dense_limit : int, optional
        Largest codebook given one counter per code (default :data:`MAX_EXACT_USAGE_SIZE`).
    """

    def __init__(self, size: int, device: torch.device | str | None = None, *,
                 exact: bool = False, dense_limit: int | None = None):
        if size < 1:
            raise ValueError(f"codebook size must be positive, got {size}")
        self.size = int(size)
        limit = MAX_EXACT_USAGE_SIZE if dense_limit is None else int(dense_limit)
        self.dense = self.size <= limit
        self.checked = bool(exact)
        self.exact = self.dense or self.checked
        self.bins = self.size if self.dense else (None if self.exact else HASHED_USAGE_BINS)
        #: one counter per code (dense) or per hash bin; ``None`` when counting sparsely
        self.counts = (torch.zeros(self.bins, dtype=torch.long, device=device)
                       if self.bins is not None else None)  # fmt: skip
        self._codes = torch.zeros(0, dtype=torch.long, device=device)  # sorted codes seen
        self._code_counts = torch.zeros(0, dtype=torch.long, device=device)

    @property
    def device(self) -> torch.device:
        return (self.counts if self.counts is not None else self._codes).device

    def to(self, *args, **kwargs) -> CodeUsage:
        """Move the counts (dtype arguments are ignored: counts stay int64)."""
        device = None
        for a in args:
            if isinstance(a, (torch.device, str)):
                device = a
            elif isinstance(a, torch.Tensor):
                device = a.device
        device = kwargs.get("device", device)
        if device is not None:
            if self.counts is not None:
                self.counts = self.counts.to(device)
            self._codes = self._codes.to(device)
            self._code_counts = self._code_counts.to(device)
        return self

    @torch.no_grad()
    def update(self, indices: torch.Tensor | Iterable[torch.Tensor]) -> None:
        """Count ``indices``: a tensor of any shape, or the per-scale tensors of a
        multi-scale code."""
        if isinstance(indices, torch.Tensor):
            indices = [indices]
        for idx in indices:
            flat = idx.detach().reshape(-1).to(self.device, torch.long)
            if self.checked and flat.numel() and (int(flat.min()) < 0
                                                  or int(flat.max()) >= self.size):
                raise ValueError(f"indices must lie in [0, {self.size}), got "
                                 f"[{int(flat.min())}, {int(flat.max())}]")
            if self.counts is None:
                keys = torch.cat([self._codes, flat])
                weights = torch.cat([self._code_counts, torch.ones_like(flat)])
                self._codes, inverse = torch.unique(keys, sorted=True, return_inverse=True)
                self._code_counts = torch.zeros_like(self._codes).index_add_(0, inverse,
                                                                             weights)
                continue
            valid = flat >= 0
            if not self.dense:
                flat = torch.remainder(flat, self.bins)
            self.counts.index_add_(0, flat.clamp(min=0), valid.long())

    def merge_counts(self, counts: torch.Tensor) -> None:
        """Add per-code counts (one counter per code only)."""
        if not self.dense:
            raise ValueError(f"a codebook of {self.size} codes is counted sparsely; "
                             "dense counts cannot be merged")
        self.counts += counts.to(self.counts.device, torch.long)

    def reset(self) -> None:
        """Zero the counts."""
        if self.counts is not None:
            self.counts.zero_()
        self._codes = self._codes[:0]
        self._code_counts = self._code_counts[:0]

    def used_counts(self) -> torch.Tensor:
        """The nonzero counts, in code (or bin) order (int64)."""
        c = self.counts if self.counts is not None else self._code_counts
        return c[c > 0]

    def total(self) -> torch.Tensor:
        """Number of counted indices (0-dim LongTensor)."""
        return (self.counts if self.counts is not None else self._code_counts).sum()

    def used_codes(self) -> torch.Tensor:
        """Number of distinct codes seen (0-dim LongTensor; a lower bound when hashed)."""
        return (self.counts if self.counts is not None else self._code_counts).gt(0).sum()

    def usage_fraction(self) -> torch.Tensor:
        """``used_codes / K`` (0-dim float tensor)."""
        return self.used_codes().double() / self.size

    def entropy(self) -> torch.Tensor:
        """Entropy of the index histogram in bits (0-dim float64 tensor on the tracker's
        device, 0 when empty): no host copy until it is read."""
        c = (self.counts if self.counts is not None else self._code_counts).double()
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
        """Sum the counts of all ranks in place (``all_reduce``); no-op without a group."""
        if not (dist.is_available() and dist.is_initialized()):
            return
        if self.counts is None:
            raise ValueError("counts kept per code seen (exact, above dense_limit) cannot be "
                             "summed over ranks in place")
        dist.all_reduce(self.counts, op=dist.ReduceOp.SUM, group=process_group)

    def state(self) -> dict:
        """Plain-Python summary for logging (one host copy)."""
        return {
            "total": int(self.total().item()),
            "used_codes": int(self.used_codes().item()),
            "entropy_bits": float(self.entropy().item()),
            "perplexity": float(self.perplexity().item()),
        }

    def summary(self) -> dict[str, float | int]:
        """What a tokenizer report gives: ``tokens``, ``used_codes``, ``usage_fraction``,
        ``entropy_bits``, ``perplexity`` and ``max_min_ratio`` (most- over least-used *used*
        code); perplexity 0 and ratio NaN when nothing was counted."""
        nz = self.used_counts().cpu().double().numpy()
        total = float(nz.sum())
        used = int(nz.size)
        if total == 0:
            return {"tokens": 0, "used_codes": 0, "usage_fraction": 0.0, "entropy_bits": 0.0,
                    "perplexity": 0.0, "max_min_ratio": float("nan")}  # fmt: skip
        h = _entropy_bits(nz)
        return {
            "tokens": int(total),
            "used_codes": used,
            "usage_fraction": used / self.size,
            "entropy_bits": h,
            "perplexity": 2.0**h,
            "max_min_ratio": _max_min_ratio(nz),
        }

    def __repr__(self) -> str:
        mode = "dense" if self.dense else ("sparse" if self.exact else "hashed")
        return f"CodeUsage(size={self.size}, {mode}, device={self.device})"
