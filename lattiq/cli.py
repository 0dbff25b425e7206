"""The ``lattiq`` command. Each subcommand group is a module of :mod:`lattiq.commands` that
registers itself here; the command line imports the library, never the reverse.

Start-up is kept short: the modules that register subcommands import only the standard
library (argparse wiring), and each handler imports what it needs (numba, sympy, scipy,
matplotlib, torch) when it runs, so ``lattiq --help``, ``--version`` and argument errors cost
no more than the interpreter (a test checks the imports; ``benchmarks/bench_startup.py``
measures the times).
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: Modules exposing ``register(subparsers)``, in help order. A module that is missing (an
#: optional part not installed) is skipped.
_COMMAND_MODULES = (
    "lattiq.commands.report",
    "lattiq.commands.lattice",
    "lattiq.commands.codes",
    "lattiq.commands.bench",
    "lattiq.commands.tokenizer",
    "lattiq.commands.var",
    "lattiq.commands.codec",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lattiq",
        description="Dense lattices and spherical codes as exact, fast quantizers.",
    )
    from lattiq import __version__

    parser.add_argument("--version", action="version", version=f"lattiq {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name and name.startswith(err.name):
                continue  # that part is not present
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if not getattr(args, "light", False):
        from lattiq import _jitnotice

        if any(getattr(args, k, False) for k in ("json", "quiet", "no_progress")):
            _jitnotice.set_enabled(False)
        _jitnotice.watch_compiles()  # one line on stderr if numba compiles kernels first
    try:
        rc = args.func(args)
    except (ValueError, TypeError, OSError) as err:  # OSError: e.g. a full or read-only disk
        print(f"lattiq: error: {err}", file=sys.stderr)
        return 2
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
