"""Speed and memory of the Leech quantizer: forward + backward at 4,096 / 65,536 / 1,048,576
tokens, against brute force and vector-quantize-pytorch, in one run.

Methods (all exact nearest codeword of the same 196,560 unit Leech vectors):

* ``lattiq``        ``SphericalQuantizer("leech")`` (numba kernel on CPU, torch on GPU);
* ``lattiq-torch``  the same layer forced onto its batched-torch structured search;
* ``brute``         the matmul-argmax of the paper's released code: one
                    ``tokens × 196,560`` score matrix (run where it fits ``--max-matrix-gib``);
* ``brute-tiled``   the same matmul-argmax in 64 MiB tiles (run up to ``--max-tiled-tokens``);
* ``vqtorch``       ``vector_quantize_pytorch.VectorQuantize`` with the same frozen codebook
                    and cosine similarity (run where its score matrix fits).

Sizes a method cannot run at are extrapolated linearly from its largest measured size and
marked ``extrapolated``; nothing is hidden. Each (method, size) runs in a fresh subprocess;
peak extra memory is the peak RSS during the timed calls minus the RSS just before them (CPU;
the kernel's peak mark is reset through ``/proc/self/clear_refs``) or the growth of
``torch.cuda.max_memory_allocated`` (GPU); the input, its gradient buffer and the layer
already exist at that point.

Usage::

    python benchmarks/bench_quantizers.py                  # CPU, all sizes
    python benchmarks/bench_quantizers.py --device cuda
    python benchmarks/bench_quantizers.py --sizes 4096 65536 --methods lattiq brute-tiled

vector-quantize-pytorch is not a dependency of lattiq; install it in a separate environment
that still sees this project's torch, e.g.::

    python -m venv --system-site-packages ../vqbench-venv
    echo "$(python -c 'import site; print(site.getsitepackages()[0])')" \
        > ../vqbench-venv/lib/python3.11/site-packages/lattiq_main.pth
    ../vqbench-venv/bin/pip install vector-quantize-pytorch
    ../vqbench-venv/bin/python benchmarks/bench_quantizers.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

K = 196560
D = 24
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:  # run from a checkout, also from another environment's python
    sys.path.insert(0, _ROOT)
METHODS = ("lattiq", "lattiq-torch", "brute", "brute-tiled", "vqtorch")
VQ_HINT = (
    "vector-quantize-pytorch not importable: skipped. Install it in its own venv "
    "(see this script's docstring) and run the script with that venv's python."
)


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> int:
    """Reset the kernel's peak-RSS mark where Linux allows it; return the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    cur = _status_kib("VmRSS")
    return cur * 1024 if cur is not None else _peak_rss_bytes()


def _peak_rss_bytes() -> int:
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _build(method: str, device: str):
    """Return a callable ``f(z) -> codes`` doing one quantizer forward."""
    import torch
    import torch.nn.functional as F

    from lattiq.lattices.leech import leech_shell1
    from lattiq.quantizers import SphericalQuantizer
    from lattiq.quantizers.search import tiled_nearest

    if method in ("lattiq", "lattiq-torch"):
        q = SphericalQuantizer("leech", search_backend="auto" if method == "lattiq" else "torch")
        q = q.to(device)
        return lambda z: q(z).codes
    C = torch.as_tensor(leech_shell1().astype("float32") / math.sqrt(32.0), device=device)
    if method == "brute":

        def brute(z):
            zn = F.normalize(z, dim=-1)
            idx = (zn.detach() @ C.T).argmax(dim=-1)  # (n, 196560) scores
            return C[idx] + (zn - zn.detach())

        return brute
    if method == "brute-tiled":

        def tiled(z):
            zn = F.normalize(z, dim=-1)
            idx = tiled_nearest(zn.detach(), C, 64 * 2**20)
            return C[idx] + (zn - zn.detach())

        return tiled
    if method == "vqtorch":
        from vector_quantize_pytorch import VectorQuantize

        vq = VectorQuantize(dim=D, codebook_size=K, use_cosine_sim=True, freeze_codebook=True,
                            commitment_weight=0.0, kmeans_init=False).to(device)
        with torch.no_grad():
            vq._codebook.embed.copy_(C[None])
        return lambda z: vq(z[None])[0][0]
    raise ValueError(f"unknown method {method!r}")


def worker(method: str, n: int, device: str, repeats: int, threads: int | None = None) -> dict:
    """Time forward + backward of one method at one size; report peak extra memory."""
    import numba
    import torch

    if threads:
        torch.set_num_threads(threads)
        numba.set_num_threads(threads)
    torch.manual_seed(0)
    f = _build(method, device)
    # warm up (JIT, caches) on a small input
    zw = torch.randn(256, D, device=device, requires_grad=True)
    f(zw).sum().backward()
    z = torch.randn(n, D, device=device, requires_grad=True)
    z.grad = torch.zeros_like(z)
    times = []
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.max_memory_allocated()
    else:
        base = _reset_peak_rss()
    for _ in range(repeats):
        t0 = time.perf_counter()
        codes = f(z)
        codes.sum().backward()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        del codes
    peak = (torch.cuda.max_memory_allocated() if device == "cuda" else _peak_rss_bytes()) - base
    return {
        "method": method,
        "tokens": n,
        "seconds": min(times),
        "tokens_per_s": n / min(times),
        "peak_extra_bytes": max(0, peak),
        "input_bytes": n * D * 4,
        "threads": torch.get_num_threads(),
        "numba_threads": numba.get_num_threads(),
    }


