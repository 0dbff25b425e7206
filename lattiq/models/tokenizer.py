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

from lattiq.quantizers.base import QuantizerOutput

from .vit import ViT, init_vit_weights, patchify, unpatchify

__all__ = [
    "TOKENIZER_PRESETS",
    "QuantizerConfig",
    "Tokenizer",
    "TokenizerConfig",
    "TokenizerOutput",
    "build_quantizer",
    "tokenizer_preset",
]


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
        entropy penalty), ``"lfq"`` or ``"random-projection"``.
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
        if self.width % 4:
            raise ValueError(
                f"width must be divisible by 4 (2-D sin-cos positions), got {self.width}"
            )
        if self.mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be positive, got {self.mlp_ratio}")

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
    import lattiq.quantizers as Q
    from lattiq.quantizers import baselines

    kinds = {
        "spherical": Q.SphericalQuantizer,
        "bsq": baselines.BSQQuantizer,
        "lfq": baselines.LFQQuantizer,
        "random-projection": baselines.RandomProjectionQuantizer,
    }
    if cfg.kind not in kinds:
        raise ValueError(f"unknown quantizer kind {cfg.kind!r}; choose one of {sorted(kinds)}")
    q = kinds[cfg.kind](cfg.code, **cfg.options)
    if cfg.scales is None:
        return q
    ms = Q.MultiScaleQuantizer(q, schedule=cfg.scales)
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
    quant : QuantizerOutput
        The quantizer's output (codes (B, h, w, d), indices, aux_loss).
    latent : Tensor (B, h, w, d)
        Pre-quantization latents (for VF alignment).
    """

    images: torch.Tensor
    quant: QuantizerOutput
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
        self.patch_embed = nn.Linear(p * p * c, dw)
        self.encoder = ViT((g, g), dw, config.depth, config.heads, config.mlp_ratio, config.qk_norm)
        self.to_latent = nn.Linear(dw, self.code_dim)
        self.from_latent = nn.Linear(self.code_dim, dw)
        dec_depth = config.decoder_depth or config.depth
        self.decoder = ViT((g, g), dw, dec_depth, config.heads, config.mlp_ratio, config.qk_norm)
        self.to_pixels = nn.Linear(dw, p * p * c)
        init_vit_weights(self)

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: TokenizerConfig | dict) -> Tokenizer:
        if isinstance(config, dict):
            from .trainutil import config_from_dict

            config = config_from_dict(TokenizerConfig, config)
        return cls(config)

    def signature(self) -> dict:
        """The config plus the quantizer's own config (code name, hash): what must match."""
        from .trainutil import config_to_dict

        qc = self.quantizer.config() if hasattr(self.quantizer, "config") else {}
        return {"model": config_to_dict(self.config), "quantizer": _plain(qc)}

    def check_compatible(self, signature: dict) -> None:
        """Refuse a saved signature (see :meth:`signature`) that differs from this model's."""
        from .trainutil import config_diff

        mine = self.signature()
        diff = config_diff(signature.get("model", {}), mine["model"], prefix="model.")
        if signature.get("quantizer"):
            diff += config_diff(signature["quantizer"], mine["quantizer"], prefix="quantizer.")
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
        from .trainutil import load_checkpoint

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

    def quantize(self, latent: torch.Tensor) -> QuantizerOutput:
        """Quantize (B, h, w, d) latents (float32, autocast off)."""
        with torch.autocast(latent.device.type, enabled=False):
            return self.quantizer(latent.float())

    def encode(self, images: torch.Tensor) -> QuantizerOutput:
        """(B, C, H, W) -> QuantizerOutput(codes (B, h, w, d), indices, aux_loss)."""
        return self.quantize(self.encode_latent(images))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, h, w, d) codes -> (B, C, H, W) images."""
        self._check_codes(codes)
        b, g = codes.shape[0], self.config.grid
        x = self.from_latent(
            codes.reshape(b, g * g, self.code_dim).to(self.from_latent.weight.dtype)
        )
        x = self.to_pixels(self.decoder(x))  # (B, L, p·p·C)
        return unpatchify(x, self.config.patch_size, g, g, self.config.channels)

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
