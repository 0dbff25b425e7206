"""Start-up time of the lattiq command: --version, --help, codes list, lattice stats, errors.

Runs each command line ``--runs`` times in a fresh interpreter (after one untimed run, so
that numba's cache is warm) and prints the minimum and median CPU time (user + system of
the child process) and wall time. With ``--baseline REF`` the same commands run, in the
same session and interleaved per command, from the files of git revision REF (extracted
with ``git archive`` into a temporary directory), and the table gets the ratio of the
medians.

Usage::

    python benchmarks/bench_startup.py [--runs 7] [--baseline REF] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _procs import ROOT, describe, load, measure, tree_at  # noqa: E402

COMMANDS = [
    ["--version"],
    ["--help"],
    ["lattice", "stats"],  # an argument error (NAME missing)
    ["codes", "list"],
    ["lattice", "stats", "e8"],
]
#: Targets of the CPU time (median), seconds.
TARGETS = {"--version": 0.3, "--help": 0.3, "codes list": 1.0, "lattice stats e8": 1.0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7, help="timed runs per command (default 7)")
    p.add_argument("--baseline", metavar="REF",
                   help="git revision to compare with (e.g. the commit before a change)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be >= 1")

    trees = [("current", ROOT)]
    tmp = None
    if args.baseline:
        tmp = tree_at(args.baseline)
        trees.insert(0, (f"baseline {describe(args.baseline)}", tmp))
    print(f"python {platform.python_version()}, {platform.machine()}, load {load()} at start; "
          f"{args.runs} runs per command after one untimed run")  # fmt: skip
    rows = []
    try:
        for cmd in COMMANDS:
            for label, tree in trees:
                t = measure(cmd, tree, args.runs)
                rows.append({"command": " ".join(cmd), "version": label, "cpu": t.cpu,
                             "wall": t.wall, "returncode": t.returncode})  # fmt: skip
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"load {load()} at end\n")
    print("| command | version | CPU min s | CPU median s | wall min s | wall median s "
          "| CPU median: baseline / current | target |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    import statistics

    med = {(r["command"], r["version"]): statistics.median(r["cpu"]) for r in rows}
    for r in rows:
        c = r["command"]
        ratio = ""
        target = ""
        if r["version"] == "current":
            base = [v for (cc, ver), v in med.items() if cc == c and ver != "current"]
            if base:
                ratio = f"{base[0] / med[(c, 'current')]:.1f}x"
            if c in TARGETS:
                ok = med[(c, "current")] < TARGETS[c]
                target = f"< {TARGETS[c]} s: {'pass' if ok else 'FAIL'}"
        print(f"| `lattiq {c}` | {r['version']} | {min(r['cpu']):.3f} | "
              f"{statistics.median(r['cpu']):.3f} | {min(r['wall']):.3f} | "
              f"{statistics.median(r['wall']):.3f} | {ratio} | {target} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
