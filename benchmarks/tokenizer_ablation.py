"""Ablate the tokenizer's architecture choices: same code, budget, data order and seeds.

Each variant is a set of ``model.*`` overrides on the ``tiny`` preset (position embedding
kind and scale, ``ln_pre``, decoder-input init, decoder head, output clamp); every run
trains with the recipe of ``benchmarks/compare_codes.py`` (AdamW 1e-3, ``fast`` schedule,
EMA 0.99, L1 only, batch 32) and is evaluated with its EMA weights on held-out images:
PSNR, SSIM, codebook usage and the health measurements of :mod:`lattiq.evaluation.health`
(position share of the latent variance, code : position norm ratio at the decoder input,
PSNR drop with codes shuffled across images).

    python benchmarks/tokenizer_ablation.py --steps 300 --seeds 0 1 2 \\
        --datasets fashion-mnist --out runs/ablation

prints one markdown table (mean ± std over seeds) and paired differences against the
``legacy`` variant; finished runs are reused.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

#: name -> model overrides. ``legacy`` is the architecture before the ablation.
VARIANTS: dict[str, list[str]] = {
    "legacy": ["model.pos_embed=sincos", "model.pos_scale=1.0", "model.dec_in_init=small"],
    "learned": ["model.pos_embed=learned", "model.pos_scale=0.02", "model.dec_in_init=small"],
    "learned+matched": ["model.pos_embed=learned", "model.pos_scale=0.02",
                        "model.dec_in_init=matched"],
    "learned+torch-init": ["model.pos_embed=learned", "model.pos_scale=0.02",
                           "model.dec_in_init=torch"],
    "sincos-0.02+matched": ["model.pos_embed=sincos", "model.pos_scale=0.02",
                            "model.dec_in_init=matched"],
    "sincos-1+matched": ["model.pos_embed=sincos", "model.pos_scale=1.0",
                         "model.dec_in_init=matched"],
    "learned+matched+ln_pre": ["model.pos_embed=learned", "model.pos_scale=0.02",
                               "model.dec_in_init=matched", "model.ln_pre=true"],
    "learned+matched+mlp-tanh": ["model.pos_embed=learned", "model.pos_scale=0.02",
                                 "model.dec_in_init=matched", "model.dec_head=mlp-tanh"],
    "learned+matched+clamp": ["model.pos_embed=learned", "model.pos_scale=0.02",
                              "model.dec_in_init=matched", "model.out_clamp=true"],
    # second round: on top of ln_pre, the best single change of the first round
    "ln_pre+small": ["model.pos_embed=learned", "model.pos_scale=0.02",
                     "model.dec_in_init=small", "model.ln_pre=true"],
    "ln_pre+torch-init": ["model.pos_embed=learned", "model.pos_scale=0.02",
                          "model.dec_in_init=torch", "model.ln_pre=true"],
    "ln_pre+clamp": ["model.pos_embed=learned", "model.pos_scale=0.02",
                     "model.dec_in_init=matched", "model.ln_pre=true", "model.out_clamp=true"],
    "ln_pre+sincos-0.02": ["model.pos_embed=sincos", "model.pos_scale=0.02",
                           "model.dec_in_init=matched", "model.ln_pre=true"],
    "ln_pre+sincos-1": ["model.pos_embed=sincos", "model.pos_scale=1.0",
                        "model.dec_in_init=matched", "model.ln_pre=true"],
    "ln_pre+clamp+torch-init": ["model.pos_embed=learned", "model.pos_scale=0.02",
                                "model.dec_in_init=torch", "model.ln_pre=true",
                                "model.out_clamp=true"],
    "bsq-vit-like": ["model.pos_embed=learned", "model.pos_scale=0.02",
                     "model.dec_in_init=torch", "model.ln_pre=true",
                     "model.dec_head=mlp-tanh", "model.out_clamp=true"],
}  # fmt: skip
#: the fixed architecture fields every variant sets (so that a change of the defaults does
#: not silently change a variant)
BASE = ["model.ln_pre=false", "model.dec_head=linear", "model.out_clamp=false"]


def _compare_codes():
    path = Path(__file__).with_name("compare_codes.py")
    spec = importlib.util.spec_from_file_location("compare_codes", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str] | None = None) -> int:
    cc = _compare_codes()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--code", default="leech", help="a code of compare_codes.py")
    p.add_argument("--datasets", nargs="+", default=["fashion-mnist"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--preset", default="tiny")
    p.add_argument("--eval-images", type=int, default=1000)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", default="runs/ablation")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)

    q, note = cc.resolve_code(args.code)
    if q is None:
        p.error(f"cannot build code {args.code!r}: {note}")
    results = []
    for dataset in args.datasets:
        for variant in args.variants:
            for seed in args.seeds:
                run_dir = Path(args.out) / dataset / variant / args.code / f"seed{seed}"
                rep_path = run_dir / "report.json"
                if rep_path.is_file():
                    rep = json.loads(rep_path.read_text())
                    if rep.get("steps") != args.steps:
                        rep = None
                else:
                    rep = None
                if rep is None:
                    if args.report_only:
                        continue
                    run_args = argparse.Namespace(
                        preset=args.preset, eval_images=args.eval_images,
                        set=[*BASE, *VARIANTS[variant], *args.set],
                    )  # fmt: skip
                    rep = cc.train_and_eval(run_dir, dataset, q, seed, args.steps, run_args)
                rep.update(name=variant, seed=seed, dataset=dataset)
                results.append(rep)
                print(f"[{dataset}] {variant} seed {seed}: PSNR {rep['psnr']:.2f} dB, "
                      f"perplexity {rep['perplexity']:.1f}, {rep['used_codes']} codes, "
                      f"shuffle drop {rep['shuffle_drop_db']:.2f} dB",
                      file=sys.stderr, flush=True)  # fmt: skip
    order = {v: i for i, v in enumerate(VARIANTS)}
    cc._order = lambda name: (order.get(name, len(order)), name)
    md = cc.table(results) + "\n\nPaired differences against `legacy`:\n\n"
    md += cc.paired_table(results, reference="legacy")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"results": results, "argv": argv}, indent=2))
    (out / "results.md").write_text(md + "\n")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
