"""A lattice's invariants as a JSON-ready dict (what ``lattiq lattice stats NAME`` prints;
the command itself is :mod:`lattiq.commands.lattice`)."""

from __future__ import annotations


def _fmt(v) -> str:
    import sympy

    if isinstance(v, sympy.Basic):
        s = str(sympy.nsimplify(v))
        f = float(v)
        return s if s == f"{f:g}" or s.lstrip("-").isdigit() else f"{s} ≈ {f:.10g}"
    return str(v)


def lattice_stats(name: str, n_terms: int = 9) -> dict:
    """Invariants of a built-in lattice as a JSON-ready dict (exact values as strings too)."""
    from .registry import get_lattice

    if isinstance(n_terms, bool) or not isinstance(n_terms, int) or n_terms < 1:
        raise ValueError(f"the number of theta terms must be a positive integer, got {n_terms!r}")
    L = get_lattice(name)
    det, mn = L.det(), L.min_norm()
    cd, dens = L.center_density(), L.density()
    gamma = L.hermite_constant()
    out = {
        "name": L.name,
        "dim": L.dim,
        "ambient_dim": L.ambient_dim,
        "det": int(det) if det.is_integer else float(det),
        "det_exact": str(det),
        "min_norm": int(mn) if mn.is_integer else float(mn),
        "kissing_number": int(L.kissing_number()),
        "packing_radius": float(L.packing_radius()),
        "center_density": float(cd),
        "center_density_exact": str(cd),
        "density": float(dens),
        "density_exact": str(dens),
        "hermite_constant": float(gamma),
        # closed forms answer at any size; enumeration is quick up to dimension 12
        "theta": [int(v) for v in L.theta_series(n_terms)]
        if L.strategy.theta_closed_form_work(n_terms) is not None or L.dim <= 12 else None,
    }
    try:
        from .measure import covering_radius

        cr = covering_radius(L)
        out["covering_radius"] = float(cr if not isinstance(cr, tuple) else cr[0])
        if isinstance(cr, tuple) and cr.method != "exact":  # an estimate (K12)
            out["covering_radius_method"] = cr.method
    except (ImportError, ValueError, NotImplementedError):
        pass
    return out
