"""Vision Transformer building blocks: patchify, attention, MLP, pre-norm blocks.

Shared by the tokenizer's encoder/decoder and the generator. Pre-norm residual blocks
(Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021) with learned position
tables or scaled fixed 2-D sin-cos positions (He et al., "Masked Autoencoders Are Scalable
Vision Learners", 2022), an optional LayerNorm before the blocks (``ln_pre``, as in CLIP's
ViT) and, optionally, adaptive layer norm conditioning (adaLN-Zero; Peebles & Xie, "Scalable
Diffusion Models with Transformers", 2023).

The size of the position term matters. A token's input is ``content + position``; when the
position term is much larger than the content (an amplitude-1 sin-cos table, norm
``√(D/2)``, against a content projection initialised at std 0.02), the network's output is
mostly a function of position, and a tokenizer built on it assigns nearly the same code to
every image at a given position (codebook collapse). :class:`ViT` therefore takes the
position kind and its scale explicitly.

Shape legend: ``B`` batch, ``C`` image channels, ``H``, ``W`` image size, ``p`` patch size,
``h = H/p``, ``w = W/p`` token grid, ``L = h·w`` tokens, ``D`` width, ``c`` condition width.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "Attention",
    "init_vit_weights",
    "Block",
    "MLP",
    "ViT",
    "patchify",
    "POS_EMBED_KINDS",
    "sincos_pos_embed_2d",
    "unpatchify",
]

#: Position embeddings a :class:`ViT` can use: a learned table initialised
#: N(0, scale²), or the fixed sin-cos table multiplied by ``scale``.
POS_EMBED_KINDS = ("learned", "sincos")


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, h·w, p·p·C), patches in row-major order, pixels (py, px, c)."""
    b, c, hh, ww = x.shape
    h, w = hh // p, ww // p
    x = x.reshape(b, c, h, p, w, p).permute(0, 2, 4, 3, 5, 1)  # (B, h, w, p, p, C)
    return x.reshape(b, h * w, p * p * c)


def unpatchify(x: torch.Tensor, p: int, h: int, w: int, c: int) -> torch.Tensor:
    """Inverse of :func:`patchify`: (B, h·w, p·p·C) -> (B, C, h·p, w·p)."""
    b = x.shape[0]
    x = x.reshape(b, h, w, p, p, c).permute(0, 5, 1, 3, 2, 4)  # (B, C, h, p, w, p)
    return x.reshape(b, c, h * p, w * p)


