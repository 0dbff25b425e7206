"""Rate-distortion of the lattiq codec against JPEG, WebP and AVIF.

For each dataset — the held-out natural photos (``lattiq.data.natural.TEST_PHOTOS``) at full
resolution, and Fashion-MNIST test images (28 × 28 gray) — and each learned codec (a
tokenizer run, optionally with a generator run for the ``var`` model), this compresses every
image with each probability model, decompresses the file and checks that the result is
the tokenizer's reconstruction bit for bit, and measures bits per pixel (the whole file,
header included, and the coded payload alone) and PSNR / SSIM / MS-SSIM against the
original. Pillow's JPEG, WebP and (where Pillow has it) AVIF at several qualities are the
baselines; their files are measured the same way.

Rates are total bits over total pixels of a dataset; distortions are means over images.
MS-SSIM needs a side of at least 161 pixels, so it is blank for Fashion-MNIST.

Example::

    python benchmarks/rate_distortion.py \\
        --codec name=leech,tokenizer=runs/tok-leech,var=runs/var-leech \\
        --codec name=bsq18,tokenizer=runs/tok-bsq18 \\
        --fit-unigram 2000 --fmnist-limit 500 --out rd

writes ``rd/results.json``, ``rd/table.md`` and ``rd/rate_distortion.png``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

DATASETS = ("natural", "fashion-mnist")
MODELS = ("uniform", "unigram", "context", "var")


def parse_codec(spec: str) -> dict:
    """``name=N,tokenizer=RUN[,var=RUN][,data=natural|fashion-mnist]`` -> dict."""
    out = {}
    for part in spec.split(","):
        if "=" not in part:
            raise ValueError(f"--codec {spec!r}: expected key=value pairs, got {part!r}")
        k, v = part.split("=", 1)
        if k not in ("name", "tokenizer", "var", "data"):
            raise ValueError(f"--codec {spec!r}: unknown key {k!r}")
        out[k] = v
    if "tokenizer" not in out:
        raise ValueError(f"--codec {spec!r} names no tokenizer")
    out.setdefault("name", Path(out["tokenizer"]).name)
    if out.get("data") not in (None, *DATASETS):
        raise ValueError(f"--codec {spec!r}: data must be one of {DATASETS}")
    return out


# -- images ------------------------------------------------------------------------------------


def dataset_images(name: str, args) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 (H, W, C)) test images: RGB photos or gray Fashion-MNIST."""
    if name == "natural":
        from lattiq.data.natural import TEST_PHOTOS, load_photo

        out = []
        for p in TEST_PHOTOS[: args.natural_limit]:
            a = load_photo(p)
            if args.crop:
                h, w = a.shape[:2]
                c = min(args.crop, h, w)
                a = a[(h - c) // 2 : (h - c) // 2 + c, (w - c) // 2 : (w - c) // 2 + c]
            out.append((p, np.ascontiguousarray(a)))
        return out
    from lattiq.data import get_dataset

    ds = get_dataset("fashion-mnist", "test", 28, root=args.fmnist_root)
    out = []
    for i in range(min(args.fmnist_limit, len(ds))):
        x = ds[i]["image"][0].numpy()
        out.append((f"fmnist-{i}", ((x + 1) * 127.5 + 0.5).clip(0, 255).astype(np.uint8)[:, :,
                                                                                      None]))
    return out


def to_channels(a: np.ndarray, c: int) -> np.ndarray:
    from PIL import Image

    if a.shape[2] == c:
        return a
    im = Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a)
    b = np.asarray(im.convert("L" if c == 1 else "RGB"))
    return b[:, :, None] if c == 1 else b


# -- metrics -----------------------------------------------------------------------------------


def measure(ref: np.ndarray, out: np.ndarray) -> dict:
    import torch

    from lattiq.evaluation.metrics import ms_ssim, psnr, ssim

    x = torch.from_numpy(np.array(ref)).permute(2, 0, 1)[None].float() / 127.5 - 1
    y = torch.from_numpy(np.array(out)).permute(2, 0, 1)[None].float() / 127.5 - 1
    ms = ms_ssim(x, y)
    return {"psnr": float(psnr(x, y)[0]), "ssim": float(ssim(x, y)[0]),
            "ms_ssim": None if ms is None else float(ms[0])}  # fmt: skip


def summarize(rows: list[dict]) -> dict:
    pixels = sum(r["pixels"] for r in rows)
    out = {"images": len(rows), "bpp": sum(r["bits"] for r in rows) / pixels}
    if all("payload_bits" in r for r in rows):
        out["bpp_payload"] = sum(r["payload_bits"] for r in rows) / pixels
    for m in ("psnr", "ssim", "ms_ssim"):
        vals = [r[m] for r in rows if r[m] is not None and np.isfinite(r[m])]
        out[m] = float(np.mean(vals)) if len(vals) == len(rows) else None
    return out


# -- baselines ---------------------------------------------------------------------------------


