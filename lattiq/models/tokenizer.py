"""The visual tokenizer: ViT encoder -> any spherical-code quantizer -> ViT decoder.

A :class:`Tokenizer` is built from a :class:`TokenizerConfig` alone (nanoGPT's
``model_args`` pattern): the quantizer comes from a :class:`QuantizerConfig` (code name and
options), so a saved config rebuilds the same model and the same fixed codebook. The
codebook itself is never stored; its name and hash are, and a checkpoint whose config or
code differs from the model's is refused with the differences listed.

Shape legend: ``B`` batch, ``C`` channels, ``H = W`` image size, ``p`` patch size,
``h = w = H/p`` token grid, ``L = h·w``, ``D`` ViT width, ``d`` code dimension.
Images are float (B, C, H, W) in ``[-1, 1]``; latents and codes are channels-last
(B, h, w, d).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn

from lattiq.quantizers import MultiScaleQuantizer, list_quantizers, quantizer_class
from lattiq.quantizers.base import MultiScaleQuantizerOutput, QuantizerOutput
from lattiq.quantizers.registry import canonical_config
from lattiq.runtime.checkpoints import load_checkpoint
from lattiq.runtime.config import config_diff, config_from_dict, config_to_dict

from .vit import POS_EMBED_KINDS, ViT, init_vit_weights, patchify, unpatchify

__all__ = [
    "TOKENIZER_PRESETS",
    "QuantizerConfig",
    "Tokenizer",
    "TokenizerConfig",
    "TokenizerOutput",
    "LEGACY_ARCHITECTURE",
    "build_quantizer",
    "tokenizer_preset",
    "upgrade_config_dict",
]

#: Decoder-input initialisations: ``"matched"`` draws the code projection so that a unit
#: codeword's image has the norm of the decoder's position term at initialisation;
#: ``"torch"`` is PyTorch's default ``nn.Linear`` init; ``"small"`` is std 0.02.
DEC_IN_INITS = ("matched", "torch", "small")
#: Decoder heads: one linear map to pixels, or ``Linear -> tanh -> Linear`` (BSQ-ViT's head).
DEC_HEADS = ("linear", "mlp-tanh")

#: The architecture of configs saved before these fields existed (fixed amplitude-1 sin-cos
#: positions, std-0.02 decoder input, linear head, no clamp): a config dict that lacks the
#: fields is read with these values, so that old checkpoints rebuild the model they trained.
LEGACY_ARCHITECTURE: dict[str, Any] = {
    "pos_embed": "sincos",
    "pos_scale": 1.0,
    "ln_pre": False,
    "dec_in_init": "small",
    "dec_head": "linear",
    "out_clamp": False,
}


@dataclass
class QuantizerConfig:
    """Which quantizer the tokenizer uses.

    Attributes
    ----------
    code : str
        A registered spherical code (``"leech"``, ``"bsq-18"``, ``"random-24-196560"``,
        ``"fibonacci-24-196560"``, ...).
    kind : str
        ``"spherical"`` (:class:`lattiq.quantizers.SphericalQuantizer`: any registered code,
        no penalty), or a baseline of :mod:`lattiq.quantizers.baselines` whose penalties
        enter the loss through ``aux_loss``: ``"bsq"`` (``BSQQuantizer``, code ``"bsq-<d>"``,
        entropy penalty), ``"lfq"`` or ``"random-projection"``; or ``"identity"``
        (:class:`lattiq.quantizers.IdentityQuantizer`: normalize only, the unquantized
        control; ``code`` then only sets the dimension and the cells counted as usage).
    options : dict
        Keyword options passed to the quantizer class (e.g. entropy-penalty weights).
    scales : list of int, str or None
        ``None`` for single-scale quantization; a schedule name (``"var10"``) or a list of
        token-grid sides for :class:`lattiq.quantizers.MultiScaleQuantizer`.
    """

    code: str = "leech"
    kind: str = "spherical"
    options: dict[str, Any] = field(default_factory=dict)
    scales: list[int] | str | None = None


@dataclass
class TokenizerConfig:
    """Architecture of a :class:`Tokenizer` (everything needed to rebuild it).

    ``decoder_depth`` ``None`` means the same depth as the encoder. The latent dimension is
    the code's dimension, taken from the code registry.

    The defaults of the architecture fields are the ones measured best in the ablation of
    ``docs/results.md`` (Tokenizer health): learned position tables initialised
    N(0, 0.02²) in encoder and decoder (``pos_embed``, ``pos_scale``), an optional
    LayerNorm before each ViT's blocks (``ln_pre``), a decoder input projection whose
    output for a unit codeword matches the position term's norm (``dec_in_init``), the
    decoder head (``dec_head``) and a clamp of the output to ``[-1, 1]`` (``out_clamp``;
    the clamp passes gradients straight through, so saturated pixels still learn).
    """

    image_size: int = 32
    channels: int = 3
    patch_size: int = 4
    width: int = 128
    depth: int = 2
    decoder_depth: int | None = None
    heads: int = 4
    mlp_ratio: float = 4.0
    qk_norm: bool = False
    pos_embed: str = "learned"
    pos_scale: float = 0.02
    ln_pre: bool = True
    dec_in_init: str = "matched"
    dec_head: str = "linear"
    out_clamp: bool = True
    quantizer: QuantizerConfig = field(default_factory=QuantizerConfig)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first inconsistent field."""
        for name in ("image_size", "channels", "patch_size", "width", "depth", "heads"):
            v = getattr(self, name)
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"TokenizerConfig.{name} must be a positive integer, got {v!r}")
        if self.decoder_depth is not None and self.decoder_depth <= 0:
            raise ValueError(f"decoder_depth must be positive or None, got {self.decoder_depth}")
        if self.image_size % self.patch_size:
            raise ValueError(
                f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}"
            )
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.width % 4 and self.pos_embed == "sincos":
            raise ValueError(
                f"width must be divisible by 4 (2-D sin-cos positions), got {self.width}"
            )
        if self.mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be positive, got {self.mlp_ratio}")
        choices = {"pos_embed": POS_EMBED_KINDS, "dec_in_init": DEC_IN_INITS,
                   "dec_head": DEC_HEADS}  # fmt: skip
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"TokenizerConfig.{name} must be one of {allowed}, got {getattr(self, name)!r}"
                )
        if not (isinstance(self.pos_scale, (int, float)) and 0 <= self.pos_scale < 1e3):
            raise ValueError(f"pos_scale must be a number in [0, 1000), got {self.pos_scale!r}")

    @property
    def grid(self) -> int:
        """Token-grid side ``h = image_size / patch_size``."""
        return self.image_size // self.patch_size


