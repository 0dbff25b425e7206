"""Small helpers for the ``lattiq`` command's argument parsers (standard library only).

* :func:`set_lazy_epilog`: a parser's ``epilog`` made by a callable only when help is
  printed — so that a help text generated from the torch-side config dataclasses costs
  nothing when the parser is merely built or used to parse;
* :func:`config_keys_help`: the list of ``--set`` keys of a config dataclass, with types and
  defaults, generated from the dataclass itself so that it cannot go stale;
* :func:`run_options`: the parsed options of a training command as the training script's
  typed :class:`~lattiq.training.options.RunOptions`.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable

__all__ = ["config_keys", "config_keys_help", "lazy_config_help", "run_options",
           "set_lazy_epilog"]


def set_lazy_epilog(parser: argparse.ArgumentParser, make: Callable[[], str]) -> None:
    """Give ``parser`` the epilog ``make()``, computed the first time help is formatted.

    Works on any ``ArgumentParser`` (a subparser of any class): the parser's own
    ``format_help`` is wrapped on the instance.
    """
    inner = parser.format_help

    def format_help() -> str:
        if parser.epilog is None:
            parser.epilog = make()
        return inner()

    parser.format_help = format_help  # type: ignore[method-assign]


def _type_name(tp) -> str:
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return str(tp).replace("typing.", "")


def config_keys(cls: type, instance=None, prefix: str = "") -> list[tuple[str, str, object]]:
    """``[(dotted key, type name, default), ...]`` of a (nested) config dataclass.

    Nested dataclass fields are walked into (``model.quantizer.code``); defaults are read
    from ``instance`` when given (a preset), else from a default-constructed ``cls``.
    """
    if not (dataclasses.is_dataclass(cls) and isinstance(cls, type)):
        raise TypeError(f"expected a dataclass type, got {cls!r}")
    inst = instance if instance is not None else cls()
    hints = typing.get_type_hints(cls)
    out: list[tuple[str, str, object]] = []
    for f in dataclasses.fields(cls):
        value = getattr(inst, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.extend(config_keys(type(value), value, prefix=f"{key}."))
        else:
            out.append((key, _type_name(hints.get(f.name, object)), value))
    return out


def config_keys_help(cls: type, instance=None, note: str = "") -> str:
    """Help text listing every ``--set`` key of ``cls`` with its type and default."""
    rows = config_keys(cls, instance)
    w = max(len(k) for k, _, _ in rows)
    lines = [
        "Config: the preset's values, then --config FILE (YAML or JSON, partial is fine), then "
        "each --set KEY=VALUE (VALUE is read as YAML). --print-config prints the resolved "
        "config as JSON and exits without training.",
        "",
        "config keys" + (f" ({note})" if note else "") + ":",
    ]
    lines += [f"  {k:<{w}}  {t} = {v!r}" for k, t, v in rows]
    return "\n".join(lines)


def lazy_config_help(loader: Callable[[], tuple[type, object, str]]) -> Callable[[], str]:
    """An epilog maker for :func:`set_lazy_epilog`: ``loader()`` returns
    ``(config class, default instance or None, note)``; imported only when help is shown."""

    def epilog() -> str:
        cls, inst, note = loader()
        return config_keys_help(cls, inst, note)

    return epilog


def run_options(args: argparse.Namespace, cls: type | None = None, **extra):
    """The options a training command parsed, as ``cls`` (default
    :class:`~lattiq.training.options.RunOptions`; a subclass takes its own fields in
    ``extra``). Imports the training side, so call it from a handler, not at start-up."""
    if cls is None:
        from lattiq.training.options import RunOptions as cls
    return cls(preset=args.preset, config=args.config, overrides=list(args.overrides),
               out=args.out, resume=args.resume, overwrite=args.overwrite,
               stop_at=args.stop_at, print_config=args.print_config,
               progress=not args.no_progress, **extra)
