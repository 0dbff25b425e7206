"""User lattices against fpylll: building a lattice from an integer basis, and exact
closest-vector decoding, in the same process on the same inputs.

Two tables, both in CPU time of this process (``time.process_time``, so other processes
on a shared machine slow the figures less than they would wall-clock time), after a
warm-up that loads the compiled kernels:

1. ``Lattice.from_basis(B)`` (exact independence check, integer frame), and the same
   followed by the exact ``.det()``, on random square bases with entries in [-50, 50],
   against fpylll's ``LLL.reduction`` of the same basis (the issue that asked for this
   compared the two; they are different computations, given for scale).
2. Exact closest vector on the same random bases and random integer targets (entries in
   [-1000, 1000]): lattiq's generic decoder (``GenericDecoder(B)``: LLL with deep
   insertions + Schnorr–Euchner enumeration) against fpylll
   (``IntegerMatrix.from_matrix``, ``LLL.reduction``, ``CVP.closest_vector``, which needs an
   LLL-reduced basis). Two regimes: **one target with setup** (each target pays for its
   own reduction: a fresh decoder per target) and **batch** (one reduction, then all
   targets; lattiq decodes them in one call, fpylll one call per target; setup included
   and divided by the number of targets). Every answer is checked: the squared distances
   to the target are compared exactly in Python integers and must be equal (fpylll's
   ``"fast"`` method is not proved; a lattiq answer that is closer would be reported).

Repeats are interleaved (fpylll and lattiq alternate, the order flips every repeat) and
each figure is the median over repeats of the total over targets. Ratios are fpylll time
/ lattiq time (above 1: lattiq is faster).

fpylll is not a lattiq dependency; install it in the benchmark's own environment::

    python -m venv /tmp/fpylll-venv
    /tmp/fpylll-venv/bin/pip install fpylll cysignals numpy numba scipy sympy
    PYTHONPATH=. /tmp/fpylll-venv/bin/python benchmarks/bench_user_lattices.py

Without fpylll the fpylll columns are left empty and the lattiq figures still print.

Usage::

    python benchmarks/bench_user_lattices.py                # full run (several minutes)
    python benchmarks/bench_user_lattices.py --quick        # small dimensions, few repeats
    python benchmarks/bench_user_lattices.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from lattiq.lattices import Lattice
from lattiq.lattices.decoders import GenericDecoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _procs import cpu_name  # noqa: E402

try:  # optional baseline, in the benchmark's environment only
    from fpylll import CVP, LLL, IntegerMatrix

    HAVE_FPYLLL = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_FPYLLL = False

ENTRY = 50  # basis entries in [-ENTRY, ENTRY]
TARGET = 1000  # target entries in [-TARGET, TARGET]


def cpu_time(fn) -> tuple[float, object]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def random_basis(rng, n: int) -> np.ndarray:
    """A random n x n integer basis with entries in [-ENTRY, ENTRY] (full rank)."""
    while True:
        B = rng.integers(-ENTRY, ENTRY + 1, (n, n))
        if abs(np.linalg.det(B.astype(np.float64))) > 0.5:
            return B


def sq_dist(v, t) -> int:
    return sum((int(a) - int(b)) ** 2 for a, b in zip(v, t, strict=True))


# ------------------------------------------------------------------ fpylll baselines
def fpylll_lll(B: np.ndarray):
    A = IntegerMatrix.from_matrix(B.tolist())
    LLL.reduction(A)
    return A


def fpylll_cvp_one(B: np.ndarray, t: np.ndarray) -> tuple[int, ...]:
    return CVP.closest_vector(fpylll_lll(B), [int(v) for v in t])


def fpylll_cvp_batch(B: np.ndarray, T: np.ndarray) -> list[tuple[int, ...]]:
    A = fpylll_lll(B)
    return [CVP.closest_vector(A, [int(v) for v in t]) for t in T]


# ------------------------------------------------------------------ lattiq
def lattiq_from_basis(B: np.ndarray):
    return Lattice.from_basis(B)


def lattiq_from_basis_det(B: np.ndarray):
    L = Lattice.from_basis(B)
    L.det()
    return L


def lattiq_cvp_one(B: np.ndarray, t: np.ndarray) -> np.ndarray:
    dec = GenericDecoder(B)
    return dec.decode(t.astype(np.float64)) @ B


def lattiq_cvp_batch(B: np.ndarray, T: np.ndarray) -> np.ndarray:
    dec = GenericDecoder(B)
    return dec.decode(T.astype(np.float64)) @ B


# ------------------------------------------------------------------ tables
def interleaved(fns: dict, repeats: int) -> dict[str, float]:
    """Median over ``repeats`` of each function's CPU time, the order flipping each repeat."""
    times = {k: [] for k in fns}
    names = list(fns)
    for k in names:  # one untimed round: caches and branch predictors warm for both
        fns[k]()
    for r in range(repeats):
        for k in names if r % 2 == 0 else names[::-1]:
            times[k].append(cpu_time(fns[k])[0])
    return {k: statistics.median(v) for k, v in times.items()}


def bench_from_basis(dims, repeats, rng) -> list[dict]:
    rows = []
    for n in dims:
        B = random_basis(rng, n)
        fns = {"lattiq": lambda B=B: lattiq_from_basis(B),
               "lattiq_det": lambda B=B: lattiq_from_basis_det(B)}
        if HAVE_FPYLLL:
            fns["fpylll"] = lambda B=B: fpylll_lll(B)
        t = interleaved(fns, repeats)
        rows.append({"dim": n, "lattiq_s": t["lattiq"], "lattiq_det_s": t["lattiq_det"],
                     "fpylll_lll_s": t.get("fpylll")})
    return rows