#: Named architectures, from a CPU-sized ``tiny`` to the paper's ViT-B/8 (width 768, depth 12,
#: patch 8, 24-d latent when used with a 24-d code such as ``leech``).
TOKENIZER_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(image_size=32, patch_size=4, width=128, depth=2, heads=4),
    "small": dict(image_size=128, patch_size=8, width=384, depth=6, heads=6),
    "vit-b8": dict(image_size=256, patch_size=8, width=768, depth=12, heads=12),
}


def upgrade_config_dict(d: dict) -> dict:
    """A saved ``TokenizerConfig`` dict with the fields it predates filled in from
    :data:`LEGACY_ARCHITECTURE` (a dict that has ``pos_embed`` is returned as it is)."""
    if not isinstance(d, dict) or "pos_embed" in d:
        return d
    return {**LEGACY_ARCHITECTURE, **d}


def tokenizer_preset(name: str, **overrides: Any) -> TokenizerConfig:
    """A :class:`TokenizerConfig` from a named preset, with field overrides."""
    if name not in TOKENIZER_PRESETS:
        raise ValueError(
            f"unknown tokenizer preset {name!r}; choose one of {sorted(TOKENIZER_PRESETS)}"
        )
    kw = {**TOKENIZER_PRESETS[name], **overrides}
    if isinstance(kw.get("quantizer"), dict):
        kw["quantizer"] = QuantizerConfig(**kw["quantizer"])
    cfg = TokenizerConfig(**kw)
    cfg.validate()
    return cfg


