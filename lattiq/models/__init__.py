"""Models: the visual tokenizer (ViT autoencoder + losses), metrics, training utilities, and
the VAR generator.

Names are imported lazily (PEP 562), so that ``lattiq.models.tokenizer_cli`` can be
imported, and the ``lattiq`` command built, without importing torch.
"""

from __future__ import annotations

import importlib

#: public name -> submodule that defines it
_EXPORTS = {
    "TOKENIZER_PRESETS": "tokenizer",
    "QuantizerConfig": "tokenizer",
    "Tokenizer": "tokenizer",
    "TokenizerConfig": "tokenizer",
    "TokenizerOutput": "tokenizer",
    "build_quantizer": "tokenizer",
    "tokenizer_preset": "tokenizer",
    "VAR": "var",
    "VARConfig": "var",
    "VAR_PRESETS": "var",
    "var_preset": "var",
    "make_head": "heads",
    "chunked_cross_entropy": "chunked_ce",
    "OptimConfig": "optim",
    "build_optimizer": "optim",
    "SampleSettings": "sample",
    "generate_images": "sample",
    "load_generator": "sample",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
