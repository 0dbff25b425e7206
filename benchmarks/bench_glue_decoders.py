"""Glue decoders of E7, E6, K12 and Λ16 against the generic decoder, same points, same
process.

For each lattice, ``L.decode`` (the glue decoder of :mod:`lattiq.lattices.glued`) and the
generic LLL + Schnorr–Euchner decoder (``decode_generic``, the baseline) decode the same
standard Gaussian points (times 2); each figure is the best of ``--repeat`` CPU times of
this process after a warm-up call, and the two answers are checked to agree point for
point. Ratio = generic time / glue time (above 1: the glue decoder is faster).

Usage::

    python benchmarks/bench_glue_decoders.py            # 100,000 points per lattice
    python benchmarks/bench_glue_decoders.py --n 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from lattiq.lattices import get_lattice
from lattiq.lattices.decoders import decode_generic

LATTICES = ("e7", "e6", "k12", "bw16")


def best_cpu(fn, x, repeat: int) -> float:
    fn(x[:16])  # compile / warm
    best = np.inf
    for _ in range(repeat):
        c = time.process_time()
        fn(x)
        best = min(best, time.process_time() - c)
    return max(best, 1e-9)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="points per lattice")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.1f}; {args.n:,} points per lattice, best of {args.repeat}, "
          "CPU time of one thread")
    print("| lattice | dim | glue decoder /s | generic decoder /s | ratio | same points |")
    print("|---|---:|---:|---:|---:|---|")
    rows, ok = [], True
    for name in LATTICES:
        L = get_lattice(name)
        x = 2.0 * rng.standard_normal((args.n, L.ambient_dim))
        t_glue = best_cpu(L.decode, x, args.repeat)
        t_gen = best_cpu(lambda a, L=L: decode_generic(L, a), x, args.repeat)
        same = bool(np.array_equal(L.decode(x), decode_generic(L, x)))
        ok &= same
        rows.append(dict(lattice=name, dim=L.dim, glue=args.n / t_glue,
                         generic=args.n / t_gen, ratio=t_gen / t_glue, same=same))
        print(f"| {name} | {L.dim} | {args.n / t_glue:,.0f} | {args.n / t_gen:,.0f} | "
              f"{t_gen / t_glue:.2f} | {'yes' if same else 'NO'} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(load=load, n=args.n, rows=rows), f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
