"""Lion: sign-of-interpolated-momentum updates (Chen et al. 2023)."""

from __future__ import annotations

import math

import torch
from torch.optim import Optimizer

__all__ = ["Lion"]


class Lion(Optimizer):
    r"""The Lion optimizer ("EvoLved Sign Momentum").

    .. math::
        u_t = \mathrm{sign}(\beta_1 m_{t-1} + (1-\beta_1) g_t),\quad
        x_t = x_{t-1} - \eta\,(u_t + \lambda x_{t-1}),\quad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t .

    Every coordinate moves by exactly :math:`\eta` (plus decay), so Lion wants a learning
    rate 3–10× smaller than AdamW's.

    Parameters
    ----------
    params : iterable
    lr : float
    betas : (float, float)
        :math:`(\beta_1, \beta_2)`, default ``(0.9, 0.99)``.
    weight_decay : float
        Decoupled decay :math:`\lambda`.

    References
    ----------
    X. Chen et al., "Symbolic discovery of optimization algorithms", NeurIPS 2023.
    """

    def __init__(self, params, lr: float = 1e-4, betas=(0.9, 0.99), weight_decay: float = 0.0):
        if not (lr >= 0.0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a finite number >= 0, got {lr}")
        if not all(0.0 <= b < 1.0 for b in betas) or len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        if weight_decay < 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss if one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                u = (m * b1).add_(p.grad, alpha=1.0 - b1).sign_()
                if group["weight_decay"]:
                    p.mul_(1.0 - group["lr"] * group["weight_decay"])
                p.add_(u, alpha=-group["lr"])
                m.mul_(b2).add_(p.grad, alpha=1.0 - b2)
        return loss
