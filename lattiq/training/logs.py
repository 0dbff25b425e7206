"""What a training run reports: a JSONL metrics log, a progress bar, the parameter count."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lattiq.progress import progress

__all__ = ["JSONLLogger", "Progress", "count_parameters"]


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
        self.enabled = enabled
        self._t0 = time.perf_counter()
        self._items = 0
        # a bar on a terminal, plain lines in a log
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




def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
