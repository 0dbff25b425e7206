"""Configs: dataclasses <-> dicts and YAML / JSON files, ``--set`` overrides, differences.

A config is a (nested) dataclass (STYLE.md, item 9). :func:`load_config` starts from a
dataclass instance (a preset), applies a YAML or JSON file, then ``key.sub=value``
overrides, checking each value against the field's annotation; :func:`config_diff` lists
the differences between two configs readably; :func:`save_config` writes one as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ._files import atomic_write_bytes

__all__ = [
    "config_diff",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "merge_config",
    "parse_overrides",
    "read_config_file",
    "save_config",
]


def config_to_dict(cfg: Any) -> dict:
    """A (nested) config dataclass as a plain dict of JSON-ready values."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"expected a dataclass instance, got {type(cfg).__name__}")
    return _to_plain(dataclasses.asdict(cfg))


def _to_plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _to_plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_to_plain(x) for x in v]
    if isinstance(v, Path):
        return str(v)
    return v


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _dataclass_in(tp: Any) -> type | None:
    """The dataclass type inside ``tp`` (``X``, ``X | None``, ``Optional[X]``), if any."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return tp
    for a in typing.get_args(tp):
        if dataclasses.is_dataclass(a) and isinstance(a, type):
            return a
    return None


def _check_value(name: str, tp: Any, v: Any) -> Any:
    """Coerce ``v`` to the annotated type ``tp`` where that is lossless; else raise."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if v is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _check_value(name, a, v)
            except (TypeError, ValueError):
                pass
        raise ValueError(f"config key {name!r}: {v!r} does not fit {tp}")
    if tp is Any:
        return v
    if origin in (list, Sequence, tuple):
        if not isinstance(v, (list, tuple)):
            raise ValueError(f"config key {name!r}: expected a list, got {v!r}")
        (item,) = typing.get_args(tp)[:1] or (Any,)
        return [_check_value(name, item, x) for x in v]
    if origin in (dict, Mapping):
        if not isinstance(v, dict):
            raise ValueError(f"config key {name!r}: expected a mapping, got {v!r}")
        return dict(v)
    if tp is bool:
        if isinstance(v, bool):
            return v
        raise ValueError(f"config key {name!r}: expected true/false, got {v!r}")
    if tp is int:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or float(v) != int(v):
            raise ValueError(f"config key {name!r}: expected an integer, got {v!r}")
        return int(v)
    if tp is float:
        if isinstance(v, str):  # YAML 1.1 reads "1e-4" as a string
            try:
                v = float(v)
            except ValueError:
                pass
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"config key {name!r}: expected a number, got {v!r}")
        return float(v)
    if tp is str:
        if not isinstance(v, str):
            raise ValueError(f"config key {name!r}: expected a string, got {v!r}")
        return v
    if type(None) is tp:
        if v is not None:
            raise ValueError(f"config key {name!r}: expected null, got {v!r}")
        return None
    return v


def merge_config(cfg: Any, updates: Mapping[str, Any], _prefix: str = "") -> Any:
    """Return a copy of dataclass ``cfg`` with the (nested, partial) ``updates`` applied.

    Unknown keys raise ``ValueError`` naming the key and listing the valid ones; values are
    checked against the field annotations (an int where a float is expected is accepted).
    """
    if not isinstance(updates, Mapping):
        where = _prefix.rstrip(".") or "<root>"
        raise ValueError(f"config section {where!r} must be a mapping, got {updates!r}")
    types_ = _field_types(type(cfg))
    changes: dict[str, Any] = {}
    for key, value in updates.items():
        full = f"{_prefix}{key}"
        if key not in types_:
            raise ValueError(
                f"unknown config key {full!r}; valid keys here: {', '.join(sorted(types_))}"
            )
        sub_cls = _dataclass_in(types_[key])
        current = getattr(cfg, key)
        if sub_cls is not None and isinstance(value, Mapping):
            base = current if current is not None else sub_cls()
            changes[key] = merge_config(base, value, _prefix=f"{full}.")
        elif sub_cls is not None and value is not None and not dataclasses.is_dataclass(value):
            raise ValueError(f"config key {full!r} is a section; give a mapping, got {value!r}")
        elif dataclasses.is_dataclass(value):
            changes[key] = value
        else:
            changes[key] = _check_value(full, types_[key], value)
    return dataclasses.replace(cfg, **changes)


