"""Patch discriminator and adversarial losses (hinge or non-saturating), R1, adaptive weight.

Shape legend: ``B`` batch, ``C`` channels, ``H``, ``W`` image size; a patch discriminator
returns logits (B, 1, h', w'), one per receptive-field patch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "AdversarialLoss",
    "PatchDiscriminator",
    "adaptive_weight",
    "discriminator_loss",
    "generator_loss",
    "r1_penalty",
]


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator (Isola et al., "Image-to-Image Translation with Conditional
    Adversarial Networks", CVPR 2017): ``n_layers`` stride-2 4x4 convolutions with
    LeakyReLU(0.2), then two stride-1 4x4 convolutions down to one logit per patch.

    GroupNorm replaces BatchNorm so the output of one image does not depend on the others
    in the batch (and nothing needs syncing across processes).
    """

    def __init__(self, channels: int = 3, width: int = 64, n_layers: int = 3):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}")
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = width
        for i in range(1, n_layers):
            c_out = width * min(2**i, 8)
            layers += [
                nn.Conv2d(c, c_out, 4, 2, 1, bias=False),
                nn.GroupNorm(min(32, c_out // 4), c_out),
                nn.LeakyReLU(0.2),
            ]
            c = c_out
        c_out = width * min(2**n_layers, 8)
        layers += [
            nn.Conv2d(c, c_out, 4, 1, 1, bias=False),
            nn.GroupNorm(min(32, c_out // 4), c_out),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c_out, 1, 4, 1, 1),
        ]
        self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    @staticmethod
    def min_size(n_layers: int) -> int:
        """Smallest image side that leaves at least one output logit."""
        s = 1
        for _ in range(2):
            s = s + 1  # inverse of a 4x4, stride-1, pad-1 conv: out = in - 1
        for _ in range(n_layers):
            s = 2 * s  # inverse of 4x4, stride-2, pad-1: out = floor(in / 2)
        return s

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, 1, h', w')
        return self.net(x)


def discriminator_loss(real: torch.Tensor, fake: torch.Tensor, kind: str = "hinge") -> torch.Tensor:
    r"""Discriminator loss on real and fake logits.

    .. math::
        \text{hinge: } \mathbb{E}[\max(0, 1 - D(x))] + \mathbb{E}[\max(0, 1 + D(\hat x))],
        \qquad \text{non-saturating: } \mathbb{E}[\operatorname{softplus}(-D(x))]
        + \mathbb{E}[\operatorname{softplus}(D(\hat x))]

    (Lim & Ye 2017, "Geometric GAN"; Goodfellow et al. 2014). Halved, as in VQGAN.
    """
    if kind == "hinge":
        return 0.5 * (F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean())
    if kind == "non-saturating":
        return 0.5 * (F.softplus(-real).mean() + F.softplus(fake).mean())
    raise ValueError(f"adversarial loss must be 'hinge' or 'non-saturating', got {kind!r}")


def generator_loss(fake: torch.Tensor, kind: str = "hinge") -> torch.Tensor:
    r"""Generator's adversarial loss: :math:`-\mathbb{E}[D(\hat x)]` (hinge) or
    :math:`\mathbb{E}[\operatorname{softplus}(-D(\hat x))]` (non-saturating)."""
    if kind == "hinge":
        return -fake.mean()
    if kind == "non-saturating":
        return F.softplus(-fake).mean()
    raise ValueError(f"adversarial loss must be 'hinge' or 'non-saturating', got {kind!r}")


def r1_penalty(disc: nn.Module, real: torch.Tensor) -> torch.Tensor:
    r"""R1 gradient penalty :math:`\mathbb{E}\,\|\nabla_x D(x)\|_2^2` on real images
    (Mescheder et al., "Which Training Methods for GANs do actually Converge?", ICML 2018).

    Multiply by :math:`\gamma/2` outside. Builds a graph for double backward.
    """
    x = real.detach().requires_grad_(True)
    logits = disc(x)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def adaptive_weight(
    rec_loss: torch.Tensor,
    g_loss: torch.Tensor,
    last_layer: torch.Tensor,
    max_weight: float = 1e4,
) -> torch.Tensor:
    r"""Balance the adversarial gradient against the reconstruction gradient at the last layer.

    .. math::
        \lambda = \frac{\|\nabla_{W_L} \mathcal{L}_{rec}\|}
                       {\|\nabla_{W_L} \mathcal{L}_{G}\| + 10^{-4}}

    clipped to ``[0, max_weight]`` and detached (Esser et al., "Taming Transformers", CVPR 2021).
    """
    (g_rec,) = torch.autograd.grad(rec_loss, last_layer, retain_graph=True)
    (g_adv,) = torch.autograd.grad(g_loss, last_layer, retain_graph=True)
    w = g_rec.norm() / (g_adv.norm() + 1e-4)
    return w.clamp(0.0, max_weight).detach()


class AdversarialLoss(nn.Module):
    """The adversarial term and its schedule: kind, weight, start step, adaptive weight, R1.

    ``generator_term`` returns the weighted generator loss (zero before ``start``);
    ``discriminator_term`` returns the discriminator's loss plus ``r1/2 · R1``.
    The discriminator itself is ``self.disc``.
    """

    def __init__(
        self,
        channels: int,
        weight: float = 0.1,
        kind: str = "hinge",
        start: int = 0,
        adaptive: bool = True,
        r1: float = 0.0,
        width: int = 64,
        n_layers: int = 3,
    ):
        super().__init__()
        if kind not in ("hinge", "non-saturating"):
            raise ValueError(f"adversarial loss must be 'hinge' or 'non-saturating', got {kind!r}")
        if weight < 0 or r1 < 0 or start < 0:
            raise ValueError("adversarial weight, r1 and start must be non-negative")
        self.disc = PatchDiscriminator(channels, width, n_layers)
        self.weight, self.kind, self.start = float(weight), kind, int(start)
        self.adaptive, self.r1 = bool(adaptive), float(r1)

    def active(self, step: int) -> bool:
        return self.weight > 0 and step >= self.start

    def generator_term(
        self,
        fake: torch.Tensor,
        step: int,
        rec_loss: torch.Tensor | None = None,
        last_layer: torch.Tensor | None = None,
        disc: nn.Module | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(weighted loss, adaptive factor). ``disc`` defaults to ``self.disc`` (frozen here)."""
        zero = fake.new_zeros((), dtype=torch.float32)
        if not self.active(step):
            return zero, zero
        d = disc or self.disc
        d.requires_grad_(False)
        try:
            g = generator_loss(d(fake).float(), self.kind)
        finally:
            d.requires_grad_(True)
        lam = fake.new_ones((), dtype=torch.float32)
        if (
            self.adaptive
            and rec_loss is not None
            and last_layer is not None
            and torch.is_grad_enabled()
        ):
            lam = adaptive_weight(rec_loss, g, last_layer)
        return self.weight * lam * g, lam

    def discriminator_term(
        self, real: torch.Tensor, fake: torch.Tensor, step: int
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Discriminator loss on ``real`` and detached ``fake`` (plus R1); logs."""
        real_logits = self.disc(real.detach())
        fake_logits = self.disc(fake.detach())
        loss = discriminator_loss(real_logits.float(), fake_logits.float(), self.kind)
        logs = {
            "d_loss": loss.detach(),
            "d_real": real_logits.detach().float().mean(),
            "d_fake": fake_logits.detach().float().mean(),
        }
        if self.r1 > 0:
            pen = r1_penalty(self.disc, real)
            loss = loss + 0.5 * self.r1 * pen
            logs["r1"] = pen.detach()
        return loss, logs
