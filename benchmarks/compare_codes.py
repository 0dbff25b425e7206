"""Compare spherical codes as tokenizer bottlenecks: same tokenizer, budget and seeds.

The claim under test (arXiv 2512.14697): Λ24-SQ (the ``leech`` code, 17.58 bits/token)
reconstructs better than BSQ (18 bits, with or without its entropy penalty) and a random
(or spherical-Fibonacci) codebook of the same size, without entropy penalties.

Every run trains the same tokenizer (``--preset``, plus per-dataset image size and channels)
for the same number of steps with the same batches (the data order is a function of the
seed), then evaluates its EMA weights on the dataset's held-out split. The budget is a
number of optimizer steps, the same for every code: ``--steps N``, or ``--budget-seconds S``,
which times the ``leech`` run on this machine and picks the steps that make it last about S
seconds (codes with a slower nearest-codeword search then take longer; their time is
reported). Finished runs are reused, so an interrupted protocol can be continued.

    python benchmarks/compare_codes.py --budget-seconds 300 --seeds 0 1 2 \
        --datasets natural fashion-mnist --out runs/compare

prints a markdown table of mean ± std over seeds, then paired differences between codes
(the same seed is the same data order and the same initial weights, so differences are
taken seed by seed) with 95% t-intervals over seeds, and writes ``results.json`` and
``results.md`` in ``--out``.

``identity`` is the unquantized control (normalize only, same tokenizer): the gap between
it and a code is that code's cost of quantization. ``bsq-18+entropy`` is BSQ with its
default entropy penalty; ``bsq-18+entropy:W`` sets the penalty's weight to ``W``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

#: name -> quantizer settings; ``fallback`` is used when the registry cannot build the code.
CODES: dict[str, dict] = {
    "leech": {"code": "leech", "kind": "spherical"},
    "bsq-18": {
        "code": "bsq-18", "kind": "spherical",
        "fallback": {"code": "bsq-18", "kind": "bsq",
                     "options": {"entropy_weight": 0.0, "commitment_weight": 0.0}},
    },
    "bsq-18+entropy": {"code": "bsq-18", "kind": "bsq"},
    "random-24-196560": {
        "code": "random-24-196560", "kind": "spherical",
        "fallback": {"code": "random-24-196560", "kind": "random-projection"},
    },
    "fibonacci-24-196560": {"code": "fibonacci-24-196560", "kind": "spherical"},
    "identity": {"code": "leech", "kind": "identity"},
}  # fmt: skip
#: the code every other one is compared with, seed by seed
REFERENCE = "leech"


def code_spec(name: str) -> dict:
    """Quantizer settings of a code name: a key of :data:`CODES`, or ``bsq-18+entropy:W``."""
    if name in CODES:
        return CODES[name]
    base, sep, weight = name.partition(":")
    if sep and base == "bsq-18+entropy":
        try:
            w = float(weight)
        except ValueError:
            w = float("nan")
        if math.isfinite(w) and w >= 0:
            return {"code": "bsq-18", "kind": "bsq", "options": {"entropy_weight": w}}
    raise ValueError(
        f"unknown code {name!r}; choose from {sorted(CODES)} or bsq-18+entropy:WEIGHT"
    )


def _order(name: str) -> tuple[int, str]:
    names = list(CODES)
    base = name.partition(":")[0]
    return (names.index(base) if base in names else len(names), name)

#: per-dataset model settings on top of the preset
DATASET_MODEL = {
    "fashion-mnist": ["model.image_size=28", "model.channels=1", "model.patch_size=4"],
    "natural": ["model.image_size=32", "model.channels=3", "model.patch_size=4"],
}
#: training settings shared by every run
TRAIN = ["batch_size=32", "lr=1e-3", "schedule=fast", "ema_decay=0.99", "loss.l1=1.0",
         "device=cpu", "log_every=25", "image_every=100000", "keep_checkpoints=1"]  # fmt: skip


def resolve_code(name: str) -> tuple[dict | None, str]:
    """The quantizer settings for ``name`` that can be built here, and a note."""
    from lattiq.models.tokenizer import QuantizerConfig, build_quantizer

    spec = code_spec(name)
    tries = [{k: v for k, v in spec.items() if k != "fallback"}]
    if "fallback" in spec:
        tries.append(spec["fallback"])
    errors = []
    for t in tries:
        try:
            build_quantizer(QuantizerConfig(**t))
            note = "" if t is tries[0] else f"(built as {t['kind']}: the registry lacks it)"
            return t, note
        except (ValueError, ImportError, AttributeError, KeyError) as e:
            errors.append(str(e).splitlines()[0])
    return None, "; ".join(errors)


def quantizer_overrides(q: dict) -> list[str]:
    out = [f"model.quantizer.code={q['code']}", f"model.quantizer.kind={q['kind']}"]
    if q.get("options"):
        out.append("model.quantizer.options=" + json.dumps(q["options"]))
    return out


def _set(items: list[str]) -> list[str]:
    return [a for it in items for a in ("--set", it)]


def train_and_eval(run_dir: Path, dataset: str, q: dict, seed: int, steps: int, args) -> dict:
    import torch

    from lattiq.data import get_dataset
    from lattiq.evaluation.eval_tokenizer import evaluate_tokenizer
    from lattiq.models.tokenizer import Tokenizer
    from lattiq.training.train_tokenizer import main as train_main

    if run_dir.exists():
        shutil.rmtree(run_dir)
    settings = [f"data.name={dataset}", *DATASET_MODEL.get(dataset, []), *TRAIN,
                f"steps={steps}", f"seed={seed}", *quantizer_overrides(q), *args.set]  # fmt: skip
    argv = ["--preset", args.preset, "--out", str(run_dir), "--no-progress", *_set(settings)]
    t0 = time.perf_counter()
    train_main(argv)
    train_s = time.perf_counter() - t0
    model = Tokenizer.from_checkpoint(run_dir, weights="ema")
    ds = get_dataset(dataset, "test", model.config.image_size)
    torch.manual_seed(0)
    rep = evaluate_tokenizer(model, ds, batch_size=64, limit=args.eval_images,
                             grid_path=run_dir / "grid.png")  # fmt: skip
    rep.update(train_seconds=train_s, steps=steps, seed=seed, dataset=dataset)
    (run_dir / "report.json").write_text(json.dumps(rep, indent=2) + "\n")
    return rep


def calibrate_steps(dataset: str, budget_s: float, args) -> int:
    """Steps that make a ``leech`` run last about ``budget_s`` seconds here."""
    from lattiq.training.train_tokenizer import main as train_main

    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--preset", args.preset, "--out", tmp, "--no-progress",
                *_set([f"data.name={dataset}", *DATASET_MODEL.get(dataset, []), *TRAIN,
                       "steps=30", "log_every=5", "ckpt_every=1000", *args.set])]  # fmt: skip
        train_main(argv)
        log = [json.loads(x) for x in (Path(tmp) / "log.jsonl").read_text().splitlines()]
    per_step = (log[-1]["time"] - log[0]["time"]) / (log[-1]["step"] - log[0]["step"])
    return max(10, int(budget_s / per_step))


def _fmt(vals: list, digits: int) -> str:
    vals = [v for v in vals if v is not None and math.isfinite(v)]
    if not vals:
        return "n/a"
    m = statistics.fmean(vals)
    if len(vals) == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ± {statistics.stdev(vals):.{digits}f}"


def _bits(r: dict) -> str:
    b = r.get("bits_per_token")
    return "∞ (unquantized)" if b is None else f"{b:.2f}"


def _col(rs: list[dict], key: str) -> list:
    return [r.get(key) for r in rs]


def table(results: list[dict]) -> str:
    """Markdown table of mean ± std (over seeds) per dataset and code."""
    rows = ["| dataset | code | bits/token | PSNR (dB) | SSIM | MS-SSIM | perplexity | "
            "used codes | pos. var. | shuffle drop (dB) | seeds | steps | train s/run |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    keys = sorted({(r["dataset"], r["name"]) for r in results},
                  key=lambda k: (k[0], _order(k[1])))  # fmt: skip
    for ds, name in keys:
        rs = [r for r in results if r["dataset"] == ds and r["name"] == name]
        rows.append(
            f"| {ds} | {name} | {_bits(rs[0])} | "
            f"{_fmt(_col(rs, 'psnr'), 2)} | {_fmt(_col(rs, 'ssim'), 4)} | "
            f"{_fmt(_col(rs, 'ms_ssim'), 4)} | {_fmt(_col(rs, 'perplexity'), 0)} | "
            f"{_fmt(_col(rs, 'used_codes'), 0)} | {_fmt(_col(rs, 'pos_variance_fraction'), 2)} | "
            f"{_fmt(_col(rs, 'shuffle_drop_db'), 1)} | {len(rs)} | {rs[0]['steps']} | "
            f"{_fmt(_col(rs, 'train_seconds'), 0)} |"
        )
    return "\n".join(rows)


def t_interval(diffs: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``diffs`` and its two-sided Student-t confidence interval over seeds."""
    from scipy import stats

    n = len(diffs)
    m = statistics.fmean(diffs)
    if n < 2:
        return m, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, n - 1) * statistics.stdev(diffs) / math.sqrt(n)
    return m, m - half, m + half


