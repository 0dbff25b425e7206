"""Tiled matmul-argmax search: score-tile size against throughput (same process, same run).

The exact search of codes without structure (``random-d-N``, ``fibonacci-d-N`` for d > 3,
``from_points`` codes) is a matmul-argmax over the whole codebook, walked in tiles. This
script times it over a random code of ``--K`` unit vectors in ``--dim`` dimensions for
several score-tile sizes, in both implementations:

* ``torch``: :func:`lattiq.quantizers.search.tiled_nearest` (float32, the quantizer path);
* ``numpy``: :func:`lattiq.spherecodes.search.tiled_nearest` (float64, the analysis path);

and for the untiled ``argmax(x @ C.T)`` over the whole score matrix (the baseline, the
search of the paper's code). Every variant is checked to return the baseline's indices.
Each figure is the best of ``--repeats`` interleaved runs on one thread; the table prints
queries per second and the ratio to the baseline of the same implementation.

Usage::

    python benchmarks/bench_tiled_search.py [--n 2048] [--K 196560] [--dim 24] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2048, help="queries per search")
    p.add_argument("--K", type=int, default=196560, help="codewords")
    p.add_argument("--dim", type=int, default=24)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    from lattiq.quantizers.search import CPU_CACHE_TILE, DEFAULT_MEMORY_BUDGET
    from lattiq.quantizers.search import tiled_nearest as torch_tiled
    from lattiq.spherecodes.search import DEFAULT_TILE_BYTES
    from lattiq.spherecodes.search import tiled_nearest as numpy_tiled

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    C = rng.standard_normal((args.K, args.dim))
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    X = rng.standard_normal((args.n, args.dim))
    Ct, Xt = torch.as_tensor(C, dtype=torch.float32), torch.as_tensor(X, dtype=torch.float32)
    MiB = 2**20

    variants = {
        "torch": [
            ("untiled argmax (baseline)", lambda: (Xt @ Ct.T).argmax(1)),
            (f"one {DEFAULT_MEMORY_BUDGET // MiB} MiB tile (budget only)",
             lambda: torch_tiled(Xt, Ct, DEFAULT_MEMORY_BUDGET, DEFAULT_MEMORY_BUDGET)),
            *[(f"{b // MiB} MiB tiles" + (" (default)" if b == CPU_CACHE_TILE else ""),
               lambda b=b: torch_tiled(Xt, Ct, DEFAULT_MEMORY_BUDGET, b))
              for b in (1 * MiB, 4 * MiB, 16 * MiB)],
        ],
        "numpy": [
            ("untiled argmax (baseline)", lambda: np.argmax(X @ C.T, axis=1)),
            *[(f"{b // MiB} MiB tiles" + (" (default)" if b == DEFAULT_TILE_BYTES else ""),
               lambda b=b: numpy_tiled(X, C, b))
              for b in (1 * MiB, 4 * MiB, 16 * MiB, 32 * MiB)],
        ],
    }  # fmt: skip

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; torch {torch.__version__}, numpy {np.__version__}; "
          f"one thread; n = {args.n} queries, K = {args.K} codewords, d = {args.dim}")  # fmt: skip
    print("| implementation | tiling | queries/s | vs untiled |")
    print("|---|---|---|---|")
    with threadpool_limits(1):
        for impl, vs in variants.items():
            ref = np.asarray(vs[0][1]())
            for name, fn in vs:
                got = np.asarray(fn())
                if not np.array_equal(got, ref):
                    raise AssertionError(f"{impl} / {name}: indices differ from the baseline")
            times = {name: float("inf") for name, _ in vs}
            for _ in range(args.repeats):  # interleaved, best of repeats
                for name, fn in vs:
                    times[name] = min(times[name], best_time(fn, 1))
            base = times[vs[0][0]]
            for name, _ in vs:
                print(f"| {impl} | {name} | {args.n / times[name]:,.0f} | "
                      f"{base / times[name]:.2f}× |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