def config_from_dict(cls: type, d: Mapping[str, Any]) -> Any:
    """Build dataclass ``cls`` from a (nested) dict; missing keys take their defaults."""
    return merge_config(cls(), d)


def parse_overrides(items: Iterable[str]) -> dict:
    """``["a.b=1", "c=[1, 2]"]`` -> ``{"a": {"b": 1}, "c": [1, 2]}``; values parsed as YAML."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like key=value (e.g. model.width=128)")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key or any(not p for p in key.split(".")):
            raise ValueError(f"override {item!r} has an empty key part")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as e:
            raise ValueError(f"override {item!r}: cannot parse value: {e}") from None
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {item!r} conflicts with an earlier override")
        node[parts[-1]] = value
    return out


def _deep_update(a: dict, b: Mapping) -> dict:
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _deep_update(dict(out[k]), v)
        else:
            out[k] = v
    return out


def read_config_file(path: str | os.PathLike) -> dict:
    """Read a YAML (``.yaml``/``.yml``) or JSON (``.json``) config file into a dict.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file for
    one that does not parse, is not text, or does not hold a mapping.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file {str(p)!r} does not exist (or is not a file)")
    suffix = p.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise ValueError(f"config file {str(p)!r}: use a .yaml, .yml or .json file")
    if p.stat().st_size > _MAX_CONFIG_BYTES:
        raise ValueError(f"config file {str(p)!r} is larger than "
                         f"{_MAX_CONFIG_BYTES // 2**20} MiB: not a config")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"config file {str(p)!r} is not UTF-8 text ({e.reason} at byte "
                         f"{e.start})") from None
    if suffix == ".json":
        try:
            d = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise ValueError(f"config file {str(p)!r} is not valid JSON: {e}") from None
    else:
        try:
            d = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError) as e:
            mark = getattr(e, "problem_mark", None)
            why = (f"{e.problem} (line {mark.line + 1}, column {mark.column + 1})"
                   if mark is not None and getattr(e, "problem", None) else " ".join(
                       str(e).split()))  # fmt: skip
            raise ValueError(f"config file {str(p)!r} is not valid YAML: {why}") from None
        d = {} if d is None else d
    if not isinstance(d, dict):
        raise ValueError(f"config file {str(p)!r} must hold a mapping at the top level, got "
                         f"{type(d).__name__}")
    _check_size(d, str(p))
    return d


#: Largest config file read, and most values in it (a YAML alias bomb expands without end).
_MAX_CONFIG_BYTES = 1 << 20
_MAX_CONFIG_NODES = 100_000


def _check_size(d: Any, where: str) -> None:
    todo, n = [d], 0
    while todo:
        v = todo.pop()
        n += 1
        if n > _MAX_CONFIG_NODES:
            raise ValueError(f"config file {where!r} holds more than {_MAX_CONFIG_NODES} "
                             "values (YAML aliases expanding?): not a config")
        if isinstance(v, dict):
            todo.extend(v.values())
        elif isinstance(v, list):
            todo.extend(v)


def load_config(
    base: Any, path: str | os.PathLike | None = None, overrides: Iterable[str] = ()
) -> Any:
    """``base`` (a dataclass instance), then the file at ``path``, then ``key=value`` overrides."""
    updates: dict = {}
    if path is not None:
        updates = read_config_file(path)
    updates = _deep_update(updates, parse_overrides(overrides))
    return merge_config(base, updates)


def save_config(cfg: Any, path: str | os.PathLike) -> None:
    """Write the config as JSON (atomically)."""
    d = cfg if isinstance(cfg, dict) else config_to_dict(cfg)
    atomic_write_bytes(Path(path), (json.dumps(d, indent=2, sort_keys=True) + "\n").encode())


def config_diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Readable differences ``"key: a -> b"`` between two configs (dataclasses or dicts)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        a = config_to_dict(a)
    if dataclasses.is_dataclass(b) and not isinstance(b, type):
        b = config_to_dict(b)
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            name = f"{prefix}{k}"
            if k not in a:
                out.append(f"{name}: <absent> -> {b[k]!r}")
            elif k not in b:
                out.append(f"{name}: {a[k]!r} -> <absent>")
            else:
                out.extend(config_diff(a[k], b[k], prefix=f"{name}."))
        return out
    if isinstance(a, tuple):
        a = list(a)
    if isinstance(b, tuple):
        b = list(b)
    if a != b:
        out.append(f"{prefix.rstrip('.')}: {a!r} -> {b!r}")
    return out
