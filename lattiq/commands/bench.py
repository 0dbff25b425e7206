"""``lattiq bench [NAME [ARGS...]]``: list or run the benchmark scripts under ``benchmarks/``.

Benchmarks live in the source tree (they are not part of the installed package); this
command finds them beside the package in a source checkout and runs one in a subprocess with
the current interpreter. Everything after NAME goes to the script unchanged, options
included: ``lattiq bench leech_nearest --n 4096``, and ``lattiq bench NAME --help`` prints
the benchmark's own options.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys


def benchmark_dir() -> pathlib.Path:
    """The ``benchmarks/`` directory of the source checkout lattiq runs from."""
    return pathlib.Path(__file__).resolve().parents[2] / "benchmarks"


def list_benchmarks() -> dict[str, pathlib.Path]:
    """``{name: script}`` for every ``benchmarks/bench_*.py`` (name without the prefix)."""
    d = benchmark_dir()
    if not d.is_dir():
        return {}
    return {p.stem.removeprefix("bench_"): p for p in sorted(d.glob("bench_*.py"))}


def _cmd(args) -> int:
    benches = list_benchmarks()
    if not benches:
        raise FileNotFoundError(
            f"no benchmarks found at {benchmark_dir()}; run lattiq from a source checkout"
        )
    if not args.name and args.args:
        raise ValueError(f"arguments {' '.join(args.args)!r} need a benchmark NAME before them")
    if not args.name:
        for name, path in benches.items():
            doc = (path.read_text().split('"""')[1].strip().splitlines() or [""])[0] \
                if '"""' in path.read_text() else ""
            print(f"{name:<20} {doc}")
        return 0
    if args.name not in benches:
        raise ValueError(f"unknown benchmark {args.name!r}; known: {', '.join(benches)}")
    cmd = [sys.executable, str(benches[args.name]), *args.args]
    return subprocess.call(cmd)


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser(
        "bench",
        help="list or run the benchmarks under benchmarks/",
        description="List the benchmarks (no NAME) or run one. Every argument after NAME is "
        "passed to the benchmark script: `lattiq bench leech_nearest --n 4096`; "
        "`lattiq bench NAME --help` shows that benchmark's options.",
    )
    p.add_argument("name", nargs="?", help="benchmark name (omit to list them)")
    p.add_argument("args", nargs=argparse.REMAINDER,
                   help="arguments passed to the benchmark script (options included)")
    p.set_defaults(func=_cmd, light=True)