def bench_cvp(dims, n_targets, repeats, rng) -> list[dict]:
    rows = []
    for n in dims:
        k = n_targets(n)
        B = random_basis(rng, n)
        T = rng.integers(-TARGET, TARGET + 1, (k, n))
        # exactness: every answer at the same squared distance as fpylll's (integers)
        ours = lattiq_cvp_batch(B, T)
        ours_one = [lattiq_cvp_one(B, t) for t in T]
        d_ours = [sq_dist(v, t) for v, t in zip(ours, T, strict=True)]
        assert d_ours == [sq_dist(v, t) for v, t in zip(ours_one, T, strict=True)]
        row = {"dim": n, "targets": k, "closer": 0, "farther": 0, "equal": k}
        if HAVE_FPYLLL:
            d_ref = [sq_dist(v, t) for v, t in zip(fpylll_cvp_batch(B, T), T, strict=True)]
            row["equal"] = sum(a == b for a, b in zip(d_ours, d_ref, strict=True))
            row["closer"] = sum(a < b for a, b in zip(d_ours, d_ref, strict=True))
            row["farther"] = sum(a > b for a, b in zip(d_ours, d_ref, strict=True))
        one = {"lattiq": lambda B=B, T=T: [lattiq_cvp_one(B, t) for t in T]}
        batch = {"lattiq": lambda B=B, T=T: lattiq_cvp_batch(B, T)}
        if HAVE_FPYLLL:
            one["fpylll"] = lambda B=B, T=T: [fpylll_cvp_one(B, t) for t in T]
            batch["fpylll"] = lambda B=B, T=T: fpylll_cvp_batch(B, T)
        t1 = interleaved(one, repeats)
        tb = interleaved(batch, repeats)
        row.update({
            "one_lattiq_s": t1["lattiq"] / k, "one_fpylll_s": t1.get("fpylll", 0) / k or None,
            "batch_lattiq_s": tb["lattiq"] / k, "batch_fpylll_s": tb.get("fpylll", 0) / k or None,
        })
        rows.append(row)
        print(f"  cvp dim {n}: done", file=sys.stderr, flush=True)
    return rows


def fmt_t(s) -> str:
    if s is None:
        return "—"
    return f"{s * 1e3:.3f} ms" if s < 0.1 else f"{s:.3f} s"


def fmt_r(a, b) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.1f}x"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--basis-dims", type=int, nargs="+", default=[8, 16, 24, 32, 48, 64])
    ap.add_argument("--cvp-dims", type=int, nargs="+", default=[8, 16, 24, 32, 40, 48])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--targets", type=int, default=20,
                    help="targets per dimension up to 32 (fewer above: 10 at 40, 5 at 48+)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="dimensions <= 32, one repeat")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    if args.quick:
        args.basis_dims = [d for d in args.basis_dims if d <= 32]
        args.cvp_dims = [d for d in args.cvp_dims if d <= 32]
        args.repeats, args.targets = 1, 5

    def n_targets(n):
        return args.targets if n <= 32 else max(1, args.targets // (2 if n <= 40 else 4))

    rng = np.random.default_rng(args.seed)
    # warm-up: load or compile the kernels before any timing
    lattiq_cvp_batch(random_basis(rng, 4), rng.integers(-9, 10, (2, 4)))
    lattiq_from_basis_det(random_basis(rng, 4))

    fb = bench_from_basis(args.basis_dims, args.repeats, rng)
    cvp = bench_cvp(args.cvp_dims, n_targets, args.repeats, rng)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print(f"# user lattices vs fpylll — {cpu_name()}, {os.cpu_count()} CPUs, "
          f"load {load[0]:.2f}, seed {args.seed}, {args.repeats} interleaved repeats, "
          f"CPU time, fpylll {'present' if HAVE_FPYLLL else 'ABSENT (columns empty)'}")
    print()
    print("from_basis (exact rank), and with the exact det(), vs fpylll LLL of the same basis "
          "(entries in [-50, 50])")
    print()
    print("| dim | lattiq from_basis | lattiq from_basis + det | fpylll LLL | "
          "fpylll LLL / from_basis |")
    print("|---:|---:|---:|---:|---:|")
    for r in fb:
        print(f"| {r['dim']} | {fmt_t(r['lattiq_s'])} | {fmt_t(r['lattiq_det_s'])} | "
              f"{fmt_t(r['fpylll_lll_s'])} | {fmt_r(r['fpylll_lll_s'], r['lattiq_s'])} |")
    print()
    print("closest vector, per target: one target with setup / batch with setup amortised")
    print()
    print("| dim | targets | same distance | lattiq one | fpylll one | ratio one | "
          "lattiq batch | fpylll batch | ratio batch |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in cvp:
        same = f"{r['equal']}/{r['targets']}" if HAVE_FPYLLL else "—"
        if r["closer"]:
            same += f" ({r['closer']} closer)"
        print(f"| {r['dim']} | {r['targets']} | {same} | {fmt_t(r['one_lattiq_s'])} | "
              f"{fmt_t(r['one_fpylll_s'])} | {fmt_r(r['one_fpylll_s'], r['one_lattiq_s'])} | "
              f"{fmt_t(r['batch_lattiq_s'])} | {fmt_t(r['batch_fpylll_s'])} | "
              f"{fmt_r(r['batch_fpylll_s'], r['batch_lattiq_s'])} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"from_basis": fb, "cvp": cvp, "load": load[0],
                       "fpylll": HAVE_FPYLLL}, f, indent=1)
    bad = [r["dim"] for r in cvp if r["farther"]]
    if bad:
        print(f"\nERROR: lattiq answer farther than fpylll's at dims {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
