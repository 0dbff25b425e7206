"""Evaluate a tokenizer: ``lattiq eval-tokenizer RUN_DIR`` (or ``main(argv)``).

Reports PSNR, SSIM, MS-SSIM (where the image size allows), LPIPS when its weights are given,
rFID when the FID Inception weights are given, codebook usage (used codes, perplexity,
most/least-used ratio), bits per token and bits per pixel. Writes ``report.json`` and a PNG
grid of originals above reconstructions.

Shape legend: ``B`` batch, ``C`` channels, ``H = W`` image size.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch

from lattiq.data import get_dataset, make_eval_loader, match_channels
from lattiq.models.losses import LPIPS
from lattiq.models.tokenizer import Tokenizer
from lattiq.progress import progress as progress_bar
from lattiq.runtime.checkpoints import load_checkpoint
from lattiq.runtime.directory import check_writable_dir
from lattiq.runtime.distributed import resolve_device

from .figures import save_reconstruction_grid
from .health import HealthStats
from .inception import load_fid_inception
from .metrics import FeatureStats, frechet_distance, ms_ssim, psnr, ssim
from .options import EvalTokenizerOptions

__all__ = ["evaluate_tokenizer", "main", "run"]


@torch.no_grad()
def evaluate_tokenizer(
    model: Tokenizer,
    dataset,
    *,
    batch_size: int = 64,
    limit: int | None = None,
    device: torch.device | str = "cpu",
    lpips: torch.nn.Module | None = None,
    inception: torch.nn.Module | None = None,
    grid_path: str | Path | None = None,
    progress: bool = False,
) -> dict:
    """Reconstruction metrics of ``model`` over ``dataset`` (the first ``limit`` images).

    Per-image metrics are averaged over images (``*_std`` is their standard deviation over
    images). The codebook-health measurements of :mod:`lattiq.evaluation.health` (position
    share of the latent variance, code : position norm ratio at the decoder input, PSNR
    drop with codes shuffled across images) come with them. Returns a JSON-ready dict.
    With ``progress``, a bar on stderr counts the images (plain lines when stderr is not a
    terminal).
    """
    model.eval().to(device)
    loader = make_eval_loader(dataset, batch_size, limit=limit)
    total = len(dataset) if limit is None else min(int(limit), len(dataset))
    bar = progress_bar(total, desc="eval-tokenizer", unit="images", enabled=progress)
    health = HealthStats(model.codebook_size)
    per_image: dict[str, list[torch.Tensor]] = {"psnr": [], "ssim": [], "ms_ssim": [], "lpips": []}
    real_stats = fake_stats = None
    if inception is not None:
        inception = inception.to(device).eval()
    shown = None  # the first images and their reconstructions, for the grid
    for batch in loader:
        x = match_channels(batch["image"], model.config.channels).to(device)
        y = health.update(model, x)  # reconstructions, clamped to [-1, 1]
        per_image["psnr"].append(psnr(y, x).cpu())
        if min(x.shape[-2:]) >= 11:
            per_image["ssim"].append(ssim(y, x).cpu())
        m = ms_ssim(y, x)
        if m is not None:
            per_image["ms_ssim"].append(m.cpu())
        if lpips is not None:
            per_image["lpips"].append(lpips(y, x).float().cpu())
        if inception is not None:
            f_real, f_fake = inception(x), inception(y)  # (B, F); F = 2048 for FID
            if real_stats is None:
                real_stats, fake_stats = (
                    FeatureStats(f_real.shape[1]),
                    FeatureStats(f_real.shape[1]),
                )
            real_stats.update(f_real)
            fake_stats.update(f_fake)
        if grid_path is not None and shown is None:
            n = min(16, x.shape[0])
            shown = (x[:n].cpu(), y[:n].cpu())
        bar.update(x.shape[0])
    bar.close()

    report: dict = {"images": int(sum(len(v) for v in per_image["psnr"]))}
    for name, vals in per_image.items():
        if vals:
            v = torch.cat(vals).double()
            v = v[torch.isfinite(v)]
            report[name] = float(v.mean())
            report[f"{name}_std"] = float(v.std()) if v.numel() > 1 else 0.0
        else:
            report[name] = None
    if inception is not None and report["images"] >= 2:
        report["rfid"] = frechet_distance(*real_stats.mean_cov(), *fake_stats.mean_cov())
    else:
        report["rfid"] = None
    report.update(health.usage.summary())
    h = health.summary()
    for key in ("pos_variance_fraction", "code_pos_ratio", "psnr_shuffled", "shuffle_drop_db"):
        report[key] = h[key]
    quantized = bool(getattr(model.quantizer, "quantized", True))
    report["quantized"] = quantized
    report["codebook_size"] = model.codebook_size
    # an unquantized control has no rate: its "codes" are the continuous latents
    report["bits_per_token"] = model.bits_per_token if quantized else None
    report["tokens_per_image"] = model.tokens_per_image()
    report["bits_per_pixel"] = model.bits_per_pixel() if quantized else None
    report["code"] = model.config.quantizer.code
    if shown is not None:
        m = ", ".join(f"{k.upper().replace('_', '-')} {report[k]:.4f}"
                      for k in ("ssim", "ms_ssim", "lpips") if report.get(k) is not None)
        save_reconstruction_grid(grid_path, *shown, caption=(
            f"code {report['code']}, {report['images']} images: PSNR {report['psnr']:.2f} dB"
            + (f", {m}" if m else "") + f", {report['used_codes']} codes used"))
    return report


def run(opts: EvalTokenizerOptions) -> int:
    """Evaluate, write ``report.json`` and ``grid.png``, print the report; returns 0."""
    device = resolve_device(opts.device)
    model = Tokenizer.from_checkpoint(opts.checkpoint, weights=opts.weights)
    ck = load_checkpoint(opts.checkpoint, with_state=False)
    train_cfg = ck.config.get("config", {})
    data = opts.data or train_cfg.get("data", {}).get("name")
    if not data:
        raise ValueError("the checkpoint does not name its dataset; pass --data")
    dataset = get_dataset(
        data, opts.split, model.config.image_size, seed=0,
        root=train_cfg.get("data", {}).get("root"),
    )  # fmt: skip

    lpips = None
    if opts.lpips_vgg or opts.lpips_heads:
        lpips = LPIPS.from_files(opts.lpips_vgg, opts.lpips_heads)
    else:
        print("LPIPS not computed: pass --lpips-vgg and --lpips-heads", file=sys.stderr)
    inception = None
    if opts.inception:
        inception = load_fid_inception(opts.inception)
    else:
        print("rFID not computed: pass --inception PATH (FID Inception weights)", file=sys.stderr)

    out_dir = Path(opts.out) if opts.out else ck.path.parent.parent / "eval"
    check_writable_dir(out_dir)
    report = evaluate_tokenizer(
        model, dataset, batch_size=opts.batch_size, limit=opts.limit, device=device,
        lpips=lpips, inception=inception, grid_path=out_dir / "grid.png",
        progress=opts.progress,
    )  # fmt: skip
    report.update(checkpoint=str(ck.path), weights=opts.weights, data=data, split=opts.split)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    if opts.json:
        print(json.dumps(report, indent=2))
    else:
        for k in ("psnr", "ssim", "ms_ssim", "lpips", "rfid", "used_codes", "perplexity",
                  "pos_variance_fraction", "code_pos_ratio", "shuffle_drop_db",
                  "bits_per_token", "bits_per_pixel"):  # fmt: skip
            v = report.get(k)
            print(
                f"{k:>16}: {v:.4f}"
                if isinstance(v, float) and math.isfinite(v)
                else f"{k:>16}: {v}"
            )
        if report["quantized"] and report["perplexity"] < 16:
            print(f"warning: collapsed codebook usage (perplexity {report['perplexity']:.1f}, "
                  f"{report['used_codes']} codes)", file=sys.stderr)  # fmt: skip
        if report["shuffle_drop_db"] is not None and report["shuffle_drop_db"] < 0.5:
            print(f"warning: the decoder barely uses the code (shuffling codes across images "
                  f"costs {report['shuffle_drop_db']:.2f} dB)", file=sys.stderr)  # fmt: skip
        print(f"report: {out_dir / 'report.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The script's entry: parse ``argv``, then :func:`run`."""
    from lattiq.commands.tokenizer import eval_options  # the command line sits above the library

    return run(eval_options(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
