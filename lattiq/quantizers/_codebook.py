"""Resolve a code name or a ``SphericalCode`` into what a torch quantizer needs.

A :class:`CodeSpec` holds the code's name, dimension, size, sha256, the float64 unit
codewords (built lazily) and, where the code has an exact integer form, the integer
codewords and their scale. It also names the search that fits the code: ``"leech"``,
``"e8"``, ``"d4"``, ``"leech-subset"`` (the derived Leech codes), ``"sign"`` (binary codes)
or ``"tiled"`` (everything else).

Codes come from :func:`lattiq.spherecodes.get_code`. The Leech code's order is the one of
:func:`lattiq.lattices.leech.leech_shell1`; if the registry cannot be imported the Leech
code is built from there directly so that the quantizer never depends on more than the
lattice module for its flagship code.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CodeSpec", "resolve_code", "spherecodes_available"]

_STRUCTURED = {
    "leech": "leech",
    "e8": "e8",
    "d4": "d4",
    "leech-4600": "leech-subset",
    "leech-891": "leech-subset",
}
_BSQ = re.compile(r"^bsq-(\d+)$")


def spherecodes_available() -> bool:
    """Whether ``lattiq.spherecodes.get_code`` can be imported."""
    try:
        from lattiq.spherecodes import get_code  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class CodeSpec:
    """A spherical code as seen by a quantizer.

    Attributes
    ----------
    name : str
        Registry name (``"custom"`` for unnamed codes).
    dim, size : int
        Dimension ``d`` and number of codewords ``K``.
    sha256 : str
        Hex digest identifying the exact codebook; checked when a config is loaded.
    search : str
        ``"leech"``, ``"e8"``, ``"d4"``, ``"leech-subset"``, ``"sign"`` or ``"tiled"``.
    code : object or None
        The underlying ``SphericalCode`` when there is one.
    """

    name: str
    dim: int
    size: int
    sha256: str
    search: str
    code: Any = None
    _points: np.ndarray | None = field(default=None, repr=False)
    _int_points: np.ndarray | None = field(default=None, repr=False)
    int_scale: float | None = None

    @property
    def points(self) -> np.ndarray:
        """(K, d) float64 unit codewords."""
        if self._points is None:
            if self._int_points is not None and self.int_scale is not None:
                p = self._int_points.astype(np.float64) * self.int_scale
            else:
                p = np.asarray(self.code.points, dtype=np.float64)
            self._points = p
        return self._points

    @property
    def int_points(self) -> np.ndarray | None:
        """(K, d) integer codewords with ``points = int_points * int_scale``, or None."""
        return self._int_points


def _sha256_of_array(a: np.ndarray, name: str) -> str:
    h = hashlib.sha256()
    h.update(name.encode())
    h.update(str(a.dtype).encode())
    h.update(str(a.shape).encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _search_kind(name: str, dim: int) -> str:
    if name in _STRUCTURED:
        return _STRUCTURED[name]
    if _BSQ.match(name):
        return "sign"
    return "tiled"


def _leech_fallback() -> CodeSpec:
    from lattiq.lattices.leech import leech_shell1

    ip = leech_shell1()
    pts = ip.astype(np.float64) * (1.0 / np.sqrt(32.0))
    return CodeSpec(
        name="leech",
        dim=24,
        size=ip.shape[0],
        # the registry's definition: SHA-256 of the float64 points (little-endian, C order)
        sha256=hashlib.sha256(np.ascontiguousarray(pts, dtype="<f8").tobytes()).hexdigest(),
        search="leech",
        _points=pts,
        _int_points=ip,
        int_scale=1.0 / np.sqrt(32.0),
    )


def _from_code(code: Any) -> CodeSpec:
    name = str(getattr(code, "name", "custom") or "custom")
    dim = int(code.dim)
    size = int(code.size)
    ip = getattr(code, "int_points", None)
    scale = getattr(code, "int_scale", None)
    if ip is not None:
        ip = np.asarray(ip)
        if scale is None:
            ip = None
    sha = getattr(code, "sha256", None)
    if callable(sha):
        sha = sha()
    if not sha:
        sha = _sha256_of_array(np.asarray(code.points, dtype=np.float64), name)
    return CodeSpec(
        name=name,
        dim=dim,
        size=size,
        sha256=str(sha),
        search=_search_kind(name, dim),
        code=code,
        _int_points=ip,
        int_scale=None if scale is None else float(scale),
    )


def resolve_code(code: Any) -> CodeSpec:
    """Turn a registry name or a ``SphericalCode`` into a :class:`CodeSpec`.

    Raises ``ValueError`` for an unknown name and ``TypeError`` for anything else.
    """
    if isinstance(code, CodeSpec):
        return code
    if isinstance(code, str):
        try:
            from lattiq.spherecodes import get_code
        except ImportError:
            if code == "leech":
                return _leech_fallback()
            raise ValueError(
                f"unknown code {code!r}: the spherical-code registry (lattiq.spherecodes) "
                "is not available, and only 'leech' can be built without it"
            ) from None
        try:
            c = get_code(code)
        except KeyError as e:  # registries may raise KeyError; we promise ValueError
            raise ValueError(f"unknown code {code!r}: {e}") from None
        return _from_code(c)
    if hasattr(code, "points") and hasattr(code, "dim") and hasattr(code, "size"):
        return _from_code(code)
    raise TypeError(
        f"code must be a registry name (str) or a SphericalCode, got {type(code).__name__}"
    )