def build_quantizer(cfg: QuantizerConfig, grid: int | None = None) -> nn.Module:
    """The quantizer ``cfg`` names, wrapped multi-scale when ``cfg.scales`` is set."""
    kinds = list_quantizers()  # the registry's names, wrappers aside (``scales`` wraps)
    if cfg.kind not in kinds:
        raise ValueError(f"unknown quantizer kind {cfg.kind!r}; choose one of {kinds}")
    q = quantizer_class(cfg.kind)(cfg.code, **cfg.options)
    if cfg.scales is None:
        return q
    ms = MultiScaleQuantizer(q, schedule=cfg.scales)
    if grid is not None:
        last = _last_scale(ms)
        if last is not None and last != grid:
            raise ValueError(
                f"multi-scale schedule ends at side {last} but the token grid is {grid}x{grid}; "
                f"set quantizer.scales to a list ending in {grid}"
            )
    return ms


def _last_scale(ms: nn.Module) -> int | None:
    sides = _scale_sides(ms)
    return sides[-1] if sides else None


class TokenizerOutput(NamedTuple):
    """What :meth:`Tokenizer.forward` returns.

    Attributes
    ----------
    images : Tensor (B, C, H, W)
        Reconstructions.
    quant : QuantizerOutput or MultiScaleQuantizerOutput
        The quantizer's output (codes (B, h, w, d), indices, aux_loss).
    latent : Tensor (B, h, w, d)
        Pre-quantization latents (for VF alignment).
    """

    images: torch.Tensor
    quant: QuantizerOutput | MultiScaleQuantizerOutput
    latent: torch.Tensor


