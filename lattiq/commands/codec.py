"""Command-line wiring for ``lattiq compress``, ``lattiq decompress`` and
``lattiq fit-unigram``.

Argument parsing only: torch is imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["register"]

_COMPRESS_HELP = "compress an image to a .ltq file with a tokenizer and a probability model"
_DECOMPRESS_HELP = "decompress a .ltq file to the tokenizer's reconstruction (PNG)"
_FIT_HELP = "fit the unigram table of a tokenizer on training images (for --model unigram)"
#: Output formats that keep the reconstruction bit for bit.
LOSSLESS_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm", ".pnm")
_MODELS = ("uniform", "unigram", "context", "var")


def _add_resources(p: argparse.ArgumentParser, tokenizer_required: bool) -> None:
    p.add_argument("--tokenizer", metavar="RUN", required=tokenizer_required,
                   help="tokenizer run or checkpoint directory" + (
                       "" if tokenizer_required else " (default: the one the file names)"))
    p.add_argument("--weights", default="ema", choices=("ema", "model"),
                   help="which tokenizer weights (default ema)")
    p.add_argument("--var", metavar="RUN",
                   help="generator run directory for --model var (default on decompress: "
                        "the one the file names)")
    p.add_argument("--unigram", metavar="PATH",
                   help="unigram table (directory or unigram.json; default: beside the "
                        "tokenizer)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")


def register(subparsers) -> None:
    """Add ``compress``, ``decompress`` and ``fit-unigram`` to argparse subparsers."""
    c = subparsers.add_parser("compress", help=_COMPRESS_HELP, description=_COMPRESS_HELP)
    c.add_argument("image", help="input image (PNG, JPEG, ...; gray, RGB or palette)")
    c.add_argument("-o", "--output", required=True, metavar="FILE", help="output .ltq file")
    c.add_argument("--model", default="context", choices=_MODELS,
                   help="probability model (default context)")
    c.add_argument("--label", type=int, help="class label for --model var (default: null)")
    _add_resources(c, tokenizer_required=True)
    c.set_defaults(func=_compress)

    d = subparsers.add_parser("decompress", help=_DECOMPRESS_HELP, description=_DECOMPRESS_HELP)
    d.add_argument("file", help="a .ltq file")
    d.add_argument("-o", "--output", required=True, metavar="IMAGE",
                   help=f"output image ({', '.join(LOSSLESS_SUFFIXES)}: lossless formats)")
    _add_resources(d, tokenizer_required=False)
    d.set_defaults(func=_decompress)

    f = subparsers.add_parser("fit-unigram", help=_FIT_HELP, description=_FIT_HELP)
    f.add_argument("--tokenizer", metavar="RUN", required=True)
    f.add_argument("--weights", default="ema", choices=("ema", "model"))
    f.add_argument("--data", default="natural",
                   help="natural, fashion-mnist or folder:PATH (training split)")
    f.add_argument("--root", help="Fashion-MNIST directory")
    f.add_argument("--limit", type=int, default=2000, help="training images (default 2000)")
    f.add_argument("--alpha", type=float, default=0.5,
                   help="pseudo-count per index, a multiple of 1/64 (default 0.5)")
    f.add_argument("--out", metavar="DIR", help="where the table goes (default: --tokenizer)")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=_fit_unigram)


def _need_constriction() -> None:
    import importlib.util

    if importlib.util.find_spec("constriction") is None:
        raise ValueError("the codec needs the constriction package: "
                         "pip install 'lattiq[torch]' (or pip install constriction)")


def _load_var(path: str):
    from lattiq.models.sample import load_generator

    model, _ = load_generator(path, map_location="cpu")
    return model


def _compress(args: argparse.Namespace) -> int:
    from lattiq.codec.codec import Codec, make_prior
    from lattiq.codec.image import read_image
    from lattiq.codec.tokens import load_tokenizer, tokenizer_sha256
    from lattiq.codec.unigram import load_unigram

    _need_constriction()
    tok = load_tokenizer(args.tokenizer, args.weights)
    image = read_image(args.image, tok.config.channels)
    unigram = var = None
    if args.model == "unigram":
        unigram = load_unigram(args.unigram or args.tokenizer, tokenizer_sha256(tok))
    if args.model == "var":
        if not args.var:
            raise ValueError("--model var needs --var RUN (a trained generator)")
        var = _load_var(args.var)
    elif args.label is not None:
        raise ValueError("--label is for --model var")
    prior = make_prior(args.model, tok, unigram=unigram, var=var, var_name=args.var or "",
                       label=args.label)
    res = Codec(tok, prior, tokenizer_name=args.tokenizer).compress(image)
    out = Path(args.output)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_bytes(res.data)
    os.replace(tmp, out)
    h, w = image.shape[:2]
    summary = {"output": str(out), "width": w, "height": h, "model": args.model,
               "tokens": res.header["tokens"]["count"], "file_bytes": len(res.data),
               "payload_bits": res.payload_bits, "model_bits": round(res.model_bits, 3),
               "bpp_file": 8 * len(res.data) / (h * w),
               "bpp_payload": res.payload_bits / (h * w)}  # fmt: skip
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{args.image} ({w}x{h}) -> {out}: {len(res.data)} bytes, "
              f"{summary['bpp_file']:.4f} bpp ({summary['bpp_payload']:.4f} bpp payload, "
              f"{summary['tokens']} tokens, model {args.model})", file=sys.stderr)
    return 0


def _decompress(args: argparse.Namespace) -> int:
    from lattiq.codec.codec import Codec, prior_from_header, read_header
    from lattiq.codec.image import write_image
    from lattiq.codec.tokens import load_tokenizer, tokenizer_sha256
    from lattiq.codec.unigram import load_unigram

    _need_constriction()
    src = Path(args.file)
    if not src.is_file():
        raise FileNotFoundError(f"no compressed file at {str(src)!r}")
    out = Path(args.output)
    if out.suffix.lower() not in LOSSLESS_SUFFIXES:
        raise ValueError(f"output {str(out)!r}: use a lossless format "
                         f"({', '.join(LOSSLESS_SUFFIXES)}) to keep the reconstruction exact")
    data = src.read_bytes()
    header = read_header(data)
    tok_path = args.tokenizer or header["tokenizer"]["name"]
    if not tok_path:
        raise ValueError("the file names no tokenizer: pass --tokenizer RUN")
    tok = load_tokenizer(tok_path, args.weights)
    model = header["model"]["name"]
    unigram = var = None
    if model == "unigram":
        unigram = load_unigram(args.unigram or tok_path, tokenizer_sha256(tok))
    if model == "var":
        var_path = args.var or header["model"]["params"].get("var")
        if not var_path or not isinstance(var_path, str):
            raise ValueError("the file was coded with the var model: pass --var RUN")
        var = _load_var(var_path)
    prior = prior_from_header(header, tok, unigram=unigram, var=var)
    image = Codec(tok, prior, tokenizer_name=tok_path).decompress(data)
    write_image(out, image)
    if args.json:
        print(json.dumps({"output": str(out), "width": int(image.shape[1]),
                          "height": int(image.shape[0]), "model": model}))
    else:
        print(f"{src} -> {out} ({image.shape[1]}x{image.shape[0]}, model {model})",
              file=sys.stderr)
    return 0


def _fit_unigram(args: argparse.Namespace) -> int:
    from lattiq.codec.image import dataset_images
    from lattiq.codec.tokens import load_tokenizer, tokenizer_sha256
    from lattiq.codec.unigram import fit_unigram, save_unigram

    if args.limit < 1:
        raise ValueError(f"--limit must be >= 1, got {args.limit}")
    tok = load_tokenizer(args.tokenizer, args.weights)
    images = dataset_images(args.data, "train", tok.config.image_size, tok.config.channels,
                            args.limit, args.root)
    counts = fit_unigram(tok, images)
    path = save_unigram(args.out or args.tokenizer, counts,
                        tokenizer_sha256=tokenizer_sha256(tok), tokenizer_name=args.tokenizer,
                        alpha=args.alpha,
                        data={"name": args.data, "split": "train", "limit": args.limit})
    summary = {"path": str(path), "tokens": int(counts.sum()),
               "distinct": int((counts.sum(0) > 0).sum())}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"unigram table: {summary['tokens']} tokens, {summary['distinct']} distinct "
              f"codes -> {path}", file=sys.stderr)
    return 0

