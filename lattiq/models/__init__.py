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
    # --- VAR generator exports go here, e.g. "VAR": "var", "VARConfig": "var" -------------
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
