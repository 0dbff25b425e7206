"""Codebook health of a tokenizer: is it using its code, and is its decoder reading it?

Four measurements on held-out images, used by training (logged at intervals, with a warning
when usage stays collapsed) and by evaluation:

* **usage**: distinct codes and perplexity :math:`2^{H}` of the held-out tokens;
* **position share of the latent variance**: the fraction of the variance of the
  normalized latents explained by the token's position alone,

  .. math::
      R^2_{\\mathrm{pos}} = \\frac{\\sum_{l} B\\,\\lVert \\bar z_{\\cdot l} - \\bar z\\rVert^2}
                             {\\sum_{b,l} \\lVert z_{bl} - \\bar z\\rVert^2},

  near 1 when every image gets nearly the same latent at a given position (the collapsed
  regime), near 0 when latents depend on content;
* **code : position norm ratio** at the decoder input: the mean norm of the projected code
  ``from_latent(c)`` over the mean norm of the decoder's position term (how loudly the code
  speaks against the positions it is added to);
* **shuffled-code drop**: PSNR of the reconstructions minus PSNR when each image is decoded
  from another image's codes (the batch rolled by one, positions kept). Near 0 dB means the
  decoder ignores the code.

Shape legend: ``B`` batch, ``L`` tokens per image, ``d`` code dimension, ``D`` ViT width.
"""

from __future__ import annotations

import math

import torch

from lattiq.quantizers.usage import CodeUsage

from .metrics import psnr

__all__ = ["HealthStats", "collapse_message", "measure_health"]


class HealthStats:
    """Accumulates the health measurements over batches of (images, model outputs)."""

    def __init__(self, codebook_size: int):
        self.usage = CodeUsage(codebook_size, exact=True)
        self._n = 0  # images
        self._sum_pos = None  # (L, d) sum over images of the normalized latents
        self._sumsq = 0.0  # sum over images and tokens of ‖z‖² (z normalized: 1 per token)
        self._code_norm = 0.0
        self._tokens = 0
        self._psnr: list[torch.Tensor] = []
        self._psnr_shuffled: list[torch.Tensor] = []
        self._pos_norm: float | None = None

    @torch.no_grad()
    def update(self, model, images: torch.Tensor) -> torch.Tensor:
        """Run ``model`` (a :class:`~lattiq.models.tokenizer.Tokenizer`) on ``images``
        (B, C, H, W) and accumulate; returns the reconstructions (B, C, H, W), clamped."""
        out = model(images)
        recon = out.images.float().clamp(-1, 1)
        self.usage.update(out.quant.indices)
        b = images.shape[0]
        z = out.latent.float().reshape(b, -1, out.latent.shape[-1])  # (B, L, d)
        z = z / z.norm(dim=-1, keepdim=True).clamp_min(1e-30)
        s = z.sum(0)
        self._sum_pos = s if self._sum_pos is None else self._sum_pos + s
        self._sumsq += float(z.pow(2).sum())
        self._n += b
        codes = out.quant.codes.float().reshape(b, -1, out.quant.codes.shape[-1])
        proj = model.from_latent(codes.to(model.from_latent.weight.dtype)).float()  # (B, L, D)
        self._code_norm += float(proj.norm(dim=-1).sum())
        self._tokens += proj.shape[0] * proj.shape[1]
        if self._pos_norm is None:
            pos = model.decoder.positions().detach().float()
            self._pos_norm = float(pos.norm(dim=-1).mean())
        self._psnr.append(psnr(recon, images).cpu())
        if b > 1:
            shuffled = torch.roll(out.quant.codes, 1, dims=0)
            y = model.decode(shuffled).float().clamp(-1, 1)
            self._psnr_shuffled.append(psnr(y, images).cpu())
        return recon

    def summary(self) -> dict[str, float | int | None]:
        """``used_codes``, ``perplexity``, ``pos_variance_fraction``, ``code_pos_ratio``,
        ``psnr``, ``psnr_shuffled``, ``shuffle_drop_db`` (None where not measurable)."""
        u = self.usage.summary()
        out: dict[str, float | int | None] = {
            "used_codes": u["used_codes"],
            "perplexity": u["perplexity"],
        }
        if self._n:
            mean_l = self._sum_pos / self._n  # (L, d)
            grand = mean_l.mean(0)  # (d,)
            between = self._n * float((mean_l - grand).pow(2).sum())
            total = self._sumsq - self._n * mean_l.shape[0] * float(grand.pow(2).sum())
            out["pos_variance_fraction"] = between / total if total > 0 else None
            out["code_pos_ratio"] = (
                (self._code_norm / self._tokens) / self._pos_norm if self._pos_norm else None
            )
            out["psnr"] = float(torch.cat(self._psnr).double().mean())
        else:
            out.update(pos_variance_fraction=None, code_pos_ratio=None, psnr=None)
        if self._psnr_shuffled:
            out["psnr_shuffled"] = float(torch.cat(self._psnr_shuffled).double().mean())
            out["shuffle_drop_db"] = out["psnr"] - out["psnr_shuffled"]
        else:
            out.update(psnr_shuffled=None, shuffle_drop_db=None)
        return out


@torch.no_grad()
def measure_health(model, images: torch.Tensor, batch_size: int = 128) -> dict:
    """:class:`HealthStats` of ``model`` on a fixed set of images (B, C, H, W), in eval mode
    (the model's mode is restored)."""
    was_training = model.training
    model.eval()
    stats = HealthStats(model.codebook_size)
    try:
        for s in range(0, images.shape[0], batch_size):
            stats.update(model, images[s : s + batch_size])
    finally:
        model.train(was_training)
    return stats.summary()


def collapse_message(health: dict, min_perplexity: float, step: int) -> str | None:
    """A warning when held-out perplexity is below ``min_perplexity``, else None."""
    ppl = health.get("perplexity")
    if ppl is None or not math.isfinite(ppl) or ppl >= min_perplexity:
        return None
    drop = health.get("shuffle_drop_db")
    pos = health.get("pos_variance_fraction")
    extra = []
    if pos is not None:
        extra.append(f"{100 * pos:.0f}% of the latent variance is explained by position")
    if drop is not None:
        extra.append(f"decoding other images' codes costs only {drop:.2f} dB")
    return (
        f"warning: codebook usage has collapsed at step {step}: held-out perplexity "
        f"{ppl:.1f} < {min_perplexity:g} with {health['used_codes']} distinct codes"
        + ("; " + ", ".join(extra) if extra else "")
        + ". Check the position-embedding scale and the decoder-input init "
        "(docs/tokenizer.md, 'Codebook health')"
    )
