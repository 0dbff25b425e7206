"""``lattiq report``: tables and figures for every built-in lattice and spherical code
(:func:`lattiq.report.run_report`)."""

from __future__ import annotations

import json

__all__ = ["register"]


def _cmd_report(args) -> int:
    from lattiq.report import run_report, summary_text

    rep = run_report(
        args.output,
        quick=args.quick,
        progress=not (args.json or args.quiet or args.no_progress),
        # naming some entries reports only those
        lattices=args.lattice if args.lattice or not args.code else [],
        codes=args.code if args.code or not args.lattice else [],
        figures=not args.no_figures,
        cache=not args.no_cache,
    )
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(summary_text(rep, args.output))
    return 1 if rep["errors"] else 0


def register(subparsers) -> None:
    """Add ``report [-o DIR] [--json] [--quick] [--quiet] [--lattice NAME] [--code NAME]
    [--no-figures]`` to the ``lattiq`` command."""
    p = subparsers.add_parser(
        "report",
        help="tables and figures for every built-in lattice and spherical code",
        description="Measure every built-in lattice and spherical code, compare them with "
        "the bounds, and write report.md, report.json and figures/ to DIR.",
    )
    p.add_argument(
        "-o", "--output", default="report", metavar="DIR", help="output folder (default: ./report)"
    )
    p.add_argument("--json", action="store_true", help="print the JSON instead of a summary")
    p.add_argument("--quick", action="store_true", help="smaller, faster run")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar or messages (same as --quiet)")
    p.add_argument("--no-cache", action="store_true",
                   help="recompute everything: do not read or write the result cache "
                        "($LATTIQ_CACHE_DIR, else $XDG_CACHE_HOME/lattiq; "
                        "LATTIQ_CACHE_DIR=off turns it off)")
    p.add_argument(
        "--lattice", action="append", metavar="NAME", help="report only this lattice (repeatable)"
    )
    p.add_argument(
        "--code",
        action="append",
        metavar="NAME",
        help="report only this spherical code (repeatable)",
    )
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.set_defaults(func=_cmd_report)
