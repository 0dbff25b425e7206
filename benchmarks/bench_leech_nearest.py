"""Leech nearest codeword: structured search vs float32 BLAS brute force (same cores, same run).

Prints the throughput (queries per second) of the structured search of
:func:`lattiq.spherecodes.search.leech_nearest` and of the brute-force argmax of ``x @ P.T``
over the 196,560 codewords in float32 (OpenBLAS through numpy, the best of three query
tiles), with all threads and with one thread, and the speed-up. Each figure is the best of
``--repeats`` interleaved runs, timed both by the wall clock and by this process's CPU time
(the latter is what a shared, loaded machine leaves comparable). The two searches are
checked to agree on the brute-force batch.

Usage::

    python benchmarks/bench_leech_nearest.py [--n 65536] [--brute-n 2048] [--repeats 3]
                                             [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numba
import numpy as np

from lattiq.spherecodes import get_code
from lattiq.spherecodes.search import leech_nearest


def brute_force(X32: np.ndarray, PT: np.ndarray, tile: int) -> np.ndarray:
    """argmax_k <x, p_k> in float32: (tile, 24) @ (24, 196560) then argmax, tile by tile."""
    out = np.empty(X32.shape[0], dtype=np.int64)
    for s in range(0, X32.shape[0], tile):
        out[s:s + tile] = np.argmax(X32[s:s + tile] @ PT, axis=1)
    return out


def timed(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def measure(n: int, brute_n: int, repeats: int, threads: int) -> dict:
    C = get_code("leech")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 24))
    Xb = X[:brute_n]
    PT = np.ascontiguousarray(C.points.astype(np.float32).T)
    X32 = Xb.astype(np.float32)
    leech_nearest(X[:64], threads=threads)  # compile / load the kernel
    agree = float(np.mean(brute_force(X32, PT, 64) == leech_nearest(Xb, threads=threads)))
    tiles = (16, 64, 256)
    inf = (float("inf"), float("inf"))
    tb = {t: inf for t in tiles}
    ts = inf
    for _ in range(repeats):  # interleaved, so that both sides see the same load
        for t in tiles:
            w, c = timed(lambda t=t: brute_force(X32, PT, t))
            tb[t] = (min(tb[t][0], w), min(tb[t][1], c))
        w, c = timed(lambda: leech_nearest(X, threads=threads))
        ts = (min(ts[0], w), min(ts[1], c))
    bw = min(tiles, key=lambda t: tb[t][0])
    bc = min(tiles, key=lambda t: tb[t][1])
    return {
        "threads": threads,
        "queries_structured": n,
        "queries_brute_force": brute_n,
        "brute_force_qps_wall": brute_n / tb[bw][0],
        "brute_force_tile_wall": bw,
        "brute_force_qps_cpu": brute_n / tb[bc][1],
        "brute_force_tile_cpu": bc,
        "structured_qps_wall": n / ts[0],
        "structured_qps_cpu": n / ts[1],
        "speedup_wall": (n / ts[0]) / (brute_n / tb[bw][0]),
        "speedup_cpu": (n / ts[1]) / (brute_n / tb[bc][1]),
        "agreement_with_float32_brute_force": agree,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=65536, help="queries for the structured search")
    ap.add_argument("--brute-n", type=int, default=2048, help="queries for the brute force")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args(argv)
    nt = numba.get_num_threads()
    rows = [measure(args.n, args.brute_n, args.repeats, nt)]
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        threadpool_limits = None
    if threadpool_limits is not None and nt > 1:
        with threadpool_limits(1):
            numba.set_num_threads(1)
            try:
                rows.append(measure(args.n // 2, args.brute_n // 2, args.repeats, 1))
            finally:
                numba.set_num_threads(nt)
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "machine": platform.processor() or
                          platform.machine(), "load_average": os.getloadavg(), "rows": rows},
                         indent=2))
        return 0
    print(f"Leech nearest codeword, 196,560 codewords; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'threads':>7} | {'brute f32 q/s':>13} {'structured q/s':>14} {'speed-up':>8} (wall)"
          f" | {'brute f32 q/s':>13} {'structured q/s':>14} {'speed-up':>8} (CPU) | agree")
    for r in rows:
        print(f"{r['threads']:>7} | {r['brute_force_qps_wall']:>13,.0f} "
              f"{r['structured_qps_wall']:>14,.0f} {r['speedup_wall']:>7.0f}x       | "
              f"{r['brute_force_qps_cpu']:>13,.0f} {r['structured_qps_cpu']:>14,.0f} "
              f"{r['speedup_cpu']:>7.0f}x       | {r['agreement_with_float32_brute_force']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
