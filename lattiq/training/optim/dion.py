"""Dion: orthonormalized low-rank updates for matrix parameters (Ahn et al. 2025).

Shape legend: a matrix parameter ``X`` is ``(m, n)`` (``m`` outputs, ``n`` inputs; higher
-dimensional weights are viewed as ``(shape[0], prod(shape[1:]))``), ``r`` the rank.

Each step, for gradient ``G`` and momentum buffer ``M``:

1. ``B = M + G``;
2. one power-iteration step from the previous right factor ``Q`` (``n × r``):
   ``P = orth(B Q)`` (``m × r``, orthonormal columns, by QR), ``R = Bᵀ P`` (``n × r``);
3. error feedback: ``M ← B − (1 − μ) P Rᵀ`` keeps what the rank-``r`` step did not use;
4. ``Q ← colnorm(R)``; the update is ``O = P Qᵀ`` scaled for the shape. Columns of ``R``
   that are numerical zeros (norm below ``√u`` times the largest, ``u`` the unit roundoff:
   the momentum has lower rank than ``r``) give no update and keep their old ``Q`` column.

At full rank and a fixed ``B`` the iteration is subspace iteration on ``B Bᵀ`` and ``O``
converges to the orthogonal polar factor ``U Vᵀ`` of ``B`` (what Muon approximates with
Newton-Schulz iterations), at a cost of one QR of an ``m × r`` matrix per step.

Under DDP the gradients are already averaged, so every rank holds the same ``B``; ``Q`` is
initialized from a fixed seed per parameter, so all ranks compute the same update without
extra communication (the sharded variant of the paper is not needed at this scale).
"""

from __future__ import annotations

import math

import torch
from torch.optim import Optimizer

__all__ = ["Dion", "dion_power_iteration", "column_normalize"]


def _acc_dtype(p: torch.Tensor) -> torch.dtype:
    return torch.float64 if p.dtype == torch.float64 else torch.float32


def _zero_level(norms: torch.Tensor, eps: float) -> torch.Tensor:
    """Column norms at or below this are numerical zeros: ``max(eps, sqrt(u) · max norm)``.

    When the momentum has rank below ``r`` (a gradient from a few distinct inputs), the extra
    columns of ``P`` span rounding noise and ``R``'s matching columns are ~``u·‖B‖``
    (``u`` the unit roundoff); normalizing them would turn noise into a full-size step.
    """
    rel = math.sqrt(torch.finfo(norms.dtype).eps)
    return torch.clamp(norms.max() * rel, min=eps)


