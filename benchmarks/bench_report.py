"""CPU time of the main job, ``lattiq report``: a baseline revision against this one, with an
empty and with a filled result cache (same session).

Every run is a fresh interpreter with numba's kernel cache already warm (one untimed run
first in each source tree), so the figures are the steady state of a user's second and
later runs; "cold cache" is this revision with an empty ``LATTIQ_CACHE_DIR`` each time (its
first run after an upgrade), "warm cache" the same directory reused. The report tables of
all runs are compared: they must be the same numbers.

Usage::

    python benchmarks/bench_report.py [--runs 3] [--baseline REF] [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _procs import ROOT, describe, load, run_once, tree_at  # noqa: E402


def _tables(md: str) -> str:
    """report.md without its timing line."""
    return re.sub(r"full run, [0-9.]+ s\.|quick run, [0-9.]+ s\.", "", md)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="timed runs per setting (default 3)")
    p.add_argument("--baseline", metavar="REF", help="git revision to compare with")
    p.add_argument("--quick", action="store_true", help="lattiq report --quick")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be >= 1")

    work = Path(tempfile.mkdtemp(prefix="lattiq-bench-report-"))
    cache = work / "cache"
    settings = []
    if args.baseline:
        settings.append((f"baseline {describe(args.baseline)}", tree_at(args.baseline,
                                                                         work / "base"), None))
    settings += [("current, cold result cache", ROOT, "cold"),
                 ("current, warm result cache", ROOT, "warm")]  # fmt: skip
    extra = ["--quick"] if args.quick else []
    print(f"python {platform.python_version()}, {platform.machine()}, load {load()} at start; "
          f"`lattiq report{' --quick' if args.quick else ''}`, {args.runs} timed runs per "
          "setting after one untimed run per source tree")  # fmt: skip
    rows, tables = [], {}
    try:
        warmed = set()
        for label, tree, mode in settings:
            if tree not in warmed:  # compile (or load) numba's kernels for this tree
                run_once(["report", "-o", str(work / "warm-up"), "--quiet", *extra], tree,
                         {"LATTIQ_CACHE_DIR": "off"})  # fmt: skip
                warmed.add(tree)
            cpu, wall = [], []
            for i in range(args.runs):
                env = {"LATTIQ_CACHE_DIR": "off"}
                if mode == "cold":
                    shutil.rmtree(cache, ignore_errors=True)
                    env = {"LATTIQ_CACHE_DIR": str(cache)}
                elif mode == "warm":
                    env = {"LATTIQ_CACHE_DIR": str(cache)}  # filled by the cold runs
                out = work / f"out-{len(rows)}-{i}"
                c, w, rc = run_once(["report", "-o", str(out), "--quiet", *extra], tree, env)
                if rc != 0:
                    raise SystemExit(f"{label}: lattiq report exited with {rc}")
                cpu.append(c)
                wall.append(w)
                tables.setdefault(label, _tables((out / "report.md").read_text()))
            rows.append({"setting": label, "cpu": cpu, "wall": wall})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load {load()} at end\n")
    same = len(set(tables.values())) == 1
    base = statistics.median(rows[0]["cpu"]) if args.baseline else None
    print("| setting | CPU min s | CPU median s | wall min s | wall median s | "
          "CPU median: baseline / this |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        m = statistics.median(r["cpu"])
        ratio = f"{base / m:.1f}x" if base is not None else ""
        print(f"| {r['setting']} | {min(r['cpu']):.1f} | {m:.1f} | {min(r['wall']):.1f} | "
              f"{statistics.median(r['wall']):.1f} | {ratio} |")
    print(f"\nreport tables identical in every setting: {'yes' if same else 'NO'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "same_tables": same}, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
