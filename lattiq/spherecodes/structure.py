"""What a spherical code says about its own structure: :attr:`SphericalCode.structure`.

A search that uses a code's structure is chosen by what the code *is*, never by its name:
every code carries a small frozen description, and a caller (the torch quantizers keep one
table from :attr:`CodeStructure.kind` to a search, ``lattiq.quantizers.search``) looks the
kind up. A code without a structure to use says ``"none"`` and gets the generic tiled
search.

==================  ==========================================================================
kind                the code, and what its description holds
==================  ==========================================================================
``"none"``          no usable structure (random, Kronecker, lattice shells, user points)
``"leech-shell"``   the 196,560 minimal vectors of Λ24 in the order of
                    :mod:`lattiq.lattices.leech_layout`; integer form and scale
``"leech-subset"``  a subset of the Leech shell (the kissing configurations): the members'
                    shell indices by shape (:class:`~lattiq.spherecodes.leech.LeechSubset`)
                    and the linear lift to ``R^24`` that turns the code's inner products
                    into shell inner products
``"roots"``         the roots of E8 or D4, with their integer form (any order)
``"sign"``          a binary code ``{±1/√d}^d`` and how its index packs the signs
``"fibonacci"``     spherical Fibonacci points on :math:`S^2` (searched by inverse mapping)
==================  ==========================================================================

Adding a structured code: give its class a ``structure`` (a new kind here if none fits), and
register one search for that kind on the torch side; nothing else names the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from .leech import LeechSubset

__all__ = [
    "NO_STRUCTURE",
    "CodeStructure",
    "FibonacciStructure",
    "LeechShellStructure",
    "LeechSubsetStructure",
    "RootStructure",
    "SignStructure",
]


@dataclass(frozen=True)
class CodeStructure:
    """Base of the descriptions, and the description of a code with no usable structure
    (kind ``"none"``)."""

    kind: ClassVar[str] = "none"


#: The structure of a code that has none to use.
NO_STRUCTURE = CodeStructure()


@dataclass(frozen=True, eq=False)
class LeechShellStructure(CodeStructure):
    """The Leech code: codeword ``k`` is ``int_scale`` times row ``k`` of ``vectors``, the
    shell in the order of :mod:`lattiq.lattices.leech_layout` (whose tables a search reads).

    Attributes
    ----------
    vectors : (196560, 24) int8, read-only
        :func:`lattiq.lattices.leech.leech_shell1`.
    int_scale : float
        ``1/√32``.
    """

    kind: ClassVar[str] = "leech-shell"
    vectors: np.ndarray
    int_scale: float


@dataclass(frozen=True, eq=False)
class LeechSubsetStructure(CodeStructure):
    """A code whose points correspond to a subset ``S`` of the Leech shell.

    .. math:: \\langle c_k, x\\rangle \\propto \\langle u_k, x L\\rangle, \\qquad u_k \\in S

    with one positive constant for all ``k``, so the nearest codeword is the best member of
    ``S`` for the lifted input ``x L``; code index ``k`` is the position of ``u_k`` in
    ``subset.leech_index``.

    Attributes
    ----------
    subset : LeechSubset
        The members by shape (shell indices, shape-A pairs, octads with fixed positions,
        codewords with their special position).
    lift : (d, 24) float64, read-only
        ``L``.
    """

    kind: ClassVar[str] = "leech-subset"
    subset: LeechSubset
    lift: np.ndarray


@dataclass(frozen=True, eq=False)
class RootStructure(CodeStructure):
    """The roots of E8 (``lattice="e8"``, 240) or D4 (``"d4"``, 24), in any order: codeword
    ``k`` is ``int_scale`` times row ``k`` of ``vectors``, an integer frame of the lattice
    (``2·E8``: ``(±2², 0⁶)`` and ``(±1⁸)`` with an even number of minus signs; D4:
    ``(±1², 0²)``).
    """

    kind: ClassVar[str] = "roots"
    lattice: str
    vectors: np.ndarray
    int_scale: float

    def __post_init__(self):
        if self.lattice not in ("e8", "d4"):
            raise ValueError(f"root structures are 'e8' or 'd4', got {self.lattice!r}")


@dataclass(frozen=True)
class SignStructure(CodeStructure):
    """The binary code ``{±1/√d}^d``: codeword ``k`` has coordinate ``i`` negative exactly
    when bit ``b(i)`` of ``k`` equals ``negative_bit``, with ``b(i) = i`` (``little_endian``)
    or ``d − 1 − i``.
    """

    kind: ClassVar[str] = "sign"
    dim: int
    negative_bit: int = 1
    little_endian: bool = True


@dataclass(frozen=True)
class FibonacciStructure(CodeStructure):
    """``n_points`` spherical Fibonacci points on :math:`S^2` (Keinert et al. 2015)."""

    kind: ClassVar[str] = "fibonacci"
    n_points: int