def column_normalize(R: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    r"""Scale each column of ``R`` to unit Euclidean norm.

    .. math:: \mathrm{colnorm}(R)_{:,j} = R_{:,j} / \max(\lVert R_{:,j}\rVert_2, \epsilon)
    """
    return R / R.norm(dim=0, keepdim=True).clamp_min(eps)


def dion_power_iteration(B: torch.Tensor, Q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One power-iteration step of Dion: ``P = orth(B Q)``, ``R = Bᵀ P``.

    .. math:: P = \mathrm{QR}(B Q)_{Q}, \qquad R = B^\top P, \qquad P R^\top \approx B

    Parameters
    ----------
    B : Tensor (m, n)
    Q : Tensor (n, r), ``r <= min(m, n)``

    Returns
    -------
    P : Tensor (m, r)
        Orthonormal columns (``Pᵀ P = I``).
    R : Tensor (n, r)
        ``Bᵀ P``; ``P Rᵀ`` is the projection of ``B`` on the span of ``P``.

    References
    ----------
    K. Ahn, B. Xu, N. Abreu, J. Langford, "Dion: Distributed orthonormalized updates",
    arXiv:2504.05295 (2025), Algorithm 1.
    """
    P, _ = torch.linalg.qr(B @ Q, mode="reduced")
    R = B.t() @ P
    return P, R


class Dion(Optimizer):
    r"""Dion optimizer for matrix parameters.

    .. math::
        B_t = M_{t-1} + G_t,\quad P_t = \mathrm{orth}(B_t Q_{t-1}),\quad R_t = B_t^\top P_t,
        \quad M_t = B_t - (1-\mu) P_t R_t^\top,\quad Q_t = \mathrm{colnorm}(R_t),

    .. math::
        X_t = (1 - \eta\lambda) X_{t-1} - \eta\, s(m, n)\, P_t Q_t^\top .

    Parameters
    ----------
    params : iterable of Tensors or dicts
        Parameters with at least two dimensions (use AdamW / Lion for the rest).
    lr : float
        :math:`\eta`.
    momentum : float
        :math:`\mu \in [0, 1)`: the fraction of the low-rank step that stays in the buffer.
    rank : int, optional
        Rank ``r`` of the update; default: ``rank_fraction · min(m, n)``.
    rank_fraction : float
        Used when ``rank`` is None; ``1.0`` is full rank.
    weight_decay : float
        Decoupled weight decay :math:`\lambda`.
    scale : {"spectral", "rms", "none"}
        :math:`s(m, n)`: ``"spectral"`` is the paper's :math:`\sqrt{m/n}` (unit RMS-to-RMS
        operator norm); ``"rms"`` is :math:`0.2\sqrt{\max(m, n)}`, which gives a full-rank
        update the RMS of an AdamW update so that AdamW learning rates carry over (the same
        rule as ``torch.optim.Muon(adjust_lr_fn="match_rms_adamw")``); ``"none"`` is 1.
    seed : int
        Seed of the random initial right factors (one stream per parameter, the same on
        every rank).

    References
    ----------
    K. Ahn, B. Xu, N. Abreu, J. Langford, "Dion: Distributed orthonormalized updates",
    arXiv:2504.05295 (2025).
    """

    def __init__(
        self,
        params,
        lr: float = 0.01,
        momentum: float = 0.95,
        rank: int | None = None,
        rank_fraction: float = 1.0,
        weight_decay: float = 0.0,
        scale: str = "spectral",
        seed: int = 0,
        eps: float = 1e-8,
    ):
        if not (lr >= 0.0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a finite number >= 0, got {lr}")
        if not (0.0 <= momentum < 1.0):
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if rank is not None and (not isinstance(rank, int) or rank < 1):
            raise ValueError(f"rank must be a positive integer or None, got {rank!r}")
        if not (0.0 < rank_fraction <= 1.0):
            raise ValueError(f"rank_fraction must be in (0, 1], got {rank_fraction}")
        if weight_decay < 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        if scale not in ("spectral", "rms", "none"):
            raise ValueError(f"scale must be 'spectral', 'rms' or 'none', got {scale!r}")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            rank=rank,
            rank_fraction=rank_fraction,
            weight_decay=weight_decay,
            scale=scale,
            eps=eps,
        )
        super().__init__(params, defaults)
        self._seed = int(seed)
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() < 2:
                    raise ValueError(
                        f"Dion takes matrix parameters only; got one of shape {tuple(p.shape)} "
                        "(give vectors to AdamW or Lion: see lattiq.training.optim.build_optimizer)"
                    )

    @staticmethod
    def _shape_scale(scale: str, m: int, n: int) -> float:
        if scale == "spectral":
            return math.sqrt(m / n)
        if scale == "rms":
            return 0.2 * math.sqrt(max(m, n))
        return 1.0

    def _init_state(self, p: torch.Tensor, group: dict, index: int) -> dict:
        m = p.shape[0]
        n = p.numel() // m
        r = group["rank"] or max(1, int(round(group["rank_fraction"] * min(m, n))))
        r = min(r, m, n)
        g = torch.Generator(device="cpu").manual_seed(self._seed * 1_000_003 + index)
        acc = _acc_dtype(p)
        Q = torch.randn(n, r, generator=g, dtype=acc)
        state = self.state[p]
        state["momentum"] = torch.zeros(m, n, dtype=acc, device=p.device)
        state["Q"] = column_normalize(Q).to(p.device)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss if one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        index = 0
        for group in self.param_groups:
            for p in group["params"]:
                index += 1
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state = self._init_state(p, group, index)
                m = p.shape[0]
                G = p.grad.reshape(m, -1).to(state["momentum"].dtype)
                M, Q = state["momentum"], state["Q"]
                B = M.add_(G)  # B = M + G, in place: M is rewritten below
                P, R = dion_power_iteration(B, Q)
                B.sub_(P @ R.t(), alpha=1.0 - group["momentum"])  # error feedback
                norms = R.norm(dim=0, keepdim=True)
                live = norms > _zero_level(norms, group["eps"])
                # a numerically zero column gives no update but keeps its old direction
                Q_step = torch.where(live, R / norms.clamp_min(group["eps"]), 0.0)
                state["Q"] = torch.where(live, Q_step, Q)
                O = P @ Q_step.t()
                s = self._shape_scale(group["scale"], m, O.shape[1])
                if group["weight_decay"]:
                    p.mul_(1.0 - group["lr"] * group["weight_decay"])
                p.add_(O.reshape(p.shape).to(p.dtype), alpha=-group["lr"] * s)
        return loss
