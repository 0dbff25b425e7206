"""An exponential moving average of a module's weights."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["EMA"]


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
