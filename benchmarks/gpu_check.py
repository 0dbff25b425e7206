"""One table for a machine with a GPU: the gpu tests, the Leech quantizer's searches, and a
bf16 tokenizer step and VAR step with the full 196,560-way head (chunked CE vs plain).

Run through ``benchmarks/gpu_check.sh`` (it bounds the wall clock). Rows:

* ``gpu tests``: ``pytest -m gpu`` (passed / failed / skipped counts);
* ``quantizer <search>``: forward + backward of ``SphericalQuantizer("leech")`` at 65,536 and
  1,048,576 tokens for the structured torch search and the tiled cuBLAS matmul-argmax (on
  the GPU) and the compiled numba kernel (on the CPU, all cores), with the number of
  indices that differ from the numba kernel's on the same input;
* ``tokenizer step``: one training step (forward, loss, backward, AdamW) of the ``vit-b8``
  tokenizer with the Leech quantizer, bf16 autocast;
* ``VAR step chunked`` / ``VAR step plain``: one training step of the ``d16`` generator on
  the 10-scale schedule of 256-pixel images with the full softmax head over 196,560
  codewords, with the chunked cross-entropy and with plain logits, bf16 autocast.

Each timed row is the mean of ``--repeats`` calls after a warm-up call; peak memory is
``torch.cuda.max_memory_allocated`` over the timed calls minus the memory allocated before
them (inputs and model included in the latter).

``--reduced``: tiny sizes (64 / 256 tokens, the ``tiny`` presets, no warm-up calls) so
that the whole table runs in seconds on a CPU; the rows that need CUDA then run on the CPU
instead and say so, and ``gpu tests`` reads "skipped: no CUDA". CI runs this mode so the
script cannot rot.
Without ``--reduced`` and without CUDA the GPU rows read "skipped: no CUDA".

Usage::

    bash benchmarks/gpu_check.sh [--reduced] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
#: stop starting new rows after this many seconds (the shell script kills at 470 s)
BUDGET_S = 420.0


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def timed(fn, dev: torch.device, repeats: int, warm: bool = True) -> tuple[float, int | None]:
    """(mean seconds per call after one warm-up call, peak extra CUDA bytes or None)."""
    if warm:
        fn()
        _sync(dev)
    peak = None
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    _sync(dev)
    dt = (time.perf_counter() - t) / repeats
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated(dev) - base
    return dt, peak


def gpu_tests(has_cuda: bool, reduced: bool) -> dict:
    row = {"check": "gpu tests (pytest -m gpu)", "device": "cuda", "size": ""}
    if not has_cuda:
        return {**row, "result": "skipped: no CUDA"}
    if reduced:
        return {**row, "result": "skipped: --reduced"}
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p",
                          "no:cacheprovider", "-n", "0", "tests"], cwd=ROOT,
                         capture_output=True, text=True, timeout=240)
    tail = (res.stdout.strip().splitlines() or ["(no output)"])[-1]
    counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (passed|failed|skipped|error)", tail))
    ok = res.returncode == 0 and counts.get("passed", 0) > 0
    return {**row, "seconds": time.perf_counter() - t,
            "result": ("ok: " if ok else "FAILED: ") + tail.strip("= ")}


def quantizer_rows(dev: torch.device, sizes: list[int], repeats: int, deadline: float,
                   warm: bool = True) -> list:
    from lattiq.quantizers import SphericalQuantizer

    rows = []
    ref: dict[int, torch.Tensor] = {}
    plan = [("numba", torch.device("cpu")), ("torch", dev), ("tiled", dev)]
    for n in sizes:
        g = torch.Generator().manual_seed(n)
        z_cpu = torch.randn(n, 24, generator=g)
        w_cpu = torch.randn(n, 24, generator=g)
        for search, d in plan:
            label = {"numba": "quantizer numba kernel (CPU)", "torch": "quantizer structured torch",
                     "tiled": "quantizer tiled matmul-argmax"}[search]
            row = {"check": label, "device": d.type, "size": f"{n:,} tokens"}
            if time.perf_counter() > deadline:
                rows.append({**row, "result": "skipped: time budget"})
                continue
            q = SphericalQuantizer("leech", search_backend=search).to(d)
            z = z_cpu.to(d).requires_grad_()
            w = w_cpu.to(d)
            holder = {}

            def step(q=q, z=z, w=w, holder=holder):
                z.grad = None
                out = q(z)
                (out.codes * w).sum().backward()
                holder["idx"] = out.indices

            q(z[:64].detach())  # compile / load kernels outside the timing
            dt, peak = timed(step, d, repeats, warm)
            idx = holder["idx"].cpu()
            if search == "numba":
                ref[n] = idx
            diff = int((idx != ref[n]).sum()) if n in ref else None
            rows.append({**row, "seconds": dt, "rate": n / dt, "peak_bytes": peak,
                         "result": "reference" if search == "numba" else
                         f"{diff} of {n:,} indices differ from numba"})
            del q, z, holder
            if d.type == "cuda":
                torch.cuda.empty_cache()
    return rows


def tokenizer_row(dev: torch.device, reduced: bool, repeats: int) -> dict:
    from lattiq.models.tokenizer import Tokenizer, tokenizer_preset

    preset, batch = ("tiny", 1) if reduced else ("vit-b8", 8)
    cfg = tokenizer_preset(preset)
    model = Tokenizer(cfg).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(batch, cfg.channels, cfg.image_size, cfg.image_size, generator=g) * 2 - 1)
    x = x.to(dev)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16):
            out = model(x)
            loss = torch.nn.functional.mse_loss(out.images.float(), x) + out.quant.aux_loss
        loss.backward()
        opt.step()

    dt, peak = timed(step, dev, repeats, warm=not reduced)
    tokens = batch * cfg.grid * cfg.grid
    return {"check": f"tokenizer step ({preset}, bf16)", "device": dev.type,
            "size": f"{batch} images, {tokens:,} tokens", "seconds": dt, "rate": tokens / dt,
            "peak_bytes": peak, "result": "ok"}


def var_rows(dev: torch.device, reduced: bool, repeats: int) -> list:
    from lattiq.models.chunked_ce import reference_cross_entropy
    from lattiq.models.var import VAR, var_preset

    if reduced:
        cfg, batch = var_preset("tiny", scales=[1, 2]), 2
    else:
        cfg, batch = var_preset("d16", scales=[1, 2, 3, 4, 5, 6, 8, 10, 13, 16]), 16
    model = VAR(cfg).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, cfg.num_classes, (batch,), generator=g).to(dev)
    inputs = [torch.randn(batch, h, w, cfg.code_dim, generator=g).to(dev)
              for h, w in cfg.scales[1:]]
    targets = torch.randint(0, cfg.codebook_size, (batch, cfg.seq_len), generator=g).to(dev)
    rows = []
    for method in ("chunked", "plain"):
        def step(method=method):
            opt.zero_grad(set_to_none=True)
            with torch.autocast(dev.type, dtype=torch.bfloat16):
                if method == "chunked":
                    loss = model.loss(labels, inputs, targets).loss
                else:
                    h = model(labels, inputs)
                    h = h.reshape(-1, h.shape[-1])
                    head = model.head.proj
                    loss = reference_cross_entropy(h, head.weight, targets.reshape(-1), head.bias,
                                                   z_loss=cfg.z_loss).loss
            loss.backward()
            opt.step()

        try:
            dt, peak = timed(step, dev, repeats, warm=not reduced)
        except torch.OutOfMemoryError as e:  # the plain head may not fit
            rows.append({"check": f"VAR step {method} CE", "device": dev.type,
                         "size": f"{batch * cfg.seq_len:,} tokens",
                         "result": f"out of memory: {str(e).splitlines()[0][:80]}"})
            torch.cuda.empty_cache()
            continue
        tokens = batch * cfg.seq_len
        rows.append({"check": f"VAR step {method} CE (depth {cfg.depth}, V = "
                              f"{cfg.codebook_size:,}, bf16)", "device": dev.type,
                     "size": f"{tokens:,} tokens", "seconds": dt, "rate": tokens / dt,
                     "peak_bytes": peak, "result": "ok"})
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    return rows


def fmt_table(rows: list) -> str:
    lines = ["| check | device | size | time / call | tokens/s | peak GPU memory | result |",
             "|---|---|---|---:|---:|---:|---|"]
    for r in rows:
        sec = f"{r['seconds']:.4f} s" if r.get("seconds") is not None else ""
        rate = f"{r['rate']:,.0f}" if r.get("rate") is not None else ""
        pk = r.get("peak_bytes")
        mem = f"{pk / 2**20:,.0f} MiB" if pk is not None else ("n/a (CPU)" if sec else "")
        lines.append(f"| {r['check']} | {r['device']} | {r['size']} | {sec} | {rate} | {mem} | "
                     f"{r['result']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reduced", action="store_true", help="tiny sizes; runs on a CPU in seconds")
    ap.add_argument("--repeats", type=int, default=None, help="timed calls per row")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    deadline = start + BUDGET_S
    has_cuda = torch.cuda.is_available()
    reduced = args.reduced
    repeats = args.repeats or (1 if reduced else 3)
    dev = torch.device("cuda" if has_cuda else "cpu")
    info = (torch.cuda.get_device_name(dev) if has_cuda else "no CUDA device")
    print(f"gpu_check{' --reduced' if reduced else ''}: {info}; torch {torch.__version__}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    rows = [gpu_tests(has_cuda, reduced)]
    sizes = [64, 256] if reduced else [65_536, 1_048_576]
    if has_cuda or reduced:
        rows += quantizer_rows(dev, sizes, repeats, deadline, warm=not reduced)
    else:
        rows += quantizer_rows(dev, sizes, repeats, deadline)[::3]  # the CPU kernel only
        rows += [{"check": f"quantizer {s}", "device": "cuda", "size": f"{n:,} tokens",
                  "result": "skipped: no CUDA"} for n in sizes for s in ("structured torch",
                                                                         "tiled matmul-argmax")]
    for name, fn in (("tokenizer step", tokenizer_row), ("VAR steps", var_rows)):
        if not (has_cuda or reduced):
            rows.append({"check": name, "device": "cuda", "size": "", "result": "skipped: no CUDA"})
        elif time.perf_counter() > deadline:
            rows.append({"check": name, "device": dev.type, "size": "",
                         "result": "skipped: time budget"})
        else:
            try:
                out = fn(dev, reduced, repeats)
                rows += out if isinstance(out, list) else [out]
            except Exception as e:  # report the failure in the table, keep going
                rows.append({"check": name, "device": dev.type, "size": "",
                             "result": f"FAILED: {type(e).__name__}: {str(e)[:120]}"})
    print(fmt_table(rows))
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    failed = any(str(r.get("result", "")).startswith("FAILED") for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
