"""The ``lattiq`` command. Each subcommand group lives beside its subpackage and registers
itself here; torch-based commands import torch only when they run."""

from __future__ import annotations

import argparse
import importlib
import sys

#: Modules exposing ``register(subparsers)``, in help order. A module that is missing (an
#: optional part not installed) is skipped.
_COMMAND_MODULES = (
    "lattiq.report",
    "lattiq.lattices.cli",
    "lattiq.spherecodes.cli",
    "lattiq.bench",
    "lattiq.models.tokenizer_cli",
    "lattiq.models.var_cli",
    "lattiq.codec.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lattiq",
        description="Dense lattices and spherical codes as exact, fast quantizers.",
    )
    parser.add_argument("--version", action="version", version="lattiq 0.1.0")
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
    try:
        rc = args.func(args)
    except (ValueError, TypeError, OSError) as err:  # OSError: e.g. a full or read-only disk
        print(f"lattiq: error: {err}", file=sys.stderr)
        return 2
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
