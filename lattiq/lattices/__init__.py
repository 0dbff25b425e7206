"""Exact lattices and codes over Z: the Golay code, Leech, K12, Λ16, E8, E7, E6, Dn, An, Zn.

numpy / numba / scipy / sympy only — this subpackage never imports torch.

Names are imported lazily (PEP 562): ``import lattiq.lattices`` is cheap, and numba, sympy
and the kernels load when a name is first used, so that the ``lattiq`` command starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lattiq import _jitnotice, _lazy

if TYPE_CHECKING:  # for type checkers and the API docs; at run time see __getattr__
    from .family import LatticeFamily
    from .golay import GolayCode, golay_code
    from .lattice import CONTAINS_TOL, Lattice
    from .registry import LATTICE_FAMILIES, get_lattice, list_lattices

#: public name -> submodule that defines it
_EXPORTS = {
    "CONTAINS_TOL": ".lattice",
    "GolayCode": ".golay",
    "LATTICE_FAMILIES": ".registry",
    "Lattice": ".lattice",
    "LatticeFamily": ".family",
    "get_lattice": ".registry",
    "golay_code": ".golay",
    "list_lattices": ".registry",
}

__all__ = [
    "CONTAINS_TOL",
    "GolayCode",
    "LATTICE_FAMILIES",
    "Lattice",
    "LatticeFamily",
    "get_lattice",
    "golay_code",
    "list_lattices",
]

__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS, submodules=True,
                                        on_first_use=_jitnotice.watch_compiles)