class Tokenizer(nn.Module):
    """ViT autoencoder with a fixed spherical-code bottleneck.

    encoder: patchify (p x p) -> linear to D -> ViT -> linear to d (the code's dimension);
    quantizer: any :mod:`lattiq.quantizers` layer on the (B, h, w, d) latents;
    decoder: linear d -> D -> ViT -> linear to p·p·C -> unpatchify.

    The quantizer carries the straight-through gradient and, for the baselines with an
    entropy penalty, an ``aux_loss``; the lattice codes add no loss of their own (Zhao et al.,
    "Spherical Leech Quantization for Visual Tokenization and Generation", arXiv 2512.14697).
    """

    def __init__(self, config: TokenizerConfig):
        super().__init__()
        config.validate()
        self.config = config
        g = config.grid
        c, p, dw = config.channels, config.patch_size, config.width
        self.quantizer = build_quantizer(config.quantizer, grid=g)
        self.code_dim = int(self.quantizer.dim)
        vit = dict(heads=config.heads, mlp_ratio=config.mlp_ratio, qk_norm=config.qk_norm,
                   pos_embed=config.pos_embed, pos_scale=config.pos_scale,
                   ln_pre=config.ln_pre)  # fmt: skip
        self.patch_embed = nn.Linear(p * p * c, dw)
        self.encoder = ViT((g, g), dw, config.depth, **vit)
        self.to_latent = nn.Linear(dw, self.code_dim)
        self.from_latent = nn.Linear(self.code_dim, dw)
        self.decoder = ViT((g, g), dw, config.decoder_depth or config.depth, **vit)
        if config.dec_head == "mlp-tanh":
            hidden = int(round(dw * config.mlp_ratio))
            self.head = nn.Sequential(nn.Linear(dw, hidden), nn.Tanh())
            self.to_pixels = nn.Linear(hidden, p * p * c)
        else:
            self.head = nn.Identity()
            self.to_pixels = nn.Linear(dw, p * p * c)
        init_vit_weights(self)
        self.encoder.reset_positions()
        self.decoder.reset_positions()
        self._init_decoder_input(config.dec_in_init)

    def _init_decoder_input(self, how: str) -> None:
        """Initialise ``from_latent`` (see :data:`DEC_IN_INITS`). For ``"matched"``: weights
        N(0, σ²) with ``σ = ‖pos‖_rms / √D``, so that ``E‖W c‖ = ‖pos‖_rms`` for a unit
        codeword ``c`` (``‖W c‖² ≈ σ² D ‖c‖²``); with no position term, σ = 1/√D."""
        w = self.from_latent.weight  # (D, d)
        with torch.no_grad():
            if how == "torch":
                self.from_latent.reset_parameters()
            elif how == "small":
                nn.init.trunc_normal_(w, std=0.02)
                nn.init.zeros_(self.from_latent.bias)
            else:
                pos = self.decoder.positions().detach().float()
                rms = float(pos.pow(2).sum(-1).mean().sqrt())
                dw = w.shape[0]
                std = (rms if rms > 0 else 1.0) / math.sqrt(dw)
                nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std)
                nn.init.zeros_(self.from_latent.bias)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: TokenizerConfig | dict) -> Tokenizer:
        if isinstance(config, dict):
            config = config_from_dict(TokenizerConfig, upgrade_config_dict(config))
        return cls(config)

    def signature(self) -> dict:
        """The config plus the quantizer's own config (code name, hash): what must match."""
        qc = self.quantizer.config() if hasattr(self.quantizer, "config") else {}
        return {"model": config_to_dict(self.config), "quantizer": _plain(qc)}

    def check_compatible(self, signature: dict) -> None:
        """Refuse a saved signature (see :meth:`signature`) that differs from this model's."""
        mine = self.signature()
        saved = upgrade_config_dict(signature.get("model", {}))
        diff = config_diff(saved, mine["model"], prefix="model.")
        if signature.get("quantizer"):  # older signatures spell quantizer types by class name
            diff += config_diff(canonical_config(signature["quantizer"]), mine["quantizer"],
                                prefix="quantizer.")
        if diff:
            raise ValueError(
                "checkpoint does not match this tokenizer (saved -> current):\n  "
                + "\n  ".join(diff)
            )

    def load_weights(self, state: dict[str, torch.Tensor], signature: dict | None = None) -> None:
        """Load a state dict after checking the saved signature, listing any mismatch."""
        if signature is not None:
            self.check_compatible(signature)
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        shapes = [
            f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
            for k in own
            if k in state and state[k].shape != own[k].shape
        ]
        if missing or extra or shapes:
            raise ValueError(
                "weights do not fit this tokenizer: "
                f"missing {missing[:8]}, unexpected {extra[:8]}, shape mismatches {shapes[:8]}"
            )
        self.load_state_dict(state)

    @classmethod
    def from_checkpoint(
        cls, path: str, weights: str = "ema", map_location: str | torch.device = "cpu"
    ) -> Tokenizer:
        """Rebuild from a training checkpoint's config and load ``weights`` (``ema``/``model``)."""
        ck = load_checkpoint(path, with_state=False, map_location=map_location)
        sig = ck.config.get("signature")
        if sig is None:
            raise ValueError(f"{ck.path} has no tokenizer signature in config.json")
        model = cls.from_config(sig["model"])
        if weights not in ck.weights:
            raise ValueError(f"{ck.path} has no {weights!r} weights; it has {sorted(ck.weights)}")
        model.load_weights(ck.weights[weights], sig)
        return model

    # -- shapes -----------------------------------------------------------------------------

    @property
    def grid(self) -> tuple[int, int]:
        return (self.config.grid, self.config.grid)

    @property
    def codebook_size(self) -> int:
        return int(self.quantizer.codebook_size)

    @property
    def bits_per_token(self) -> float:
        return math.log2(self.codebook_size)

    def tokens_per_image(self) -> int:
        """Tokens per image over all scales."""
        sides = _scale_sides(self.quantizer)
        if sides is None:
            return self.config.grid**2
        return sum(s * s for s in sides)

    def bits_per_pixel(self) -> float:
        """Fixed-length rate: tokens · log2 K / (H·W)."""
        return self.tokens_per_image() * self.bits_per_token / self.config.image_size**2

    def _check_images(self, x: torch.Tensor) -> None:
        c, s = self.config.channels, self.config.image_size
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"images must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4 or tuple(x.shape[1:]) != (c, s, s):
            raise ValueError(
                f"expected images of shape (B, {c}, {s}, {s}) in [-1, 1], got {tuple(x.shape)}"
            )
        if not x.is_floating_point():
            raise TypeError(f"images must be floating point in [-1, 1], got dtype {x.dtype}")

    def _check_codes(self, codes: torch.Tensor) -> None:
        g, d = self.config.grid, self.code_dim
        if codes.ndim != 4 or tuple(codes.shape[1:]) != (g, g, d):
            raise ValueError(
                f"expected codes of shape (B, {g}, {g}, {d}), got {tuple(codes.shape)}"
            )

    # -- the model --------------------------------------------------------------------------

    def encode_latent(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> pre-quantization latents (B, h, w, d)."""
        self._check_images(images)
        g = self.config.grid
        x = self.patch_embed(patchify(images, self.config.patch_size))  # (B, L, D)
        z = self.to_latent(self.encoder(x))  # (B, L, d)
        return z.reshape(z.shape[0], g, g, self.code_dim)

    def quantize(self, latent: torch.Tensor) -> QuantizerOutput | MultiScaleQuantizerOutput:
        """Quantize (B, h, w, d) latents (float32, autocast off)."""
        with torch.autocast(latent.device.type, enabled=False):
            return self.quantizer(latent.float())

    def encode(self, images: torch.Tensor) -> QuantizerOutput | MultiScaleQuantizerOutput:
        """(B, C, H, W) -> QuantizerOutput(codes (B, h, w, d), indices, aux_loss); a
        multi-scale quantizer's :class:`MultiScaleQuantizerOutput` has per-scale indices."""
        return self.quantize(self.encode_latent(images))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, h, w, d) codes -> (B, C, H, W) images."""
        self._check_codes(codes)
        b, g = codes.shape[0], self.config.grid
        x = self.from_latent(
            codes.reshape(b, g * g, self.code_dim).to(self.from_latent.weight.dtype)
        )
        x = self.to_pixels(self.head(self.decoder(x)))  # (B, L, p·p·C)
        y = unpatchify(x, self.config.patch_size, g, g, self.config.channels)
        if self.config.out_clamp:
            y = _clamp_st(y)
        return y

    def decode_indices(self, indices: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        """Indices (B, h, w) (or the multi-scale list) -> (B, C, H, W) images."""
        codes = self.quantizer.indices_to_codes(indices)
        return self.decode(codes)

    def forward(self, images: torch.Tensor) -> TokenizerOutput:
        latent = self.encode_latent(images)
        quant = self.quantize(latent)
        return TokenizerOutput(self.decode(quant.codes), quant, latent)

    @property
    def last_layer(self) -> torch.Tensor:
        """The decoder's output weight (for the adaptive adversarial weight)."""
        return self.to_pixels.weight


def _clamp_st(y: torch.Tensor) -> torch.Tensor:
    """``clamp(y, -1, 1)`` in the forward pass, the identity's gradient in the backward
    pass (a hard clamp would stop learning at every pixel that overshoots)."""
    return y + (y.clamp(-1.0, 1.0) - y).detach()


def _scale_sides(q: nn.Module) -> list[int] | None:
    sides = getattr(q, "scale_schedule", None)
    if sides is None:
        return None
    return [int(s) for s in sides]


def _plain(v: Any) -> Any:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        v = dataclasses.asdict(v)
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, torch.Tensor):
        return v.tolist()
    return v