def avif_available() -> bool:
    from PIL import features

    return bool(features.check("avif"))


def pillow_codec(fmt: str, a: np.ndarray, quality: int) -> tuple[int, np.ndarray]:
    """(file bits, decoded uint8 of a's shape) for Pillow's JPEG / WEBP / AVIF."""
    from PIL import Image

    im = Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a)
    if fmt != "JPEG" and im.mode == "L":
        im = im.convert("RGB")  # WebP and AVIF code colour; the gray result is converted back
    buf = io.BytesIO()
    kw = {"quality": int(quality)}
    if fmt == "WEBP":
        kw["method"] = 6
    im.save(buf, format=fmt, **kw)
    data = buf.getvalue()
    dec = Image.open(io.BytesIO(data))
    dec.load()
    b = np.asarray(dec.convert("L" if a.shape[2] == 1 else "RGB"))
    return 8 * len(data), (b[:, :, None] if a.shape[2] == 1 else b)


# -- learned codecs ----------------------------------------------------------------------------


def run_codec(spec: dict, images, models, args, log) -> list[dict]:
    from lattiq.codec import Codec, make_prior, prior_from_header, read_header
    from lattiq.codec.tokens import load_tokenizer, tokenizer_sha256
    from lattiq.codec.unigram import UNIGRAM_FILES, fit_unigram, load_unigram, save_unigram

    tok = load_tokenizer(spec["tokenizer"])
    sha = tokenizer_sha256(tok)
    c = tok.config.channels
    var = None
    if spec.get("var"):
        from lattiq.models.sample import load_generator

        var, _ = load_generator(spec["var"])
    unigram = None
    if "unigram" in models:
        table = Path(spec["tokenizer"]) / UNIGRAM_FILES[1]
        if not table.is_file() and args.fit_unigram:
            from lattiq.codec.image import dataset_images as train_images

            data = args.unigram_data or ("fashion-mnist" if c == 1 else "natural")
            log(f"  fitting the unigram table of {spec['name']} on {args.fit_unigram} "
                f"{data} training images")
            counts = fit_unigram(tok, train_images(data, "train", tok.config.image_size, c,
                                                   args.fit_unigram, args.fmnist_root))
            save_unigram(spec["tokenizer"], counts, tokenizer_sha256=sha,
                         tokenizer_name=spec["tokenizer"],
                         data={"name": data, "split": "train", "limit": args.fit_unigram})
        if table.is_file():
            unigram = load_unigram(table, sha)
        else:
            log(f"  {spec['name']}: no unigram table (pass --fit-unigram N); skipping unigram")
    results = []
    base = Codec(tok, make_prior("uniform", tok), spec["tokenizer"])
    recon = {}
    for name, a in images:
        src = to_channels(a, c)
        recon[name] = (src, base.reconstruct(src))
    for model in models:
        if model == "unigram" and unigram is None:
            continue
        if model == "var" and var is None:
            continue
        if model == "var" and getattr(tok.quantizer, "scale_schedule", None) is None:
            continue
        prior = make_prior(model, tok, unigram=unigram, var=var, var_name=spec.get("var", ""))
        codec = Codec(tok, prior, spec["tokenizer"])
        rows, t0 = [], time.perf_counter()
        for name, a in images:
            src, rec = recon[name]
            res = codec.compress(src)
            again = prior_from_header(read_header(res.data), tok, unigram=unigram, var=var)
            out = Codec(tok, again, spec["tokenizer"]).decompress(res.data)
            if not np.array_equal(out, rec):
                raise AssertionError(f"{spec['name']}/{model}: decompressed {name} differs from "
                                     "the tokenizer's reconstruction")
            row = {"image": name, "pixels": a.shape[0] * a.shape[1], "bits": 8 * len(res.data),
                   "payload_bits": res.payload_bits, "model_bits": res.model_bits}
            row.update(measure(a, to_channels(out, a.shape[2])))
            rows.append(row)
        results.append({"codec": spec["name"], "kind": "lattiq", "setting": model,
                        "tokenizer": spec["tokenizer"], "var": spec.get("var"),
                        "fixed_bpp": tok.bits_per_pixel(), "seconds": time.perf_counter() - t0,
                        "exact": True, **summarize(rows), "rows": rows})  # fmt: skip
        log(f"  {spec['name']:>12} {model:>8}: {results[-1]['bpp']:.4f} bpp, "
            f"PSNR {results[-1]['psnr']:.2f} dB")
    return results


def run_baselines(images, args, log) -> list[dict]:
    out = []
    fmts = [("JPEG", args.jpeg), ("WEBP", args.webp)]
    if avif_available():
        fmts.append(("AVIF", args.avif))
    else:
        log("  AVIF: this Pillow has no AVIF support; left out")
    for fmt, qualities in fmts:
        for q in qualities:
            rows = []
            for name, a in images:
                bits, dec = pillow_codec(fmt, a, q)
                rows.append({"image": name, "pixels": a.shape[0] * a.shape[1], "bits": bits,
                             **measure(a, dec)})
            out.append({"codec": fmt.lower(), "kind": "pillow", "setting": f"q{q}",
                        **summarize(rows), "rows": rows})
    return out


