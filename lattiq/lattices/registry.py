"""One registry of built-in lattices: ``get_lattice(name)`` and ``list_lattices()``.

Names: ``"leech"``, ``"e8"``, ``"d<n>"`` (n ≥ 2), ``"a<n>"`` (n ≥ 1), ``"z<n>"`` (n ≥ 1).
Coordinates and known invariants are SPLAG's (ch. 4): Zn, Dn = {x ∈ Zⁿ : Σx even},
An = {x ∈ Zⁿ⁺¹ : Σx = 0}, E8 = D8 ∪ (D8 + ½), Λ24 from the Golay code.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import sympy

from .lattice import Lattice

__all__ = ["get_lattice", "list_lattices", "LATTICE_FAMILIES"]

#: Family patterns accepted by :func:`get_lattice`.
LATTICE_FAMILIES = ("leech", "e8", "d<n>", "a<n>", "z<n>")
_BUILTIN = ("leech", "e8", "d4", "a2", "z1", "z8", "z24", "d8", "a8")
_MAX_N = 4096


def list_lattices() -> list[str]:
    """Names of the built-in lattices (``d<n>``, ``a<n>``, ``z<n>`` accept any ``n`` too)."""
    return list(_BUILTIN)


def _zn(n: int) -> Lattice:
    return Lattice(name=f"z{n}", family="z", n=n, basis_int=np.eye(n, dtype=np.int64),
                   _known={"det": sympy.Integer(1), "min_norm": sympy.Integer(1), "kissing": 2 * n})


def _dn(n: int) -> Lattice:
    # rows e1 + e2 and e_{i+1} - e_i: a basis of {x in Z^n : sum x even}
    B = np.zeros((n, n), dtype=np.int64)
    B[0, 0] = B[0, 1] = 1
    for i in range(1, n):
        B[i, i - 1], B[i, i] = -1, 1
    return Lattice(name=f"d{n}", family="d", n=n, basis_int=B,
                   _known={"det": sympy.Integer(4), "min_norm": sympy.Integer(2),
                           "kissing": 2 * n * (n - 1)})


def _an(n: int) -> Lattice:
    B = np.zeros((n, n + 1), dtype=np.int64)
    for i in range(n):
        B[i, i], B[i, i + 1] = 1, -1
    return Lattice(name=f"a{n}", family="a", n=n, basis_int=B,
                   _known={"det": sympy.Integer(n + 1), "min_norm": sympy.Integer(2),
                           "kissing": n * (n + 1)})


def _e8() -> Lattice:
    # integer frame 2·E8 = {x in Z^8 : one parity throughout, sum ≡ 0 (mod 4)}
    # (SPLAG ch. 4 §8.1), basis = Hermite normal form of 2(±e_i ± e_j) and (1^8)
    from .exact import hermite_normal_form

    gens = []
    for i in range(8):
        for j in range(i + 1, 8):
            for s in (1, -1):
                v = np.zeros(8, dtype=np.int64)
                v[i], v[j] = 2, 2 * s
                gens.append(v)
    gens.append(np.ones(8, dtype=np.int64))
    B = hermite_normal_form(np.stack(gens))
    return Lattice(name="e8", family="e8", n=8, basis_int=B, scale=sympy.Rational(1, 2),
                   _known={"det": sympy.Integer(1), "min_norm": sympy.Integer(2), "kissing": 240})


def _leech() -> Lattice:
    from .leech import leech_basis_int

    return Lattice(name="leech", family="leech", n=24, basis_int=leech_basis_int().copy(),
                   scale=1 / sympy.sqrt(8),
                   _known={"det": sympy.Integer(1), "min_norm": sympy.Integer(4),
                           "kissing": 196560})


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
    key = name.strip().lower()
    if key == "leech":
        return _leech()
    if key == "e8":
        return _e8()
    m = re.fullmatch(r"([dza])(\d+)", key)
    if m:
        fam, n = m.group(1), int(m.group(2))
        lo = {"d": 2, "z": 1, "a": 1}[fam]
        if not lo <= n <= _MAX_N:
            raise ValueError(f"{fam}<n> needs {lo} <= n <= {_MAX_N}, got {name!r}")
        return {"z": _zn, "d": _dn, "a": _an}[fam](n)
    raise ValueError(
        f"unknown lattice {name!r}; known: {', '.join(_BUILTIN)} "
        f"(families: {', '.join(LATTICE_FAMILIES)})"
    )
