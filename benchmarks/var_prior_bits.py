"""How many bits the ``var`` and ``unigram`` priors spend per token, by image framing.

The codec frames a 28-pixel Fashion-MNIST image in a larger tile by edge padding, centred
(``codec``, the default) or, in files written before centring, on the right and bottom
(``right-bottom``); ``train-var`` caches its tokens from centre-padded images (``pad``,
background fill) and ``train-tokenizer`` trains on resized ones (``resize``). This script
encodes the same test images in these framings with a multi-scale tokenizer and reports,
per framing: the tokenizer's PSNR in its own frame, the
bits per token of the generator as a prior (the codec's :class:`lattiq.codec.VARPrior` with
the null label, through a real range coder), its training cross-entropy with the null label
and with the true labels (for the ``bits`` and ``full`` heads the null-label figure is the
prior's, a check that the codec codes at the model's cross-entropy; the ``dit`` head's loss
sums 24 per-position terms and only bounds the codeword's), and the unigram table's bits
per token where one is stored beside the tokenizer.

    python benchmarks/var_prior_bits.py --tokenizer runs/generator3/tok_leech \\
        --var runs/generator3/var_leech_dit --images 256
"""

from __future__ import annotations

import argparse
import math
import sys

FRAMINGS = ("codec", "right-bottom", "pad", "resize")


def framed_images(framing: str, size: int, n: int, root: str | None):
    """(B, 1, size, size) in [-1, 1] and labels (B,): the first ``n`` test images."""
    import numpy as np
    import torch

    from lattiq.codec.image import dataset_images, to_tiles
    from lattiq.data.fit import load_images

    if framing in ("codec", "right-bottom"):  # every tile is an image, as in a file
        from lattiq.data import get_dataset

        labels = get_dataset("fashion-mnist", "test", 28, root=root)
        out, y = [], []
        for i, arr in enumerate(dataset_images("fashion-mnist", "test", size, 1, limit=n,
                                               root=root)):
            tiles, _, _ = to_tiles(arr, size, "edge" if framing == "right-bottom"
                                   else "edge-centre")
            out.extend(tiles)
            y += [int(labels[i]["label"])] * len(tiles)
        x = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return x, torch.tensor(y)
    ds = load_images("fashion-mnist", "test", size, 1, framing, root=root)
    items = [ds[i] for i in range(min(n, len(ds)))]
    return (torch.stack([it["image"] for it in items]),
            torch.tensor([int(it["label"]) for it in items]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tokenizer", required=True, help="multi-scale tokenizer run directory")
    p.add_argument("--var", required=True, help="generator run directory")
    p.add_argument("--images", type=int, default=256, help="Fashion-MNIST test images")
    p.add_argument("--framings", nargs="+", default=list(FRAMINGS), choices=FRAMINGS,
                   help="codec: as the codec tiles a 28-px image (centred edge padding); "
                        "right-bottom: as files before centring; pad: centred with the "
                        "background (train-var's token cache); resize: resampled "
                        "(train-tokenizer); pad needs a tokenizer of at least 28 px")
    p.add_argument("--fmnist-root", help="Fashion-MNIST directory")
    args = p.parse_args(argv)

    import torch

    from lattiq.codec.entropy import SymbolCoder
    from lattiq.codec.tokens import tokenizer_sha256
    from lattiq.codec.unigram import load_unigram
    from lattiq.codec.var_prior import VARPrior
    from lattiq.evaluation.eval_var import load_generator
    from lattiq.models.tokenizer import Tokenizer

    torch.manual_seed(0)
    tok = Tokenizer.from_checkpoint(args.tokenizer).eval()
    model, _ = load_generator(args.var)
    model.eval()
    scales = tuple(h for h, _ in model.cfg.scales)
    prior = VARPrior(model, tok, name=str(args.var))
    try:
        unigram = load_unigram(args.tokenizer, tokenizer_sha256(tok))
    except FileNotFoundError:
        unigram = None
    null = model.cfg.num_classes
    size = tok.config.image_size

    class Layout:  # the two fields the priors read
        def __init__(self, tiles):
            self.scales, self.tiles, self.codebook_size = scales, tiles, tok.codebook_size

    print(f"tokenizer {args.tokenizer} ({tok.codebook_size} codes, scales {scales}), "
          f"generator {args.var} (head {model.cfg.head}), {args.images} test images",
          file=sys.stderr)
    print("| framing | tokenizer PSNR (dB) | var prior (bits/token) | "
          "loss, null label (bits/token) | loss, true labels (bits/token) | "
          "unigram (bits/token) |")
    print("|---|---:|---:|---:|---:|---:|")
    for framing in args.framings:
        x, y = framed_images(framing, size, args.images, args.fmnist_root)
        with torch.no_grad():
            q = tok.encode(x)
            idx = [t.reshape(x.shape[0], s, s) for t, s in zip(q.indices, scales, strict=True)]
            rec = tok.decode(q.codes).clamp(-1, 1)
            mse = ((rec - x) / 2).pow(2).flatten(1).mean(1)
            psnr = float((-10 * torch.log10(mse.clamp_min(1e-12))).mean())
            inputs = tok.quantizer.next_scale_inputs(idx)
            ce = {}
            for name, lab in (("null", torch.full_like(y, null)), ("true", y)):
                out = model.loss(lab, inputs, idx)
                ce[name] = float(out.ce) / math.log(2)
        tokens = [t.numpy() for t in idx]
        n_tok = sum(t.size for t in tokens)
        coder = SymbolCoder()
        prior.code(coder, Layout(x.shape[0]), tokens)
        var_bits = coder.bits / n_tok
        uni = "—"
        if unigram is not None:
            cu = SymbolCoder()
            unigram.code(cu, Layout(x.shape[0]), tokens)
            uni = f"{cu.bits / n_tok:.2f}"
        print(f"| {framing} | {psnr:.2f} | {var_bits:.2f} | {ce['null']:.2f} | "
              f"{ce['true']:.2f} | {uni} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
