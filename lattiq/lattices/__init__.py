"""Exact lattices and codes over Z: the Golay code, Leech, E8, Dn, An, Zn.

numpy / numba / scipy / sympy only — this subpackage never imports torch.
"""

from .golay import GolayCode, golay_code
from .lattice import CONTAINS_TOL, Lattice
from .registry import LATTICE_FAMILIES, get_lattice, list_lattices

__all__ = [
    "CONTAINS_TOL",
    "GolayCode",
    "LATTICE_FAMILIES",
    "Lattice",
    "get_lattice",
    "golay_code",
    "list_lattices",
]
