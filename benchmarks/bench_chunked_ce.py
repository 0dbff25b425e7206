"""Peak memory and step time of the 196,560-way loss: chunked cross-entropy vs the plain one.

For each token count N (default 1k, 8k, 64k) and each method, one forward + backward pass
of ``CE(W h + b, t) + α log²Z`` with ``W`` (V, D) runs in a fresh subprocess, so that the
peak memory of one does not hide in another's allocator cache. Peak memory is measured as
the extra resident memory above the inputs (``VmHWM`` on Linux, reset through
``/proc/self/clear_refs``) on CPU, and ``torch.cuda.max_memory_allocated`` above the
inputs on CUDA. The plain loss holds ``N × V`` float32 logits and their gradient
(``2 · 4 · N · V`` bytes at least); where that exceeds ``--max-plain-gb`` it is not run and
its memory is reported as computed from that formula, marked so.

Usage::

    python benchmarks/bench_chunked_ce.py                       # D = 768, all of 1k/8k/64k
    python benchmarks/bench_chunked_ce.py --dim 64 --max-plain-gb 4 --tokens 1024,8192,65536

Prints a markdown table; ``--json`` prints the rows as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def _vm(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def one(tokens: int, method: str, dim: int, vocab: int, chunk: int, device: str) -> dict:
    """Run one forward + backward and return its peak extra memory and time."""
    import torch

    from lattiq.models.chunked_ce import chunked_cross_entropy, reference_cross_entropy

    torch.manual_seed(0)
    dev = torch.device(device)
    h = torch.randn(tokens, dim, device=dev, requires_grad=True)
    w = (torch.randn(vocab, dim, device=dev) * 0.02).requires_grad_()
    b = torch.zeros(vocab, device=dev, requires_grad=True)
    t = torch.randint(0, vocab, (tokens,), device=dev)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the peak resident set to the current one
        base = _vm("VmRSS")
    t0 = time.perf_counter()
    if method == "chunked":
        out = chunked_cross_entropy(h, w, t, b, z_loss=1e-4, chunk_size=chunk)
    else:
        out = reference_cross_entropy(h, w, t, b, z_loss=1e-4)
    out.loss.backward()
    if dev.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = _vm("VmHWM") - base
    dt = time.perf_counter() - t0
    return {"tokens": tokens, "method": method, "peak_bytes": int(peak), "seconds": dt,
            "measured": True, "loss": float(out.loss)}


def plain_bytes(tokens: int, vocab: int) -> int:
    """Lower bound of the plain loss's extra memory: logits and their gradient, float32."""
    return 2 * 4 * tokens * vocab


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tokens", default="1024,8192,65536")
    p.add_argument("--dim", type=int, default=768)
    p.add_argument("--vocab", type=int, default=196560)
    p.add_argument("--chunk", type=int, default=2048)
    p.add_argument("--device", default="cpu")
    p.add_argument("--methods", default="chunked,plain")
    p.add_argument("--max-plain-gb", type=float, default=8.0,
                   help="do not run the plain loss when 2·4·N·V bytes exceed this")
    p.add_argument("--json", action="store_true")
    p.add_argument("--one", nargs=2, metavar=("N", "METHOD"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:
        print(json.dumps(one(int(a.one[0]), a.one[1], a.dim, a.vocab, a.chunk, a.device)))
        return 0
    rows = []
    for n in (int(x) for x in a.tokens.split(",")):
        for m in a.methods.split(","):
            if m == "plain" and plain_bytes(n, a.vocab) > a.max_plain_gb * 2**30:
                rows.append({"tokens": n, "method": m, "peak_bytes": plain_bytes(n, a.vocab),
                             "seconds": None, "measured": False})
                continue
            cmd = [sys.executable, __file__, "--one", str(n), m, "--dim", str(a.dim),
                   "--vocab", str(a.vocab), "--chunk", str(a.chunk), "--device", a.device]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise SystemExit(f"{m} at {n} tokens failed:\n{res.stderr[-2000:]}")
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    if a.json:
        print(json.dumps(rows))
        return 0
    print(f"V = {a.vocab}, D = {a.dim}, chunk = {a.chunk} tokens, device {a.device}\n")
    print("| tokens | method | peak extra memory | step time (fwd+bwd) |")
    print("|---:|---|---:|---:|")
    for r in rows:
        mem = f"{r['peak_bytes'] / 2**30:.2f} GiB" + ("" if r["measured"] else
                                                       " (computed: 2·4·N·V, not run)")
        sec = f"{r['seconds']:.2f} s" if r["seconds"] is not None else "—"
        print(f"| {r['tokens']} | {r['method']} | {mem} | {sec} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
