"""VF alignment: pull pre-quantization latents towards a frozen vision model's features.

The loss of VA-VAE (Yao, Yang & Wang, "Reconstruction vs. Generation: Taming Optimization
Dilemma with Visual Foundation Model Aligned Latent Diffusion Models", CVPR 2025), which the
Λ24-SQ paper uses with DINOv2 features: a marginal cosine term per position and a marginal
distance-matrix term over pairs of positions, both on a learned linear projection of the
latents to the feature width.

The feature network is any frozen module mapping images (B, 3, H, W) in ``[-1, 1]`` to
(B, h', w', F) features; :class:`DINOv2Features` reads the DINOv2 checkpoint format
(``dinov2_vit*14_pretrain.pth``) from a local file.

Shape legend: ``B`` batch, ``h``, ``w`` latent grid, ``d`` latent width, ``F`` feature width,
``N = h·w`` positions, ``D`` DINOv2 width.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .lpips import read_state_dict

__all__ = ["DINOv2Features", "VFAlignLoss", "load_feature_network", "vf_missing_message"]

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def vf_missing_message() -> str:
    return (
        "VF alignment needs a frozen vision model: set loss.vf_model=PATH to a local DINOv2 "
        "checkpoint (e.g. dinov2_vitb14_pretrain.pth, the state dict published with DINOv2) "
        "or pass a feature network to VFAlignLoss directly. Nothing is downloaded."
    )


class VFAlignLoss(nn.Module):
    r"""VF loss between latents :math:`z` (B, h, w, d) and frozen features :math:`f`.

    With :math:`z' = W z` (a learned linear map to the feature width) and features resized
    to the latent grid,

    .. math::
        \mathcal{L}_{mcos} = \frac{1}{N}\sum_{i} \operatorname{ReLU}\bigl(1 - m_1 -
        \cos(z'_i, f_i)\bigr), \qquad
        \mathcal{L}_{mdms} = \frac{1}{N^2}\sum_{i,j} \operatorname{ReLU}\bigl(
        |\cos(z'_i, z'_j) - \cos(f_i, f_j)| - m_2\bigr)

    and the loss is :math:`\mathcal{L}_{mcos} + \mathcal{L}_{mdms}` averaged over the batch
    (Yao et al., CVPR 2025, eqs. 2-3). The feature network is frozen and run without grad.
    """

    def __init__(
        self,
        feature_net: nn.Module,
        latent_dim: int,
        feature_dim: int,
        cos_margin: float = 0.5,
        dist_margin: float = 0.25,
        feature_image_size: int | None = None,
    ):
        super().__init__()
        self.feature_net = feature_net.eval().requires_grad_(False)
        self.proj = nn.Linear(latent_dim, feature_dim)
        self.cos_margin, self.dist_margin = float(cos_margin), float(dist_margin)
        self.feature_image_size = feature_image_size

    def train(self, mode: bool = True) -> VFAlignLoss:
        super().train(mode)
        self.feature_net.eval()
        return self

    def trainable_parameters(self):
        return self.proj.parameters()

    @torch.no_grad()
    def features(self, images: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Frozen features resized (area) to the latent grid: (B, h, w, F) float32."""
        x = images.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.feature_image_size is not None and x.shape[-1] != self.feature_image_size:
            s = self.feature_image_size
            x = F.interpolate(x, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
        f = self.feature_net(x).float()  # (B, h', w', F)
        if f.shape[1:3] != tuple(grid):
            f = F.adaptive_avg_pool2d(f.permute(0, 3, 1, 2), grid).permute(0, 2, 3, 1)
        return f

    def forward(
        self, latent: torch.Tensor, images: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(B, h, w, d) latents and (B, C, H, W) images -> (loss, logs)."""
        b, h, w, _ = latent.shape
        f = self.features(images, (h, w)).reshape(b, h * w, -1)  # (B, N, F)
        z = self.proj(latent.float()).reshape(b, h * w, -1)  # (B, N, F)
        if z.shape[-1] != f.shape[-1]:
            raise ValueError(
                f"feature network gives width {f.shape[-1]} but the projection maps to "
                f"{z.shape[-1]}; set feature_dim to the network's width"
            )
        zn, fn = F.normalize(z, dim=-1), F.normalize(f, dim=-1)
        mcos = F.relu(1.0 - self.cos_margin - (zn * fn).sum(-1)).mean()
        dz = zn @ zn.transpose(1, 2)  # (B, N, N)
        df = fn @ fn.transpose(1, 2)
        mdms = F.relu((dz - df).abs() - self.dist_margin).mean()
        loss = mcos + mdms
        return loss, {"vf_mcos": mcos.detach(), "vf_mdms": mdms.detach()}


# ---------------------------------------------------------------------------------------------
# DINOv2 (Oquab et al., "DINOv2: Learning Robust Visual Features without Supervision", 2023)
# ---------------------------------------------------------------------------------------------


class _DinoBlock(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int, swiglu: bool, layerscale: bool):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.swiglu = swiglu
        if swiglu:
            self.w12 = nn.Linear(dim, 2 * hidden)
            self.w3 = nn.Linear(hidden, dim)
        else:
            self.fc1 = nn.Linear(dim, hidden)
            self.fc2 = nn.Linear(hidden, dim)
        self.ls1 = nn.Parameter(torch.ones(dim)) if layerscale else None
        self.ls2 = nn.Parameter(torch.ones(dim)) if layerscale else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d)
        a = self.proj(a)
        x = x + (a * self.ls1 if self.ls1 is not None else a)
        y = self.norm2(x)
        if self.swiglu:
            y1, y2 = self.w12(y).chunk(2, dim=-1)
            y = self.w3(F.silu(y1) * y2)
        else:
            y = self.fc2(F.gelu(self.fc1(y)))
        return x + (y * self.ls2 if self.ls2 is not None else y)


class DINOv2Features(nn.Module):
    """DINOv2 ViT backbone returning normalised patch tokens (B, h', w', D).

    Built to match a checkpoint in DINOv2's published format (``patch_embed.proj``,
    ``cls_token``, ``pos_embed``, optional ``register_tokens``, ``blocks.<i>.{norm1, attn.qkv,
    attn.proj, ls1.gamma, norm2, mlp.fc1|mlp.w12, mlp.fc2|mlp.w3, ls2.gamma}``, ``norm``).
    The architecture (width, depth, patch, registers, MLP kind) is read from the checkpoint,
    since this is an external file with no config of ours; heads are ``width / 64`` as in all
    DINOv2 models. Position embeddings are resized bicubically to the input's patch grid.
    Input: (B, 3, H, W) in ``[-1, 1]``, H and W multiples of the patch size.
    """

    def __init__(self, state: dict[str, torch.Tensor]):
        super().__init__()
        sd = _normalise_dinov2_keys(state)
        w = sd["patch_embed.proj.weight"]
        dim, _, p, _ = w.shape
        depth = 1 + max(int(m.group(1)) for k in sd if (m := re.match(r"blocks\.(\d+)\.", k)))
        swiglu = "blocks.0.mlp.w12.weight" in sd
        hidden = sd["blocks.0.mlp.w3.weight" if swiglu else "blocks.0.mlp.fc1.weight"].shape[
            1 if swiglu else 0
        ]
        layerscale = "blocks.0.ls1.gamma" in sd
        self.patch = int(p)
        self.dim = int(dim)
        self.n_reg = int(sd["register_tokens"].shape[1]) if "register_tokens" in sd else 0
        self.patch_embed = nn.Conv2d(3, dim, p, p)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros_like(sd["pos_embed"]))
        self.register_tokens = nn.Parameter(torch.zeros(1, self.n_reg, dim)) if self.n_reg else None
        self.blocks = nn.ModuleList(
            [_DinoBlock(dim, max(1, dim // 64), hidden, swiglu, layerscale) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.register_buffer(
            "mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False
        )
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self._load(sd)
        self.requires_grad_(False).eval()

    def _load(self, sd: dict[str, torch.Tensor]) -> None:
        mapped = {}
        for k, v in sd.items():
            if k == "mask_token":
                continue
            k2 = k.replace("patch_embed.proj.", "patch_embed.")
            k2 = re.sub(r"\.attn\.(qkv|proj)\.", r".\1.", k2)
            k2 = re.sub(r"\.mlp\.(fc1|fc2|w12|w3)\.", r".\1.", k2)
            k2 = re.sub(r"\.(ls[12])\.gamma$", r".\1", k2)
            mapped[k2] = v
        own = self.state_dict()
        missing = sorted(set(own) - set(mapped))
        extra = sorted(set(mapped) - set(own))
        if missing or extra:
            raise ValueError(
                "not a DINOv2 checkpoint this loader understands: "
                f"missing {missing[:6]}, unexpected {extra[:6]}"
            )
        self.load_state_dict(mapped)

    def _pos(self, h: int, w: int) -> torch.Tensor:
        pe = self.pos_embed  # (1, 1 + n·n, D)
        cls, grid = pe[:, :1], pe[:, 1:]
        n = int(round(grid.shape[1] ** 0.5))
        if (n, n) != (h, w):
            g = grid.reshape(1, n, n, -1).permute(0, 3, 1, 2)
            g = F.interpolate(g.float(), size=(h, w), mode="bicubic", align_corners=False)
            grid = g.permute(0, 2, 3, 1).reshape(1, h * w, -1).to(pe.dtype)
        return torch.cat([cls, grid], dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) -> (B, h', w', D)
        b, _, hh, ww = images.shape
        if hh % self.patch or ww % self.patch:
            raise ValueError(f"DINOv2 input size {hh}x{ww} is not a multiple of {self.patch}")
        x = ((images + 1) / 2 - self.mean) / self.std
        x = self.patch_embed(x)  # (B, D, h', w')
        h, w = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(b, -1, -1), x], dim=1) + self._pos(h, w)
        if self.register_tokens is not None:
            x = torch.cat([x[:, :1], self.register_tokens.expand(b, -1, -1), x[:, 1:]], dim=1)
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)[:, 1 + self.n_reg :]
        return x.reshape(b, h, w, self.dim)


def _normalise_dinov2_keys(state: dict) -> dict[str, torch.Tensor]:
    for key in ("teacher", "model", "state_dict"):
        if key in state and isinstance(state[key], dict):
            state = state[key]
    out = {}
    for k, v in state.items():
        for pre in ("module.", "backbone."):
            if k.startswith(pre):
                k = k[len(pre) :]
        k = re.sub(r"^blocks\.\d+\.(\d+)\.", r"blocks.\1.", k)  # chunked blocks
        out[k] = v
    if "patch_embed.proj.weight" not in out or "pos_embed" not in out:
        raise ValueError(
            "not a DINOv2 checkpoint: no patch_embed.proj.weight / pos_embed "
            f"(keys start {sorted(out)[:6]})"
        )
    return out


def load_feature_network(path: str | os.PathLike | None, kind: str = "dinov2") -> nn.Module:
    """Load a frozen feature network from a local file (``kind="dinov2"``)."""
    if path is None:
        raise FileNotFoundError(vf_missing_message())
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{str(p)!r} does not exist. " + vf_missing_message())
    if kind != "dinov2":
        raise ValueError(f"unknown feature network kind {kind!r}; supported: 'dinov2'")

    return DINOv2Features(read_state_dict(p, "DINOv2"))
