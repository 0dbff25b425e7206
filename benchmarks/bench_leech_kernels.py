"""The Leech kernels on one core: the batched decoder against the one-point-at-a-time kernel
it replaced (same process, same points, identical answers checked), and the Leech-sphere
shell search (queries/s, checked against a float64 brute force).

Both kernels are called directly (no input validation) with one numba thread, on standard
Gaussian points (standard coordinates); each figure is the best of ``--repeats``
interleaved runs, in CPU time of this process (what a shared, loaded machine leaves
comparable) and wall-clock time. The previous decoder kernel is the reference kept in
``tests/lattices/leech_scalar_decoder.py``. Targets: >= 1,000,000 Leech decodes/s and
>= 2,000,000 shell-search queries/s on one core (CPU time).

Usage::

    python benchmarks/bench_leech_kernels.py [--n 200000] [--repeats 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np

from lattiq.lattices._leech_kernels import leech_kernel
from lattiq.lattices.decoders import leech_sextet_tables
from lattiq.spherecodes import get_code
from lattiq.spherecodes.search import leech_nearest

ROOT = Path(__file__).resolve().parents[1]


def _reference_decoder():
    path = ROOT / "tests" / "lattices" / "leech_scalar_decoder.py"
    spec = importlib.util.spec_from_file_location("leech_scalar_decoder", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # numba's cache reloads the kernel's module by name
    spec.loader.exec_module(mod)
    return mod.leech_kernel_scalar


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000, help="points per timed call")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    sq8 = math.sqrt(8.0)
    cols, cls_pair, cls_g = leech_sextet_tables()
    scalar = _reference_decoder()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, 24))

    def decode_with(kernel):
        out = np.empty((x.shape[0], 24), dtype=np.int64)
        kernel(x, sq8, cols, cls_pair, cls_g, out)
        return out

    cases = {
        "decoder, one point at a time (previous)": lambda: decode_with(scalar),
        "decoder, batched (current)": lambda: decode_with(leech_kernel),
        "shell search (leech_nearest)": lambda: leech_nearest(x, threads=1),
    }
    results = {}
    for name, fn in cases.items():  # compile / load, and keep the answers for the checks
        results[name] = fn()
    same = bool(np.array_equal(results["decoder, one point at a time (previous)"],
                               results["decoder, batched (current)"]))
    P = get_code("leech").points
    xb = x[:1024]
    brute = np.concatenate([np.argmax(xb[s:s + 128] @ P.T, axis=1) for s in range(0, 1024, 128)])
    shell_ok = bool(np.array_equal(results["shell search (leech_nearest)"][:1024], brute))
    best = {name: [math.inf, math.inf] for name in cases}
    for _ in range(args.repeats):  # interleaved, so that every kernel sees the same load
        for name, fn in cases.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            best[name][0] = min(best[name][0], time.perf_counter() - w)
            best[name][1] = min(best[name][1], time.process_time() - c)
    load = os.getloadavg()[0]
    print(f"{cpu_name()}, {os.cpu_count()} CPUs, load average {load:.1f}; numba "
          f"{numba.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}; "
          f"{args.n:,} Gaussian points, one thread")
    print("| kernel | per second (CPU time) | per second (wall) | vs previous decoder |")
    print("|---|---:|---:|---:|")
    rows = []
    ref = args.n / best["decoder, one point at a time (previous)"][1]
    for name, (w, c) in best.items():
        rate_c, rate_w = args.n / c, args.n / w
        vs = f"{rate_c / ref:.2f}x" if name.startswith("decoder") else ""
        print(f"| {name} | {rate_c:,.0f} | {rate_w:,.0f} | {vs} |")
        rows.append(dict(kernel=name, per_s_cpu=rate_c, per_s_wall=rate_w))
    dec = args.n / best["decoder, batched (current)"][1]
    shell = args.n / best["shell search (leech_nearest)"][1]
    checks = [
        ("batched decoder: identical answers to the previous kernel", same, f"{args.n:,} points"),
        ("shell search: same indices as a float64 brute force", shell_ok, "1,024 queries"),
        ("Leech decodes >= 1,000,000/s on one core", dec >= 1e6, f"{dec:,.0f}/s"),
        ("shell-search queries >= 2,000,000/s on one core", shell >= 2e6, f"{shell:,.0f}/s"),
    ]
    print()
    for label, ok, info in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {info}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(
            machine=cpu_name(), load=load, n=args.n, rows=rows,
            checks=[dict(label=a, ok=bool(b), info=c) for a, b, c in checks]), indent=1))
    return 0 if same and shell_ok else 1


if __name__ == "__main__":
    sys.exit(main())