def sincos_pos_embed_2d(h: int, w: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    r"""Fixed 2-D sin-cos position embedding, (h·w, dim); ``dim`` divisible by 4.

    Half the channels encode the row, half the column, each as
    :math:`[\sin(k\,\omega_i), \cos(k\,\omega_i)]` with :math:`\omega_i = b^{-i/(D/4)}`
    (Vaswani et al. 2017, extended to 2-D as in MAE, He et al. 2022).
    """
    if dim % 4:
        raise ValueError(f"sin-cos position embedding needs a width divisible by 4, got {dim}")
    quarter = dim // 4
    omega = 1.0 / base ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    out = []
    for pos in (ys.reshape(-1), xs.reshape(-1)):
        ang = pos[:, None] * omega[None, :]
        out += [torch.sin(ang), torch.cos(ang)]
    return torch.cat(out, dim=1).float()


class MLP(nn.Module):
    """Two linear layers with GELU between: D -> r·D -> D."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Attention(nn.Module):
    r"""Multi-head self-attention, :math:`\mathrm{softmax}(QK^\top/\sqrt{d_h})V` per head.

    ``attn_mask`` is passed to :func:`torch.nn.functional.scaled_dot_product_attention`
    (boolean: ``True`` = may attend; or additive float), broadcastable to (B, heads, L, L).
    ``qk_norm`` applies LayerNorm to queries and keys per head (Dehghani et al. 2023), which
    keeps attention logits bounded in long runs.
    """

    def __init__(self, dim: int, heads: int, qk_norm: bool = False):
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by the number of heads {heads}")
        self.heads = heads
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.q_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape  # (B, L, D)
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each (B, heads, L, d_h)
        q, k = self.q_norm(q), self.k_norm(k)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.proj(y.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``.

    With ``cond_dim`` set, the block takes a condition ``c`` (B, c) or (B, L, c) and uses
    adaLN-Zero: shift, scale and gate for both branches come from a linear map of ``c``
    initialised to zero, so the block starts as the identity (Peebles & Xie 2023).
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        mlp_ratio: float = 4.0,
        qk_norm: bool = False,
        cond_dim: int | None = None,
    ):
        super().__init__()
        affine = cond_dim is None
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=affine, eps=1e-6)
        self.attn = Attention(dim, heads, qk_norm=qk_norm)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=affine, eps=1e-6)
        self.mlp = MLP(dim, int(round(dim * mlp_ratio)))
        self.ada = None
        if cond_dim is not None:
            self.ada = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 6 * dim))
            nn.init.zeros_(self.ada[1].weight)
            nn.init.zeros_(self.ada[1].bias)

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        cond: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if self.ada is None:
            x = x + self.attn(self.norm1(x), attn_mask)
            return x + self.mlp(self.norm2(x))
        if cond is None:
            raise ValueError("this block was built with cond_dim and needs a condition")
        mod = self.ada(cond)
        if mod.ndim == 2:
            mod = mod[:, None, :]  # (B, 1, 6D)
        s1, g1, a1, s2, g2, a2 = mod.chunk(6, dim=-1)
        x = x + a1 * self.attn(self.norm1(x) * (1 + g1) + s1, attn_mask)
        return x + a2 * self.mlp(self.norm2(x) * (1 + g2) + s2)


class ViT(nn.Module):
    """A stack of :class:`Block` over a fixed token grid with positions and a final norm.

    Input and output are (B, L, D) token sequences with ``L = grid[0]·grid[1]``.

    Parameters
    ----------
    pos_embed : {"learned", "sincos"}
        ``"learned"``: a (1, L, D) parameter initialised N(0, pos_scale²) (truncated at
        ±2σ). ``"sincos"``: the fixed table of :func:`sincos_pos_embed_2d` times
        ``pos_scale`` (per-token norm ``pos_scale·√(D/2)``).
    pos_scale : float
        Standard deviation of the learned table, or the multiplier of the sin-cos table.
    ln_pre : bool
        A LayerNorm on ``x + positions`` before the first block.
    """

    def __init__(
        self,
        grid: tuple[int, int],
        dim: int,
        depth: int,
        heads: int,
        mlp_ratio: float = 4.0,
        qk_norm: bool = False,
        pos_embed: str = "sincos",
        pos_scale: float = 1.0,
        ln_pre: bool = False,
    ):
        super().__init__()
        if pos_embed not in POS_EMBED_KINDS:
            raise ValueError(
                f"unknown position embedding {pos_embed!r}; choose one of {POS_EMBED_KINDS}"
            )
        if not (math.isfinite(pos_scale) and pos_scale >= 0):
            raise ValueError(f"pos_scale must be a finite number >= 0, got {pos_scale}")
        self.grid = tuple(grid)
        self.pos_kind = pos_embed
        self.pos_scale = float(pos_scale)
        n = grid[0] * grid[1]
        if pos_embed == "learned":
            self.pos_embed = nn.Parameter(torch.zeros(1, n, dim))
            self.reset_positions()
        else:
            table = sincos_pos_embed_2d(grid[0], grid[1], dim)[None] * self.pos_scale
            self.register_buffer("pos_embed", table, persistent=False)
        self.ln_pre = nn.LayerNorm(dim, eps=1e-6) if ln_pre else nn.Identity()
        self.blocks = nn.ModuleList(
            [Block(dim, heads, mlp_ratio, qk_norm=qk_norm) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def reset_positions(self) -> None:
        """Re-draw a learned table from N(0, pos_scale²), truncated at ±2σ."""
        if self.pos_kind == "learned":
            with torch.no_grad():
                if self.pos_scale > 0:
                    nn.init.trunc_normal_(
                        self.pos_embed, std=self.pos_scale,
                        a=-2 * self.pos_scale, b=2 * self.pos_scale,
                    )  # fmt: skip
                else:
                    self.pos_embed.zero_()

    def positions(self) -> torch.Tensor:
        """The position term added to every input, (1, L, D)."""
        return self.pos_embed

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, L, D) -> (B, L, D)
        x = self.ln_pre(x + self.pos_embed.to(x.dtype))
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


def init_vit_weights(module: nn.Module) -> None:
    """Truncated-normal (std 0.02) linear weights, zero biases, unit LayerNorm (as in ViT/MAE).

    adaLN modulation layers that start at zero are left at zero.
    """
    for name, m in module.named_modules():
        if isinstance(m, nn.Linear):
            if name.endswith("ada.1"):
                continue
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups
            nn.init.trunc_normal_(m.weight, std=math.sqrt(1.0 / fan_in))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
