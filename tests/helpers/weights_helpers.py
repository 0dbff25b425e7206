"""Weight files the tests make: random tensors in the published key layouts (torchvision
VGG16, LPIPS heads, DINOv2, FID Inception), to exercise the real loading code paths."""

from __future__ import annotations

import torch

VGG_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
VGG_CHANNELS = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)


def vgg16_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """torchvision ``vgg16`` state dict layout (features + a token classifier entry)."""
    g = torch.Generator().manual_seed(seed)
    sd, c_in = {}, 3
    for idx, c in zip(VGG_CONVS, VGG_CHANNELS, strict=True):
        std = (2.0 / (9 * c_in)) ** 0.5
        sd[f"features.{idx}.weight"] = torch.randn(c, c_in, 3, 3, generator=g) * std
        sd[f"features.{idx}.bias"] = torch.randn(c, generator=g) * 0.01
        c_in = c
    sd["classifier.6.bias"] = torch.zeros(1000)  # ignored by the loader
    return sd


def lpips_heads_state(seed: int = 1) -> dict[str, torch.Tensor]:
    """The ``lpips`` package's ``weights/v0.1/vgg.pth`` layout: lin<k>.model.1.weight."""
    g = torch.Generator().manual_seed(seed)
    return {
        f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1, generator=g)
        for k, c in enumerate((64, 128, 256, 512, 512))
    }


def dinov2_state(
    dim: int = 64, depth: int = 2, patch: int = 2, grid: int = 4, registers: int = 0,
    seed: int = 2, chunked: bool = False,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """DINOv2's published checkpoint layout (``dinov2_vit*14_pretrain.pth``), small."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape, s=0.05):
        return torch.randn(*shape, generator=g) * s

    sd = {
        "cls_token": r(1, 1, dim, s=0.5),
        "pos_embed": r(1, 1 + grid * grid, dim, s=0.5),
        "mask_token": r(1, dim),
        "patch_embed.proj.weight": r(dim, 3, patch, patch, s=0.2),
        "patch_embed.proj.bias": r(dim),
        "norm.weight": 1 + r(dim),
        "norm.bias": r(dim),
    }
    if registers:
        sd["register_tokens"] = r(1, registers, dim, s=0.5)
    for i in range(depth):
        p = f"blocks.{i}." if not chunked else f"blocks.{i // 2}.{i}."
        sd.update({
            p + "norm1.weight": 1 + r(dim), p + "norm1.bias": r(dim),
            p + "attn.qkv.weight": r(3 * dim, dim, s=0.2), p + "attn.qkv.bias": r(3 * dim),
            p + "attn.proj.weight": r(dim, dim, s=0.2), p + "attn.proj.bias": r(dim),
            p + "ls1.gamma": 1 + r(dim), p + "norm2.weight": 1 + r(dim), p + "norm2.bias": r(dim),
            p + "mlp.fc1.weight": r(4 * dim, dim, s=0.2), p + "mlp.fc1.bias": r(4 * dim),
            p + "mlp.fc2.weight": r(dim, 4 * dim, s=0.2), p + "mlp.fc2.bias": r(dim),
            p + "ls2.gamma": 1 + r(dim),
        })  # fmt: skip
    return sd


def fid_inception_state(seed: int = 3) -> dict[str, torch.Tensor]:
    """pytorch-fid's ``pt_inception`` layout: our module's keys plus ``fc.*``."""
    from lattiq.evaluation.inception import FIDInceptionV3

    g = torch.Generator().manual_seed(seed)
    sd = {}
    for k, v in FIDInceptionV3().state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        if k.endswith("running_var"):
            sd[k] = 0.5 + torch.rand(v.shape, generator=g)
        elif k.endswith("bn.weight"):
            sd[k] = 1 + 0.1 * torch.randn(v.shape, generator=g)
        elif v.ndim == 4:
            fan_in = v.shape[1] * v.shape[2] * v.shape[3]
            sd[k] = torch.randn(v.shape, generator=g) * (1.0 / fan_in) ** 0.5
        else:
            sd[k] = 0.05 * torch.randn(v.shape, generator=g)
    sd["fc.weight"] = torch.zeros(1008, 2048)
    sd["fc.bias"] = torch.zeros(1008)
    return sd
