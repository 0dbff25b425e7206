"""One registry of spherical codes: :func:`get_code` and :func:`list_codes`.

Names (lower case, decimal numbers without leading zeros):

=============================  ==============================================================
``leech``                      196,560 minimal vectors of Λ24 on S²³
``leech-4600``, ``leech-891``  kissing configurations of Λ23 (S²²) and Λ22 (S²¹)
``e8``, ``d4``                 root systems (240 on S⁷, 24 on S³)
``<lattice>-shell<k>``         k-th nonzero shell of a built-in lattice (``e8-shell2``,
                               ``z3-shell2``, ``a2-shell1``, ``k12-shell1``, ...); shell 1
                               of ``leech``, ``e8``, ``d4`` is the code of that name
``bsq-<d>``                    {±1/√d}^d, 2 ≤ d ≤ 62
``fibonacci-<N>``              spherical Fibonacci points on S²
``fibonacci-<d>-<N>``          Kronecker points on S^{d−1}, d ≥ 4
``random-<d>-<N>[-s<seed>]``   normalized Gaussian codebook (seed 0 when omitted)
=============================  ==============================================================

Codes are cached: asking twice for one code returns the same object. Spellings that name
the same code (``e8-shell1`` and ``e8``; ``random-24-100`` and ``random-24-100-s0``)
return that one object, whose ``name`` is the canonical spelling.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from .code import SphericalCode

__all__ = ["CODE_FAMILIES", "EXAMPLE_CODES", "get_code", "is_registered_name", "list_codes"]

#: The fixed codes.
_FIXED = ("leech", "leech-4600", "leech-891", "e8", "d4")
#: Name patterns of the parametric families.
CODE_FAMILIES = (
    "<lattice>-shell<k>",
    "bsq-<d>",
    "fibonacci-<N>",
    "fibonacci-<d>-<N>",
    "random-<d>-<N>[-s<seed>]",
)
#: Small instances of every family (for listings and tests).
EXAMPLE_CODES = (
    "e8-shell2",
    "d4-shell2",
    "a2-shell1",
    "z3-shell2",
    "bsq-8",
    "bsq-16",
    "fibonacci-1000",
    "fibonacci-4-1000",
    "random-24-1000-s0",
)

_NUM = r"(0|[1-9][0-9]*)"
_BSQ = re.compile(rf"bsq-{_NUM}")
_FIB = re.compile(rf"fibonacci-{_NUM}")
_FIBD = re.compile(rf"fibonacci-{_NUM}-{_NUM}")
_RANDOM = re.compile(rf"random-{_NUM}-{_NUM}(?:-s{_NUM})?")
#: Largest N accepted for random and high-dimensional Fibonacci codes.
_MAX_POINTS = 1 << 31


@cache
def _shell_re() -> re.Pattern:
    """``<lattice>-shell<k>`` over the lattice registry's name patterns (built on first
    use, so that importing this module does not load the lattices)."""
    from lattiq.lattices.registry import LATTICE_FAMILIES

    alts = [re.escape(p[:-3]) + r"(?:0|[1-9][0-9]*)" if p.endswith("<n>") else re.escape(p)
            for p in LATTICE_FAMILIES]
    return re.compile(rf"(?P<lat>{'|'.join(alts)})-shell(?P<k>0|[1-9][0-9]*)")


def list_codes(examples: bool = True) -> list[str]:
    """Names of the fixed codes, followed (``examples=True``) by small instances of each
    parametric family (:data:`EXAMPLE_CODES`)."""
    return list(_FIXED) + (list(EXAMPLE_CODES) if examples else [])


def is_registered_name(name) -> bool:
    """Whether ``name`` is spelled like a registered code (a fixed name or a family pattern),
    whether or not its parameters are in range. Builds nothing."""
    if not isinstance(name, str):
        return False
    return name in _FIXED or any(
        r.fullmatch(name) for r in (_shell_re(), _BSQ, _FIB, _FIBD, _RANDOM)
    )


def _unknown(name) -> ValueError:
    from lattiq.lattices.registry import LATTICE_FAMILIES

    return ValueError(
        f"unknown code {name!r}; known codes: {', '.join(_FIXED)}; families: "
        f"{', '.join(CODE_FAMILIES)} (lattices: {', '.join(LATTICE_FAMILIES)})"
    )


def get_code(name: str) -> SphericalCode:
    """Return the registered spherical code called ``name`` (cached).

    Raises ``ValueError`` naming the known codes and families for an unknown name, and for
    parameters out of range (with the reason).

    Examples
    --------
    >>> C = get_code("leech")
    >>> C.dim, C.size, C.min_distance()
    (24, 196560, 1.0)
    """
    if not isinstance(name, str):
        raise TypeError(f"code name must be a string, got {type(name).__name__}")
    return _get(name)


@lru_cache(maxsize=64)
def _get(name: str) -> SphericalCode:
    from . import families, leech

    if name == "leech":
        return leech.LeechCode()
    if name == "leech-4600":
        return leech.LeechKissingCode(4600)
    if name == "leech-891":
        return leech.LeechKissingCode(891)
    if name in ("e8", "d4"):
        return families.RootCode(name)
    m = _shell_re().fullmatch(name)
    if m:
        lat, k = m.group("lat"), int(m.group("k"))
        if k < 1:
            raise ValueError(f"{name!r}: shells are numbered from 1")
        if k == 1 and lat in _FIXED:
            return _get(lat)
        from lattiq.lattices import get_lattice
        from lattiq.lattices.registry import FAMILIES

        fam, n = next((f, f.match(lat)) for f in FAMILIES if f.match(lat) is not None)
        if n < fam.n_min:
            raise ValueError(f"{name!r}: {fam.pattern} needs n >= {fam.n_min}")
        if get_lattice(lat).dim < 2:
            raise ValueError(f"{name!r}: a code needs dimension >= 2")
        return families.LatticeShellCode(lat, k)
    m = _BSQ.fullmatch(name)
    if m:
        return families.BinaryCode(int(m.group(1)))
    m = _FIB.fullmatch(name)
    if m:
        return families.FibonacciCode(int(m.group(1)))
    m = _FIBD.fullmatch(name)
    if m:
        d, n = int(m.group(1)), int(m.group(2))
        if d == 3:
            raise ValueError(f"{name!r}: on S^2 the code is called 'fibonacci-{n}'")
        if n > _MAX_POINTS:
            raise ValueError(f"{name!r}: N must be at most {_MAX_POINTS}")
        return families.FibonacciSphereCode(d, n)
    m = _RANDOM.fullmatch(name)
    if m:
        d, n = int(m.group(1)), int(m.group(2))
        seed = int(m.group(3)) if m.group(3) is not None else 0
        if n > _MAX_POINTS:
            raise ValueError(f"{name!r}: N must be at most {_MAX_POINTS}")
        canonical = f"random-{d}-{n}-s{seed}"
        if name != canonical:
            return _get(canonical)
        return families.RandomCode(d, n, seed)
    raise _unknown(name)
