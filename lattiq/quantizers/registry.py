"""One registry of quantizer kinds: a name per kind, one spelling, one table.

Each quantizer class registers itself with :func:`register_quantizer` (CompressAI's
``@register_*`` pattern). The name is what a tokenizer config says
(``QuantizerConfig(kind="spherical")``), what :meth:`config` writes as ``"type"``, and what
:func:`quantizer_from_config` reads back. Configs written before the names existed spelled
the type by class name (``"SphericalQuantizer"``); they still load: each class registers
that spelling as its ``legacy`` name, and :func:`canonical_config` maps it to the name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "canonical_config",
    "legacy_config",
    "list_quantizers",
    "quantizer_class",
    "quantizer_from_config",
    "register_quantizer",
]

#: name -> quantizer class
QUANTIZERS: dict[str, type] = {}
#: class-name spelling of configs written before the names -> name
_LEGACY: dict[str, str] = {}
#: names of quantizers that wrap another one (not a kind of their own in a tokenizer config)
_WRAPPERS: set[str] = set()


def register_quantizer(name: str, *, legacy: str | None = None,
                       wrapper: bool = False) -> Callable[[type], type]:
    """Class decorator: register a quantizer class under ``name`` (sets ``cls.kind``).

    ``legacy`` is the ``"type"`` spelling older configs used for it; ``wrapper`` marks a
    quantizer that wraps another (multi-scale), which a tokenizer config reaches through its
    ``scales`` rather than its ``kind``.
    """

    def deco(cls: type) -> type:
        if name in QUANTIZERS or name in _LEGACY:
            raise ValueError(f"quantizer name {name!r} is registered already")
        QUANTIZERS[name] = cls
        cls.kind = name
        if legacy is not None:
            _LEGACY[legacy] = name
        if wrapper:
            _WRAPPERS.add(name)
        return cls

    return deco


def list_quantizers(wrappers: bool = False) -> list[str]:
    """Registered names, sorted; wrappers (``"multiscale"``) only when asked for."""
    return sorted(n for n in QUANTIZERS if wrappers or n not in _WRAPPERS)


def quantizer_class(name: str) -> type:
    """The class registered as ``name`` (or under its legacy spelling)."""
    cls = QUANTIZERS.get(_LEGACY.get(name, name))
    if cls is None:
        raise ValueError(f"unknown quantizer type {name!r}; known: "
                         f"{list_quantizers(wrappers=True)}")
    return cls


def _respell(config: Any, names: dict[str, str]) -> Any:
    """``config`` with every ``"type"`` (nested ones too) found in ``names`` replaced."""
    if isinstance(config, dict):
        out = {k: _respell(v, names) for k, v in config.items()}
        if isinstance(out.get("type"), str):
            out["type"] = names.get(out["type"], out["type"])
        return out
    if isinstance(config, list):
        return [_respell(v, names) for v in config]
    return config


def canonical_config(config: Any) -> Any:
    """``config`` with every ``"type"`` (nested ones too) spelled by registered name."""
    return _respell(config, _LEGACY)


def legacy_config(config: Any) -> Any:
    """``config`` with every ``"type"`` spelled as before the names (class names): the form
    fingerprints of files written then were taken over."""
    return _respell(config, {v: k for k, v in _LEGACY.items()})


def quantizer_from_config(config: dict[str, Any]):
    """Rebuild any registered quantizer from its ``config()`` dict (either spelling)."""
    if not isinstance(config, dict) or "type" not in config:
        raise ValueError("a quantizer config is a dict with a 'type' key")
    config = canonical_config(config)
    return quantizer_class(config["type"]).from_config(config)
