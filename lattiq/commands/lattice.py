"""``lattiq lattice stats NAME [--json]``: print a lattice's invariants
(:func:`lattiq.lattices.cli.lattice_stats`)."""

from __future__ import annotations

import json

__all__ = ["register"]


def _cmd_stats(args) -> int:
    from lattiq.lattices.cli import lattice_stats

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
