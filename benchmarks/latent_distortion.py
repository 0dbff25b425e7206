"""Per-token distortion of trained tokenizers, and an exactness check of their search.

For each finished run ``OUT/DATASET/CODE/seedS`` of ``compare_codes.py``, encode the first
``--images`` test images, normalize the encoder's latents and report the mean and minimum
cosine between a latent and the codeword its quantizer chose. For codes with an explicit
codebook (Leech, random, Fibonacci), the best cosine over every normalized codeword by a
brute-force argmax is reported beside it: equal means the search was exact on these latents.

    python benchmarks/latent_distortion.py --out runs/compare --seed 0
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/compare")
    p.add_argument("--datasets", nargs="+", default=["fashion-mnist", "natural"])
    p.add_argument("--codes", nargs="+",
                   default=["leech", "bsq-18", "random-24-196560", "fibonacci-24-196560"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--images", type=int, default=128)
    args = p.parse_args(argv)  # fmt: skip

    import torch
    import torch.nn.functional as F

    from lattiq.data import get_dataset
    from lattiq.models.tokenizer import Tokenizer

    print("| dataset | code | tokens | mean cos | min cos | brute-force mean cos | max gap |")
    print("|---|---|---|---|---|---|---|")
    images: dict[tuple[str, int], torch.Tensor] = {}
    for ds in args.datasets:
        for name in args.codes:
            run = Path(args.out) / ds / name / f"seed{args.seed}"
            if not (run / "config.json").is_file():
                print(f"| {ds} | {name} | (no run at {run}) | | | | |")
                continue
            model = Tokenizer.from_checkpoint(run, weights="ema").eval()
            size = model.config.image_size
            if (ds, size) not in images:  # the same test images for every code
                data = get_dataset(ds, "test", size)
                n = min(args.images, len(data))
                images[ds, size] = torch.stack([data[i]["image"] for i in range(n)])
            imgs = images[ds, size]
            with torch.no_grad():
                latent = model.encode_latent(imgs)
                q = model.quantize(latent)
            d = model.code_dim
            z = F.normalize(latent.reshape(-1, d).float(), dim=-1)  # (B, h, w, d) -> (n, d)
            codes = q.codes.reshape(-1, d).float()
            cos = (z * codes).sum(-1)
            row = f"| {ds} | {name} | {z.shape[0]} | {cos.mean():.4f} | {cos.min():.4f} |"
            cb = getattr(model.quantizer, "codebook", None)
            if isinstance(cb, torch.Tensor) and cb.ndim == 2 and cb.shape[0] and cb.shape[1] == d:
                best = torch.cat([(zc @ F.normalize(cb.float(), dim=-1).T).max(1).values
                                  for zc in z.split(512)])  # fmt: skip
                row += f" {best.mean():.4f} | {(best - cos).max():.1e} |"
            else:
                row += " (implicit codebook) | |"
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