def paired_table(results: list[dict], metric: str = "psnr", reference: str = REFERENCE) -> str:
    """Paired differences ``code − reference`` (and ``identity − code``) per dataset:
    mean over the seeds both ran, 95% t-interval, and how many seeds the code won."""
    rows = [f"| dataset | comparison | {metric} difference, mean [95% CI] | seeds | "
            "first higher in |", "|---|---|---|---|---|"]  # fmt: skip
    by = {(r["dataset"], r["name"], r["seed"]): r.get(metric) for r in results}
    datasets = sorted({r["dataset"] for r in results})
    for ds in datasets:
        names = sorted({r["name"] for r in results if r["dataset"] == ds}, key=_order)
        pairs = [(n, reference) for n in names if n not in (reference, "identity")]
        if "identity" in names:
            pairs += [("identity", n) for n in names if n != "identity"]
        for a, b in pairs:
            seeds = sorted(s for (d, n, s) in by if d == ds and n == a and (ds, b, s) in by)
            diffs = [by[(ds, a, s)] - by[(ds, b, s)] for s in seeds
                     if by[(ds, a, s)] is not None and by[(ds, b, s)] is not None]  # fmt: skip
            if not diffs:
                continue
            m, lo, hi = t_interval(diffs)
            ci = f"[{lo:+.2f}, {hi:+.2f}]" if math.isfinite(lo) else "(one seed)"
            wins = sum(d > 0 for d in diffs)
            rows.append(f"| {ds} | {a} − {b} | {m:+.2f} {ci} | {len(diffs)} | "
                        f"{wins} of {len(diffs)} |")  # fmt: skip
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=["natural", "fashion-mnist"])
    p.add_argument("--codes", nargs="+", default=list(CODES),
                   help=f"{', '.join(CODES)}, or bsq-18+entropy:WEIGHT")  # fmt: skip
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, help="optimizer steps per run (the budget)")
    p.add_argument(
        "--budget-seconds",
        type=float,
        default=300.0,
        help="without --steps: steps that make a leech run take this long here",
    )
    p.add_argument("--preset", default="tiny")
    p.add_argument("--eval-images", type=int, default=1000, help="held-out images per run")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra training config overrides for every run",
    )
    p.add_argument("--out", default="runs/compare")
    p.add_argument("--force", action="store_true", help="retrain runs that already finished")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="tabulate the finished runs in --out; train nothing",
    )
    args = p.parse_args(argv)  # fmt: skip
    for name in args.codes:
        try:
            code_spec(name)
        except ValueError as e:
            p.error(str(e))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, skipped = [], {}
    for dataset in args.datasets:
        if args.report_only:
            steps = args.steps
        else:
            steps = args.steps or calibrate_steps(dataset, args.budget_seconds, args)
        print(f"[{dataset}] {steps} steps per run", file=sys.stderr, flush=True)
        for name in args.codes:
            q, note = resolve_code(name)
            if q is None:
                skipped[name] = note
                print(f"[{dataset}] skipping {name}: {note}", file=sys.stderr, flush=True)
                continue
            for seed in args.seeds:
                run_dir = out / dataset / name / f"seed{seed}"
                rep_path = run_dir / "report.json"
                if args.report_only:
                    if not rep_path.is_file():
                        continue
                    rep = json.loads(rep_path.read_text())
                elif rep_path.is_file() and not args.force:
                    rep = json.loads(rep_path.read_text())
                    if rep.get("steps") != steps:
                        rep = train_and_eval(run_dir, dataset, q, seed, steps, args)
                else:
                    rep = train_and_eval(run_dir, dataset, q, seed, steps, args)
                rep.update(name=name, note=note, quantizer=q)
                results.append(rep)
                print(f"[{dataset}] {name} seed {seed}: PSNR {rep['psnr']:.2f} dB, "
                      f"SSIM {rep['ssim']:.4f}, perplexity {rep['perplexity']:.0f}, "
                      f"{rep['train_seconds']:.0f} s", file=sys.stderr, flush=True)  # fmt: skip
    md = table(results) + "\n\nPaired differences (same seed = same data order and init):\n\n"
    md += paired_table(results)
    summary = {"results": results, "skipped": skipped, "argv": argv or sys.argv[1:]}
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    (out / "results.md").write_text(md + "\n")
    print(md)
    for name, why in skipped.items():
        print(f"\nskipped {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
