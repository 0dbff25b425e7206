"""One registry of built-in lattices: ``get_lattice(name)`` and ``list_lattices()``.

Names: ``"leech"``, ``"e8"``, ``"e7"``, ``"e6"``, ``"k12"``, ``"bw16"``, ``"d<n>"`` (n ≥ 2),
``"a<n>"`` (n ≥ 1), ``"z<n>"`` (n ≥ 1). The registry is one table of family strategies
(:mod:`lattiq.lattices.family`); each class carries its name pattern, its construction
and what SPLAG (ch. 4) records about it. Adding a lattice is one class and one line in
:data:`FAMILIES`.
"""

from __future__ import annotations

from functools import lru_cache

from .exceptional import BW16Family, E6Family, E7Family, K12Family
from .families import AnFamily, DnFamily, E8Family, LeechFamily, ZnFamily
from .family import LatticeFamily
from .lattice import Lattice

__all__ = ["FAMILIES", "LATTICE_FAMILIES", "family_strategy", "get_lattice", "list_lattices"]

#: The registry: one line per family, in listing order.
FAMILIES: tuple[type[LatticeFamily], ...] = (
    LeechFamily,
    E8Family,
    DnFamily,
    AnFamily,
    ZnFamily,
    E7Family,
    E6Family,
    K12Family,
    BW16Family,
)

#: Family patterns accepted by :func:`get_lattice`.
LATTICE_FAMILIES = tuple(f.pattern for f in FAMILIES)
_BUILTIN = tuple(name for f in FAMILIES for name in f.examples)
_BY_FAMILY = {f.family: f for f in FAMILIES}


def list_lattices() -> list[str]:
    """Names of the built-in lattices (``d<n>``, ``a<n>``, ``z<n>`` accept any ``n`` too)."""
    return list(_BUILTIN)


def family_strategy(family: str, n: int) -> LatticeFamily | None:
    """The strategy of the registered family named ``family`` (``Lattice.family``:
    ``"d"``, ``"e8"``, …) with parameter ``n``, or ``None`` for an unknown name."""
    cls = _BY_FAMILY.get(family)
    return None if cls is None else cls(n)


def parse_lattice_name(name: str) -> tuple[type[LatticeFamily], int] | None:
    """``(family class, n)`` for a registry name, ``None`` when no pattern spells it;
    ``ValueError`` for a parametric name out of range. Builds nothing."""
    key = name.strip().lower()
    for cls in FAMILIES:
        n = cls.parse(key, name)
        if n is not None:
            return cls, n
    return None


def get_lattice(name: str) -> Lattice:
    """Return a built-in lattice by name (cached).

    Raises ``ValueError`` listing the known names for an unknown one (and for a name that
    is not a string).
    """
    if not isinstance(name, str):
        raise ValueError(f"lattice name must be a string, got {type(name).__name__}")
    return _get_lattice(name)


@lru_cache(maxsize=64)
def _get_lattice(name: str) -> Lattice:
    found = parse_lattice_name(name)
    if found is None:
        raise ValueError(
            f"unknown lattice {name!r}; known: {', '.join(_BUILTIN)} "
            f"(families: {', '.join(LATTICE_FAMILIES)})"
        )
    cls, n = found
    return cls(n).build()
