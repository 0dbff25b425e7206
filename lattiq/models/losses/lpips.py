"""LPIPS perceptual distance with a VGG16 backbone written here, weights from local files.

The backbone's weights come from a torchvision-format VGG16 state dict (``features.<i>.weight``
/ ``.bias``, e.g. torchvision's ``vgg16-397923af.pth``), and the linear heads from the
``lpips`` package's ``weights/v0.1/vgg.pth`` (``lin<k>.model.1.weight``). Neither is ever
downloaded: without the files LPIPS is unavailable, and the error says how to provide them.
It never runs on random weights while calling itself LPIPS.

Shape legend: ``B`` batch, ``C`` channels (1 or 3), ``H``, ``W`` image size,
``K_l`` channels of VGG stage ``l``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

__all__ = ["LPIPS", "VGG16Features", "lpips_missing_message", "read_state_dict"]

# torchvision's VGG16 "D" configuration: channel counts, "M" = 2x2 max-pool.
_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
# Indices in ``features`` of the ReLUs LPIPS taps: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
_TAPS = (3, 8, 15, 22, 29)
_TAP_CHANNELS = (64, 128, 256, 512, 512)
# LPIPS's input scaling layer (Zhang et al. 2018): x -> (x - shift) / scale, x in [-1, 1].
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def lpips_missing_message(what: str) -> str:
    return (
        f"LPIPS needs {what}. Provide local files: loss.lpips_vgg=PATH to torchvision's "
        "ImageNet VGG16 weights (vgg16-397923af.pth, a state dict with features.<i>.weight) "
        "and loss.lpips_heads=PATH to the LPIPS linear heads (weights/v0.1/vgg.pth inside the "
        "`lpips` wheel: `pip download lpips --no-deps` and unzip it). Nothing is downloaded."
    )


def read_state_dict(path: str | os.PathLike, what: str = "weights") -> dict[str, torch.Tensor]:
    """Read a state dict from ``.pth``/``.pt`` (torch.load, weights only) or ``.safetensors``."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} file {str(p)!r} does not exist")
    try:
        if p.suffix == ".safetensors":
            sd = load_file(str(p))
        else:  # weights_only: tensors and plain containers; any other object is refused
            sd = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle, zip and safetensors errors alike: a file we cannot use
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        raise ValueError(f"{what} file {str(p)!r} cannot be read as weights ({first})"
                         ) from None
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"{what} file {str(p)!r} does not hold a state dict of tensors")
    return sd


class VGG16Features(nn.Module):
    """VGG16's convolutional part in torchvision's layout (Simonyan & Zisserman, ICLR 2015).

    ``forward`` returns the five ReLU activations LPIPS uses: relu1_2, relu2_2, relu3_3,
    relu4_3 and relu5_3, shapes (B, K_l, H/2^l, W/2^l) for l = 0..4.
    """

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for v in _VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c_in, v, 3, padding=1), nn.ReLU(inplace=False)]
                c_in = v
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in _TAPS:
                out.append(x)
                if i == _TAPS[-1]:
                    break
        return out

    def load_torchvision(self, state: dict[str, torch.Tensor]) -> None:
        """Load the ``features.*`` entries of a torchvision VGG16 state dict (others ignored)."""
        feats = {k: v for k, v in state.items() if k.startswith("features.")}
        own = self.state_dict()
        missing = sorted(set(own) - set(feats))
        bad = [k for k in own if k in feats and feats[k].shape != own[k].shape]
        if missing or bad:
            raise ValueError(
                f"not a torchvision VGG16 state dict: missing {missing[:6]}, wrong shapes {bad[:6]}"
            )
        self.load_state_dict({k: feats[k] for k in own})


class LPIPS(nn.Module):
    r"""Learned Perceptual Image Patch Similarity (Zhang et al., CVPR 2018), VGG variant.

    .. math::
        d(x, y) = \sum_l \frac{1}{H_l W_l} \sum_{h,w}
        \bigl\| w_l \odot (\hat f^l_{hw}(x) - \hat f^l_{hw}(y)) \bigr\|_2^2

    where :math:`\hat f^l` are VGG16 activations normalised to unit length along channels and
    :math:`w_l \ge 0` the learned linear heads. Inputs are (B, C, H, W) in ``[-1, 1]``; one
    channel is repeated to three. All weights are frozen.
    """

    def __init__(self, backbone: VGG16Features, heads: list[torch.Tensor]):
        super().__init__()
        if len(heads) != len(_TAP_CHANNELS):
            raise ValueError(f"expected {len(_TAP_CHANNELS)} LPIPS heads, got {len(heads)}")
        self.backbone = backbone
        for i, (w, c) in enumerate(zip(heads, _TAP_CHANNELS, strict=True)):
            w = w.reshape(-1)
            if w.numel() != c:
                raise ValueError(f"LPIPS head {i} should have {c} weights, got {w.numel()}")
            self.register_buffer(f"head{i}", w.float().clone())
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_files(
        cls, vgg_path: str | os.PathLike | None, heads_path: str | os.PathLike | None
    ) -> LPIPS:
        """Build from a torchvision VGG16 file and the lpips heads file (``vgg.pth``)."""
        if vgg_path is None:
            raise FileNotFoundError(lpips_missing_message("the VGG16 backbone weights"))
        if heads_path is None:
            raise FileNotFoundError(lpips_missing_message("its linear-head weights"))
        for p, what in ((vgg_path, "the VGG16 backbone weights"), (heads_path, "its heads")):
            if not Path(p).is_file():
                raise FileNotFoundError(
                    f"{str(p)!r} does not exist. " + lpips_missing_message(what)
                )
        backbone = VGG16Features()
        backbone.load_torchvision(read_state_dict(vgg_path, "VGG16"))
        hsd = read_state_dict(heads_path, "LPIPS heads")
        heads = []
        for i in range(len(_TAPS)):
            key = next((k for k in (f"lin{i}.model.1.weight", f"lin{i}.weight") if k in hsd), None)
            if key is None:
                raise ValueError(
                    f"LPIPS heads file {str(heads_path)!r} has no lin{i}.model.1.weight; "
                    f"keys found: {sorted(hsd)[:8]}"
                )
            heads.append(hsd[key])
        return cls(backbone, heads)

    def train(self, mode: bool = True) -> LPIPS:  # always frozen, always eval
        return super().train(False)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) x2 in [-1, 1] -> (B,) distances."""
        if x.shape != y.shape or x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(
                f"LPIPS expects two (B, 1|3, H, W) tensors of one shape, got {tuple(x.shape)} "
                f"and {tuple(y.shape)}"
            )
        if x.shape[1] == 1:
            x, y = x.expand(-1, 3, -1, -1), y.expand(-1, 3, -1, -1)
        n = x.shape[0]
        both = (torch.cat([x, y]).float() - self.shift) / self.scale
        feats = self.backbone(both)
        total = x.new_zeros(n, dtype=torch.float32)
        for i, f in enumerate(feats):
            f = f / (f.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            d = (f[:n] - f[n:]).pow(2)  # (B, K_l, H_l, W_l)
            w = getattr(self, f"head{i}").view(1, -1, 1, 1)
            total = total + (d * w).sum(dim=1).mean(dim=(1, 2))
        return total
