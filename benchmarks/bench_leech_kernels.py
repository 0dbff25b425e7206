"""The Leech kernels on one core, each against the kernel it replaced (same process, same
points, identical answers checked on every point): the batched decoder against the
one-point-at-a-time decoder, and the sextet-screened shell search
(``get_code("leech").nearest``) against the float32 byte-table search; the shell search is
also checked against a float64 brute force.

The kernels are called directly (no input validation) with one numba thread, on standard
Gaussian points (standard coordinates); each figure is the best of ``--repeats``
interleaved runs, in CPU time of this process (what a shared, loaded machine leaves
comparable) and wall-clock time. The previous kernels are the references kept in
``tests/lattices/leech_scalar_decoder.py`` and ``tests/spherecodes/leech_reference_kernel.py``.
Targets: >= 1,000,000 Leech decodes/s and >= 2,000,000 shell-search queries/s on one core
(CPU time). ``--stages`` adds where the shell search's time goes: its vectorized stages
timed alone on the same blocks, the rest (scaling, rounding, per-input search) by
difference; ``--ties`` times both shell searches on tie-heavy input too.

Usage::

    python benchmarks/bench_leech_kernels.py [--n 200000] [--repeats 3] [--stages] [--ties]
                                             [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np

from lattiq.lattices._leech_kernels import leech_kernel
from lattiq.lattices.leech_layout import leech_sextet_tables
from lattiq.spherecodes import get_code
from lattiq.spherecodes.search import leech_nearest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _procs import cpu_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _reference(folder: str, name: str):
    path = ROOT / "tests" / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # numba's cache reloads the kernel's module by name
    spec.loader.exec_module(mod)
    return mod


def search_counts(x: np.ndarray) -> tuple[float, float]:
    """Per query: rows (cosets, octad cosets, shape A) searched, and candidate units left at
    the end (scored in float64 when more than one), from the kernel's counters."""
    from lattiq.spherecodes._kernels_leech import leech_nearest_kernel
    from lattiq.spherecodes.search import _leech_kernel_tables

    stats = np.zeros((1, 2), np.int64)
    out = np.empty(x.shape[0], np.int64)
    leech_nearest_kernel(x, out, 1, *_leech_kernel_tables(), stats)
    return stats[0, 0] / x.shape[0], stats[0, 1] / x.shape[0]