def _fits(method: str, n: int, args) -> str | None:
    """Why ``method`` is not run at ``n`` tokens (None: run it)."""
    matrix_gib = n * K * 4 / 2**30
    if method in ("brute", "vqtorch") and matrix_gib > args.max_matrix_gib:
        return f"score matrix {matrix_gib:.1f} GiB > --max-matrix-gib {args.max_matrix_gib}"
    if method == "brute-tiled" and n > args.max_tiled_tokens:
        return f"over --max-tiled-tokens {args.max_tiled_tokens}"
    if method == "lattiq-torch" and args.device == "cpu" and n > args.max_tiled_tokens:
        return f"over --max-tiled-tokens {args.max_tiled_tokens} (CPU)"
    return None


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--sizes", type=int, nargs="+", default=[4096, 65536, 1048576])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--repeats", type=int, default=3, help="timed repeats (best is kept)")
    p.add_argument("--max-matrix-gib", type=float, default=4.0)
    p.add_argument("--max-tiled-tokens", type=int, default=65536)
    p.add_argument("--threads", type=int, default=0,
                   help="torch and numba threads in each worker (0: their defaults)")
    p.add_argument("--json", type=str, default=None, help="also write the rows to this file")
    p.add_argument("--worker", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        res = worker(args.worker[0], int(args.worker[1]), args.device, args.repeats,
                     args.threads or None)
        print(json.dumps(res))
        return

    try:
        import vector_quantize_pytorch  # noqa: F401

        have_vq = True
    except ImportError:
        have_vq = False
        print(VQ_HINT)

    rows = []
    for method in args.methods:
        if method == "vqtorch" and not have_vq:
            continue
        measured = []
        for n in args.sizes:
            why = _fits(method, n, args)
            if why is not None:
                if measured:
                    last = measured[-1]
                    rows.append({"method": method, "tokens": n,
                                 "seconds": last["seconds"] * n / last["tokens"],
                                 "tokens_per_s": last["tokens_per_s"],
                                 "peak_extra_bytes": None, "input_bytes": n * D * 4,
                                 "note": f"extrapolated from {last['tokens']} ({why})"})
                else:
                    rows.append({"method": method, "tokens": n, "note": f"skipped: {why}"})
                continue
            reps = args.repeats if n <= 4096 else 1
            cmd = [sys.executable, os.path.abspath(__file__), "--device", args.device,
                   "--repeats", str(reps), "--threads", str(args.threads),
                   "--worker", method, str(n)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                rows.append({"method": method, "tokens": n,
                             "note": "failed: " + r.stderr.strip().splitlines()[-1][:80]})
                continue
            res = json.loads(r.stdout.strip().splitlines()[-1])
            res["note"] = "measured"
            measured.append(res)
            rows.append(res)
    _print_table(rows, args.device, args.threads)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


def _print_table(rows, device: str, threads: int = 0) -> None:
    brute_rate = {}
    for r in rows:
        if r["method"] in ("brute", "brute-tiled") and "tokens_per_s" in r:
            brute_rate[r["tokens"]] = max(brute_rate.get(r["tokens"], 0.0), r["tokens_per_s"])
    th = threads or "default"
    print(f"\nLeech quantizer, forward + backward, device={device}, threads={th}")
    hdr = f"{'method':<13}{'tokens':>10}{'seconds':>10}{'tokens/s':>12}{'vs brute':>10}" \
          f"{'peak extra':>12}{'x input':>9}  note"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        if "tokens_per_s" not in r:
            print(f"{r['method']:<13}{r['tokens']:>10}{'':>10}{'':>12}{'':>10}{'':>12}{'':>9}"
                  f"  {r['note']}")
            continue
        br = brute_rate.get(r["tokens"]) or (max(brute_rate.values()) if brute_rate else None)
        sp = f"{r['tokens_per_s'] / br:.0f}x" if br else "-"
        pk = r.get("peak_extra_bytes")
        pk_s = f"{pk / 2**20:.0f} MiB" if pk is not None else "-"
        ratio = f"{pk / r['input_bytes']:.1f}" if pk is not None else "-"
        print(f"{r['method']:<13}{r['tokens']:>10}{r['seconds']:>10.3f}"
              f"{r['tokens_per_s']:>12.0f}{sp:>10}{pk_s:>12}{ratio:>9}  {r['note']}")
    print("vs brute: throughput over the best brute-force throughput measured at that size "
          "(or at its largest measured size, for extrapolated rows).")


if __name__ == "__main__":
    main()
