"""``lattiq codes list | stats NAME [--json] | export NAME -o FILE | plot ...``
(:mod:`lattiq.spherecodes`)."""

from __future__ import annotations

import json

__all__ = ["register"]


def _cmd_list(args) -> int:
    from lattiq.spherecodes.registry import CODE_FAMILIES, EXAMPLE_CODES, list_codes

    fixed = list_codes(examples=False)
    if args.json:
        print(json.dumps({"codes": fixed, "families": list(CODE_FAMILIES),
                          "examples": list(EXAMPLE_CODES)}, indent=2))
        return 0
    print("codes:    " + ", ".join(fixed))
    print("families: " + ", ".join(CODE_FAMILIES))
    print("examples: " + ", ".join(EXAMPLE_CODES))
    return 0


def _cmd_stats(args) -> int:
    from lattiq.spherecodes.cli import code_stats

    st = code_stats(args.name)
    if args.json:
        print(json.dumps(st, indent=2))
        return 0
    print(f"code {st['name']}: {st['size']:,} points on S^{st['dim'] - 1} "
          f"({st['bits']:.4g} bits)")
    s = st.get("max_inner_product_exact", f"{st['max_inner_product']:.10g}")
    rows = [
        ("max inner product", s),
        ("min distance (chord)", f"{st['min_distance']:.10g}"),
        ("min angle (deg)", f"{st['min_angle_deg']:.6g}"),
        ("design strength", st["design_strength"] if st["design_strength"] is not None
         else "not computed (large code without structure)"),
    ]
    if "inner_products" in st:
        rows.append(("inner products", ", ".join(f"{k}: {v}" for k, v in
                                                 st["inner_products"].items())))
    if "exact_form" in st:
        e = st["exact_form"]
        rows.append(("exact form", f"{e['int_coordinates']} integer coordinates, "
                     f"scale {e['scale']}" + (", with a basis" if e["basis"] else "")))
    if st["sha256"]:
        rows.append(("sha256", st["sha256"]))
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:<{w}}  {v}")
    return 0


def _cmd_export(args) -> int:
    from lattiq._outputs import check_output_file, writing
    from lattiq.spherecodes.registry import get_code

    # the path first: a wrong suffix or folder is refused before the code is built
    out = check_output_file(args.output, (".npy", ".safetensors"), "code file")
    if out.lower().endswith(".npy"):
        check_output_file(out + ".json", (".json",), "metadata sidecar")
    C = get_code(args.name)
    with writing(out, "code file"):
        C.save(out)
    extra = f" (+ {out}.json)" if out.endswith(".npy") else ""
    print(f"wrote {C.name} ({C.size:,} x {C.dim}) to {out}{extra}")
    return 0


def _cmd_plot(args) -> int:
    from lattiq.spherecodes import plots
    from lattiq.spherecodes.registry import get_code

    plots.figure_format(args.output)  # a bad path or image suffix is refused before any work
    if args.kind == "delta-min":
        if args.dim is None:
            raise ValueError("plot delta-min needs --dim D")
        if args.name:
            raise ValueError(f"plot delta-min takes no code NAME (got {args.name!r}); it "
                             "draws the families of --dim D")
        series = plots.delta_min_series(args.dim, quick=args.quick)
        if not any(series.values()):
            raise ValueError(f"plot delta-min: no code on S^{args.dim - 1} could be built")
        plots.plot_delta_min_vs_n(series, args.dim, path=args.output)
    else:
        if not args.name:
            raise ValueError(f"plot {args.kind} needs a code NAME")
        if args.dim is not None or args.quick:
            raise ValueError(f"--dim and --quick are for plot delta-min, not {args.kind}")
        C = get_code(args.name)
        if args.kind == "inner-products":
            plots.plot_inner_product_histogram(C, path=args.output)
        else:
            if C.dim != 3:
                raise ValueError(f"plot sphere needs a code on S^2, {C.name!r} has dim {C.dim}")
            plots.plot_sphere_points(C, path=args.output)
    print(f"wrote {args.output}")
    return 0


def register(subparsers) -> None:
    """Add ``codes list|stats|export|plot`` to the ``lattiq`` command."""
    p = subparsers.add_parser("codes", help="spherical codes: list, stats, export, plot")
    sub = p.add_subparsers(dest="codes_command", metavar="ACTION")

    s = sub.add_parser("list", help="registered codes and families")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_cmd_list, light=True)

    s = sub.add_parser("stats", help="size, δ_min, angle, inner products, design strength")
    s.add_argument("name", help="a code name (see 'lattiq codes list')")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_cmd_stats)

    s = sub.add_parser("export", help="write a code to .npy (+ .json) or .safetensors")
    s.add_argument("name", help="a code name")
    s.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="FILE.npy or FILE.safetensors")
    s.set_defaults(func=_cmd_export)

    s = sub.add_parser("plot", help="figures: delta-min (δ_min vs N), inner-products, sphere")
    s.add_argument("kind", choices=("delta-min", "inner-products", "sphere"))
    s.add_argument("name", nargs="?", help="code name (inner-products, sphere)")
    s.add_argument("--dim", type=int, help="dimension d of S^{d-1} (delta-min)")
    s.add_argument("--quick", action="store_true", help="smaller codes (delta-min)")
    s.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="image file; its suffix picks the format (.png, .jpg, .svg, .pdf, ...)")
    s.set_defaults(func=_cmd_plot)

    p.set_defaults(func=lambda a: p.error("give an action: list, stats, export or plot"))
