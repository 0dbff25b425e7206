"""Per-call cost of the ``Lattice`` API on small batches, against another revision.

What a call of ``L.decode(x)`` (1 and 64 points) and ``L.contains(y)`` (1 point) costs for
Zn, D4, A8, E8, Leech and a 12-dimensional user lattice: the path from the ``Lattice``
object through its family strategy to the compiled kernel, where any dispatch overhead
shows. Each figure is the best of 5 ``timeit`` repeats of many calls, in a fresh
interpreter per round. With ``--baseline REF`` the same timings run, in the same session
and alternating round by round, from the files of git revision REF (``git archive`` into a
temporary directory); the table keeps each tree's best round and the ratio baseline /
current (above 1: the current tree is faster).

Usage::

    python benchmarks/bench_lattice_calls.py [--baseline REF] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _procs import ROOT, describe, load, tree_at  # noqa: E402

LATTICES = ("z8", "d4", "a8", "e8", "leech", "u12")


def worker(out: str, quick: bool) -> None:
    """Time the calls with the ``lattiq`` this interpreter imports; write ``{row: s}``."""
    import numpy as np

    from lattiq.lattices import Lattice, get_lattice

    rng = np.random.default_rng(0)
    user = Lattice.from_basis(rng.integers(-5, 6, size=(12, 12)), name="u12")
    scale = 0.05 if quick else 1.0
    rows = {}
    for name in LATTICES:
        L = user if name == "u12" else get_lattice(name)
        for n, calls in ((1, 20000), (64, 5000)):
            x = rng.standard_normal((n, L.ambient_dim))
            L.decode(x)
            k = max(1, int(calls * scale))
            t = timeit.repeat(lambda L=L, x=x: L.decode(x), number=k, repeat=5)
            rows[f"{name}.decode n={n}"] = min(t) / k
        y = L.nearest(rng.standard_normal((1, L.ambient_dim)))
        k = max(1, int((20 if name == "u12" else 5000) * scale))
        t = timeit.repeat(lambda L=L, y=y: L.contains(y), number=k, repeat=5)
        rows[f"{name}.contains n=1"] = min(t) / k
    with open(out, "w") as f:
        json.dump(rows, f)


def run_tree(tree: Path, quick: bool) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1",
               LATTIQ_COMPILE_NOTICE="0")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", out]
    subprocess.run(cmd + (["--quick"] if quick else []), cwd=tree, env=env, check=True)
    with open(out) as f:
        rows = json.load(f)
    os.unlink(out)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", help="git revision to compare with")
    p.add_argument("--rounds", type=int, default=3, help="rounds per tree (default 3)")
    p.add_argument("--quick", action="store_true", help="few calls per figure")
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, args.quick)
        return 0
    trees = {"current": ROOT}
    if args.baseline:
        trees["baseline"] = tree_at(args.baseline)
    start = load()
    best: dict[str, dict] = {}
    for _ in range(max(1, args.rounds)):
        for tag, tree in trees.items():
            rows = run_tree(tree, args.quick)
            best[tag] = {k: min(v, best.get(tag, {}).get(k, v)) for k, v in rows.items()}
    if args.baseline:
        shutil.rmtree(trees["baseline"], ignore_errors=True)
    base = f" against {describe(args.baseline)}" if args.baseline else ""
    print(f"load {start} at start, {load()} at end; best of {args.rounds} rounds{base}")
    if args.baseline:
        print("| call | baseline | current | ratio baseline / current |")
        print("|---|---:|---:|---:|")
        for k, v in best["current"].items():
            b = best["baseline"][k]
            print(f"| {k} | {b * 1e6:.2f} µs | {v * 1e6:.2f} µs | {b / v:.2f} |")
    else:
        print("| call | time |")
        print("|---|---:|")
        for k, v in best["current"].items():
            print(f"| {k} | {v * 1e6:.2f} µs |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(best, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