# -- output ------------------------------------------------------------------------------------


def _fmt(v, digits=3):
    return "—" if v is None else f"{v:.{digits}f}"


def table(results: dict) -> str:
    lines = ["| dataset | codec | setting | bpp (file) | bpp (payload) | PSNR (dB) | SSIM | "
             "MS-SSIM |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for ds, rs in results.items():
        for r in rs:
            lines.append(f"| {ds} | {r['codec']} | {r['setting']} | {r['bpp']:.4f} | "
                         f"{_fmt(r.get('bpp_payload'), 4)} | {_fmt(r['psnr'], 2)} | "
                         f"{_fmt(r['ssim'])} | {_fmt(r['ms_ssim'])} |")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    metrics = [("psnr", "PSNR (dB)"), ("ssim", "SSIM"), ("ms_ssim", "MS-SSIM")]
    fig, axes = plt.subplots(len(results), 3, figsize=(15, 4.2 * len(results)), squeeze=False)
    markers = {"uniform": "s", "unigram": "^", "context": "o", "var": "*"}
    for i, (ds, rs) in enumerate(results.items()):
        for j, (m, label) in enumerate(metrics):
            ax = axes[i, j]
            for codec in sorted({r["codec"] for r in rs if r["kind"] == "pillow"}):
                pts = sorted((r["bpp"], r[m]) for r in rs if r["codec"] == codec
                             and r[m] is not None)  # fmt: skip
                if pts:
                    ax.plot(*zip(*pts, strict=True), "-", marker=".", label=codec.upper())
            learned = sorted({r["codec"] for r in rs if r["kind"] == "lattiq"})
            for k, codec in enumerate(learned):
                color = f"C{(k + 3) % 10}"
                pts = sorted((r["bpp_payload"], r[m], r["setting"], r["bpp"]) for r in rs
                             if r["codec"] == codec and r[m] is not None)  # fmt: skip
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], ":", color=color,
                            linewidth=1)
                for x, y, setting, x_file in pts:
                    mk = markers.get(setting, "o")
                    ax.plot([x], [y], mk, color=color, markersize=8, label=f"{codec} {setting}")
                    ax.plot([x_file], [y], mk, color=color, markersize=6, mfc="none")
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
            if not any(r[m] is not None for r in rs):
                ax.text(0.5, 0.5, f"{label} undefined for these images\n(side < 161 px)",
                        ha="center", va="center", transform=ax.transAxes)
            ax.set_xlabel("bits per pixel (lattiq: filled = payload, hollow = whole file)")
            ax.set_ylabel(label)
            ax.set_title(f"{ds}: {label}")
            ax.grid(True, alpha=0.3)
            if j == 0:
                ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--codec", action="append", default=[], metavar="SPEC",
                   help="name=N,tokenizer=RUN[,var=RUN][,data=natural|fashion-mnist]")
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--fit-unigram", type=int, default=0, metavar="N",
                   help="fit a missing unigram table on N training images (stored beside the "
                        "tokenizer)")
    p.add_argument("--unigram-data", help="training data for --fit-unigram (default: "
                                          "natural for RGB tokenizers, fashion-mnist for gray)")
    p.add_argument("--jpeg", type=int, nargs="+", default=[5, 10, 20, 30, 50, 70, 90])
    p.add_argument("--webp", type=int, nargs="+", default=[5, 10, 20, 30, 50, 70, 90])
    p.add_argument("--avif", type=int, nargs="+", default=[5, 10, 20, 30, 50, 70, 90])
    p.add_argument("--natural-limit", type=int, default=None, help="first N held-out photos")
    p.add_argument("--crop", type=int, default=0,
                   help="centre-crop photos to this side (smoke tests; default: full size)")
    p.add_argument("--fmnist-limit", type=int, default=200)
    p.add_argument("--fmnist-root", help="Fashion-MNIST directory")
    p.add_argument("--out", default="rd", help="output directory")
    args = p.parse_args(argv)
    codecs = [parse_codec(s) for s in args.codec]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results: dict[str, list[dict]] = {}
    for ds in args.datasets:
        images = dataset_images(ds, args)
        log(f"{ds}: {len(images)} images, {sum(a.shape[0] * a.shape[1] for _, a in images)} "
            "pixels")
        rs = run_baselines(images, args, log)
        for spec in codecs:
            if spec.get("data") in (None, ds):
                rs += run_codec(spec, images, args.models, args, log)
        results[ds] = rs
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(
        {"command": "python benchmarks/rate_distortion.py " + " ".join(argv or sys.argv[1:]),
         "avif": avif_available(), "results": results}, indent=1) + "\n")
    md = table(results)
    (out / "table.md").write_text(md + "\n")
    plot(results, out / "rate_distortion.png")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
