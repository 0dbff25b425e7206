"""Optimizers of the generator and the one function that builds their parameter groups.

Roles of the parameters (decided by :func:`param_roles`):

* ``matrix``: weights of ``nn.Linear`` layers with at least two dimensions inside the
  network body: Dion (default) or ``torch.optim.Muon``;
* ``head``: the output head (parameters whose name starts with ``head.``): AdamW or Lion at
  learning rate ``lr / sqrt(fan_in)``, as in the paper's recipe for the 196,560-way head;
* ``embed``: embeddings and positional tables (names containing ``embed``): AdamW or Lion,
  no weight decay;
* ``vector``: everything else (biases, norm scales, AdaLN biases): AdamW or Lion, no decay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from .dion import Dion
from .lion import Lion

__all__ = ["Dion", "Lion", "OptimConfig", "OptimizerSet", "build_optimizer", "param_roles"]

MATRIX_OPTIMIZERS = ("dion", "muon", "adamw")
SCALAR_OPTIMIZERS = ("adamw", "lion")


@dataclass
class OptimConfig:
    """Optimizer settings (a field of the training config).

    Attributes
    ----------
    matrix : {"dion", "muon", "adamw"}
        Optimizer of the matrix weights (``adamw`` puts them with the rest, for ablations).
    scalar : {"adamw", "lion"}
        Optimizer of vectors, embeddings and the head.
    lr : float
        Base learning rate. Dion and Muon scale their orthonormal updates to the RMS of an
        AdamW update, so one ``lr`` serves all groups; ``matrix_lr`` overrides it.
    matrix_lr : float or None
    weight_decay : float
        Decoupled decay of matrices and head (not of vectors or embeddings).
    betas : [float, float]
    momentum : float
        Momentum of Dion / Muon.
    dion_rank_fraction : float
        Rank of Dion's update as a fraction of ``min(m, n)``.
    head_lr_scale : float or None
        Multiplier of the head's learning rate; None means ``1 / sqrt(fan_in)``.
    seed : int
        Seed of Dion's initial right factors.
    """

    matrix: str = "dion"
    scalar: str = "adamw"
    lr: float = 3e-4
    matrix_lr: float | None = None
    weight_decay: float = 0.05
    betas: list[float] = field(default_factory=lambda: [0.9, 0.95])
    momentum: float = 0.95
    dion_rank_fraction: float = 1.0
    head_lr_scale: float | None = None
    seed: int = 0


class OptimizerSet:
    """Several optimizers stepped together; ``param_groups`` lists all their groups.

    Every group carries ``base_lr`` (its learning rate before any schedule) and ``role``;
    a schedule sets ``group["lr"] = group["base_lr"] * factor``.
    """

    def __init__(self, optimizers: dict[str, torch.optim.Optimizer]):
        self.optimizers = optimizers

    @property
    def param_groups(self) -> list[dict]:
        return [g for opt in self.optimizers.values() for g in opt.param_groups]

    def set_lr_factor(self, factor: float) -> None:
        """Set every group's ``lr`` to ``base_lr * factor``."""
        for g in self.param_groups:
            g["lr"] = g["base_lr"] * factor

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for opt in self.optimizers.values():
            opt.step()

    def state_dict(self) -> dict:
        return {name: opt.state_dict() for name, opt in self.optimizers.items()}

    def load_state_dict(self, state: dict) -> None:
        if set(state) != set(self.optimizers):
            raise ValueError(
                f"optimizer state holds {sorted(state)}, this run builds {sorted(self.optimizers)}"
                " (was the checkpoint made with another optimizer choice?)"
            )
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state[name])


def param_roles(model: nn.Module) -> dict[str, str]:
    """Map each trainable parameter name to ``matrix``, ``head``, ``embed`` or ``vector``."""
    linear_weights = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)}
    embed_weights = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    roles = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.startswith("head.") or ".head." in name:
            roles[name] = "head"
        elif "embed" in name or id(p) in embed_weights:
            roles[name] = "embed"
        elif p.dim() >= 2 and id(p) in linear_weights:
            roles[name] = "matrix"
        else:
            roles[name] = "vector"
    return roles


