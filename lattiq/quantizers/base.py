"""The one quantizer contract: ``forward(z) -> QuantizerOutput(codes, indices, aux_loss)``.

Shape legend for this package: ``...`` any leading batch shape, ``d`` the code's dimension,
``K`` the codebook size. Input is channels-last ``(..., d)``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

__all__ = ["MultiScaleQuantizerOutput", "QuantizerOutput", "Quantizer"]


class QuantizerOutput(NamedTuple):
    """What every quantizer returns, whatever its options.

    Attributes
    ----------
    codes : Tensor (..., d)
        Quantized vectors in the input's dtype, carrying the straight-through gradient.
    indices : LongTensor (...)
        Codeword indices in ``[0, codebook_size)``.
    aux_loss : Tensor ()
        Scalar auxiliary loss (entropy penalties of the baselines); exactly zero for fixed
        lattice codes.
    """

    codes: torch.Tensor
    indices: torch.Tensor
    aux_loss: torch.Tensor


class MultiScaleQuantizerOutput(NamedTuple):
    """What a multi-scale quantizer returns: the same three fields, with one index tensor
    per scale.

    Attributes
    ----------
    codes : Tensor (B, H, W, d)
        The sum of the scales' upsampled codes, carrying the straight-through gradient.
    indices : list of LongTensor (B, h_k, w_k)
        Codeword indices of scale ``k``, coarse to fine.
    aux_loss : Tensor ()
        Sum of the per-scale quantizers' auxiliary losses.
    """

    codes: torch.Tensor
    indices: list[torch.Tensor]
    aux_loss: torch.Tensor


class Quantizer(nn.Module):
    """Base class: subclasses implement ``forward``, ``indices_to_codes``, ``codes_to_indices``."""

    dim: int
    codebook_size: int
    #: The name it is registered under (:mod:`lattiq.quantizers.registry`): a config's
    #: ``"type"``, a tokenizer config's ``kind``.
    kind: str = ""
    #: False for a control that passes its (normalized) input through unrounded.
    quantized: bool = True

    @property
    def bits_per_token(self) -> float:
        """``log2(codebook_size)``."""
        return math.log2(self.codebook_size)

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:  # (...) -> (..., d)
        raise NotImplementedError

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:  # (..., d) -> (...)
        raise NotImplementedError
