"""Multi-scale residual quantization (VAR / Infinity style) over any quantizer.

Shape legend: ``B`` batch, ``H, W`` the full feature map, ``h_k, w_k`` the side of scale
``k``, ``d`` channels (the quantizer's dimension), ``K`` the number of scales. Feature maps
are channels-last ``(B, H, W, d)``; a 5-d input ``(B, T, H, W, d)`` (video) is accepted with
``upsample="trilinear"`` and keeps ``T`` at every scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import MultiScaleQuantizerOutput, Quantizer
from .registry import quantizer_from_config, register_quantizer
from .spherical import SphericalQuantizer

__all__ = ["MultiScaleQuantizer", "SCALE_SCHEDULES", "UPSAMPLE_MODES", "resolve_schedule"]

#: Named scale schedules (side lengths, coarse to fine).
SCALE_SCHEDULES: dict[str, tuple[int, ...]] = {
    # VAR's 10-scale schedule for a 16 × 16 latent (Tian et al. 2024)
    "var10": (1, 2, 3, 4, 5, 6, 8, 10, 13, 16),
    # the 7-scale schedule for a 16 × 16 latent
    "seven": (1, 2, 4, 6, 8, 12, 16),
}
UPSAMPLE_MODES = ("bicubic", "bilinear", "nearest", "trilinear")


def resolve_schedule(schedule: str | Sequence[int]) -> tuple[int, ...]:
    """Turn a schedule name or a sequence of side lengths into a validated tuple."""
    if isinstance(schedule, str):
        if schedule not in SCALE_SCHEDULES:
            raise ValueError(
                f"unknown scale schedule {schedule!r}; named schedules: {sorted(SCALE_SCHEDULES)}"
                " (or pass a sequence of side lengths)"
            )
        return SCALE_SCHEDULES[schedule]
    sides = tuple(int(s) for s in schedule)
    if not sides:
        raise ValueError("a scale schedule needs at least one scale")
    if any(s < 1 for s in sides):
        raise ValueError(f"scale sides must be positive, got {sides}")
    if any(b <= a for a, b in zip(sides, sides[1:], strict=False)):
        raise ValueError(f"scale sides must increase strictly, got {sides}")
    return sides


@register_quantizer("multiscale", legacy="MultiScaleQuantizer", wrapper=True)
class MultiScaleQuantizer(Quantizer):
    """Residual quantization over a schedule of scales, coarse to fine.

    At scale ``k`` with side ``s_k`` (``S = s_K`` the input side):

    .. math::
        r_k = f - \\hat f_{k-1}, \\quad z_k = \\mathrm{area}_{s_k}(r_k), \\quad
        q_k = Q(z_k), \\quad
        \\hat f_k = \\hat f_{k-1} + \\gamma_k\\, \\mathrm{up}_S(q_k)

    with ``\\hat f_0 = 0``, ``area`` the area (box) downsampling, ``up`` bicubic (or
    trilinear) upsampling, ``Q`` the per-scale quantizer and ``γ_k`` a per-scale gain.

    **Residual magnitude.** A spherical quantizer returns unit vectors whatever the residual's
    norm, so each scale's code is multiplied by a scalar gain ``γ_k``. ``gains="learned"``
    (default) makes them parameters initialized to ``init_gain`` (1, which is the plain sum
    of codewords used by VAR and Infinity); ``gains="fixed"`` keeps them as a buffer;
    a sequence gives fixed values. :meth:`calibrate_gains` sets them to the least-squares
    optimum on a batch, which makes the reconstruction error non-increasing with every added
    scale. Decoding needs only the indices and the gains (part of the state dict).

    **Gradients.** The output is ``f + sg(\\hat f_K − f)`` plus the gains' terms: the
    gradient reaches ``f`` unchanged (VAR's straight-through estimator) and each ``γ_k``
    receives ``⟨∂L/∂\\hat f, up(q_k)⟩``. ``aux_loss`` is the sum of the per-scale quantizers'
    auxiliary losses, which keep their gradient to ``f``.

    Parameters
    ----------
    quantizer : Quantizer or str
        The per-scale quantizer, or a code name for a :class:`SphericalQuantizer`.
    schedule : str or sequence of int
        ``"var10"`` = 1,2,3,4,5,6,8,10,13,16 (VAR's 10 scales) or ``"seven"`` =
        1,2,4,6,8,12,16, or explicit increasing side lengths; the last must equal the
        input's side.
    upsample : {"bicubic", "bilinear", "nearest", "trilinear"}
        Upsampling of each scale's codes (``"trilinear"`` for 5-d video inputs).
    gains : {"learned", "fixed"} or sequence of float
    init_gain : float

    References
    ----------
    K. Tian et al., "Visual Autoregressive Modeling: Scalable Image Generation via Next-Scale
    Prediction" (VAR), NeurIPS 2024; J. Han et al., "Infinity", arXiv 2412.04431.
    """

    def __init__(
        self,
        quantizer: Quantizer | str,
        schedule: str | Sequence[int] = "var10",
        upsample: str = "bicubic",
        *,
        gains: str | Sequence[float] = "learned",
        init_gain: float = 1.0,
    ):
        super().__init__()
        if isinstance(quantizer, str):
            quantizer = SphericalQuantizer(quantizer)
        if not isinstance(quantizer, Quantizer):
            raise TypeError(
                f"quantizer must be a Quantizer or a code name, got {type(quantizer).__name__}"
            )
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")
        self.quantizer = quantizer
        self.schedule_name = schedule if isinstance(schedule, str) else None
        self.scale_schedule = resolve_schedule(schedule)
        self.upsample = upsample
        self.dim = quantizer.dim
        self.codebook_size = quantizer.codebook_size
        nk = len(self.scale_schedule)
        if isinstance(gains, str):
            if gains not in ("learned", "fixed"):
                raise ValueError(f"gains must be 'learned', 'fixed' or a sequence, got {gains!r}")
            g0 = torch.full((nk,), float(init_gain))
            self.gains_mode = gains
        else:
            g0 = torch.as_tensor([float(g) for g in gains])
            if g0.shape != (nk,):
                raise ValueError(f"need one gain per scale ({nk}), got {len(g0)}")
            self.gains_mode = "fixed"
        if self.gains_mode == "learned":
            self.gains = nn.Parameter(g0)
        else:
            self.register_buffer("gains", g0)

    @property
    def num_scales(self) -> int:
        return len(self.scale_schedule)

    # ------------------------------------------------------------------ resampling
    def _check_f(self, f: torch.Tensor) -> None:
        if not isinstance(f, torch.Tensor) or not f.is_floating_point():
            raise TypeError("f must be a floating-point tensor (B, H, W, d)")
        if f.ndim not in (4, 5) or f.shape[-1] != self.dim:
            raise ValueError(
                f"f must be channels-last (B, H, W, {self.dim}) or (B, T, H, W, {self.dim}), "
                f"got shape {tuple(f.shape)}"
            )
        if f.ndim == 5 and self.upsample != "trilinear":
            raise ValueError("5-d inputs (B, T, H, W, d) need upsample='trilinear'")
        H, W = f.shape[-3], f.shape[-2]
        S = self.scale_schedule[-1]
        if H != S or W != S:
            raise ValueError(
                f"input side {H}x{W} does not match the schedule's last scale {S}x{S} "
                f"(schedule {self.scale_schedule})"
            )

    def _down(self, x: torch.Tensor, s: int) -> torch.Tensor:  # (B,[T],H,W,d) -> (B,[T],s,s,d)
        if x.shape[-2] == s and x.shape[-3] == s:
            return x
        if x.ndim == 4:
            y = F.interpolate(x.permute(0, 3, 1, 2), size=(s, s), mode="area")
            return y.permute(0, 2, 3, 1)
        T = x.shape[1]
        y = F.interpolate(x.permute(0, 4, 1, 2, 3), size=(T, s, s), mode="area")
        return y.permute(0, 2, 3, 4, 1)

    def _up(self, x: torch.Tensor, S: int) -> torch.Tensor:  # (B,[T],s,s,d) -> (B,[T],S,S,d)
        if x.shape[-2] == S and x.shape[-3] == S:
            return x
        if x.ndim == 4:
            mode = self.upsample if self.upsample != "trilinear" else "bilinear"
            kw = {} if mode == "nearest" else {"align_corners": False}
            y = F.interpolate(x.permute(0, 3, 1, 2), size=(S, S), mode=mode, **kw)
            return y.permute(0, 2, 3, 1)
        T = x.shape[1]
        y = F.interpolate(
            x.permute(0, 4, 1, 2, 3), size=(T, S, S), mode="trilinear", align_corners=False
        )
        return y.permute(0, 2, 3, 4, 1)

    # ------------------------------------------------------------------ contract
    def forward(self, f: torch.Tensor) -> MultiScaleQuantizerOutput:
        """``f (B, H, W, d)`` -> codes ``(B, H, W, d)``, indices ``[(B, h_k, w_k)]``, aux."""
        self._check_f(f)
        S = self.scale_schedule[-1]
        fd = f.detach()
        f_hat = torch.zeros_like(fd)  # running sum, no gradient
        gain_term = torch.zeros_like(fd)  # sum of gamma_k * up(q_k), gradient to gains only
        indices: list[torch.Tensor] = []
        aux = torch.zeros((), dtype=torch.float32, device=f.device)
        for k, s in enumerate(self.scale_schedule):
            z = self._down(f - f_hat, s)  # gradient of aux losses reaches f
            out = self.quantizer(z)
            indices.append(out.indices)
            aux = aux + out.aux_loss.float()
            u = self._up(out.codes.detach().to(fd.dtype), S)
            f_hat = f_hat + self.gains[k].detach().to(fd.dtype) * u
            gain_term = gain_term + self.gains[k].to(fd.dtype) * u
        # value f_hat; gradient identity to f (VAR's STE) and <grad, u_k> to each gain
        codes = f + (f_hat - fd) + (gain_term - gain_term.detach())
        return MultiScaleQuantizerOutput(codes.to(f.dtype), indices, aux)

    def _check_indices(self, indices: Sequence[torch.Tensor], need: int) -> None:
        if len(indices) < need:
            raise ValueError(f"expected at least {need} index tensors, got {len(indices)}")
        for k, idx in enumerate(indices[:need]):
            s = self.scale_schedule[k]
            if idx.shape[-2:] != (s, s):
                raise ValueError(
                    f"scale {k} indices must end in ({s}, {s}), got {tuple(idx.shape)}"
                )

    def scale_codes(self, k: int, indices_k: torch.Tensor) -> torch.Tensor:
        """Scale ``k``'s contribution ``γ_k · up(q_k)`` at full resolution: (B, S, S, d)."""
        if not 0 <= k < self.num_scales:
            raise ValueError(f"scale index must be in [0, {self.num_scales}), got {k}")
        s = self.scale_schedule[k]
        if indices_k.shape[-2:] != (s, s):
            raise ValueError(f"scale {k} indices must end in ({s}, {s}), got {indices_k.shape}")
        q = self.quantizer.indices_to_codes(indices_k).float()
        return self.gains[k].float() * self._up(q, self.scale_schedule[-1])

    def indices_to_codes(self, indices: Sequence[torch.Tensor]) -> torch.Tensor:
        """Sum of all scales' contributions: list of ``(B, h_k, w_k)`` -> ``(B, S, S, d)``."""
        self._check_indices(indices, self.num_scales)
        out = self.scale_codes(0, indices[0])
        for k in range(1, self.num_scales):
            out = out + self.scale_codes(k, indices[k])
        return out

    def next_scale_inputs(self, indices: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """VAR's teacher-forcing inputs: for ``k = 1..K-1`` the running sum of the
        contributions of scales ``< k``, area-downsampled to scale ``k``'s side.

        Returns a list of ``K - 1`` tensors ``(B, s_k, s_k, d)``; only the first ``K - 1``
        index tensors are read.
        """
        nk = self.num_scales
        self._check_indices(indices, nk - 1)
        outs: list[torch.Tensor] = []
        acc = None
        for k in range(1, nk):
            c = self.scale_codes(k - 1, indices[k - 1])
            acc = c if acc is None else acc + c
            outs.append(self._down(acc, self.scale_schedule[k]))
        return outs

    def codes_to_indices(self, codes: torch.Tensor) -> list[torch.Tensor]:
        """Re-quantize a feature map: the per-scale indices of :meth:`forward`."""
        with torch.no_grad():
            return self.forward(codes).indices

    @torch.no_grad()
    def calibrate_gains(self, f: torch.Tensor) -> torch.Tensor:
        """Set each ``γ_k`` to the least-squares optimum on the batch ``f`` (greedy, coarse
        to fine) and return the gains.

        .. math:: \\gamma_k = \\max\\Big(0, \\frac{\\langle r_k, u_k\\rangle}
                  {\\lVert u_k\\rVert^2}\\Big), \\quad u_k = \\mathrm{up}_S(q_k)

        Each step can only lower ``‖f − \\hat f‖``.
        """
        self._check_f(f)
        S = self.scale_schedule[-1]
        f = f.float()
        f_hat = torch.zeros_like(f)
        new = torch.zeros_like(self.gains, dtype=torch.float32)
        for k, s in enumerate(self.scale_schedule):
            r = f - f_hat
            u = self._up(self.quantizer(self._down(r, s)).codes.float(), S)
            den = (u * u).sum()
            g = (r * u).sum() / den if den > 0 else torch.zeros((), device=f.device)
            g = g.clamp(min=0)
            new[k] = g
            f_hat = f_hat + g * u
        self.gains.data.copy_(new.to(self.gains.dtype))
        return self.gains.detach().clone()

    def config(self) -> dict[str, Any]:
        """JSON-able description (the per-scale quantizer's config nested)."""
        inner = self.quantizer.config() if hasattr(self.quantizer, "config") else None
        return {
            "type": self.kind,
            "quantizer": inner,
            "schedule": self.schedule_name or list(self.scale_schedule),
            "upsample": self.upsample,
            "gains": self.gains_mode,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MultiScaleQuantizer:
        q = quantizer_from_config(config["quantizer"])
        return cls(q, config["schedule"], config.get("upsample", "bicubic"),
                   gains=config.get("gains", "learned"))

    def extra_repr(self) -> str:
        return (
            f"schedule={self.scale_schedule}, upsample={self.upsample!r}, "
            f"gains={self.gains_mode!r}"
        )