def _head_fan_in(model: nn.Module, names: list[str]) -> int:
    params = dict(model.named_parameters())
    fan = [params[n].shape[1] for n in names if params[n].dim() >= 2]
    return max(fan) if fan else 1


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> OptimizerSet:
    r"""Build the generator's optimizers from one config: the one place parameter groups are made.

    Matrices go to Dion (Ahn et al. 2025) or Muon (Jordan et al. 2024); vectors, embeddings
    and the head to AdamW (Loshchilov & Hutter 2019) or Lion (Chen et al. 2023). The head's
    learning rate is

    .. math:: \eta_{\mathrm{head}} = \eta / \sqrt{\mathrm{fan\_in}}

    unless ``cfg.head_lr_scale`` is given.

    Parameters
    ----------
    model : nn.Module
        The (unwrapped) model; parameter roles come from :func:`param_roles`.
    cfg : OptimConfig

    Returns
    -------
    OptimizerSet
        ``optimizers`` has keys ``"matrix"`` (if any matrix parameter and a matrix optimizer
        other than AdamW) and ``"scalar"``.
    """
    if cfg.matrix not in MATRIX_OPTIMIZERS:
        raise ValueError(f"matrix optimizer must be one of {MATRIX_OPTIMIZERS}, got {cfg.matrix!r}")
    if cfg.scalar not in SCALAR_OPTIMIZERS:
        raise ValueError(f"scalar optimizer must be one of {SCALAR_OPTIMIZERS}, got {cfg.scalar!r}")
    if not (cfg.lr > 0 and math.isfinite(cfg.lr)):
        raise ValueError(f"lr must be a positive finite number, got {cfg.lr}")
    roles = param_roles(model)
    params = dict(model.named_parameters())
    by_role: dict[str, list[str]] = {"matrix": [], "head": [], "embed": [], "vector": []}
    for name, role in roles.items():
        by_role[role].append(name)
    head_scale = cfg.head_lr_scale
    if head_scale is None:
        head_scale = 1.0 / math.sqrt(_head_fan_in(model, by_role["head"]))
    mlr = cfg.matrix_lr if cfg.matrix_lr is not None else cfg.lr
    wd = cfg.weight_decay

    def group(role, names, lr, decay):
        return dict(
            params=[params[n] for n in names], lr=lr, base_lr=lr, weight_decay=decay, role=role
        )

    scalar_groups = []
    matrix_names = by_role["matrix"]
    if cfg.matrix == "adamw" and matrix_names:
        scalar_groups.append(group("matrix", matrix_names, mlr, wd))
        matrix_names = []
    for role, lr, decay in (
        ("head", cfg.lr * head_scale, wd),
        ("embed", cfg.lr, 0.0),
        ("vector", cfg.lr, 0.0),
    ):
        if by_role[role]:
            scalar_groups.append(group(role, by_role[role], lr, decay))
    optimizers: dict[str, torch.optim.Optimizer] = {}
    if matrix_names:
        mg = [group("matrix", matrix_names, mlr, wd)]
        if cfg.matrix == "dion":
            optimizers["matrix"] = Dion(
                mg,
                lr=mlr,
                momentum=cfg.momentum,
                rank_fraction=cfg.dion_rank_fraction,
                weight_decay=wd,
                scale="rms",
                seed=cfg.seed,
            )
        else:
            optimizers["matrix"] = torch.optim.Muon(
                mg, lr=mlr, momentum=cfg.momentum, weight_decay=wd, adjust_lr_fn="match_rms_adamw"
            )
    if scalar_groups:
        if cfg.scalar == "adamw":
            optimizers["scalar"] = torch.optim.AdamW(
                scalar_groups, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=wd
            )
        else:
            optimizers["scalar"] = Lion(
                scalar_groups, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=wd
            )
    return OptimizerSet(optimizers)
