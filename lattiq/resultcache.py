"""A disk cache of exact, costly results (JSON files in the user cache directory).

``lattiq report`` recomputes the same numbers on every run: Delsarte LP bounds, design
strengths, minimum distances of codes with 10^5 points, Monte Carlo second moments with a
fixed seed. They depend only on the inputs and on the code that computes them, so
:class:`ResultCache` keeps them in

``$LATTIQ_CACHE_DIR`` (if set) or ``$XDG_CACHE_HOME/lattiq`` (default ``~/.cache/lattiq``),
then ``<lattiq version>/<namespace>/<key hash>.json``.

``LATTIQ_CACHE_DIR=off`` (or ``0``, empty) turns the cache off.

Safety: entries are plain JSON (never pickle). Each file holds its full key and the
SHA-256 of its value; an entry whose key or hash does not match, or that does not parse, is
deleted and recomputed rather than trusted. The key of every entry includes a *salt*: the
lattiq version, the versions of numpy / scipy / sympy / numba, and a digest of the source
files the result depends on, so that a changed algorithm (even without a version bump, in a
development checkout) never reads an old result. Writes are atomic (temporary file +
rename), so concurrent runs at worst compute the same entry twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from lattiq import __version__

__all__ = ["ResultCache", "cache_root", "source_digest"]

_FORMAT = 1
_OFF = ("", "0", "off", "no", "none", "false")


def cache_root() -> Path | None:
    """The versioned cache directory, or ``None`` when ``LATTIQ_CACHE_DIR`` turns it off."""
    env = os.environ.get("LATTIQ_CACHE_DIR")
    if env is not None:
        if env.strip().lower() in _OFF:
            return None
        base = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "lattiq"
    return base / __version__


@cache
def source_digest(packages: tuple[str, ...]) -> str:
    """SHA-256 over the ``.py`` sources of the given lattiq subpackages or modules, plus the
    versions of numpy, scipy, sympy and numba (read from package metadata, not imported)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for dist in ("numpy", "scipy", "sympy", "numba"):
        try:
            h.update(f"{dist}={version(dist)};".encode())
        except PackageNotFoundError:
            h.update(f"{dist}=?;".encode())
    for pkg in packages:
        p = root.joinpath(*pkg.split(".")[1:]) if pkg != "lattiq" else root
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p.with_suffix(".py")]
        for f in files:
            h.update(str(f.relative_to(root)).encode() + b"\0")
            h.update(f.read_bytes())
    return h.hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


class ResultCache:
    """JSON results under ``cache_root()/namespace``, keyed by a JSON-able dict.

    Parameters
    ----------
    namespace : str
        Sub-folder (``"report"``).
    depends_on : iterable of str
        lattiq subpackages / modules whose source the results depend on (their digest salts
        every key), e.g. ``("lattiq.lattices", "lattiq.spherecodes", "lattiq.report")``.
    enabled : bool
        ``False``: :meth:`get` always misses and :meth:`put` does nothing.
    root : path, optional
        Cache root (default :func:`cache_root`).
    """

    def __init__(self, namespace: str, depends_on: Iterable[str] = (), *, enabled: bool = True,
                 root: str | os.PathLike | None = None):
        base = Path(root) if root is not None else cache_root()
        self.dir = base / namespace if (enabled and base is not None) else None
        self.salt = source_digest(tuple(depends_on)) if self.dir is not None else ""
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.dir is not None

    def _full_key(self, key: dict) -> dict:
        return {"format": _FORMAT, "salt": self.salt, **key}

    def path(self, key: dict) -> Path:
        """The file that holds ``key``'s entry."""
        if self.dir is None:
            raise ValueError("the result cache is off")
        return self.dir / (hashlib.sha256(_canonical(self._full_key(key))).hexdigest()[:40]
                           + ".json")

    def get(self, key: dict) -> Any | None:
        """The stored value, or ``None`` (missing, disabled, or failed its checks)."""
        if self.dir is None:
            self.misses += 1
            return None
        p = self.path(key)
        try:
            entry = json.loads(p.read_text(encoding="utf-8"))
            ok = (isinstance(entry, dict) and entry.get("key") == self._full_key(key)
                  and entry.get("sha256") == hashlib.sha256(_canonical(entry["value"]))
                  .hexdigest())  # fmt: skip
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError):
            ok = False
        if not ok:  # corrupt or foreign: drop it, recompute
            try:
                p.unlink()
            except OSError:
                pass
            self.misses += 1
            return None
        self.hits += 1
        return entry["value"]

    def put(self, key: dict, value: Any) -> None:
        """Store ``value`` (JSON-able) for ``key``; an unwritable cache is skipped silently."""
        if self.dir is None:
            return
        data = json.dumps({"key": self._full_key(key),
                           "sha256": hashlib.sha256(_canonical(value)).hexdigest(),
                           "value": value})  # key order kept: tables list them in order
        p = self.path(key)
        tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(data, encoding="utf-8")
            os.replace(tmp, p)
        except OSError:
            try:
                tmp.unlink()
            except OSError:
                pass

    def get_or_compute(self, key: dict, compute: Callable[[], Any]) -> Any:
        """``get(key)``, else ``compute()``, stored (as its JSON round trip) and returned."""
        v = self.get(key)
        if v is not None:
            return v
        v = json.loads(json.dumps(compute()))
        self.put(key, v)
        return v
