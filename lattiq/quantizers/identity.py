"""``IdentityQuantizer``: the unquantized control of every code comparison.

It normalizes and does nothing else, so a tokenizer built on it has the same architecture,
the same unit-norm latents and the same training as one built on a code, but no
quantization error: its reconstruction is the ceiling a quantizer is measured against.

Shape legend: ``...`` leading batch shape, ``d`` the reference code's dimension.
"""

from __future__ import annotations

from typing import Any

import torch

from .base import QuantizerOutput
from .registry import register_quantizer
from .spherical import SphericalQuantizer, _inv_norm

__all__ = ["IdentityQuantizer"]


@register_quantizer("identity", legacy="IdentityQuantizer")
class IdentityQuantizer(SphericalQuantizer):
    r"""Normalize only: ``codes = z / ‖z‖``, with the ordinary gradient of the normalization.

    .. math:: \mathrm{codes} = \hat z = \frac{z}{\lVert z\rVert}

    The ``code`` names a reference spherical code (``"leech"`` by default) that fixes the
    dimension and is used for measurement only: ``indices`` are the reference code's
    nearest codewords of ``ẑ`` (its Voronoi cells on the sphere), so codebook-usage
    statistics say how many cells the continuous latents occupy. The codes themselves are
    never rounded, so the rate is unbounded: :attr:`quantized` is ``False`` and callers
    report no bits per token for it.

    Parameters
    ----------
    code : str or SphericalCode
        The reference code (dimension and cells for usage statistics).
    **kw
        Passed to :class:`SphericalQuantizer` (``nan_policy``, ``memory_budget_bytes``,
        ``search_backend``, ``track_usage``).
    """

    #: The codes are the normalized inputs themselves, not codewords.
    quantized = False

    def __init__(self, code: Any = "leech", **kw: Any):
        super().__init__(code, **kw)

    def extra_repr(self) -> str:
        return "reference " + super().extra_repr()

    def forward(self, z: torch.Tensor) -> QuantizerOutput:  # (..., d) -> codes (..., d)
        zf, finite_tok = self._finite_input(z)
        lead, cdt = z.shape[:-1], zf.dtype
        with torch.autocast(device_type=z.device.type, enabled=False):
            codes = zf * _inv_norm(zf)  # zero rows stay zero
            with torch.no_grad():
                idx = self._search(codes.detach().reshape(-1, self.dim)).to(z.device)
                if finite_tok is not None:
                    idx = torch.where(finite_tok.reshape(-1), idx, torch.full_like(idx, -1))
            indices = idx.reshape(lead)
        if self.training and self.track_usage:
            self.usage.update(indices)
        aux = torch.zeros((), dtype=cdt, device=z.device)
        return QuantizerOutput(codes.to(z.dtype), indices, aux)