def tie_heavy(shell_ref, n: int, repeats: int, rng) -> list[dict]:
    """Both shell searches on inputs where many codewords tie or nearly tie: codewords,
    midpoints of two codewords, small integer vectors, zero rows (the worst case: every
    codeword ties and all are scored)."""
    from lattiq.lattices.leech import leech_shell1

    V = leech_shell1().astype(np.float64)
    m = max(64, n // 10)
    i, j = rng.integers(0, len(V), (2, m))
    inputs = {
        "codewords": V[i],
        "midpoints of two codewords": V[i] + V[j],
        "integers in {-1, 0, 1}": rng.integers(-1, 2, (m, 24)).astype(np.float64),
        "zero rows": np.zeros((max(64, m // 100), 24)),
    }
    rows = []
    for name, x in inputs.items():
        x = np.ascontiguousarray(x)
        a, b = leech_nearest(x, threads=1), shell_ref(x, threads=1)
        best = [math.inf, math.inf]
        for _ in range(repeats):
            for k, fn in enumerate((shell_ref, leech_nearest)):
                c = time.process_time()
                fn(x, threads=1)
                best[k] = min(best[k], time.process_time() - c)
        r, cands = search_counts(x)
        rows.append(dict(input=name, n=x.shape[0], previous=x.shape[0] / best[0],
                         current=x.shape[0] / best[1], rows=r, candidates=cands,
                         same=bool(np.array_equal(a, b))))
    return rows


def stage_times(x: np.ndarray, repeats: int) -> dict[str, float]:
    """Seconds of CPU time per query of the shell search's vectorized stages, each run alone
    over the blocks of ``x`` (their cost does not depend on the values)."""
    from lattiq.lattices.leech_layout import leech_layout
    from lattiq.spherecodes import _kernels_leech_screen as S

    lay = leech_layout()
    cols, cls_pair, bco = lay.sextet_cols, lay.coset_pair, lay.octad_cosets
    L = S.LANES
    nblk = x.shape[0] // L
    rng = np.random.default_rng(1)
    xq = np.rint(rng.standard_normal(24 * L) * 2.0**17).astype(np.float32)
    ax = np.abs(xq)
    Sx, Mn, Ab = (np.empty(96 * L, np.float32) for _ in range(3))
    U, H, W, D = (np.zeros(48 * L, np.int16) for _ in range(4))
    UB = np.empty(S.NROWS * L, np.int16)
    k1, k2 = np.empty(L, np.int32), np.empty(L, np.int32)
    thr = np.full(L, 9000, np.int16)
    mk = np.empty(((S.NROWS + 63) // 64) * L, np.uint64)
    S.zero_pairs(W, D)
    stages = {
        "column tables (6 tetrads x 16 patterns)": lambda: S.column_tables(xq, ax, cols, Sx, Mn,
                                                                           Ab),
        "pair tables (int16, rounded up)": lambda: S.pair_tables(Sx, Mn, Ab, U, H, W, D),
        "row bounds (239 rows)": lambda: S.row_bounds(cls_pair, bco, U, H, W, D, Ab, UB),
        "two best rows": lambda: S.best_rows(UB, k1, k2),
        "marking the rows that can still reach": lambda: S.mark_rows(UB, thr, mk),
    }
    out = {}
    for name, fn in stages.items():
        fn()
        best = math.inf
        for _ in range(repeats):
            c = time.process_time()
            for _ in range(nblk):
                fn()
            best = min(best, time.process_time() - c)
        out[name] = best / (nblk * L)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000, help="points per timed call")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--stages", action="store_true",
                    help="also time the shell search's vectorized stages alone")
    ap.add_argument("--ties", action="store_true",
                    help="also time both shell searches on tie-heavy input")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    sq8 = math.sqrt(8.0)
    cols, cls_pair, cls_g = leech_sextet_tables()
    scalar = _reference("lattices", "leech_scalar_decoder").leech_kernel_scalar
    shell_ref = _reference("spherecodes", "leech_reference_kernel").leech_nearest_reference
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, 24))

    def decode_with(kernel):
        out = np.empty((x.shape[0], 24), dtype=np.int64)
        kernel(x, sq8, cols, cls_pair, cls_g, out)
        return out

    cases = {
        "decoder, one point at a time (previous)": lambda: decode_with(scalar),
        "decoder, batched (current)": lambda: decode_with(leech_kernel),
        "shell search, byte tables (previous)": lambda: shell_ref(x, threads=1),
        "shell search, sextet cosets (current)": lambda: leech_nearest(x, threads=1),
    }
    results = {}
    for name, fn in cases.items():  # compile / load, and keep the answers for the checks
        results[name] = fn()
    same = bool(np.array_equal(results["decoder, one point at a time (previous)"],
                               results["decoder, batched (current)"]))
    shell_same = bool(np.array_equal(results["shell search, byte tables (previous)"],
                                     results["shell search, sextet cosets (current)"]))
    P = get_code("leech").points
    xb = x[:1024]
    brute = np.concatenate([np.argmax(xb[s:s + 128] @ P.T, axis=1)
                            for s in range(0, xb.shape[0], 128)])
    shell_ok = bool(np.array_equal(results["shell search, sextet cosets (current)"][:1024],
                                   brute))
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
    print("| kernel | per second (CPU time) | per second (wall) | vs previous kernel (CPU) |")
    print("|---|---:|---:|---:|")
    rows = []
    refs = {"decoder": args.n / best["decoder, one point at a time (previous)"][1],
            "shell search": args.n / best["shell search, byte tables (previous)"][1]}
    for name, (w, c) in best.items():
        rate_c, rate_w = args.n / c, args.n / w
        vs = rate_c / refs[name.split(",")[0]]
        print(f"| {name} | {rate_c:,.0f} | {rate_w:,.0f} | {vs:.2f}x |")
        rows.append(dict(kernel=name, per_s_cpu=rate_c, per_s_wall=rate_w, vs_previous=vs))
    dec = args.n / best["decoder, batched (current)"][1]
    shell = args.n / best["shell search, sextet cosets (current)"][1]
    checks = [
        ("batched decoder: identical answers to the previous kernel", same, f"{args.n:,} points"),
        ("shell search: identical answers to the previous kernel", shell_same,
         f"{args.n:,} queries"),
        ("shell search: same indices as a float64 brute force", shell_ok,
         f"{xb.shape[0]:,} queries"),
        ("Leech decodes >= 1,000,000/s on one core", dec >= 1e6, f"{dec:,.0f}/s"),
        ("shell-search queries >= 2,000,000/s on one core", shell >= 2e6, f"{shell:,.0f}/s"),
    ]
    stages = {}
    counts = None
    if args.stages:
        stages = stage_times(x, args.repeats)
        counts = search_counts(x)
        total = 1.0 / shell
        print()
        print("| shell search, where the time goes | ns per query (CPU) | share |")
        print("|---|---:|---:|")
        for name, t in list(stages.items()) + [
                ("scaling, rounding, per-input search (the rest)", total - sum(stages.values())),
                ("total", total)]:
            print(f"| {name} | {t * 1e9:.0f} | {t / total:.0%} |")
        print(f"\nper query: {counts[0]:.3f} rows searched, {counts[1]:.4f} candidate units "
              "at the end")
    ties = []
    if args.ties:
        ties = tie_heavy(shell_ref, args.n, args.repeats, rng)
        print()
        print("| shell search on tie-heavy input | previous (CPU) | current (CPU) | ratio | "
              "rows, candidates per query |")
        print("|---|---:|---:|---:|---:|")
        for t in ties:
            print(f"| {t['input']} | {t['previous']:,.0f} | {t['current']:,.0f} | "
                  f"{t['current'] / t['previous']:.2f}x | {t['rows']:.1f}, {t['candidates']:.1f} |")
        checks.append(("shell search on tie-heavy input: identical answers to the previous kernel",
                       all(t["same"] for t in ties), f"{sum(t['n'] for t in ties):,} queries"))
    print()
    for label, ok, info in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {info}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(
            machine=cpu_name(), load=load, n=args.n, rows=rows,
            stages_ns={k: v * 1e9 for k, v in stages.items()},
            rows_and_candidates_per_query=counts, tie_heavy=ties,
            checks=[dict(label=a, ok=bool(b), info=c) for a, b, c in checks]), indent=1))
    return 0 if all(ok for label, ok, _ in checks if "identical" in label or "same" in label) else 1


if __name__ == "__main__":
    sys.exit(main())
