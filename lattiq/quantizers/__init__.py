"""Torch quantizer layers over any spherical code, with one contract.

``forward(z) -> QuantizerOutput(codes, indices, aux_loss)`` for every quantizer; inputs are
channels-last ``(..., d)``. See :class:`SphericalQuantizer`, :class:`MultiScaleQuantizer`,
the baselines :class:`BSQQuantizer`, :class:`LFQQuantizer`,
:class:`RandomProjectionQuantizer`, the unquantized control :class:`IdentityQuantizer`,
and the Leech "d-it" labels :func:`leech_labels`.
"""

from __future__ import annotations

from typing import Any

from .base import Quantizer, QuantizerOutput
from .baselines import BSQQuantizer, LFQQuantizer, RandomProjectionQuantizer
from .identity import IdentityQuantizer
from .labels import labels_to_indices, leech_label_table, leech_labels
from .multiscale import SCALE_SCHEDULES, MultiScaleQuantizer, resolve_schedule
from .spherical import SphericalQuantizer
from .usage import CodeUsage

__all__ = [
    "BSQQuantizer",
    "CodeUsage",
    "IdentityQuantizer",
    "LFQQuantizer",
    "RandomProjectionQuantizer",
    "labels_to_indices",
    "leech_label_table",
    "leech_labels",
    "MultiScaleQuantizer",
    "Quantizer",
    "QuantizerOutput",
    "SCALE_SCHEDULES",
    "SphericalQuantizer",
    "quantizer_from_config",
    "resolve_schedule",
]


def quantizer_from_config(config: dict[str, Any]) -> Quantizer:
    """Rebuild any quantizer of this package from its ``config()`` dict."""
    if not isinstance(config, dict) or "type" not in config:
        raise ValueError("a quantizer config is a dict with a 'type' key")
    kinds = {
        "SphericalQuantizer": SphericalQuantizer,
        "MultiScaleQuantizer": MultiScaleQuantizer,
        "BSQQuantizer": BSQQuantizer,
        "LFQQuantizer": LFQQuantizer,
        "RandomProjectionQuantizer": RandomProjectionQuantizer,
        "IdentityQuantizer": IdentityQuantizer,
    }
    cls = kinds.get(config["type"])
    if cls is None:
        raise ValueError(f"unknown quantizer type {config['type']!r}; known: {sorted(kinds)}")
    return cls.from_config(config)
