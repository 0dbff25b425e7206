"""A registered code's invariants as a JSON-ready dict (what ``lattiq codes stats NAME``
prints; the ``lattiq codes`` command itself is :mod:`lattiq.commands.codes`)."""

from __future__ import annotations

import math
from fractions import Fraction

__all__ = ["code_stats"]

#: Largest code without structure whose design strength ``stats`` computes.
_DESIGN_MAX = 20_000


def _num(v):
    if isinstance(v, Fraction):
        return int(v) if v.denominator == 1 else str(v)
    return v


def code_stats(name: str) -> dict:
    """Invariants of a registered code as a JSON-ready dict (exact values as strings)."""
    from .registry import get_code

    C = get_code(name)
    out = {"name": C.name, "dim": C.dim, "size": C.size, "bits": C.bits}
    exact = C.exact_form is not None or C.distance_invariant
    s = C.max_inner_product(exact=exact) if exact else C.max_inner_product()
    out["max_inner_product"] = float(s)
    if isinstance(s, Fraction):
        out["max_inner_product_exact"] = str(s)
    out["min_distance"] = C.min_distance()
    out["min_angle_deg"] = math.degrees(C.min_angle())
    out["distance_invariant"] = bool(C.distance_invariant)
    if C.distance_invariant:
        dist = C.inner_product_distribution()
        out["inner_products"] = {str(_num(k)): int(v) for k, v in dist.items()}
    if C.distance_invariant or C.size <= _DESIGN_MAX or C.dim <= 3:
        out["design_strength"] = C.design_strength()
    else:
        out["design_strength"] = None
    e = C.exact_form
    if e is not None:
        out["exact_form"] = {
            "int_coordinates": int(e.vectors.shape[1]),
            "norm": int(e.norm),
            "scale": f"1/sqrt({e.norm})",
            "basis": e.basis is not None,
        }
    try:
        out["sha256"] = C.sha256
    except ValueError:
        out["sha256"] = None
    return out
