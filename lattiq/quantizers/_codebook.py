"""Resolve a code name or a ``SphericalCode`` into what a torch quantizer needs.

A :class:`CodeSpec` holds the code's name, dimension, size, sha256, the float64 unit
codewords (built lazily), the integer codewords and their scale where the code has an exact
integer form, and the code's own description of its structure
(:attr:`lattiq.spherecodes.SphericalCode.structure`), from which the quantizer picks its
search (:func:`lattiq.quantizers.search.search_class`). Names are looked up in
:func:`lattiq.spherecodes.get_code`; a code object that is not a ``SphericalCode`` (any
object with ``name``, ``dim``, ``size`` and ``points``) may carry a ``structure`` too, and
has none otherwise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lattiq.spherecodes.structure import NO_STRUCTURE, CodeStructure

__all__ = ["CodeSpec", "resolve_code", "spherecodes_available"]


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
    structure : CodeStructure
        The code's description of its structure (kind ``"none"`` when it has none).
    code : object or None
        The underlying ``SphericalCode`` when there is one.
    """

    name: str
    dim: int
    size: int
    sha256: str
    structure: CodeStructure = NO_STRUCTURE
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
    structure = getattr(code, "structure", None)
    if structure is None:
        structure = NO_STRUCTURE
    if not isinstance(structure, CodeStructure):
        raise TypeError(
            f"code {name!r}: structure must be a lattiq.spherecodes.structure.CodeStructure, "
            f"got {type(structure).__name__}"
        )
    return CodeSpec(
        name=name,
        dim=dim,
        size=size,
        sha256=str(sha),
        structure=structure,
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
        from lattiq.spherecodes import get_code

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
