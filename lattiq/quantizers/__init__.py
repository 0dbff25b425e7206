"""Torch quantizer layers over any spherical code, with one contract.

``forward(z) -> QuantizerOutput(codes, indices, aux_loss)`` for every quantizer (a
multi-scale one returns :class:`MultiScaleQuantizerOutput`, the same fields with a list of
per-scale indices); inputs are channels-last ``(..., d)``. See :class:`SphericalQuantizer`,
:class:`MultiScaleQuantizer`, the baselines :class:`BSQQuantizer`, :class:`LFQQuantizer`,
:class:`RandomProjectionQuantizer`, the unquantized control :class:`IdentityQuantizer`,
and the Leech "d-it" labels :func:`leech_labels`. Every kind is registered by name in
:mod:`~lattiq.quantizers.registry` (``"spherical"``, ``"bsq"``, ``"lfq"``,
``"random-projection"``, ``"identity"``, ``"multiscale"``).
"""

from __future__ import annotations

from .base import MultiScaleQuantizerOutput, Quantizer, QuantizerOutput
from .baselines import BSQQuantizer, LFQQuantizer, RandomProjectionQuantizer
from .identity import IdentityQuantizer
from .labels import labels_to_indices, leech_label_table, leech_labels
from .multiscale import SCALE_SCHEDULES, MultiScaleQuantizer, resolve_schedule
from .registry import (
    list_quantizers,
    quantizer_class,
    quantizer_from_config,
    register_quantizer,
)
from .spherical import SphericalQuantizer
from .usage import CodeUsage

__all__ = [
    "BSQQuantizer",
    "CodeUsage",
    "IdentityQuantizer",
    "LFQQuantizer",
    "RandomProjectionQuantizer",
    "labels_to_indices",
    "list_quantizers",
    "leech_label_table",
    "leech_labels",
    "MultiScaleQuantizer",
    "MultiScaleQuantizerOutput",
    "Quantizer",
    "QuantizerOutput",
    "SCALE_SCHEDULES",
    "SphericalQuantizer",
    "quantizer_class",
    "quantizer_from_config",
    "register_quantizer",
    "resolve_schedule",
]

