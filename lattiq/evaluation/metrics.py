"""Reconstruction metrics: PSNR, SSIM, MS-SSIM, Fréchet distance (FID), bits per pixel.

Codebook usage is counted by :class:`lattiq.quantizers.CodeUsage` (``exact=True``).

SSIM and MS-SSIM are computed by ``pytorch-msssim`` (Gaussian window 11, σ = 1.5,
K = (0.01, 0.03)), a well-kept implementation of Wang et al.'s definitions. Images are
(B, C, H, W) in ``[-1, 1]`` and are mapped to ``[0, 1]`` (data range 1) before measuring.

Shape legend: ``B`` batch, ``C`` channels, ``H``, ``W`` image size, ``F`` feature width,
``K`` codebook size.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from pytorch_msssim import ms_ssim as _ms_ssim
from pytorch_msssim import ssim as _ssim

__all__ = [
    "FeatureStats",
    "frechet_distance",
    "ms_ssim",
    "ms_ssim_min_size",
    "psnr",
    "ssim",
]


def _to_unit(x: torch.Tensor) -> torch.Tensor:
    return ((x.detach().float() + 1.0) / 2.0).clamp(0.0, 1.0)


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(
            f"expected two (B, C, H, W) tensors of one shape, got {tuple(x.shape)} and "
            f"{tuple(y.shape)}"
        )


def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Peak signal-to-noise ratio per image, (B,), in dB, for images in ``[-1, 1]``.

    .. math::
        \mathrm{PSNR} = 10 \log_{10} \frac{1}{\mathrm{MSE}(x', y')}, \qquad
        x' = \tfrac{x+1}{2} \text{ clipped to } [0, 1]

    (data range 1). Identical images give ``inf``.
    """
    _check_pair(x, y)
    mse = (_to_unit(x) - _to_unit(y)).pow(2).flatten(1).mean(1).double()
    return (10.0 * torch.log10(1.0 / mse)).float()


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Structural similarity per image, (B,) (Wang et al., IEEE TIP 2004).

    .. math::
        \mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
        {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}

    averaged over valid Gaussian windows (11 taps, σ = 1.5) and channels.
    """
    _check_pair(x, y)
    if min(x.shape[-2:]) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11, got {tuple(x.shape[-2:])}")
    return _ssim(_to_unit(x), _to_unit(y), data_range=1.0, size_average=False)


def ms_ssim_min_size(win_size: int = 11, scales: int = 5) -> int:
    """Smallest image side for which MS-SSIM is defined: more than ``(win - 1)·2^(scales-1)``."""
    return (win_size - 1) * 2 ** (scales - 1) + 1


def ms_ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
    r"""Multi-scale SSIM per image, (B,), or ``None`` if the images are too small.

    Five scales with Wang, Simoncelli & Bovik's (2003) weights; needs a side of at least
    :func:`ms_ssim_min_size` (161 pixels).
    """
    _check_pair(x, y)
    if min(x.shape[-2:]) < ms_ssim_min_size():
        return None
    return _ms_ssim(_to_unit(x), _to_unit(y), data_range=1.0, size_average=False)


# ---------------------------------------------------------------------------------------------
# Fréchet distance
# ---------------------------------------------------------------------------------------------


class FeatureStats:
    """Running mean and covariance of (N, F) feature batches, in float64."""

    def __init__(self, dim: int):
        self.dim = int(dim)
        self.n = 0
        self.sum = np.zeros(dim, dtype=np.float64)
        self.outer = np.zeros((dim, dim), dtype=np.float64)

    def update(self, feats: torch.Tensor | np.ndarray) -> None:
        f = np.asarray(
            feats.detach().double().cpu() if isinstance(feats, torch.Tensor) else feats,
            dtype=np.float64,
        )
        if f.ndim != 2 or f.shape[1] != self.dim:
            raise ValueError(f"expected features (N, {self.dim}), got {f.shape}")
        self.n += f.shape[0]
        self.sum += f.sum(0)
        self.outer += f.T @ f

    def merge(self, other: FeatureStats) -> None:
        self.n += other.n
        self.sum += other.sum
        self.outer += other.outer

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        """Sample mean and unbiased covariance."""
        if self.n < 2:
            raise ValueError("need at least two feature vectors for a covariance")
        mu = self.sum / self.n
        cov = (self.outer - self.n * np.outer(mu, mu)) / (self.n - 1)
        return mu, cov


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    r"""Fréchet distance between Gaussians :math:`N(\mu_1, \Sigma_1)` and :math:`N(\mu_2,
    \Sigma_2)` (Dowson & Landau 1982; FID of Heusel et al., NeurIPS 2017).

    .. math::
        d^2 = \|\mu_1 - \mu_2\|^2 + \operatorname{tr}\Sigma_1 + \operatorname{tr}\Sigma_2
        - 2 \operatorname{tr}\bigl(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}\bigr)^{1/2}

    The trace term is computed from the eigenvalues of the symmetric positive semi-definite
    matrix :math:`\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2}` (same spectrum as
    :math:`\Sigma_1\Sigma_2`), which avoids the complex ``sqrtm`` of a non-symmetric product.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != (mu1.size,) * 2:
        raise ValueError("means must be (F,) and covariances (F, F) of the same F")
    w1, v1 = np.linalg.eigh((cov1 + cov1.T) / 2)
    s1 = (v1 * np.sqrt(np.clip(w1, 0, None))) @ v1.T  # Σ1^{1/2}
    m = s1 @ cov2 @ s1
    ev = np.linalg.eigvalsh((m + m.T) / 2)
    tr_sqrt = float(np.sqrt(np.clip(ev, 0, None)).sum())
    d = float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2.0 * tr_sqrt)
    return max(d, 0.0)


def bits_per_pixel(tokens_per_image: int, codebook_size: int, image_size: int) -> float:
    """Fixed-length rate ``tokens · log2 K / (H·W)``."""
    return tokens_per_image * math.log2(codebook_size) / image_size**2
