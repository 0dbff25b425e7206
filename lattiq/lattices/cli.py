"""``lattiq lattice stats NAME [--json]``: print a lattice's invariants."""

from __future__ import annotations

import json


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


def _cmd_stats(args) -> int:
    st = lattice_stats(args.name, args.terms)
    if args.json:
        print(json.dumps(st, indent=2))
        return 0
    print(f"lattice {st['name']}: dimension {st['dim']}")
    rows = [
        ("determinant", st["det_exact"]),
        ("minimal norm", st["min_norm"]),
        ("kissing number", st["kissing_number"]),
        ("packing radius", f"{st['packing_radius']:.10g}"),
        ("center density", f"{st['center_density_exact']} ≈ {st['center_density']:.10g}"),
        ("density", f"{st['density']:.10g}"),
        ("Hermite constant", f"{st['hermite_constant']:.10g}"),
    ]
    if "covering_radius" in st:
        how = st.get("covering_radius_method")
        rows.append(("covering radius",
                     f"{st['covering_radius']:.10g}" + (f" ({how})" if how else "")))
    if st["theta"] is not None:
        rows.append(("theta N(0..)", ", ".join(map(str, st["theta"]))))
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:<{w}}  {v}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("lattice", help="lattice invariants")
    sub = p.add_subparsers(dest="lattice_command", metavar="ACTION")
    s = sub.add_parser("stats", help="print the invariants of a lattice")
    s.add_argument("name", help="leech, e8, e7, e6, k12, bw16, d<n>, a<n>, z<n>")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--terms", type=int, default=9, help="theta series terms (default 9)")
    s.set_defaults(func=_cmd_stats)
    p.set_defaults(func=lambda a: p.error("give an action: stats"))
